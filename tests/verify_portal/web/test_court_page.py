"""The court page: a package verified in a process of its own against this deployment's trust root
and the roots an admin registered, the anchor always checked on chain; in Chinese or English,
nothing kept."""

import dataclasses
import io
import json
import re
import zipfile

import pytest
from click.testing import CliRunner
from pypdf import PdfReader

from ledger.users import Role, add_user
from tests.chain_fixtures import free_port
from tests.support.packages import build
from tests.support.trust import Deployment
from verify_portal.app import anchoring
from verify_portal.app.services import Services
from verify_portal.cli import main
from verify_portal.web import create_app


@pytest.fixture
def court(exported):
    return create_app(services=exported["services"]).test_client()


def _upload(court, data, lang=None):
    url = "/court/verify" + (f"?lang={lang}" if lang else "")
    return court.post(
        url,
        data={"package": (io.BytesIO(data), "case.zip")},
        content_type="multipart/form-data",
        follow_redirects=True,  # to the kept report's own page
    )


def _verdict(page):
    return re.search(r'data-verdict="([^"]+)"', page)[1]


def _row(page, check):
    return re.search(
        rf'<tr class="([^"]+)" data-check="{check}">\s*<td>[^<]*</td>\s*<td>[^<]*</td>\s*'
        r"<td>([^<]*)</td>",
        page,
    )


def test_the_court_page_is_in_chinese_with_an_english_switch_and_strict_headers(court):
    page = court.get("/court")
    assert page.status_code == 200 and "核验证据包" in page.get_data(as_text=True)
    csp = page.headers["Content-Security-Policy"]
    assert (
        "script-src 'self'" in csp
        and "frame-ancestors 'none'" in csp
        and "unsafe-inline" not in csp
    )
    english = court.get("/court?lang=en")
    assert "Verify an evidence package" in english.get_data(as_text=True)
    assert "lang=en" in english.headers["Set-Cookie"]


def test_every_page_names_the_deployments_trust_root_fingerprint(court, exported):
    fingerprint = exported["services"].trust.latest().fingerprint
    assert f'<code id="trust-fingerprint">{fingerprint}</code>' in court.get("/court").get_data(
        as_text=True
    )
    assert court.get("/api/v1/trust").json["log_origin"] == exported["services"].store.origin


def test_a_genuine_package_is_verified_against_this_deployments_root_with_the_chain(
    court, exported
):
    page = _upload(court, exported["path"].read_bytes()).get_data(as_text=True)
    assert _verdict(page) == "VERIFIED", re.sub(r"<[^>]+>", " ", page)[-3000:]
    assert f'data-root="{exported["services"].trust.latest().fingerprint}"' in page
    assert (
        _row(page, "anchor")[1] == "pass"
        and "checked on chain 31337 at block" in _row(page, "anchor")[2]
        and "Beijing time)" in _row(page, "anchor")[2]  # the block's time, as people read it
    )
    assert _row(page, "witnesses")[1] == "not-run"
    pdf = court.get(re.search(r'href="([^"]+)" id="report-pdf"', page)[1])
    assert pdf.status_code == 200 and pdf.data.startswith(b"%PDF-")
    assert (
        list((exported["services"].settings.data_dir / "tmp").iterdir()) == []
    )  # nothing of the upload kept


def test_a_package_forged_with_a_strangers_keys_is_not_verified_and_the_stranger_is_named(
    court, exported, tmp_path
):
    forger = Deployment(origin=exported["services"].store.origin)
    forged = build(forger, tmp_path / "forged.zip").path
    page = _upload(court, forged.read_bytes(), lang="en").get_data(as_text=True)
    assert _verdict(page) == "NOT VERIFIED"
    assert (
        _row(page, "checkpoint")[1] == "fail"
        and forger.signer.note_key_id.hex() in _row(page, "checkpoint")[2]
    )
    assert _row(page, "signature")[1] == "fail"


def test_a_tampered_package_names_the_failed_check(court, exported):
    entries = {}
    with zipfile.ZipFile(exported["path"]) as z:
        for info in z.infolist():
            data = z.read(info)
            entries[info.filename] = (
                data[:-1] + bytes([data[-1] ^ 1]) if info.filename.endswith(".mp4") else data
            )
    forged = io.BytesIO()
    with zipfile.ZipFile(forged, "w") as z:
        for name, data in entries.items():
            z.writestr(name, data)
    page = _upload(court, forged.getvalue(), lang="en").get_data(as_text=True)
    assert _verdict(page) == "NOT VERIFIED" and "NOT VERIFIED" in page
    assert _row(page, "manifests")[1] == "fail"
    # The headline says what holds and what does not: the record stands, a file was changed.
    summary = page[page.index('id="summary"') : page.index('id="report-facts"')]
    assert "The case&#39;s events are intact" in summary and ".mp4" in summary


def test_with_the_chain_down_the_verdict_is_incomplete_never_verified(court, exported, monkeypatch):
    monkeypatch.setattr(anchoring, "rpc_url", lambda settings: f"http://127.0.0.1:{free_port()}")
    page = _upload(court, exported["path"].read_bytes(), lang="en").get_data(as_text=True)
    assert _verdict(page) == "INCOMPLETE" and "INCOMPLETE" in page
    assert _row(page, "anchor")[1] == "incomplete" and "unreachable" in _row(page, "anchor")[2]


def test_something_that_is_not_a_package_is_reported_not_crashed(court):
    page = _upload(court, b"not a zip at all")
    text = page.get_data(as_text=True)
    assert page.status_code == 200 and _row(text, "archive")[1] == "fail"
    assert _row(text, "bag")[1] == "not-run" and "未运行" in text  # not run is not failed


def test_the_report_names_the_package_hash_time_and_verifier_and_keeps_across_languages(
    court, exported
):
    import hashlib

    package = exported["path"].read_bytes()
    reply = _upload(court, package)
    page = reply.get_data(as_text=True)
    assert hashlib.sha256(package).hexdigest() in page and "（北京时间）" in page
    assert "lianzheng 0.1.0" in page and exported["case_no"] in page
    english = court.get(reply.request.path + "?lang=en")  # the language switch
    assert english.status_code == 200 and "VERIFIED" in english.get_data(as_text=True)
    assert "Package SHA-256" in english.get_data(as_text=True)
    pdf = court.get(reply.request.path + "/report.pdf")
    text = "".join(p.extract_text() for p in PdfReader(io.BytesIO(pdf.data)).pages)
    assert hashlib.sha256(package).hexdigest()[:40] in text.replace("\n", "")
    assert "lianzheng 0.1.0" in text and "北京时间" in text and exported["case_no"] in text
    stranger = create_app(services=exported["services"]).test_client()
    assert stranger.get(reply.request.path).status_code == 404  # kept for its browser only


def test_a_form_without_a_file_is_a_400_page(court):
    r = court.post("/court/verify", data={}, content_type="multipart/form-data")
    assert r.status_code == 400 and "请选择" in r.get_data(as_text=True)


def test_a_package_that_fails_is_counted_in_the_metrics(court):
    def failures():
        text = court.get("/metrics").get_data(as_text=True)
        return int(
            re.search(r'lianzheng_verification_failures_total\{kind="package"\} (\d+)', text).group(
                1
            )
        )

    before = failures()  # the package fixture is shared with the tests above
    _upload(court, b"not a zip at all")
    _upload(court, b"nor this")
    assert failures() == before + 2


def _limited(exported, **limits) -> Services:
    services = exported["services"]
    return dataclasses.replace(
        services,
        court=dataclasses.replace(
            services.court,
            settings=dataclasses.replace(
                services.settings, web=dataclasses.replace(services.settings.web, **limits)
            ),
        ),
    )


@pytest.mark.parametrize(
    "limits, words",
    [
        ({"court_verify_seconds": 0.05}, "took longer than"),
        ({"court_verify_memory": 64 << 20}, "stopped before it finished"),
    ],
)
def test_verification_beyond_the_time_or_memory_limit_is_a_page_that_says_why(
    exported, limits, words
):
    court = create_app(services=_limited(exported, **limits)).test_client()
    answer = _upload(court, exported["path"].read_bytes(), lang="en")
    assert answer.status_code == 422 and words in answer.get_data(as_text=True)


def test_another_agencys_package_verifies_only_once_an_admin_registered_its_root(
    court, exported, tmp_path
):
    other = Deployment(
        origin="other-city.example/cg-log", agency="另一城管局", contract="0x" + "22" * 20
    )
    package = build(other, tmp_path / "other.zip").path
    before = _upload(court, package.read_bytes()).get_data(as_text=True)
    assert _verdict(before) == "NOT VERIFIED" and _row(before, "root")[1] == "fail"
    services = exported["services"]
    with services.sessions.begin() as session:
        add_user(session, "admin-court", Role.ADMIN)
    root_file = tmp_path / "other-root.json"
    root_file.write_text(json.dumps(other.document(), ensure_ascii=False))
    env = {
        "LIANZHENG_DATA_DIR": str(services.settings.data_dir),
        "LIANZHENG_RPC_URL": services.settings.chain.rpc_url,
        "LIANZHENG_CHAIN_ID": "31337",
        "LIANZHENG_CONTRACT_ADDRESS": services.settings.chain.contract_address,
    }
    wrong = CliRunner().invoke(
        main,
        ["court-roots", "add", str(root_file), "--fingerprint", "00" * 32, "--as", "admin-court"],
        env=env,
    )
    assert wrong.exit_code == 1 and "refused" in wrong.output
    added = CliRunner().invoke(
        main,
        [
            "court-roots",
            "add",
            str(root_file),
            "--fingerprint",
            other.root().fingerprint,
            "--as",
            "admin-court",
        ],
        env=env,
    )
    assert added.exit_code == 0, added.output
    try:
        after = _upload(court, package.read_bytes()).get_data(as_text=True)
        assert f'data-root="{other.root().fingerprint}"' in after  # the matched root is named
        assert _row(after, "signature")[1] == "pass" and _row(after, "checkpoint")[1] == "pass"
        assert (
            _row(after, "anchor")[1] == "fail"
            and "there is no contract" in _row(after, "anchor")[2]
        )
    finally:
        CliRunner().invoke(
            main,
            ["court-roots", "remove", other.root().fingerprint, "--as", "admin-court"],
            env=env,
        )
