"""What a witness's equivocation record proves (DESIGN.md: Witnesses): two checkpoints signed by
the same log that cannot both be true, checked against the verifier's trust root only. Pure: no
I/O.

Two tree heads of one size with different roots are a split view outright. Of different sizes
they are one only if no consistency proof joins them: the record's proof (the one the log sent
the witness) is checked, and when it does not verify the question stays open, since only the
log can produce the proof that would settle it.
"""

from __future__ import annotations

from typing import Any

from ledger import merkle, trust
from ledger.errors import CheckIncomplete, InvalidInput, VerificationError
from ledger.trust import TrustRoots, VerifiedCheckpoint

EQUIVOCATION_FORMAT = "lianzheng-equivocation/1"
MAX_NOTE_CHARS = 16 << 10
MAX_PROOF = 63


def prove(record: Any, roots: TrustRoots) -> str:
    """What the record proves, in one sentence; VerificationError when it shows no split view (a
    note not signed by a trusted key, the same head twice, or heads a proof shows consistent),
    CheckIncomplete when only the log could settle it."""
    held_note, shown_note, proof = _fields(record)
    origin = held_note.split("\n", 1)[0]
    root = roots.for_origin(origin)
    if root is None:
        raise VerificationError(f"no trusted root for the log {origin!r}")
    held = trust.verify_checkpoint(root, held_note)
    shown = trust.verify_checkpoint(root, shown_note)
    a, b = sorted((held.checkpoint, shown.checkpoint), key=lambda c: c.size)
    if a.size == b.size:
        if a.root == b.root:
            raise VerificationError(f"both notes are of the same tree head (size {a.size})")
        return (
            f"split view proven: the log {origin!r} signed two different roots for size "
            f"{a.size} ({a.root.hex()} and {b.root.hex()}), {_signers(held, shown)}"
        )
    if a.size > 0:
        try:
            merkle.verify_consistency(a.size, b.size, a.root, b.root, proof)
        except VerificationError:
            pass
        else:
            raise VerificationError(
                f"the heads of sizes {a.size} and {b.size} are consistent: no split view"
            )
    raise CheckIncomplete(
        f"tree heads of sizes {a.size} and {b.size}, both signed by the log, and no consistency "
        f"proof between them in the record: ask the log for one (GET /api/v1/log/proof/"
        f"consistency?from={a.size}&to={b.size}); if none verifies, they are a split view"
    )


def _signers(held: VerifiedCheckpoint, shown: VerifiedCheckpoint) -> str:
    keys = sorted({held.key.key_id, shown.key.key_id})
    return f"both by trusted checkpoint key {' and '.join(keys)}"


def _fields(record: Any) -> tuple[str, str, list[bytes]]:
    if not isinstance(record, dict) or record.get("format") != EQUIVOCATION_FORMAT:
        raise InvalidInput(f"not a {EQUIVOCATION_FORMAT} record")
    proof = record.get("proof", [])
    if not isinstance(proof, list) or len(proof) > MAX_PROOF:
        raise InvalidInput(f"`proof` must be a list of at most {MAX_PROOF} hashes")
    try:
        hashes = [bytes.fromhex(h) for h in proof]
    except (TypeError, ValueError):
        raise InvalidInput("`proof` must hold hex hashes") from None
    return _note(record, "held"), _note(record, "shown"), hashes


def _note(record: dict[str, Any], member: str) -> str:
    note = record.get(member)
    if not isinstance(note, str) or not 0 < len(note) <= MAX_NOTE_CHARS:
        raise InvalidInput(f"`{member}` must be a note of at most {MAX_NOTE_CHARS} characters")
    return note
