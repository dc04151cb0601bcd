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
    "again": {"zh": "核验另一个证据包", "en": "Verify another package"},
    "no_file": {"zh": "请选择一个证据包文件。", "en": "Choose a package file."},
}


def language() -> str:
    asked = request.args.get("lang") or request.cookies.get("lang") or "zh"
    return asked if asked in LANGUAGES else "zh"


def t(key: str) -> str:
    return TEXT[key][language()]
