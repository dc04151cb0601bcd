"""The package report as PDF, Chinese and English (reportlab).

The CJK text is set in WenQuanYi Micro Hei (Debian's fonts-wqy-microhei, installed by `make`), embedded
as a subset so the PDF reads the same on any machine; without that font it falls back to the standard
CID font STSong-Light, which readers with Asian fonts provide.
"""

from __future__ import annotations

import io
import json
from pathlib import Path
from typing import TYPE_CHECKING, Any
from xml.sax.saxutils import escape

from reportlab.lib import colors
from reportlab.lib.pagesizes import A4
from reportlab.lib.styles import ParagraphStyle
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.cidfonts import UnicodeCIDFont
from reportlab.pdfbase.ttfonts import TTFont
from reportlab.platypus import Paragraph, SimpleDocTemplate, Spacer, Table, TableStyle

from ledger.trust import fingerprint

if TYPE_CHECKING:
    from evidence.package import PackageContents

EMBEDDED_FONT = Path("/usr/share/fonts/truetype/wqy/wqy-microhei.ttc")


def _font() -> str:
    if EMBEDDED_FONT.exists():
        pdfmetrics.registerFont(TTFont("WenQuanYi", str(EMBEDDED_FONT), subfontIndex=0))
        return "WenQuanYi"
    pdfmetrics.registerFont(UnicodeCIDFont("STSong-Light"))
    return "STSong-Light"


FONT = _font()
BODY = ParagraphStyle("body", fontName=FONT, fontSize=9, leading=13)
TITLE = ParagraphStyle("title", parent=BODY, fontSize=15, leading=20, spaceAfter=8)
HEADING = ParagraphStyle("heading", parent=BODY, fontSize=11, leading=16, spaceBefore=8, spaceAfter=4)
CELL = ParagraphStyle("cell", parent=BODY, fontSize=7, leading=9)


def render(contents: PackageContents) -> bytes:
    """The PDF bytes of the package report."""
    out = io.BytesIO()
    a = contents.anchor
    origin, contract = escape(contents.log_key["origin"]), escape(str(a.get("contract")))
    where = f"chain {a.get('chain_id')}, contract {contract}, block {a.get('block_number')}"
    story = [
        Paragraph(f"证据包 Evidence package — {escape(contents.case_no)}", TITLE),
        Paragraph(f"导出时间 Exported: {escape(contents.exported_at)} · 导出人 By: "
                  f"{escape(contents.exported_by)}", BODY),
        Paragraph(f"信任根 Trust root: {escape(str(contents.trust_root.get('agency')))} · 指纹 fingerprint "
                  f"{fingerprint(contents.trust_root)} (请与机关书面提供的指纹核对 compare it with the "
                  "fingerprint the agency gave you on paper)", BODY),
        Paragraph("本证据包证明什么 What this package proves", HEADING),
        Paragraph(f"包内每个事件与文件自记录时起未被篡改，并已上链锚定（上链后未被篡改）：日志 {origin} 大小 "
                  f"{contents.size} 的树根锚定于 {where}。本包不能证明记录之前内容的真实性。", BODY),
        Paragraph(f"Every event and file is unchanged since it was recorded; the log's root {contents.root.hex()} "
                  f"at size {contents.size} was anchored on {where}. It does not prove the content authentic "
                  "before it was recorded.", BODY),
        Paragraph("案件事件 Case events", HEADING),
        _table([["leaf", "seq", "type", "time", "actor"]] + [
            [str(i), str(e.get("seq")), e.get("type", ""), e.get("time", ""), e.get("actor", "")]
            for i, e in ((i, json.loads(d)) for i, d in contents.events)]),
        Paragraph("证据 Evidence", HEADING),
        _table([["id", "type", "SHA-256", "bytes", "captured", "late 迟延"]] + [
            [f.record["evidence_id"], f.record["media_type"], f.record["sha256"], f"{f.record['size']:,}",
             f.record["captured_at"], "yes 是" if f.record.get("late") else "no 否"] for f in contents.evidence]),
        Spacer(1, 8),
        Paragraph("核验 To verify: lianzheng trust add (the agency's trust root, fingerprint checked), then "
                  "lianzheng verify package.zip --rpc URL; or sha256sum -c manifest-sha256.txt, openssl "
                  "pkeyutl -verify for signature.json with the trust root's package key, and eth_call "
                  "rootAt(size) on the trust root's contract.", BODY),
    ]
    SimpleDocTemplate(out, pagesize=A4, title=f"Evidence package {contents.case_no}").build(story)
    return out.getvalue()


def render_verification(report: Any) -> bytes:
    """The verifier's report (evidence.verify.Report) as PDF: the verdict, then every check."""
    out = io.BytesIO()
    label = {"pass": "通过 PASS", "fail": "未通过 FAIL", "not run": "未运行 NOT RUN",
             "incomplete": "未完成 INCOMPLETE"}
    story = [Paragraph("证据包核验报告 Package verification report", TITLE),
             Paragraph(escape(report.headline()), HEADING),
             Paragraph(escape(report.statement()), BODY), Spacer(1, 8),
             _table([["核验项 Check", "结果 Result", "详情 Detail"]] +
                    [[c.label, label[c.status.value], c.detail] for c in report.checks])]
    SimpleDocTemplate(out, pagesize=A4, title="Package verification report").build(story)
    return out.getvalue()


def _table(rows: list[list[str]]) -> Table:
    table = Table([[Paragraph(escape(cell), CELL) for cell in row] for row in rows], repeatRows=1)
    table.setStyle(TableStyle([("GRID", (0, 0), (-1, -1), 0.25, colors.grey),
                               ("BACKGROUND", (0, 0), (-1, 0), colors.whitesmoke)]))
    return table
