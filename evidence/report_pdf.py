"""The package report as PDF, Chinese and English (reportlab).

The CJK text is set in WenQuanYi Micro Hei (Debian's fonts-wqy-microhei, installed by `make`),
embedded as a subset so the PDF reads the same on any machine; without that font it falls back to
the standard CID font STSong-Light, which readers with Asian fonts provide."""

from __future__ import annotations

import io
import json
from dataclasses import dataclass
from datetime import datetime
from functools import cache
from pathlib import Path
from typing import Any, NamedTuple
from xml.sax.saxutils import escape

from reportlab.graphics.barcode.qr import QrCodeWidget
from reportlab.graphics.shapes import Drawing
from reportlab.lib import colors
from reportlab.lib.pagesizes import A4
from reportlab.lib.styles import ParagraphStyle
from reportlab.lib.units import mm
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.cidfonts import UnicodeCIDFont
from reportlab.pdfbase.ttfonts import TTFont
from reportlab.platypus import Paragraph, SimpleDocTemplate, Spacer, Table, TableStyle

from evidence.contents import PackageContents
from ledger.events import BEIJING
from ledger.trust import fingerprint

EMBEDDED_FONT = Path("/usr/share/fonts/truetype/wqy/wqy-microhei.ttc")


class _Styles(NamedTuple):
    body: ParagraphStyle
    title: ParagraphStyle
    heading: ParagraphStyle
    cell: ParagraphStyle


@cache
def _styles() -> _Styles:
    """The report's paragraph styles, the font registered on first use (reading the font file takes
    a noticeable part of a second; importing this module should not)."""
    if EMBEDDED_FONT.exists():
        pdfmetrics.registerFont(TTFont("WenQuanYi", str(EMBEDDED_FONT), subfontIndex=0))
        font = "WenQuanYi"
    else:
        pdfmetrics.registerFont(UnicodeCIDFont("STSong-Light"))
        font = "STSong-Light"
    body = ParagraphStyle("body", fontName=font, fontSize=9, leading=13)
    return _Styles(
        body=body,
        title=ParagraphStyle("title", parent=body, fontSize=15, leading=20, spaceAfter=8),
        heading=ParagraphStyle(
            "heading", parent=body, fontSize=11, leading=16, spaceBefore=8, spaceAfter=4
        ),
        cell=ParagraphStyle("cell", parent=body, fontSize=7, leading=9),
    )


def render(contents: PackageContents) -> bytes:
    """The PDF bytes of the package report."""
    out = io.BytesIO()
    styles = _styles()
    a = contents.anchor
    origin, contract = escape(contents.log_key["origin"]), escape(str(a.get("contract")))
    where = f"chain {a.get('chain_id')}, contract {contract}, block {a.get('block_number')}"
    story = [
        Paragraph(f"证据包 Evidence package — {escape(contents.case_no)}", styles.title),
        Paragraph(
            f"导出时间 Exported: {escape(contents.exported_at)} · 导出人 By: "
            f"{escape(contents.exported_by)}",
            styles.body,
        ),
        Paragraph(
            f"信任根 Trust root: {escape(str(contents.trust_root.get('agency')))} · "
            f"指纹 fingerprint {fingerprint(contents.trust_root)} "
            "(请与机关书面提供的指纹核对 compare it with the fingerprint the agency gave you "
            "on paper)",
            styles.body,
        ),
        Paragraph("本证据包证明什么 What this package proves", styles.heading),
        Paragraph(
            "包内每个事件与文件自记录时起未被篡改，并已上链锚定（上链后未被篡改）："
            f"日志 {origin} 大小 {contents.size} 的树根锚定于 {where}。"
            "本包不能证明记录之前内容的真实性。",
            styles.body,
        ),
        Paragraph(
            f"Every event and file is unchanged since it was recorded; the log's root "
            f"{contents.root.hex()} "
            f"at size {contents.size} was anchored on {where}. It does not prove the content "
            f"authentic before it was recorded.",
            styles.body,
        ),
        Paragraph("案件事件 Case events", styles.heading),
        _table(
            [["leaf", "seq", "type", "time", "actor"]]
            + [
                [
                    str(i),
                    str(e.get("seq")),
                    e.get("type", ""),
                    e.get("time", ""),
                    e.get("actor", ""),
                ]
                for i, e in ((i, json.loads(d)) for i, d in contents.events)
            ]
        ),
        Paragraph("证据 Evidence", styles.heading),
        _table(
            [["id", "type", "SHA-256", "bytes", "captured", "late 迟延"]]
            + [
                [
                    f.record["evidence_id"],
                    f.record["media_type"],
                    f.record["sha256"],
                    f"{f.record['size']:,}",
                    f.record["captured_at"],
                    "yes 是" if f.record.get("late") else "no 否",
                ]
                for f in contents.evidence
            ]
        ),
        Spacer(1, 8),
        Paragraph(
            "核验 To verify: lianzheng trust add (the agency's trust root, fingerprint checked), "
            "then "
            "lianzheng verify package.zip --rpc URL; or sha256sum -c manifest-sha256.txt, openssl "
            "pkeyutl -verify for signature.json with the trust root's package key, and eth_call "
            "rootAt(size) on the trust root's contract.",
            styles.body,
        ),
    ]
    SimpleDocTemplate(out, pagesize=A4, title=f"Evidence package {contents.case_no}").build(story)
    return out.getvalue()


def render_verification(report: Any, facts: dict[str, str] | None = None) -> bytes:
    """The verifier's report (evidence.verify.PackageReport) as PDF: what was verified (the
    package's SHA-256, when, by which verifier, against which trust root), the case, the verdict,
    then every check."""
    out = io.BytesIO()
    styles = _styles()
    facts = facts or {}
    root = report.root or {}
    anchored = report.anchored or {}
    about = [
        ["证据包 Package", facts.get("package_name", "")],
        ["证据包 SHA-256 Package SHA-256", facts.get("package_sha256", "")],
        ["核验时间 Verified at", _beijing(facts.get("verified_at", ""))],
        ["核验程序 Verifier", f"lianzheng {facts.get('verifier_version', '')}".strip()],
        ["信任根 Trust root", f"{root.get('agency', '—')} · {root.get('fingerprint', '—')}"],
        ["案件 Case", report.case_no or "—"],
        [
            "锚定 Anchor",
            f"chain {anchored.get('chain_id')}, contract {anchored.get('contract')}, "
            f"size {anchored.get('size')}, block {anchored.get('block_number')}"
            if anchored
            else "—",
        ],
    ]
    label = {
        "pass": "通过 PASS",
        "fail": "未通过 FAIL",
        "not run": "未运行 NOT RUN",
        "incomplete": "未完成 INCOMPLETE",
    }
    story = [
        Paragraph("证据包核验报告 Package verification report", styles.title),
        _table([["项目 Item", "内容 Value"], *about]),
        Spacer(1, 6),
        Paragraph(escape(report.headline()), styles.heading),
        *(
            [
                Paragraph(
                    "案件事件完整（签名、检查点、包含证明、事件链均通过），但下列文件在记录后被改动。"
                    " The case's events are intact (signature, checkpoint, inclusion proofs and "
                    "event chain pass), but these files were altered after they were recorded: "
                    + escape("; ".join(c.detail for c in report.failed())),
                    styles.body,
                )
            ]
            if report.only_files_altered()
            else []
        ),
        Paragraph(escape(report.statement()), styles.body),
        Spacer(1, 8),
        _table(
            [["核验项 Check", "结果 Result", "详情 Detail"]]
            + [[c.label, label[c.status.value], c.detail] for c in report.checks]
        ),
    ]
    SimpleDocTemplate(out, pagesize=A4, title="Package verification report").build(story)
    return out.getvalue()


@dataclass(frozen=True)
class NoticeFacts:
    """What the printable notice carries: nothing of the party, only how to check the case."""

    case_no: str
    code: str
    link: str
    check_url: str
    fingerprint: str
    agency: str
    contact: str


NOTICE_WORDS = {
    "zh": {
        "title": "案件核验告知（随告知书、决定书交当事人）",
        "case_no": "案件编号",
        "code": "核验码",
        "how": "扫描二维码，或在浏览器中打开 {url} 并输入案件编号和核验码，即可查看案件进度、"
        "您的期限，以及每一步是否记录在防篡改日志中、是否已上链。",
        "fingerprint": "信任根指纹：您的浏览器会显示同一串字符，请逐段核对；"
        "不一致时请勿信任该页面。",
        "keep": "核验码相当于密码，请妥善保管，不要告诉他人。",
        "contact": "咨询：{contact}（{agency}）",
    },
    "en": {
        "title": "Checking your case (hand over with the notice or the decision)",
        "case_no": "Case number",
        "code": "Verification code",
        "how": "Scan the QR code, or open {url} and type the case number and the code, to see "
        "where the case stands, your deadlines, and whether each step is in the tamper-evident "
        "log and anchored on chain.",
        "fingerprint": "Trust root fingerprint: your browser shows the same characters; compare "
        "them group by group, and do not trust the page if they differ.",
        "keep": "The code works like a password: keep it, and do not tell it to anyone.",
        "contact": "Questions: {contact} ({agency})",
    },
}


def render_notice(facts: NoticeFacts, languages: tuple[str, ...] = ("zh",)) -> bytes:
    """A one-page PDF for officers to print or hand over: case number, code, QR code of the check
    link, the trust root's fingerprint, in Chinese and, when asked, English."""
    out = io.BytesIO()
    styles = _styles()
    big = ParagraphStyle("big", parent=styles.title, fontSize=20, leading=26)
    qr = QrCodeWidget(facts.link, barLevel="M")
    left, bottom, right, top = qr.getBounds()
    side = 55 * mm
    drawing = Drawing(
        side, side, transform=[side / (right - left), 0, 0, side / (top - bottom), 0, 0]
    )
    drawing.add(qr)
    groups = " ".join(facts.fingerprint[i : i + 8] for i in range(0, len(facts.fingerprint), 8))
    story: list[Any] = []
    for lang in languages:
        words = NOTICE_WORDS[lang]
        story += [
            Paragraph(escape(words["title"]), styles.title),
            Paragraph(f"{escape(words['case_no'])}: {escape(facts.case_no)}", big),
            Paragraph(f"{escape(words['code'])}: {escape(facts.code)}", big),
            Paragraph(escape(words["how"].format(url=facts.check_url)), styles.body),
            Spacer(1, 4),
            Paragraph(escape(words["fingerprint"]), styles.body),
            Paragraph(f"<font face='Courier'>{escape(groups)}</font>", styles.heading),
            Paragraph(escape(words["keep"]), styles.body),
            Paragraph(
                escape(words["contact"].format(contact=facts.contact, agency=facts.agency)),
                styles.body,
            ),
            Spacer(1, 10),
        ]
    story.insert(3, drawing)
    SimpleDocTemplate(out, pagesize=A4, title=f"{facts.case_no}").build(story)
    return out.getvalue()


def _beijing(moment: str) -> str:
    """An ISO time in Beijing time, as the report's readers keep it."""
    if not moment:
        return ""
    when = datetime.fromisoformat(moment.replace("Z", "+00:00")).astimezone(BEIJING)
    return when.strftime("%Y-%m-%d %H:%M:%S") + "（北京时间 Beijing time）"


def _table(rows: list[list[str]]) -> Table:
    table = Table(
        [[Paragraph(escape(cell), _styles().cell) for cell in row] for row in rows], repeatRows=1
    )
    table.setStyle(
        TableStyle(
            [
                ("GRID", (0, 0), (-1, -1), 0.25, colors.grey),
                ("BACKGROUND", (0, 0), (-1, 0), colors.whitesmoke),
            ]
        )
    )
    return table
