"""The court page: a package uploaded and verified check by check, in Chinese or English, nothing kept."""

import base64
import io
import re
import zipfile

import pytest

from verify_portal import create_app


@pytest.fixture
def court(exported):
    return create_app(services=exported["services"]).test_client()


def _upload(court, data, lang=None):
    url = "/court/verify" + (f"?lang={lang}" if lang else "")
    return court.post(url, data={"package": (io.BytesIO(data), "case.zip")}, content_type="multipart/form-data")


def test_the_court_page_is_in_chinese_with_an_english_switch_and_strict_headers(court):
    page = court.get("/court")
    assert page.status_code == 200 and "核验证据包" in page.get_data(as_text=True)
    csp = page.headers["Content-Security-Policy"]
    assert "script-src 'self'" in csp and "frame-ancestors 'none'" in csp and "unsafe-inline" not in csp
    english = court.get("/court?lang=en")
    assert "Verify an evidence package" in english.get_data(as_text=True)
    assert "lang=en" in english.headers["Set-Cookie"]


def test_an_uploaded_package_is_verified_check_by_check_including_the_chain(court, exported):
    page = _upload(court, exported["path"].read_bytes()).get_data(as_text=True)
    assert "已核验" in page and "未通过" not in page
    assert page.count('class="pass"') == 10  # every check, the anchor on this deployment's chain included
    assert 'data-check="anchor"' in page and "rootAt" in page
    pdf = re.search(r'href="data:application/pdf;base64,([^"]+)"', page)[1]
    assert base64.b64decode(pdf).startswith(b"%PDF-")


def test_a_tampered_package_names_the_failed_check(court, exported):
    entries = {}
    with zipfile.ZipFile(exported["path"]) as z:
        for info in z.infolist():
            data = z.read(info)
            entries[info.filename] = data[:-1] + bytes([data[-1] ^ 1]) if info.filename.endswith(".mp4") else data
    forged = io.BytesIO()
    with zipfile.ZipFile(forged, "w") as z:
        for name, data in entries.items():
            z.writestr(name, data)
    page = _upload(court, forged.getvalue(), lang="en").get_data(as_text=True)
    assert "NOT VERIFIED" in page
    assert '<tr class="fail" data-check="manifests">' in page


def test_something_that_is_not_a_package_is_reported_not_crashed(court):
    page = _upload(court, b"not a zip at all")
    assert page.status_code == 200 and '<tr class="fail" data-check="archive">' in page.get_data(as_text=True)


def test_a_form_without_a_file_is_a_400_page(court):
    r = court.post("/court/verify", data={}, content_type="multipart/form-data")
    assert r.status_code == 400 and "请选择" in r.get_data(as_text=True)


def test_a_package_that_fails_is_counted_in_the_metrics(court):
    def failures():
        text = court.get("/metrics").get_data(as_text=True)
        return int(re.search(r'lianzheng_verification_failures_total\{kind="package"\} (\d+)', text).group(1))

    before = failures()  # the package fixture is shared with the tests above
    _upload(court, b"not a zip at all")
    _upload(court, b"nor this")
    assert failures() == before + 2
