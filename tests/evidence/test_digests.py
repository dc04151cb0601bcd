"""SHA-256 and SM3 of evidence files in one pass (evidence/digests.py), against the known answers
of GB/T 32905 and OpenSSL's own `dgst -sm3`."""

import hashlib
import os
import subprocess

import pytest

from evidence.digests import THREADED_FROM, Digests


@pytest.mark.parametrize(
    ("message", "expected"),
    [
        # GB/T 32905-2016, appendix A, examples 1 and 2
        (b"abc", "66c7f0f462eeedd9d1f2d46bdc10e4e24167c4875cf2f7a2297da02b8f4ba8e0"),
        (b"abcd" * 16, "debe9ff92275b8a138604889c18e5a4d6fdb70e5387e5765293dcba39c0c5732"),
    ],
)
def test_sm3_gives_the_standards_known_answers(message, expected):
    digests = Digests()
    digests.update(message)
    assert digests.result().sm3 == expected


def test_large_chunks_hashed_on_threads_give_the_same_digests_as_openssl(tmp_path):
    data = os.urandom(3 * THREADED_FROM + 17)
    digests = Digests()
    for start in range(0, len(data), THREADED_FROM):
        digests.update(data[start : start + THREADED_FROM])
    found = digests.result()
    path = tmp_path / "f.bin"
    path.write_bytes(data)
    openssl = subprocess.run(
        ["openssl", "dgst", "-sm3", "-r", str(path)], capture_output=True, text=True, check=True
    )
    assert found.sm3 == openssl.stdout.split()[0]
    assert found.sha256 == hashlib.sha256(data).hexdigest()
