"""The witness's rules (C2SP tlog-witness add-checkpoint), on their own: every refusal the spec
names, with the status it prescribes."""

import base64

import pytest

from ledger import merkle
from ledger.checkpoint import CheckpointSigner
from ledger.witness_protocol import (
    MAX_PROOF_LINES,
    Held,
    Inconsistent,
    NotSignedByLog,
    OldSizeConflict,
    UnknownLog,
    WitnessRefused,
    judge,
    parse_request,
    parse_size_conflict,
    request_body,
)
from tests.support.witnesses import MemoryLog


@pytest.fixture
def log():
    log = MemoryLog()
    log.append(5)
    return log


def _held(log, size):
    return Held(size, log.root(size), log.note(size))


def test_a_request_reads_back_as_it_was_written(log):
    log.append(3)
    request = parse_request(log.request(5))
    assert request.old_size == 5 and list(request.proof) == log.proof(5, 8)
    assert request.note == log.note(8)


def test_the_first_checkpoint_of_a_log_is_cosigned_from_old_size_zero(log):
    checkpoint = judge(parse_request(log.request(0)), [log.public_key], None)
    assert checkpoint == log.checkpoint(5)


def test_a_checkpoint_that_extends_the_held_one_with_a_valid_proof_is_cosigned(log):
    log.append(7)
    checkpoint = judge(parse_request(log.request(5)), [log.public_key], _held(log, 5))
    assert checkpoint.size == 12


def test_the_held_checkpoint_again_is_cosigned_again(log):
    assert judge(parse_request(log.request(5)), [log.public_key], _held(log, 5)).size == 5


@pytest.mark.parametrize(
    ("body", "words"),
    [
        (b"old 05\n\n", "old <size>"),
        (b"new 5\n\n", "old <size>"),
        (b"old 5\nnot base64!\n\n", "not base64"),
        (b"old 5\n" + base64.b64encode(b"short") + b"\n\n", "5 bytes"),
        (b"old 5\nAAAA", "no empty line"),
        (b"\xff\xfe", "not UTF-8"),
        (b"old 5\n" + b"A" * (70 << 10), "at most"),
    ],
)
def test_a_malformed_request_is_a_400(body, words):
    with pytest.raises(WitnessRefused, match=words) as refused:
        parse_request(body)
    assert refused.value.status == 400


def test_more_than_63_proof_lines_are_refused():
    line = base64.b64encode(bytes(32)).decode()
    body = ("old 1\n" + f"{line}\n" * (MAX_PROOF_LINES + 1) + "\n").encode()
    with pytest.raises(WitnessRefused, match="at most 63"):
        parse_request(body)


def test_an_unknown_log_is_a_404(log):
    with pytest.raises(UnknownLog) as refused:
        judge(parse_request(log.request(0)), None, None)
    assert refused.value.status == 404


def test_a_checkpoint_signed_by_another_key_is_a_403(log):
    stranger = MemoryLog(leaves=list(log.leaves))
    with pytest.raises(NotSignedByLog, match="no signature by a key") as refused:
        judge(parse_request(stranger.request(0)), [log.public_key], None)
    assert refused.value.status == 403


def test_a_trusted_keys_line_that_does_not_verify_is_a_403(log):
    note = log.note()
    forged = note.replace(note.split("\n")[1], "6", 1)  # the size changed under the signature
    with pytest.raises(NotSignedByLog, match="does not verify"):
        judge(parse_request(request_body(0, [], forged)), [log.public_key], None)


def test_an_old_size_beyond_the_checkpoint_is_a_400(log):
    with pytest.raises(WitnessRefused, match="beyond") as refused:
        judge(parse_request(request_body(9, [], log.note())), [log.public_key], None)
    assert refused.value.status == 400


def test_an_old_size_other_than_the_held_one_is_a_409_naming_the_held_size(log):
    log.append(3)
    with pytest.raises(OldSizeConflict) as refused:
        judge(parse_request(log.request(0)), [log.public_key], _held(log, 5))
    assert refused.value.status == 409 and refused.value.stored_size == 5
    assert parse_size_conflict(b"5\n") == 5


def test_a_proof_that_does_not_verify_is_a_422(log):
    log.append(3)
    request = parse_request(request_body(5, [bytes(32)] * 3, log.note()))
    with pytest.raises(Inconsistent, match="no consistency from the held size 5") as refused:
        judge(request, [log.public_key], _held(log, 5))
    assert refused.value.status == 422


def test_another_root_for_the_held_size_is_a_422(log):
    fork = MemoryLog(key=log.key)
    fork.append(5, tag="forked-")
    with pytest.raises(Inconsistent, match="another root for size 5"):
        judge(parse_request(fork.request(5)), [log.public_key], _held(log, 5))


def test_a_proof_from_size_zero_must_be_empty(log):
    with pytest.raises(Inconsistent, match="must be empty"):
        judge(parse_request(request_body(0, [bytes(32)], log.note())), [log.public_key], None)


def test_an_empty_checkpoint_must_have_the_empty_trees_root(log):
    signer = CheckpointSigner(log.origin, log.key)
    assert (
        judge(
            parse_request(request_body(0, [], signer.sign(0, merkle.EMPTY_ROOT))),
            [log.public_key],
            None,
        ).size
        == 0
    )
    with pytest.raises(Inconsistent, match="empty tree"):
        judge(parse_request(request_body(0, [], signer.sign(0, bytes(32)))), [log.public_key], None)
