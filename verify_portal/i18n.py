"""The portal's two languages: Chinese by default, English on `?lang=en` (remembered in a cookie)."""

from __future__ import annotations

from flask import request

LANGUAGES = ("zh", "en")

TEXT: dict[str, dict[str, str]] = {
    "site": {"zh": "链证 · 执法证据核验", "en": "Lianzheng · enforcement evidence verification"},
    "court_title": {"zh": "核验证据包", "en": "Verify an evidence package"},
    "court_intro": {"zh": "上传机关提供的证据包（.zip）。本页逐项核验：文件、签名、检查点、包含证明、"
                          "案件事件链、证据文件与链上锚定。",
                    "en": "Upload the evidence package (.zip) you received. This page checks it item by item: files, "
                          "signature, checkpoint, inclusion proofs, the case's event chain, evidence files and the "
                          "anchor on chain."},
    "court_offline": {"zh": "也可离线核验，无需信任本服务器：lianzheng verify package.zip --rpc URL",
                      "en": "You can also verify offline, without trusting this server: "
                            "lianzheng verify package.zip --rpc URL"},
    "package": {"zh": "证据包", "en": "Package"},
    "verify": {"zh": "核验", "en": "Verify"},
    "report": {"zh": "核验报告", "en": "Verification report"},
    "check": {"zh": "核验项", "en": "Check"},
    "result": {"zh": "结果", "en": "Result"},
    "detail": {"zh": "详情", "en": "Detail"},
    "pass": {"zh": "通过", "en": "PASS"},
    "fail": {"zh": "未通过", "en": "FAIL"},
    "skip": {"zh": "未运行", "en": "NOT RUN"},
    "download_json": {"zh": "下载报告 (JSON)", "en": "Download the report (JSON)"},
    "download_html": {"zh": "下载报告 (HTML)", "en": "Download the report (HTML)"},
    "download_pdf": {"zh": "下载报告 (PDF)", "en": "Download the report (PDF)"},
    "again": {"zh": "核验另一个证据包", "en": "Verify another package"},
    "no_file": {"zh": "请选择一个证据包文件。", "en": "Choose a package file."},
    "check_title": {"zh": "查询我的处罚记录", "en": "Check my penalty record"},
    "check_intro": {"zh": "输入告知书上的案件编号和核验码，或扫描告知书上的二维码。",
                    "en": "Enter the case number and the verification code printed on your notice, "
                          "or scan its QR code."},
    "case_no": {"zh": "案件编号", "en": "Case number"},
    "code": {"zh": "核验码", "en": "Verification code"},
    "open": {"zh": "查询", "en": "Open"},
    "no_match": {"zh": "案件编号与核验码不匹配，或暂时无法查询。",
                 "en": "The case number and code do not match, or the case cannot be opened right now."},
    "too_many": {"zh": "尝试次数过多，请15分钟后再试。", "en": "Too many attempts; try again in 15 minutes."},
    "browser_checks": {"zh": "每一步的收据由您的浏览器自行核验其上链证明，无需信任本服务器。",
                       "en": "Your browser checks each step's receipt against the anchored root itself: you need "
                             "not trust this server."},
    "time": {"zh": "时间", "en": "Time"},
    "step": {"zh": "环节", "en": "Step"},
    "proof": {"zh": "证明状态", "en": "Proof status"},
    "in_browser": {"zh": "浏览器核验", "en": "Checked in your browser"},
    "anchored_in_block": {"zh": "已上链，区块", "en": "anchored in block"},
    "final": {"zh": "已确认", "en": "final"},
    "appended": {"zh": "已记录，等待上链", "en": "recorded, awaiting its anchor"},
    "browser_wait": {"zh": "核验中…", "en": "checking…"},
    "browser_ok": {"zh": "✓ 浏览器已核验", "en": "✓ verified in your browser"},
    "browser_fail": {"zh": "✗ 核验失败", "en": "✗ check failed"},
    "receipt": {"zh": "下载收据", "en": "Receipt"},
    "close": {"zh": "退出", "en": "Close"},
    "type_case.reported": {"zh": "线索登记", "en": "Reported"},
    "type_case.filed": {"zh": "立案", "en": "Filed"},
    "type_case.investigating": {"zh": "调查取证", "en": "Investigating"},
    "type_case.notified": {"zh": "事先告知", "en": "Notified"},
    "type_case.decided": {"zh": "处罚决定", "en": "Decided"},
    "type_case.paid": {"zh": "缴款", "en": "Paid"},
    "type_case.appealed": {"zh": "复议/诉讼", "en": "Appealed"},
    "type_case.closed": {"zh": "结案", "en": "Closed"},
    "type_case.withdrawn": {"zh": "撤案", "en": "Withdrawn"},
    "type_evidence.registered": {"zh": "证据登记", "en": "Evidence registered"},
    "field_amount_fen": {"zh": "金额（分）", "en": "amount (fen)"},
    "field_violation_type": {"zh": "违法类型", "en": "violation"},
    "field_source": {"zh": "来源", "en": "source"},
    "field_photos": {"zh": "照片数", "en": "photos"},
    "field_outcome": {"zh": "结果", "en": "outcome"},
    "field_media_type": {"zh": "类型", "en": "type"},
    "field_captured_at": {"zh": "采集时间", "en": "captured"},
    "single_title": {"zh": "核查单个文件", "en": "Look up a single file"},
    "single_intro": {"zh": "选择通过其他途径收到的文件（如视频）。文件只在本机浏览器中计算哈希，"
                           "不会上传；仅查询其哈希。",
                     "en": "Choose a file you received by other means (a video, say). Your browser hashes it on "
                           "this machine; the file is never uploaded, only its hash is looked up."},
    "single_file": {"zh": "文件", "en": "File"},
    "hashing": {"zh": "正在计算哈希", "en": "hashing"},
    "not_registered": {"zh": "本系统中没有登记此文件。", "en": "No evidence with this hash is registered here."},
    "statement_title": {"zh": "陈述申辩", "en": "Statement and defence"},
    "statement_intro": {"zh": "在事先告知阶段，您可以提交陈述申辩（文字，最多3张照片，每张不超过5 MB）。"
                              "提交后记入案件并上链，执法人员与督查人员可见。",
                        "en": "At the notice stage you may submit a statement and defence (text, up to 3 photos of "
                              "5 MB each). It becomes an event of the case, anchored, seen by the officer and "
                              "supervisors."},
    "statement_text": {"zh": "陈述与申辩", "en": "Your statement"},
    "statement_photos": {"zh": "照片（可选）", "en": "Photos (optional)"},
    "submit": {"zh": "提交", "en": "Submit"},
    "statement_sent": {"zh": "已提交并记入案件；上链后可下载收据。", "en": "Submitted and recorded in the case; its "
                       "receipt can be downloaded once it is anchored."},
    "type_party.statement": {"zh": "陈述申辩", "en": "Statement and defence"},
    "recent_cases": {"zh": "最近更新的案件", "en": "Recently updated cases"},
    "event_chain": {"zh": "事件链", "en": "Event chain"},
    "poster": {"zh": "封面帧", "en": "poster"},
    "play": {"zh": "播放", "en": "play"},
    "custody_note": {"zh": "每次查看封面帧或播放都会作为保管链事件记入日志。",
                     "en": "Every poster view and every playback is logged as a custody event."},
    "export": {"zh": "导出证据包", "en": "Export the evidence package"},
    "audit": {"zh": "最近一次审计", "en": "Latest audit"},
    "audit_clean": {"zh": "审计通过：日志未被篡改", "en": "Audit clean: the log is intact"},
    "audit_findings": {"zh": "审计发现问题：日志或证据已被改动",
                       "en": "Audit FINDINGS: the log or evidence was changed"},
    "audit_never": {"zh": "尚未运行审计（lianzheng audit）。", "en": "No audit has run yet (lianzheng audit)."},
    "cases_by_type": {"zh": "各违法类型案件数", "en": "Cases by violation type"},
    "overdue": {"zh": "逾期未决案件（立案后超过法定期限仍未作出决定）",
                "en": "Overdue: filed, no decision within the legal time limit"},
    "days": {"zh": "天", "en": "days"},
    "none": {"zh": "无", "en": "none"},
    "officer_activity": {"zh": "人员活动（最近一万条事件）", "en": "Officer activity (newest 10,000 events)"},
    "orphans": {"zh": "无所属案件的证据", "en": "evidence without a case"},
    "custody_trail": {"zh": "保管链", "en": "Custody trail"},
    "desk": {"zh": "办案台：记录环节、上传证据", "en": "Desk: record a step, upload evidence"},
    "next_step": {"zh": "下一环节", "en": "Next step"},
    "record": {"zh": "记录", "en": "Record"},
    "upload": {"zh": "上传", "en": "Upload"},
    "staff_sign_in": {"zh": "工作人员登录", "en": "Staff sign-in"},
    "username": {"zh": "用户名", "en": "User name"},
    "password": {"zh": "密码", "en": "Password"},
    "sign_in": {"zh": "登录", "en": "Sign in"},
    "sign_out": {"zh": "退出登录", "en": "Sign out"},
    "sign_in_refused": {"zh": "用户名或密码错误，或账户暂时锁定。",
                        "en": "The user name or password is wrong, or the account is locked for a while."},
    "staff_denied": {"zh": "此页面仅限督查、法制审核与管理员。",
                     "en": "This page is for supervisors, legal review and admins."},
    "dashboard": {"zh": "督查概览", "en": "Supervision dashboard"},
    "cases_by_state": {"zh": "各环节案件数", "en": "Cases by state"},
    "cases_by_district": {"zh": "各辖区案件数", "en": "Cases by district"},
    "evidence": {"zh": "证据", "en": "Evidence"},
    "items": {"zh": "件数", "en": "items"},
    "late": {"zh": "迟延上传", "en": "uploaded late"},
    "continuity_breaks": {"zh": "片段不连续", "en": "segment breaks"},
    "anchors": {"zh": "上链锚定", "en": "Anchors"},
    "worker": {"zh": "锚定进程", "en": "Anchor worker"},
    "healthy": {"zh": "正常", "en": "healthy"},
    "awaiting_final": {"zh": "等待确认", "en": "awaiting finality"},
}


def language() -> str:
    asked = request.args.get("lang") or request.cookies.get("lang") or "zh"
    return asked if asked in LANGUAGES else "zh"


def t(key: str) -> str:
    return TEXT[key][language()]
