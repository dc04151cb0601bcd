"""The portal's two languages: Chinese by default, English on `?lang=en` (remembered in a
cookie)."""

from __future__ import annotations

from datetime import datetime

from flask import request

from ledger.events import BEIJING

LANGUAGES = ("zh", "en")

TEXT: dict[str, dict[str, str]] = {
    "site": {"zh": "链证 · 执法证据核验", "en": "Lianzheng · enforcement evidence verification"},
    "court_title": {"zh": "核验证据包", "en": "Verify an evidence package"},
    "court_intro": {
        "zh": "上传机关提供的证据包（.zip）。本页逐项核验：文件、签名、检查点、包含证明、"
        "案件事件链、证据文件与链上锚定。",
        "en": "Upload the evidence package (.zip) you received. This page checks it item by item: "
        "files, "
        "signature, checkpoint, inclusion proofs, the case's event chain, evidence files and the "
        "anchor on chain.",
    },
    "court_offline": {
        "zh": "也可离线核验，无需信任本服务器："
        "先用 lianzheng trust add 加入机关书面提供指纹的信任根，"
        "再运行 lianzheng verify package.zip --rpc URL",
        "en": "You can also verify offline, without trusting this server: add the agency's trust "
        "root with lianzheng trust add (checking the fingerprint it gave you on paper), then "
        "run lianzheng verify package.zip --rpc URL",
    },
    "package": {"zh": "证据包", "en": "Package"},
    "verify": {"zh": "核验", "en": "Verify"},
    "report": {"zh": "核验报告", "en": "Verification report"},
    "check": {"zh": "核验项", "en": "Check"},
    "result": {"zh": "结果", "en": "Result"},
    "detail": {"zh": "详情", "en": "Detail"},
    "status_pass": {"zh": "通过", "en": "PASS"},
    "status_fail": {"zh": "未通过", "en": "FAIL"},
    "status_not_run": {"zh": "未运行", "en": "NOT RUN"},
    "status_incomplete": {"zh": "未完成", "en": "INCOMPLETE"},
    "verdict_verified": {
        "zh": "已核验：包内事件与文件自记录时起未被篡改。",
        "en": "VERIFIED: the package's events and files are unchanged since they were recorded.",
    },
    "verdict_not_verified": {
        "zh": "未通过核验：不能认定包内内容与记录时一致。",
        "en": "NOT VERIFIED: nothing in this package may be taken as unchanged.",
    },
    "verdict_incomplete": {
        "zh": "核验未完成：必需的核验项（如链上锚定）无法完成，这不是已核验的结论。",
        "en": "INCOMPLETE: a required check (such as the anchor on chain) could not be "
        "completed; this is not a verified result.",
    },
    "matched_root": {"zh": "核验所依据的信任根：", "en": "Checked against the trust root of"},
    "no_root_matched": {
        "zh": "本站信任的信任根均不涵盖此证据包的日志。",
        "en": "None of the trust roots this site holds names this package's log.",
    },
    "fingerprint": {"zh": "指纹", "en": "fingerprint"},
    "leg_signed": {"zh": "签名", "en": "Signed"},
    "leg_witnessed": {"zh": "见证", "en": "Witnessed"},
    "leg_included": {"zh": "包含", "en": "Included"},
    "leg_anchored": {"zh": "链上锚定", "en": "Anchored"},
    "signature_only": {
        "zh": "仅由机关签名覆盖、不由日志证明的文件",
        "en": "Files only the agency's signature covers, not the log",
    },
    "refused": {"zh": "无法核验此证据包", "en": "This package could not be verified"},
    "trust_roots": {"zh": "核验所依据的信任根", "en": "Trust roots for verifying packages"},
    "trust_roots_intro": {
        "zh": "法院核验页只信任下列信任根。登记其他机关的信任根前，请核对该机关书面提供的指纹。",
        "en": "The court page trusts these roots only. Before registering another agency's "
        "root, check its fingerprint against the one the agency gave on paper.",
    },
    "agency": {"zh": "机关", "en": "Agency"},
    "log_origin": {"zh": "日志名称", "en": "Log origin"},
    "this_deployment": {"zh": "本机关", "en": "this deployment"},
    "remove": {"zh": "移除", "en": "Remove"},
    "docked_footage": {"zh": "待关联的采集站视音频", "en": "Docked footage to link"},
    "docked_footage_intro": {
        "zh": "以下文件由采集站从执法记录仪导入，尚未关联到案件。"
        "系统按配发记录仪的执法人员及拍摄时间推荐案件；关联或不予关联都记入日志。",
        "en": "These files came off bodycams at a docking station and no case holds them yet. "
        "Cases are proposed by the officer the recorder was issued to and the capture time; "
        "linking and declining are both logged.",
    },
    "no_docked_footage": {"zh": "没有待关联的文件。", "en": "No footage waits to be linked."},
    "device": {"zh": "记录仪", "en": "Recorder"},
    "carrier": {"zh": "配发给", "en": "Issued to"},
    "captured_at": {"zh": "拍摄时间", "en": "Captured"},
    "proposed_cases": {"zh": "推荐案件", "en": "Proposed cases"},
    "link_to_case": {"zh": "关联到此案件", "en": "Link to this case"},
    "decline_link": {"zh": "不予关联", "en": "Decline"},
    "other_case": {"zh": "其他案件编号", "en": "Another case number"},
    "register_root": {"zh": "登记其他机关的信任根", "en": "Register another agency's trust root"},
    "root_file": {"zh": "信任根文件（JSON）", "en": "Trust root file (JSON)"},
    "fingerprint_on_paper": {"zh": "书面提供的指纹", "en": "Fingerprint given on paper"},
    "root_rpc": {"zh": "该链的 RPC 地址（可选）", "en": "RPC URL of its chain (optional)"},
    "register": {"zh": "登记", "en": "Register"},
    "trust_footer": {"zh": "本站信任根指纹", "en": "This site's trust root fingerprint"},
    "download_json": {"zh": "下载报告 (JSON)", "en": "Download the report (JSON)"},
    "download_html": {"zh": "下载报告 (HTML)", "en": "Download the report (HTML)"},
    "download_pdf": {"zh": "下载报告 (PDF)", "en": "Download the report (PDF)"},
    "again": {"zh": "核验另一个证据包", "en": "Verify another package"},
    "no_file": {"zh": "请选择一个证据包文件。", "en": "Choose a package file."},
    "check_title": {"zh": "查询我的处罚记录", "en": "Check my penalty record"},
    "check_intro": {
        "zh": "输入告知书上的案件编号和核验码，或扫描告知书上的二维码。",
        "en": "Enter the case number and the verification code printed on your notice, "
        "or scan its QR code.",
    },
    "case_no": {"zh": "案件编号", "en": "Case number"},
    "code": {"zh": "核验码", "en": "Verification code"},
    "open": {"zh": "查询", "en": "Open"},
    "no_match": {
        "zh": "案件编号与核验码不匹配，或暂时无法查询。",
        "en": "The case number and code do not match, or the case cannot be opened right now.",
    },
    "too_many": {
        "zh": "来自您网络连接的尝试过多，请稍后再试"
        "（只限制这一连接，不影响他人，也不锁定案件或账户）。",
        "en": "Too many attempts from your connection; please wait and try again (only your "
        "connection is slowed: no case or account is locked).",
    },
    "browser_checks": {
        "zh": "您的浏览器自行核验每一步：检查点签名是否出自下列信任根的密钥，"
        "以及该步骤是否包含在已签名的日志中。",
        "en": "Your browser checks each step itself: that the checkpoint is signed by a key of the "
        "trust root below, and that the step is included in the signed log.",
    },
    "browser_checks_chain": {
        "zh": "浏览器还通过公开的区块链节点直接核对链上锚定。",
        "en": "It also checks the anchor on chain itself, through a public chain node.",
    },
    "browser_no_chain": {
        "zh": "本站未提供公开的区块链节点，链上锚定由服务器报告，浏览器未核对。",
        "en": "This site offers no public chain node: the anchor is as the server reports it; "
        "your browser did not check it.",
    },
    "browser_fingerprint": {
        "zh": "浏览器计算的信任根指纹（请与告知书上印的指纹核对）：",
        "en": "The trust root's fingerprint as your browser computed it (compare it with the "
        "one printed on your notice):",
    },
    "taken_from_server": {
        "zh": "浏览器从本服务器取得的：信任根本身（请核对指纹）、所询问的区块链节点地址，"
        "以及“服务器报告”一栏的区块号和上链时间。",
        "en": "Taken from this server: the trust root itself (check its fingerprint), the "
        "address of the chain node asked, and the block numbers and times under "
        '"Server says".',
    },
    "check_failed_banner": {
        "zh": "警告：至少一个步骤未通过浏览器核验。标红的记录与签名日志不一致，"
        "请勿信赖，并可向上级机关或法院反映。",
        "en": "Warning: at least one step failed your browser's check. The steps marked red "
        "do not match the signed log; do not rely on them, and you may raise it with "
        "the supervising authority or a court.",
    },
    "jscheck_event": {"zh": "事件与叶哈希不符", "en": "the event does not hash to the leaf"},
    "jscheck_malformed": {"zh": "检查点格式错误", "en": "the checkpoint is malformed"},
    "jscheck_other-log": {"zh": "检查点属于另一个日志", "en": "the checkpoint is of another log"},
    "jscheck_bad-signature": {
        "zh": "检查点签名无效",
        "en": "the checkpoint signature does not verify",
    },
    "jscheck_key-period": {
        "zh": "签名密钥不适用于此日志大小",
        "en": "the checkpoint key is not valid for this size",
    },
    "jscheck_unknown-key": {
        "zh": "检查点并非由信任根中的密钥签名",
        "en": "the checkpoint is not signed by a key of the trust root",
    },
    "jscheck_proof-size": {
        "zh": "包含证明与检查点大小不符",
        "en": "the proof is not to the checkpoint's size",
    },
    "jscheck_inclusion": {
        "zh": "包含证明不能导出检查点的树根",
        "en": "the inclusion proof does not lead to the checkpoint's root",
    },
    "jscheck_no-chain": {"zh": "信任根未指定区块链", "en": "the trust root names no chain"},
    "jscheck_other-chain": {
        "zh": "公开节点属于另一条链",
        "en": "the public RPC serves another chain",
    },
    "jscheck_root-missing": {
        "zh": "链上合约中没有该检查点的树根",
        "en": "the contract does not hold this checkpoint's root",
    },
    "jscheck_tx-missing": {
        "zh": "链上没有该锚定交易",
        "en": "the anchoring transaction is not on the chain",
    },
    "jscheck_not-final": {"zh": "已上链，尚未确认", "en": "anchored on chain, not final yet"},
    "jscheck_error": {
        "zh": "无法完成核验（浏览器不支持或数据有误）",
        "en": "the check could not run (an old browser, or malformed data)",
    },
    "jscheck_rpc-down": {"zh": "公开节点无应答", "en": "the public RPC did not answer"},
    "jscheck_witness-quorum": {
        "zh": "独立见证人联署不足法定数",
        "en": "fewer independent witnesses cosigned than the trust root requires",
    },
    "jscheck_witness-signature": {
        "zh": "见证人联署签名无效",
        "en": "a witness's cosignature does not verify",
    },
    "rows_disagree": {
        "zh": "警告：本案的存储记录与日志事件不一致，以下各项已被改动。"
        "在审计查明之前，本案不接受任何新步骤或证据。",
        "en": "Warning: this case's stored records disagree with its log events; the items below "
        "were altered. Until an audit says what happened, the case takes no new step or evidence.",
    },
    "citizen_rows_disagree": {
        "zh": "警告：本案在本系统中的记录与已签名的日志不一致。"
        "请以浏览器核验结果为准，并可向上级机关或法院反映。",
        "en": "Warning: this case's records here disagree with the signed log. Rely on what "
        "your browser checks, and you may raise it with the supervising authority or a court.",
    },
    "run_audit": {"zh": "立即审计（后台运行）", "en": "Run the audit now (in the background)"},
    "audit_running": {"zh": "审计进行中", "en": "Audit running"},
    "acknowledged": {"zh": "已说明", "en": "acknowledged"},
    "server_says": {"zh": "服务器报告：", "en": "Server says:"},
    "browser_anchor_ok": {"zh": "链上已核对，区块", "en": "anchor checked on chain, block"},
    "browser_anchor_unchecked": {
        "zh": "链上锚定未由浏览器核对",
        "en": "anchor not checked by your browser",
    },
    "browser_sm2_unchecked": {
        "zh": "国密 SM2 签名未由浏览器核对（浏览器不支持 SM2）",
        "en": "SM2 signature not checked by your browser (browsers have no SM2)",
    },
    "browser_anchor_pending": {"zh": "链上锚定尚未确认", "en": "anchor not final yet"},
    "time": {"zh": "时间", "en": "Time"},
    "step": {"zh": "环节", "en": "Step"},
    "proof": {"zh": "证明状态", "en": "Proof status"},
    "in_browser": {"zh": "浏览器核验", "en": "Checked in your browser"},
    "anchored_in_block": {"zh": "已上链，区块", "en": "anchored in block"},
    "final": {"zh": "已确认", "en": "final"},
    "appended": {"zh": "已记录，等待上链", "en": "recorded, awaiting its anchor"},
    "browser_wait": {"zh": "核验中…", "en": "checking…"},
    "browser_ok": {"zh": "✓ 浏览器已核验", "en": "✓ verified in your browser"},
    "browser_witnessed": {"zh": "见证人联署", "en": "cosigned by"},
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
    "single_intro": {
        "zh": "选择通过其他途径收到的文件（如视频）。文件只在本机浏览器中计算哈希，"
        "不会上传；仅查询其哈希。",
        "en": "Choose a file you received by other means (a video, say). Your browser hashes it on "
        "this machine; the file is never uploaded, only its hash is looked up.",
    },
    "single_file": {"zh": "文件", "en": "File"},
    "hashing": {"zh": "正在计算哈希", "en": "hashing"},
    "not_registered": {
        "zh": "本系统中没有登记此文件。",
        "en": "No evidence with this hash is registered here.",
    },
    "statement_title": {"zh": "陈述申辩", "en": "Statement and defence"},
    "statement_intro": {
        "zh": "在事先告知阶段，您可以提交陈述申辩（文字，最多3张照片，每张不超过5 MB）。"
        "提交后记入案件并上链，执法人员与督查人员可见。",
        "en": "At the notice stage you may submit a statement and defence (text, up to 3 photos of "
        "5 MB each). It becomes an event of the case, anchored, seen by the officer and "
        "supervisors.",
    },
    "statement_text": {"zh": "陈述与申辩", "en": "Your statement"},
    "statement_photos": {"zh": "照片（可选）", "en": "Photos (optional)"},
    "submit": {"zh": "提交", "en": "Submit"},
    "statement_sent": {
        "zh": "已提交并记入案件；上链后可下载收据。",
        "en": "Submitted and recorded in the case; its "
        "receipt can be downloaded once it is anchored.",
    },
    "type_party.statement": {"zh": "陈述申辩", "en": "Statement and defence"},
    "recent_cases": {"zh": "最近更新的案件", "en": "Recently updated cases"},
    "event_chain": {"zh": "事件链", "en": "Event chain"},
    "poster": {"zh": "封面帧", "en": "poster"},
    "play": {"zh": "播放", "en": "play"},
    "custody_note": {
        "zh": "每次查看封面帧或播放都会作为保管链事件记入日志。",
        "en": "Every poster view and every playback is logged as a custody event.",
    },
    "export": {"zh": "导出证据包", "en": "Export the evidence package"},
    "audit": {"zh": "最近一次审计", "en": "Latest audit"},
    "audit_clean": {"zh": "审计通过：日志未被篡改", "en": "Audit clean: the log is intact"},
    "audit_findings": {
        "zh": "审计发现问题：日志或证据已被改动",
        "en": "Audit FINDINGS: the log or evidence was changed",
    },
    "audit_never": {
        "zh": "尚未运行审计（lianzheng audit）。",
        "en": "No audit has run yet (lianzheng audit).",
    },
    "cases_by_type": {"zh": "各违法类型案件数", "en": "Cases by violation type"},
    "overdue": {
        "zh": "逾期未决案件（立案后超过法定期限仍未作出决定）",
        "en": "Overdue: filed, no decision within the legal time limit",
    },
    "days": {"zh": "天", "en": "days"},
    "none": {"zh": "无", "en": "none"},
    "officer_activity": {
        "zh": "人员活动（最近一万条事件）",
        "en": "Officer activity (newest 10,000 events)",
    },
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
    "sign_in_refused": {
        "zh": "用户名或密码错误，或账户暂时锁定。",
        "en": "The user name or password is wrong, or the account is locked for a while.",
    },
    "staff_denied": {
        "zh": "此页面仅限督查、法制审核与管理员。",
        "en": "This page is for supervisors, legal review and admins.",
    },
    "dashboard": {"zh": "督查概览", "en": "Supervision dashboard"},
    "cases_by_state": {"zh": "各环节案件数", "en": "Cases by state"},
    "cases_by_district": {"zh": "各辖区案件数", "en": "Cases by district"},
    "evidence": {"zh": "证据", "en": "Evidence"},
    "items": {"zh": "件数", "en": "items"},
    "late": {"zh": "迟延上传", "en": "uploaded late"},
    "legal_hold": {"zh": "法律保全中", "en": "Under legal hold"},
    "set_hold": {"zh": "设置法律保全", "en": "Put under legal hold"},
    "lift_hold": {"zh": "解除法律保全", "en": "Lift the legal hold"},
    "purged": {
        "zh": "已按保存期限清除（记录与哈希保留）",
        "en": "Purged under its retention rule (record and hashes kept)",
    },
    "continuity_breaks": {"zh": "片段不连续", "en": "segment breaks"},
    "anchors": {"zh": "上链锚定", "en": "Anchors"},
    "worker": {"zh": "锚定进程", "en": "Anchor worker"},
    "witnesses": {"zh": "独立见证人", "en": "Independent witnesses"},
    "witness": {"zh": "见证人", "en": "Witness"},
    "quorum": {"zh": "法定数", "en": "quorum"},
    "cosigned_size": {"zh": "已联署至", "en": "Cosigned up to"},
    "witness_lag": {"zh": "落后条数", "en": "Leaves behind"},
    "healthy": {"zh": "正常", "en": "healthy"},
    "awaiting_final": {"zh": "等待确认", "en": "awaiting finality"},
    "skip_to_content": {"zh": "跳到正文", "en": "Skip to content"},
    "language": {"zh": "语言", "en": "Language"},
    "home_title": {
        "zh": "链证：城管执法证据与记录核验",
        "en": "Lianzheng: enforcement evidence and records you can check",
    },
    "home_intro": {
        "zh": "每一条执法记录和每一份证据都记入不可篡改的日志并上链锚定。请选择您要做的事：",
        "en": "Every enforcement record and every piece of evidence goes into a log that cannot be "
        "rewritten, anchored on a blockchain. Choose what you came to do:",
    },
    "home_citizen": {"zh": "查询我的案件", "en": "Check my case"},
    "home_citizen_note": {
        "zh": "凭告知书上的案件编号和核验码，查看案件进展并自行核验记录",
        "en": "with the case number and code on your notice: see where it stands, check the record",
    },
    "home_court": {"zh": "法院/复议机关：核验证据包", "en": "Courts: verify an evidence package"},
    "home_court_note": {
        "zh": "上传证据包，逐项查看核验结果；也可离线用 lianzheng verify 核验",
        "en": "upload a package and see each check; or verify offline with lianzheng verify",
    },
    "home_staff": {"zh": "工作人员登录", "en": "Staff sign-in"},
    "home_staff_note": {
        "zh": "督查、法制审核与管理",
        "en": "supervision, legal review, administration",
    },
    "home_log": {"zh": "公开日志", "en": "The public log"},
    "home_log_note": {
        "zh": "检查点、包含证明、一致性证明与链上锚定，无需登录，不含个人信息",
        "en": "checkpoints, inclusion and consistency proofs, anchors: no login, no personal data",
    },
    "home_back": {"zh": "返回首页", "en": "Back to the home page"},
    "error_400": {
        "zh": "表单已过期或不完整：请返回，刷新页面后重新提交。",
        "en": "The form was stale or incomplete: go back, reload the page and send it again.",
    },
    "error_404": {"zh": "没有这个页面。", "en": "There is no such page."},
    "error_403": {
        "zh": "您的账号无权查看此页面。如需查看，请联系管理员。",
        "en": "Your account may not see this page; ask an administrator if you need to.",
    },
    "error_405": {
        "zh": "此页面不能这样打开，请从首页进入。",
        "en": "This page cannot be opened this way; start from the home page.",
    },
    "error_413": {"zh": "上传的内容太大。", "en": "What was sent is too large."},
    "error_other": {
        "zh": "出错了，请稍后再试；已提交的内容不受影响。",
        "en": "Something went wrong; please try again later. Nothing already accepted was lost.",
    },
    # The citizen's status card (verify_portal/app/case_status.py).
    "status_title": {"zh": "案件现状", "en": "Where your case stands"},
    "status_since": {"zh": "自", "en": "since"},
    "stage_reported": {
        "zh": "已登记线索，正在核实。作出处罚前，机关会书面告知拟处罚的内容和您的权利。",
        "en": "Reported and being looked into. Before any penalty the agency will tell you in "
        "writing what it proposes and what your rights are.",
    },
    "stage_filed": {
        "zh": "已立案，正在调查。作出处罚前，机关会书面告知拟处罚的内容和您的权利。",
        "en": "Filed and under investigation. Before any penalty the agency will tell you in "
        "writing what it proposes and what your rights are.",
    },
    "stage_investigating": {
        "zh": "正在调查取证。作出处罚前，机关会书面告知拟处罚的内容和您的权利。",
        "en": "Evidence is being gathered. Before any penalty the agency will tell you in writing "
        "what it proposes and what your rights are.",
    },
    "stage_notified": {
        "zh": "机关已告知拟作出的处罚，尚未决定。您有权陈述、申辩；机关须听取您的意见后才能决定。",
        "en": "The agency has told you the penalty it proposes; nothing is decided yet. You have "
        "the right to state your case, and the agency must hear it before it decides.",
    },
    "stage_proposed": {"zh": "拟罚款：{amount}", "en": "Proposed fine: {amount}"},
    "stage_decided_fine": {
        "zh": "已作出处罚决定：罚款 {amount}。",
        "en": "Decided: a fine of {amount}.",
    },
    "stage_decided_first_offence_exempt": {
        "zh": "已决定首违不罚：本次不予罚款。再次发生同类违法行为时不再适用。",
        "en": "Decided: first offence, no fine this time. It does not apply to a second offence "
        "of the same kind.",
    },
    "stage_decided_no_penalty": {
        "zh": "已决定不予处罚。您无需做任何事。",
        "en": "Decided: no penalty. There is nothing you need to do.",
    },
    "stage_paid": {"zh": "罚款 {amount} 已缴纳。", "en": "The fine of {amount} is paid."},
    "stage_appealed": {
        "zh": "已记录您的{kind}申请；案件等待复议机关或法院的结果。",
        "en": "Your {kind} is on record; the case waits for the outcome.",
    },
    "stage_closed": {"zh": "案件已结案。", "en": "The case is closed."},
    "stage_withdrawn": {
        "zh": "案件已撤销，不予处罚。",
        "en": "The case was withdrawn; there is no penalty.",
    },
    "next_title": {"zh": "您可以做什么、最晚何时", "en": "What you can do, and by when"},
    "next_statement": {
        "zh": "陈述、申辩：在本页下方填写，或向办案机关书面或口头提出。",
        "en": "State your case: use the form below, or tell the agency in writing or in person.",
    },
    "next_hearing": {
        "zh": "要求听证（拟较大数额罚款时）：向办案机关提出。",
        "en": "Ask for a hearing (for a large proposed fine): ask the agency.",
    },
    "next_pay": {
        "zh": "缴纳罚款 {amount}：按处罚决定书所列银行或电子缴款方式。逾期每日加处罚款数额的 3%。",
        "en": "Pay the fine of {amount}, at the bank or through the e-payment named on the "
        "decision. After the deadline, 3 % of the fine is added each day.",
    },
    "next_reconsideration": {
        "zh": "不服决定的，可申请行政复议（决定书写明复议机关）。",
        "en": "If you disagree, apply for administrative reconsideration (the decision names "
        "the body).",
    },
    "next_lawsuit": {
        "zh": "不服决定的，也可向人民法院提起行政诉讼。",
        "en": "If you disagree, you may also sue in the people's court.",
    },
    "next_due": {"zh": "截止", "en": "by"},
    "next_passed": {"zh": "已过期", "en": "passed"},
    "deadline_note": {
        "zh": "期限从日志记录的告知或决定日期起算；如您收到文书更晚，从收到之日起算。"
        "“3 日”“5 日”指工作日，遇法定节假日顺延（行政处罚法第八十五条）。"
        "缴款 15 日（第六十七条）、复议 60 日（行政复议法第二十条）、"
        "诉讼 6 个月（行政诉讼法第四十六条）。",
        "en": "Periods count from the notice or decision date the log records; if you received "
        "the document later, from that day. '3 days' and '5 days' are working days, extended "
        "over public holidays (Administrative Penalty Law art. 85). Payment 15 days (art. 67), "
        "reconsideration 60 days (Administrative Reconsideration Law art. 20), lawsuit 6 months "
        "(Administrative Litigation Law art. 46).",
    },
    "contact_line": {
        "zh": "对本案有疑问，请联系：{contact}（{agency}）",
        "en": "Questions about this case: {contact} ({agency})",
    },
    "explain_title": {"zh": "这些词是什么意思", "en": "What these words mean"},
    "explain_recorded": {
        "zh": "已记录：每一步都写入机关的防篡改日志，日志由机关密钥签名，之后任何改动都会被发现。",
        "en": "Recorded: each step is written into the agency's tamper-evident log, signed with "
        "the agency's key; any later change shows.",
    },
    "explain_chain": {
        "zh": "已上链、区块、已确认：日志的摘要写入一条公开区块链的某个区块；"
        "“已确认”指该区块已足够深，不会被撤回。此后连机关也无法改写这段记录而不被发现。",
        "en": "Anchored, block, final: a digest of the log is written into a block of a public "
        "blockchain; 'final' means that block is deep enough not to be undone. After that not "
        "even the agency can rewrite the record unnoticed.",
    },
    "explain_witnessed": {
        "zh": "见证：独立的见证方也签署了同一份日志摘要，证明机关没有给不同的人看不同的记录。",
        "en": "Witnessed: independent witnesses signed the same log digest, showing the agency "
        "did not show different people different records.",
    },
    "explain_browser": {
        "zh": "浏览器已核验：这些检查由您自己的浏览器完成，不依赖本服务器的说法。",
        "en": "Checked by your browser: your own browser did these checks; it does not take "
        "this server's word for them.",
    },
    "check_failed_contact": {
        "zh": "请联系 {contact}，或向上级机关、法院反映；请保存本页截图和下载的收据。",
        "en": "Contact {contact}, or the supervising authority or a court; keep a screenshot of "
        "this page and the receipts you downloaded.",
    },
    "status_disputed": {
        "zh": "注意：以上内容来自本服务器，其中至少一步未通过浏览器核验，请勿信赖。",
        "en": "Note: the above comes from this server, and at least one step failed your "
        "browser's check; do not rely on it.",
    },
    "server_disputed": {
        "zh": "（服务器的说法未获浏览器证实）",
        "en": "(the server's claim was not borne out by your browser)",
    },
    "statement_error_length": {
        "zh": "请填写陈述内容（1 至 2000 字）。",
        "en": "Please write your statement (1 to 2,000 characters).",
    },
    "statement_error_photos": {
        "zh": "最多 3 张照片，每张不超过 5 MB。您的文字已保留，请重新选择照片。",
        "en": "At most 3 photos of 5 MB each. Your text is kept; please choose the photos again.",
    },
    "statement_error_image": {
        "zh": "照片须为可以打开的 JPEG 或 PNG 图片。您的文字已保留，请重新选择照片。",
        "en": "Photos must be JPEG or PNG images that open. Your text is kept; please choose the "
        "photos again.",
    },
    "statement_error_stage": {
        "zh": "本案已不在事先告知阶段，不能再在线提交陈述申辩；请联系 {contact}。",
        "en": "The case is no longer at the notice stage, so a statement cannot be sent here; "
        "please contact {contact}.",
    },
    "statement_sent_title": {"zh": "陈述申辩已提交", "en": "Your statement was sent"},
    # The staff case list (verify_portal/web/pages/staff_cases.py).
    "case_list": {"zh": "案件列表", "en": "Cases"},
    "list_own_district": {"zh": "仅显示本辖区案件：", "en": "Your district's cases only:"},
    "list_q": {"zh": "案件编号或当事人假名", "en": "Case number or party pseudonym"},
    "list_officer": {"zh": "执法人员", "en": "Officer"},
    "list_device": {"zh": "设备编号", "en": "Device"},
    "list_state": {"zh": "状态", "en": "State"},
    "list_any": {"zh": "全部", "en": "Any"},
    "list_from": {"zh": "立案日期自", "en": "Reported from"},
    "list_to": {"zh": "至", "en": "to"},
    "list_overdue": {"zh": "逾期未决", "en": "Overdue"},
    "list_finding": {"zh": "审计发现问题", "en": "Audit finding"},
    "list_finding_mark": {"zh": "审计发现问题", "en": "audit finding"},
    "list_sort": {"zh": "排序", "en": "Sort by"},
    "sort_updated": {"zh": "最近更新", "en": "Last updated"},
    "sort_created": {"zh": "登记时间", "en": "Reported"},
    "sort_case_no": {"zh": "案件编号", "en": "Case number"},
    "sort_state": {"zh": "办案环节", "en": "Stage"},
    "list_order": {"zh": "顺序", "en": "Order"},
    "order_desc": {"zh": "新→旧 / 后→前", "en": "descending"},
    "order_asc": {"zh": "旧→新 / 前→后", "en": "ascending"},
    "list_per_page": {"zh": "每页", "en": "Per page"},
    "list_search": {"zh": "查询", "en": "Search"},
    "list_clear": {"zh": "清除条件", "en": "Clear"},
    "list_bad_filter": {"zh": "查询条件有误：", "en": "A filter is not valid:"},
    "list_total": {
        "zh": "共 {total} 件，第 {page}/{pages} 页",
        "en": "{total} cases, page {page} of {pages}",
    },
    "list_csv": {"zh": "导出本列表 (CSV)", "en": "Download this list (CSV)"},
    "list_empty": {"zh": "没有符合条件的案件。", "en": "No case matches."},
    "list_pages": {"zh": "分页", "en": "Pages"},
    "list_first": {"zh": "首页", "en": "first"},
    "list_prev": {"zh": "上一页", "en": "previous"},
    "list_next": {"zh": "下一页", "en": "next"},
    "list_last": {"zh": "末页", "en": "last"},
    # The staff case page (verify_portal/web/pages/staff.py).
    "case_facts": {"zh": "案件情况", "en": "The case"},
    "case_audit_found": {
        "zh": "最近一次审计发现本案的记录或证据被改动，请勿据此作出决定，并报告法制审核部门。",
        "en": "The latest audit found this case's records or evidence altered: decide nothing on "
        "them, and report it to legal review.",
    },
    "party_deadlines": {"zh": "当事人期限", "en": "The party's deadlines"},
    "deadline_statement": {"zh": "陈述申辩", "en": "Statement"},
    "deadline_hearing": {"zh": "要求听证", "en": "Hearing request"},
    "deadline_pay": {"zh": "缴纳罚款", "en": "Payment"},
    "deadline_reconsideration": {"zh": "申请行政复议", "en": "Reconsideration"},
    "deadline_lawsuit": {"zh": "提起行政诉讼", "en": "Lawsuit"},
    "no_next_step": {
        "zh": "本案已办结，不能再记录新的环节。",
        "en": "This case is finished; no further step can be recorded.",
    },
    "step_illegal": {
        "zh": "本案当前环节不允许这一步；下拉框中只列出允许的下一环节。未记录任何内容。",
        "en": "This step is not allowed from the case's current stage; the list offers only the "
        "steps allowed next. Nothing was recorded.",
    },
    "step_invalid": {
        "zh": "所填内容不完整或有误（如罚款须填写金额，撤案须选择原因）。未记录任何内容。",
        "en": "Something is missing or wrong (a fine needs its amount, a withdrawal its reason). "
        "Nothing was recorded.",
    },
    "step_bad_amount": {
        "zh": "金额请以元填写，如 200 或 200.50。未记录任何内容。",
        "en": "Give the amount in yuan, such as 200 or 200.50. Nothing was recorded.",
    },
    "evidence_id": {"zh": "证据编号", "en": "Evidence"},
    "evidence_flags": {"zh": "提示", "en": "Flags"},
    "poster_of": {"zh": "封面帧：", "en": "Poster frame of"},
    "custody_action": {"zh": "操作", "en": "Action"},
    "custody_actor": {"zh": "操作人", "en": "By"},
    "custody_role": {"zh": "角色", "en": "Role"},
    "custody_recipient": {"zh": "接收方", "en": "Recipient"},
    "leaf": {"zh": "叶序号", "en": "Leaf"},
    "seq": {"zh": "案内序号", "en": "Seq"},
    # The public log browser (verify_portal/web/pages/public_log.py).
    "log_title": {"zh": "公开日志", "en": "The public log"},
    "log_intro": {
        "zh": "任何人无需登录即可查看：日志的检查点及其见证、链上锚定，以及任一记录的包含证明。"
        "这里只有哈希，没有事件内容，也没有任何人的个人信息。",
        "en": "Open to anyone without signing in: the log's checkpoints and their witnesses, "
        "its anchors on chain, and any record's inclusion proof. Hashes only: no event's "
        "content and nobody's personal data.",
    },
    "log_find_leaf": {"zh": "按序号查看记录（叶）", "en": "Open a record (leaf) by its index"},
    "log_bad_index": {
        "zh": "请输入从 0 开始的整数序号。",
        "en": "Type a whole number, counting from 0.",
    },
    "log_checkpoints": {"zh": "最新检查点", "en": "Latest checkpoints"},
    "log_size": {"zh": "日志大小", "en": "Log size"},
    "log_root": {"zh": "根哈希", "en": "Root hash"},
    "log_signed_at": {"zh": "签署时间", "en": "Signed"},
    "log_not_witnessed": {"zh": "尚无见证", "en": "not witnessed yet"},
    "log_empty": {"zh": "日志尚无记录。", "en": "The log is empty."},
    "log_latest_note": {
        "zh": "最新检查点的签名原文（C2SP 签名笔记格式）",
        "en": "The latest checkpoint as signed (a C2SP signed note)",
    },
    "log_chain": {"zh": "链 ID", "en": "Chain id"},
    "log_contract": {"zh": "合约", "en": "contract"},
    "log_block": {"zh": "区块", "en": "Block"},
    "log_tx": {"zh": "交易", "en": "Transaction"},
    "log_no_anchors": {"zh": "尚未上链。", "en": "Nothing anchored yet."},
    "log_lookup_proves": {
        "zh": "查到登记，说明这个文件与登记时逐字节相同，并在所示时间记入日志；"
        "它不说明文件的内容是否属实，也不显示登记人。",
        "en": "A registration found proves this file is byte for byte the one recorded, in the "
        "log since the time shown; it says nothing of what the file shows, and does not name "
        "who registered it.",
    },
    "log_leaf": {"zh": "记录", "en": "Leaf"},
    "log_leaf_hash": {"zh": "叶哈希", "en": "Leaf hash"},
    "log_anchor": {"zh": "链上锚定", "en": "Anchor"},
    "log_proof": {"zh": "包含证明", "en": "Inclusion proof"},
    "log_proof_intro": {
        "zh": "按 RFC 9162 第 2.1.3 节，从叶哈希依次与下列哈希合并，可得出上面的根哈希。",
        "en": "Combining the leaf hash with these hashes in turn, as RFC 9162 section 2.1.3 "
        "says, gives the root hash above.",
    },
    "log_proof_empty": {
        "zh": "日志只有这一条记录：叶哈希即根哈希。",
        "en": "The log holds this record only: its hash is the root.",
    },
    "log_no_leaf": {
        "zh": "日志中没有这一序号的记录。",
        "en": "The log has no record at this index.",
    },
    "home_api": {"zh": "开发者接口文档 (OpenAPI)", "en": "The API for developers (OpenAPI)"},
    # The dashboard (verify_portal/web/templates/staff_dashboard.html).
    "finding_in_case": {
        "zh": "案件 {case}：记录或证据与日志不一致",
        "en": "Case {case}: records or evidence disagree with the log",
    },
    "finding_in_log": {
        "zh": "日志本身（树、检查点或锚定）：与签名记录不一致",
        "en": "The log itself (tree, checkpoints or anchors) disagrees with what was signed",
    },
    "findings_list": {
        "zh": "在案件列表中查看所有涉及的案件",
        "en": "See every case concerned in the case list",
    },
    "overdue_total": {"zh": "共 {total} 件逾期未决", "en": "{total} overdue in all"},
    "overdue_oldest": {"zh": "下表列出最早的 {shown} 件", "en": "the oldest {shown} below"},
    "all_cases": {"zh": "全部案件（查询、筛选、导出）", "en": "All cases (search, filter, export)"},
    "cases": {"zh": "案件数", "en": "Cases"},
    "total": {"zh": "合计", "en": "Total"},
    # The court report (verify_portal/web/pages/court.py).
    "court_summary": {"zh": "结论摘要", "en": "Summary"},
    "court_summary_verified": {
        "zh": "案件 {case} 的全部事件与文件自记录时起未被篡改；"
        "日志（大小 {size}）已核对签名与链上锚定。",
        "en": "Every event and file of case {case} is unchanged since it was recorded; the log "
        "(size {size}) was checked against its signature and its anchor on chain.",
    },
    "court_summary_files_altered": {
        "zh": "案件事件完整（签名、检查点、包含证明、事件链均通过），但下列文件在记录后被改动：",
        "en": "The case's events are intact (signature, checkpoint, inclusion proofs and event "
        "chain pass), but these files were altered after they were recorded:",
    },
    "court_summary_failed": {
        "zh": "以下核验项未通过，包内任何内容都不能认定为未被篡改：",
        "en": "These checks failed; nothing in the package may be taken as unchanged:",
    },
    "court_summary_incomplete": {
        "zh": "必需的核验项（如链上锚定）无法完成；这不是已核验的结论，请在链可访问时重新核验。",
        "en": "A required check (such as the anchor on chain) could not be completed; this is "
        "not a verified result. Verify again when the chain can be reached.",
    },
    "court_summary_held": {"zh": "已通过的核验项：", "en": "Checks that passed:"},
    "court_package_sha256": {"zh": "证据包 SHA-256", "en": "Package SHA-256"},
    "court_verified_at": {"zh": "核验时间", "en": "Verified at"},
    "court_verifier": {"zh": "核验程序版本", "en": "Verifier version"},
    "court_kept": {
        "zh": "本报告在本浏览器中保留一小时，可切换语言或再次下载；证据包本身未被保存。",
        "en": "This report stays available to this browser for an hour (to switch language or "
        "download again); the package itself was not kept.",
    },
    "court_report_gone": {
        "zh": "该核验报告已过期或不属于本浏览器，请重新上传证据包。",
        "en": "That report has expired or belongs to another browser; upload the package again.",
    },
    "notice_title": {"zh": "打印核验告知", "en": "Print the verification notice"},
    "notice_intro": {
        "zh": "生成新的核验码和可打印的告知页（PDF），随告知书或决定书交给当事人。"
        "生成后，之前的核验码即失效。",
        "en": "Makes a new verification code on a printable page (PDF) to hand over with the "
        "notice or the decision. Any earlier code stops working.",
    },
    "notice_english": {"zh": "附英文", "en": "With English"},
    "notice_print": {"zh": "生成告知页 (PDF)", "en": "Make the notice (PDF)"},
    # Citizens' reports (verify_portal/web/pages/report.py).
    "report_title": {"zh": "我要举报（全民城管）", "en": "Report a problem"},
    "report_intro": {
        "zh": "看到占道经营、乱扔垃圾、违法建设等问题，可以在这里举报。提交后会立案登记为线索，"
        "并给您一个核验码，用来在“查询我的案件”页面跟踪处理进度。",
        "en": "Seen trading on the road, litter, unauthorised building? Report it here. It is "
        "recorded as a case, and you get a code to follow it on the case-checking page.",
    },
    "report_type": {"zh": "问题类型", "en": "Kind of problem"},
    "report_address": {"zh": "地点（地址或附近标志）", "en": "Where (address or landmark)"},
    "report_location_note": {
        "zh": "也可以使用手机定位代替地址。",
        "en": "You can use your phone's location instead of an address.",
    },
    "report_locate": {"zh": "使用我的位置", "en": "Use my location"},
    "report_locate_failed": {
        "zh": "无法取得位置，请填写地址。",
        "en": "Your location is not available; please type the address.",
    },
    "report_photos": {"zh": "照片（可选，最多 3 张）", "en": "Photos (optional, up to 3)"},
    "report_phone": {"zh": "联系电话（可选）", "en": "Phone (optional)"},
    "report_privacy": {
        "zh": "地址、位置和电话只加密保存在本机关，不写入公开日志、不上链；"
        "日志只记录问题类型和辖区。",
        "en": "The address, location and phone are kept encrypted by the agency only, never in "
        "the public log or on chain; the log records only the kind of problem and the district.",
    },
    "report_send": {"zh": "提交举报", "en": "Send the report"},
    "report_error_type": {"zh": "请选择问题类型。", "en": "Choose the kind of problem."},
    "report_error_district": {
        "zh": "请填写辖区（字母、数字和连字符）。",
        "en": "Give the district (letters, digits and hyphens).",
    },
    "report_error_address": {
        "zh": "请填写地点（不超过 200 字），或使用您的位置。",
        "en": "Say where (up to 200 characters), or use your location.",
    },
    "report_error_phone": {
        "zh": "电话号码只能包含数字、空格和连字符。",
        "en": "A phone number has digits, spaces and hyphens only.",
    },
    "report_error_photos": {
        "zh": "最多 3 张可以打开的 JPEG 或 PNG 照片，每张不超过 5 MB。"
        "其他内容已保留，请重新选择照片。",
        "en": "Up to 3 JPEG or PNG photos that open, 5 MB each. The rest is kept; choose the "
        "photos again.",
    },
    "report_done_title": {"zh": "举报已提交并登记", "en": "Your report is recorded"},
    "report_done_keep": {
        "zh": "请记下案件编号和核验码（核验码只显示这一次），"
        "用它们在“查询我的案件”页面跟踪处理进度。",
        "en": "Note the case number and the code (the code is shown only this once); with them "
        "you can follow the case on the case-checking page.",
    },
    "report_follow": {"zh": "现在查看这个案件", "en": "Follow this case now"},
    "home_report": {"zh": "我要举报", "en": "Report a problem"},
    "home_report_note": {
        "zh": "看到城市管理问题？举报并跟踪处理进度",
        "en": "seen a problem in the street? report it and follow what happens",
    },
    "reported_by_citizen": {
        "zh": "群众举报的详情（不在日志中，加密保存）",
        "en": "The citizen's report (not in the log; kept encrypted)",
    },
    "report_location": {"zh": "位置（纬度, 经度）", "en": "Location (latitude, longitude)"},
}


def language() -> str:
    asked = request.args.get("lang") or request.cookies.get("lang") or "zh"
    return asked if asked in LANGUAGES else "zh"


def t(key: str) -> str:
    return TEXT[key][language()]


def beijing_time(moment: str | datetime | None) -> str:
    """A moment as people read it on a page: Beijing time to the second, the zone said once."""
    if moment is None or moment == "":
        return ""
    when = (
        datetime.fromisoformat(moment.replace("Z", "+00:00")) if isinstance(moment, str) else moment
    )
    suffix = "（北京时间）" if language() == "zh" else " (Beijing time)"
    return when.astimezone(BEIJING).strftime("%Y-%m-%d %H:%M:%S") + suffix
