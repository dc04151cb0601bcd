"""Human words for the codes events carry (DESIGN.md: no free text in a leaf, only codes), in the
visitor's language. A code without a label is shown as itself, never hidden."""

from __future__ import annotations

from typing import Any

from verify_portal.app.case_status import yuan
from verify_portal.web.i18n import beijing_time, language

LABELS: dict[str, dict[str, dict[str, str]]] = {
    "state": {
        "REPORTED": {"zh": "线索", "en": "Reported"},
        "FILED": {"zh": "立案", "en": "Filed"},
        "INVESTIGATING": {"zh": "调查取证", "en": "Investigating"},
        "NOTIFIED": {"zh": "事先告知", "en": "Notified"},
        "DECIDED": {"zh": "处罚决定", "en": "Decided"},
        "PAID": {"zh": "已缴款", "en": "Paid"},
        "APPEALED": {"zh": "复议/诉讼中", "en": "Under appeal"},
        "CLOSED": {"zh": "结案", "en": "Closed"},
        "WITHDRAWN": {"zh": "撤案", "en": "Withdrawn"},
    },
    "violation_type": {
        "occupy-road": {"zh": "占道经营", "en": "Trading on the road"},
        "stall": {"zh": "流动摊贩", "en": "Unlicensed street stall"},
        "illegal-construction": {"zh": "违法建设", "en": "Unauthorised construction"},
        "outdoor-ad": {"zh": "违规设置户外广告", "en": "Unauthorised outdoor advertising"},
        "littering": {"zh": "乱扔乱倒垃圾", "en": "Littering"},
        "construction-waste": {"zh": "建筑垃圾违规处置", "en": "Construction waste dumped"},
        "noise": {"zh": "噪声扰民", "en": "Noise nuisance"},
        "parking": {"zh": "违规停放", "en": "Illegal parking"},
        "pollution": {"zh": "环境污染", "en": "Pollution"},
    },
    "source": {
        "patrol": {"zh": "巡查发现", "en": "Patrol"},
        "camera": {"zh": "非现场执法摄像", "en": "Enforcement camera"},
        "hotline-12345": {"zh": "12345 热线", "en": "12345 hotline"},
        "hotline-12319": {"zh": "12319 城建热线", "en": "12319 hotline"},
        "citizen": {"zh": "群众举报", "en": "Citizen report"},
    },
    "outcome": {
        "fine": {"zh": "罚款", "en": "Fine"},
        "first_offence_exempt": {"zh": "首违不罚", "en": "First offence, not fined"},
        "no_penalty": {"zh": "不予处罚", "en": "No penalty"},
    },
    "kind": {
        "reconsideration": {"zh": "行政复议", "en": "Administrative reconsideration"},
        "litigation": {"zh": "行政诉讼", "en": "Administrative lawsuit"},
    },
    "reason": {
        "insufficient_evidence": {"zh": "证据不足", "en": "Insufficient evidence"},
        "not_a_violation": {"zh": "不构成违法", "en": "Not a violation"},
        "duplicate": {"zh": "重复立案", "en": "Duplicate"},
        "beyond_jurisdiction": {"zh": "不属本机关管辖", "en": "Beyond this agency's remit"},
        "other": {"zh": "其他", "en": "Other"},
    },
    "hold_reason": {
        "litigation": {"zh": "行政诉讼", "en": "Litigation"},
        "reconsideration": {"zh": "行政复议", "en": "Reconsideration"},
        "investigation": {"zh": "调查", "en": "Investigation"},
        "court-order": {"zh": "法院裁定", "en": "Court order"},
        "complaint": {"zh": "投诉处理", "en": "Complaint"},
    },
    "lift_reason": {
        "proceedings-ended": {"zh": "程序已终结", "en": "Proceedings ended"},
        "order-lifted": {"zh": "裁定已解除", "en": "Order lifted"},
        "set-in-error": {"zh": "误设", "en": "Set in error"},
    },
    "media_type": {
        "video/mp4": {"zh": "视频", "en": "Video"},
        "video/quicktime": {"zh": "视频", "en": "Video"},
        "image/jpeg": {"zh": "照片", "en": "Photo"},
        "image/png": {"zh": "图片", "en": "Picture"},
        "audio/mp4": {"zh": "录音", "en": "Audio"},
    },
}

FIELDS: dict[str, dict[str, str]] = {
    "amount_fen": {"zh": "金额", "en": "Amount"},
    "proposed_amount_fen": {"zh": "拟罚款", "en": "Proposed fine"},
    "violation_type": {"zh": "违法类型", "en": "Violation"},
    "source": {"zh": "来源", "en": "Source"},
    "photos": {"zh": "照片", "en": "Photos"},
    "outcome": {"zh": "结果", "en": "Outcome"},
    "kind": {"zh": "途径", "en": "Route"},
    "reason": {"zh": "原因", "en": "Reason"},
    "legal_basis": {"zh": "法律依据", "en": "Legal basis"},
    "media_type": {"zh": "类型", "en": "Type"},
    "captured_at": {"zh": "采集时间", "en": "Captured"},
    "district": {"zh": "辖区", "en": "District"},
}

_AMOUNTS = ("amount_fen", "proposed_amount_fen")


def label(kind: str, code: str | None) -> str:
    """The words for a code of `kind` (state, violation_type, ...), or the code itself."""
    if code is None:
        return ""
    words = LABELS.get(kind, {}).get(code)
    return words[language()] if words else code


def money(fen: int | None) -> str:
    """An amount as people read it: 200.00 元 / ¥200.00."""
    if fen is None:
        return ""
    return f"{yuan(fen)} 元" if language() == "zh" else f"¥{yuan(fen)}"


def field_name(key: str) -> str:
    words = FIELDS.get(key)
    return words[language()] if words else key


def field_value(key: str, value: Any) -> str:
    """One detail of an event, in words: sums in yuan, times in Beijing time, codes labelled."""
    if key in _AMOUNTS:
        return money(value)
    if key == "captured_at":
        return beijing_time(value)
    if key in LABELS:
        return label(key, value)
    return str(value)
