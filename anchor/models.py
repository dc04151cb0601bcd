"""Tables of anchoring: one row per anchored tree head, and the worker's status.

A row is written *before* its transaction is sent (status `pending`, with the
signed raw transaction), so a crash at any later point leaves a record that
the restarted worker settles against the chain instead of anchoring again.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, Integer, LargeBinary, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from ledger.models import Base, UTCDateTime


class AnchorStatus:
    """Values of AnchorRecord.status."""

    PENDING = "pending"  # signed and recorded; sent or about to be; not in a canonical block
    MINED = "mined"  # in a block, not yet final
    FINAL = "final"  # at or below the finalized block (or confirmed), block hash still canonical


class AnchorRecord(Base):
    __tablename__ = "anchors"
    __table_args__ = (UniqueConstraint("chain_id", "contract", "size", name="uq_anchor_size"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    chain_id: Mapped[int] = mapped_column(BigInteger)
    contract: Mapped[str] = mapped_column(String(42))
    size: Mapped[int] = mapped_column(BigInteger)
    root: Mapped[bytes] = mapped_column(LargeBinary(32))
    previous_size: Mapped[int] = mapped_column(BigInteger)
    status: Mapped[str] = mapped_column(String(16), index=True)
    sender: Mapped[str] = mapped_column(String(42))
    nonce: Mapped[int] = mapped_column(BigInteger)
    tx_hash: Mapped[bytes] = mapped_column(LargeBinary(32))
    raw_tx: Mapped[bytes] = mapped_column(LargeBinary)
    max_fee: Mapped[int] = mapped_column(BigInteger)
    priority_fee: Mapped[int] = mapped_column(BigInteger)
    attempts: Mapped[int] = mapped_column(
        Integer
    )  # transactions signed for this anchor (replacements, re-sends)
    block_number: Mapped[int | None] = mapped_column(BigInteger)
    block_hash: Mapped[bytes | None] = mapped_column(LargeBinary(32))
    gas_used: Mapped[int | None] = mapped_column(BigInteger)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    sent_at: Mapped[datetime] = mapped_column(
        UTCDateTime()
    )  # when the current transaction was signed
    mined_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    final_at: Mapped[datetime | None] = mapped_column(UTCDateTime())


class WorkerStatus(Base):
    """One row: what the anchoring worker last saw, for `lianzheng anchor status` and the portal."""

    __tablename__ = "anchor_worker"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    worker: Mapped[str] = mapped_column(
        String(128)
    )  # host:pid of the worker holding the anchoring lock
    checked_at: Mapped[datetime] = mapped_column(UTCDateTime())
    healthy: Mapped[int] = mapped_column(Integer)
    chain_down_since: Mapped[datetime | None] = mapped_column(UTCDateTime())
    last_error: Mapped[str | None] = mapped_column(Text)
