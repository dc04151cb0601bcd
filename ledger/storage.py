"""The log in the database: appends, stored subtree hashes, proofs, checkpoints.

Appends are serialised by a row lock on `log_head` taken as the first
statement of the writing transaction (SELECT ... FOR UPDATE on PostgreSQL; on
SQLite the UPDATE takes the database's write lock), so indexes are unique and
gap-free however many workers write. Leaves, the nodes they complete, the new
head and its signed checkpoint commit together: a checkpoint never names a
size whose nodes are not all there, and proofs for a size read only nodes
that can never change again.

The nodes of the lowest STORED_FROM_LEVEL levels are not stored: each is hashed, when a proof
needs it, from the few leaf hashes below it (`node_rows`).
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import cache
from operator import itemgetter
from typing import TYPE_CHECKING, Any, cast

from sqlalchemy import TypeDecorator, func, select
from sqlalchemy.dialects import postgresql
from sqlalchemy.orm import Session, sessionmaker

from ledger import db, keyring, merkle, sm2
from ledger.checkpoint import CheckpointSigner, SignedHead
from ledger.errors import InvalidInput, NotFound
from ledger.keyring import KeyRing
from ledger.merkle import CompactRange, ConsistencyProof, InclusionProof, NodeId
from ledger.models import (
    Base,
    CheckpointCosignature,
    CheckpointRecord,
    CheckpointTimestamp,
    Leaf,
    LogHead,
    LogKey,
    Node,
)

if TYPE_CHECKING:
    import psycopg
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

MAX_LEAVES_PAGE = 1000

# Nodes of this level and above are stored; a lower one is the hash of at most 2**(this - 1)
# leaf hashes, read from log_leaves when asked for, so a proof still costs O(log n) reads
# (DESIGN.md: The log) plus at most a few blocks of 16 leaf hashes. Stored, levels 0 to 3 were
# two rows per leaf, one a copy of the leaf's hash: half the database (bench/ledger.py).
STORED_FROM_LEVEL = 4


@dataclass(frozen=True)
class Appended:
    """Where one event landed."""

    index: int
    leaf_hash: bytes


@dataclass(frozen=True)
class CaseLeaf:
    """One leaf of a case's chain (or of the registry's)."""

    index: int
    leaf_hash: bytes
    data: bytes  # the event's canonical bytes

    def to_json(self) -> dict[str, Any]:
        """The leaf as case pages and the API show it: index, leaf hash, the event as logged."""
        return {
            "index": self.index,
            "leaf_hash": self.leaf_hash.hex(),
            "event": json.loads(self.data),
        }


def case_leaves(
    session: Session, case_no: str, below: int | None = None, start: int = 0
) -> list[CaseLeaf]:
    """A case's leaves in log order (a service chain's, for `ledger.projection.REGISTRY` or
    `INTAKE`); with `below`, only those under that tree size; with `start`, from that index on."""
    query = select(Leaf.leaf_index, Leaf.leaf_hash, Leaf.data).where(Leaf.case_no == case_no)
    if below is not None:
        query = query.where(Leaf.leaf_index < below)
    if start:
        query = query.where(Leaf.leaf_index >= start)
    rows = session.execute(query.order_by(Leaf.leaf_index))
    return [CaseLeaf(index, bytes(leaf_hash), bytes(data)) for index, leaf_hash, data in rows]


@dataclass(frozen=True)
class Mark:
    """Where a log transaction stood, to go back to when one caller's work in a group fails
    (ledger/group_commit.py): its size, its border and how many seal callbacks it had."""

    size: int
    border: tuple[bytes, ...]
    callbacks: int


class LogTransaction:
    """The one way to append to the log (DESIGN.md: The log): one database transaction that holds
    the append lock. Each `append` takes the next indexes; `seal` signs one checkpoint for them all.
    The leaves, their nodes, the checkpoint and every derived row the caller adds to `session`
    commit together or not at all.

    Appended rows, and the new rows callers hand to `insert`, are kept back and sent in one
    statement per table before the session's next statement or flush (ledger/db.py:
    before_next_read) or at the seal, whichever comes first: the rows of a group commit's callers
    cost one round trip, not one each, and are there for any read."""

    def __init__(self, session: Session, store: LogStore, size: int) -> None:
        self.session = session
        self.size = size  # the tree's size so far, this transaction's appends included
        self.head: SignedHead | None = None  # set by `seal`
        # What a work derived from this transaction's rows, for the next work of its group
        # (e.g. the last case serial); `rewind` forgets it, as the rows it came from may be gone.
        self.cache: dict[str, Any] = {}
        self._store = store
        self._compact: CompactRange | None = None  # read once, on the first append
        self._callbacks: list[Callable[[SignedHead], None]] = []
        self._leaves: list[dict[str, object]] = []  # appended rows not yet sent
        self._nodes: list[dict[str, object]] = []
        self._rows: dict[type[Base], list[dict[str, object]]] = {}  # callers' new rows, likewise

    def append(self, entries: Sequence[tuple[bytes, str | None]]) -> list[Appended]:
        """Append `(event bytes, case number)` pairs at the end of the log."""
        if self.head is not None:
            raise RuntimeError("this log transaction is sealed: nothing more may be appended")
        if self._compact is None:
            # Rows the caller added stay in the session until the group's flush: sent now, each
            # changed after the append (a case's chain end) would cost an insert and an update.
            with self.session.no_autoflush:
                self._compact = self._store.border(self.session, self.size)
        appended = _append_rows(self._compact, entries, self._leaves, self._nodes)
        db.before_next_read(self.session, self._write_rows)
        self.size = self._compact.size
        return appended

    def insert(self, model: type[Base], row: dict[str, object]) -> None:
        """Insert `row` (a value for every column) into `model`'s table along with the appended
        rows: kept back as they are, and sent in one statement per table for the whole group."""
        self._rows.setdefault(model, []).append(row)
        db.before_next_read(self.session, self._write_rows)

    def flush(self) -> None:
        """Send every row of the transaction so far: the appended ones kept back and the objects
        added to `session`."""
        db.write_deferred(self.session)
        self.session.flush()

    def _write_rows(self) -> None:
        """Send the rows kept back so far: one statement per table."""
        leaves, nodes, rows = self._leaves, self._nodes, self._rows
        self._leaves, self._nodes, self._rows = [], [], {}
        _insert_rows(self.session, [(Leaf, leaves), (Node, nodes), *rows.items()])

    def when_sealed(self, callback: Callable[[SignedHead], None]) -> None:
        """Call `callback(head)` with the signed head of this transaction, before it commits (so
        what the callback adds to `session` commits with the appends)."""
        self._callbacks.append(callback)

    def mark(self) -> Mark:
        """Where the transaction stands now (see `rewind`). The rows appended so far are sent
        first, so that rolling back a savepoint begun after the mark cannot take them along."""
        db.write_deferred(self.session)
        border = () if self._compact is None else tuple(self._compact.border)
        return Mark(self.size, border, len(self._callbacks))

    def rewind(self, mark: Mark) -> None:
        """Forget the appends and callbacks since `mark`, after the caller rolled its rows back."""
        self._leaves, self._nodes, self._rows = [], [], {}  # kept back since the mark: never sent
        self.cache.clear()
        self.size = mark.size
        self._compact = CompactRange(mark.size, mark.border) if mark.border else None
        del self._callbacks[mark.callbacks :]

    def seal(self) -> SignedHead | None:
        """Sign one checkpoint for everything appended, move the head and run the callbacks; None
        when nothing was appended."""
        if self._compact is None or self.head is not None:
            return self.head
        db.write_deferred(self.session)
        self.head = self._store._seal(self.session, self._compact)
        for callback in self._callbacks:
            callback(self.head)
        return self.head


class LogStore:
    """One deployment's log. Stateless between calls: every fact lives in the database."""

    def __init__(
        self,
        origin: str,
        ring: KeyRing[Ed25519PrivateKey],
        sm2_ring: KeyRing[sm2.PrivateKey] | None = None,
    ) -> None:
        self.origin = origin
        self.ring = ring
        self.sm2_ring = sm2_ring  # the SM2 checkpoint keys, which sign beside the Ed25519 ones
        self._signers: dict[tuple[bytes, bytes | None], CheckpointSigner] = {}

    def signer(self, session: Session) -> CheckpointSigner:
        """The signer of the open checkpoint-key periods, read in `session` (ledger/keyring.py):
        after a rotation by any process, the next checkpoint is signed by the new key."""
        found = keyring.open_by_size(session)  # one query on the hot path: every commit signs
        public = found.get(keyring.CHECKPOINT)
        if public is None:
            public = keyring.ensure(
                session, keyring.CHECKPOINT, self.ring, keyring.Start(size=0)
            ).public_key
        sm2_public = found.get(keyring.CHECKPOINT_SM2)
        if sm2_public is None and self.sm2_ring is not None:
            sm2_period = self.sm2_period(session)
            sm2_public = None if sm2_period is None else sm2_period.public_key
        pair = (public, sm2_public)
        if pair not in self._signers:
            sm2_key = None
            if self.sm2_ring is not None and sm2_public is not None:
                sm2_key = self.sm2_ring.private(sm2_public)
            self._signers[pair] = CheckpointSigner(self.origin, self.ring.private(public), sm2_key)
        return self._signers[pair]

    def sm2_period(self, session: Session) -> LogKey | None:
        """The open SM2 checkpoint-key period, recorded on first use from the next tree size: the
        checkpoints already stored carry no SM2 line (append lock held)."""
        if self.sm2_ring is None:
            return None
        found = keyring.current(session, keyring.CHECKPOINT_SM2)
        if found is not None:
            return found
        committed = session.execute(select(LogHead.size).where(LogHead.id == 1)).scalar_one()
        start = keyring.Start(size=committed + 1)
        return keyring.ensure(session, keyring.CHECKPOINT_SM2, self.sm2_ring, start)

    def current_key(self, session: Session) -> bytes:
        """The public key that signs the next checkpoint (read only: nothing is recorded here)."""
        period = keyring.current(session, keyring.CHECKPOINT)
        return self.ring.public(self.ring.first) if period is None else period.public_key

    def checkpoint_key(self, session: Session, size: int) -> LogKey:
        """The key period that covers checkpoints of `size`."""
        for period in keyring.periods(session, keyring.CHECKPOINT):
            upper = period.valid_until_size
            if (period.valid_from_size or 0) <= size and (upper is None or size < upper):
                return period
        raise NotFound(f"no checkpoint key covers size {size}")

    # --- writing ---------------------------------------------------------------

    def lock(self, session: Session) -> int:
        """Take the append lock for this transaction; return the committed size.

        Must be the transaction's first statement: SQLite then waits for the
        write lock (busy timeout) instead of failing on a stale snapshot.
        """
        if session.get_bind().dialect.name == "sqlite":
            db.driver_batch(session, [("UPDATE log_head SET size = size WHERE id = 1", ())])
            [(size,)] = db.driver_rows(session, "SELECT size FROM log_head WHERE id = 1", ())
        else:
            [(size,)] = db.driver_rows(session, _LOCK_HEAD, ())
        return int(size)

    @contextmanager
    def transaction(self, sessions: sessionmaker[Session]) -> Iterator[LogTransaction]:
        """A log transaction (LogTransaction): sealed and committed when the block ends, rolled
        back if it raises."""
        engine = sessions.kw["bind"]
        with db.writers_turn(engine), sessions.begin() as session:
            tx = LogTransaction(session, self, self.lock(session))
            yield tx
            tx.seal()

    def border(self, session: Session, size: int) -> CompactRange:
        """The compact range of the stored tree of `size` (held by `lock`)."""
        return CompactRange(size, self._fetch_ordered(session, CompactRange.border_nodes(size)))

    def _seal(self, session: Session, compact: CompactRange) -> SignedHead:
        """Sign the head of the tree whose border is `compact`, keep the checkpoint, move the
        head row."""
        root = compact.root()
        head = SignedHead(compact.size, root, self.signer(session).sign(compact.size, root))
        # Every commit sends these: as text to the driver, which costs a third of a statement's
        # compiling, and in one round trip (ledger/db.py `driver_batch`).
        checkpoint = (_NEW_CHECKPOINT, (head.size, head.root, head.note))
        db.driver_batch(session, [checkpoint, (_MOVE_HEAD, (head.size,))])
        return head

    # --- reading -----------------------------------------------------------------

    def checkpoint(self, session: Session, size: int | None = None) -> SignedHead:
        """The signed checkpoint at `size`, or the latest one, with the witnesses' cosignature
        lines stored for it (DESIGN.md: Witnesses); NotFound if there is none."""
        query = select(CheckpointRecord)
        if size is None:
            query = query.order_by(CheckpointRecord.size.desc()).limit(1)
        else:
            query = query.where(CheckpointRecord.size == size)
        row = session.execute(query).scalar_one_or_none()
        if row is None:
            raise NotFound(
                "the log is empty: there is no checkpoint yet"
                if size is None
                else f"no checkpoint was signed at size {size}"
            )
        lines = session.scalars(
            select(CheckpointCosignature.line)
            .where(CheckpointCosignature.size == row.size)
            .order_by(CheckpointCosignature.witness)
        )
        return SignedHead(row.size, row.root, row.note + "".join(lines))

    def add_cosignature(self, session: Session, size: int, witness: str, line: str) -> None:
        """Keep a witness's cosignature line on the checkpoint at `size` (checked by the caller
        against the witness's key); a second line of one witness for one size is kept once."""
        exists = session.get(CheckpointCosignature, (size, witness))
        if exists is None:
            session.add(
                CheckpointCosignature(
                    size=size, witness=witness, line=line, received_at=datetime.now(UTC)
                )
            )

    def signed_note(self, session: Session, size: int) -> str:
        """The checkpoint note at `size` exactly as the log signed it, no cosignature lines: the
        bytes an RFC 3161 token stamps (DESIGN.md: Timestamps)."""
        note = session.scalar(select(CheckpointRecord.note).where(CheckpointRecord.size == size))
        if note is None:
            raise NotFound(f"no checkpoint was signed at size {size}")
        return note

    def add_timestamp(
        self, session: Session, size: int, token: bytes, stamped_at: datetime
    ) -> None:
        """Keep a checked time-stamp token over the signed note at `size` (the first one stays)."""
        if session.get(CheckpointTimestamp, size) is None:
            session.add(CheckpointTimestamp(size=size, token=token, stamped_at=stamped_at))

    def timestamp(self, session: Session, size: int) -> bytes | None:
        """The time-stamp token over the signed note at `size`, if one was kept."""
        row = session.get(CheckpointTimestamp, size)
        return None if row is None else bytes(row.token)

    def cosigned_sizes(self, session: Session) -> dict[str, int]:
        """The largest size each witness cosigned (for lag figures and retries)."""
        rows = session.execute(
            select(CheckpointCosignature.witness, func.max(CheckpointCosignature.size)).group_by(
                CheckpointCosignature.witness
            )
        )
        return {witness: int(size) for witness, size in rows}

    def witnessed_size(self, session: Session, witnesses: list[str], quorum: int) -> int:
        """The largest size at least `quorum` of `witnesses` cosigned (0 if none)."""
        counted = (
            select(CheckpointCosignature.size)
            .where(CheckpointCosignature.witness.in_(witnesses))
            .group_by(CheckpointCosignature.size)
            .having(func.count() >= quorum)
            .order_by(CheckpointCosignature.size.desc())
            .limit(1)
        )
        return session.scalar(counted) or 0

    def latest_size(self, session: Session) -> int:
        """The latest checkpoint's size: the head row, committed with that checkpoint."""
        return session.execute(select(LogHead.size).where(LogHead.id == 1)).scalar_one()

    def root(self, session: Session, size: int) -> bytes:
        """The root of the tree at `size` (at most the latest checkpoint's)."""
        self._check_size(session, size)
        return merkle.fold_range(self._fetch_ordered(session, merkle.range_nodes(0, size)))

    def inclusion_proof(
        self, session: Session, index: int, size: int | None = None
    ) -> InclusionProof:
        """Proof that leaf `index` is in the tree of `size` (default: latest checkpoint)."""
        return self.inclusion_proofs(session, [index], size)[0]

    def inclusion_proofs(
        self, session: Session, indexes: Sequence[int], size: int | None = None
    ) -> list[InclusionProof]:
        """Proofs for several leaves against one tree size, from one read of their nodes."""
        size = self._resolve_size(session, size)
        for index in indexes:
            if not 0 <= index < size:
                raise InvalidInput(
                    f"leaf index {index} is not in the tree of size {size}", index=index, size=size
                )
        paths = {index: merkle.inclusion_ranges(index, size) for index in indexes}
        wanted = [
            (0, size),
            *((i, i + 1) for i in indexes),
            *(r for path in paths.values() for r in path),
        ]
        nodes = self._fetch(session, merkle.nodes_for_ranges(wanted))
        [root] = merkle.hash_ranges([(0, size)], nodes)
        return [
            InclusionProof(i, size, nodes[NodeId(0, i)], root, merkle.hash_ranges(paths[i], nodes))
            for i in indexes
        ]

    def consistency_proof(
        self, session: Session, size1: int, size2: int | None = None
    ) -> ConsistencyProof:
        """Proof that the tree of `size2` (default: latest checkpoint) extends that of `size1`."""
        size2 = self._resolve_size(session, size2)
        if not 0 < size1 <= size2:
            raise InvalidInput(
                f"no consistency proof from size {size1} to size {size2}", size1=size1, size2=size2
            )
        ranges = merkle.consistency_ranges(size1, size2)
        roots = [(0, size1), (0, size2)]
        nodes = self._fetch(session, merkle.nodes_for_ranges([*ranges, *roots]))
        root1, root2 = merkle.hash_ranges(roots, nodes)
        return ConsistencyProof(size1, size2, root1, root2, merkle.hash_ranges(ranges, nodes))

    def leaf_hashes(self, session: Session, start: int, end: int) -> list[tuple[int, bytes]]:
        """(index, leaf hash) for start <= index < end, within the latest checkpoint."""
        size = self.latest_size(session)
        if not 0 <= start < end or end - start > MAX_LEAVES_PAGE:
            raise InvalidInput(
                f"leaves: need 0 <= start < end and at most {MAX_LEAVES_PAGE} at once"
            )
        if start >= size:
            raise InvalidInput(
                f"leaves: start {start} is beyond the tree of size {size}", size=size
            )
        rows = session.execute(
            select(Leaf.leaf_index, Leaf.leaf_hash)
            .where(Leaf.leaf_index >= start, Leaf.leaf_index < min(end, size))
            .order_by(Leaf.leaf_index)
        )
        return [(i, bytes(h)) for i, h in rows]

    def _resolve_size(self, session: Session, size: int | None) -> int:
        latest = self.latest_size(session)
        if latest == 0:
            raise NotFound("the log is empty: there is no checkpoint yet")
        if size is None:
            return latest
        self._check_size(session, size, latest)
        return size

    def _check_size(self, session: Session, size: int, latest: int | None = None) -> None:
        latest = self.latest_size(session) if latest is None else latest
        if not 0 < size <= latest:
            raise InvalidInput(
                f"tree size {size} is not between 1 and the latest checkpoint's {latest}", size=size
            )

    def _fetch(self, session: Session, ids: Iterable[NodeId]) -> dict[NodeId, bytes]:
        """Stored node hashes in one query; a missing node is a broken database, not bad input."""
        wanted = set(ids)
        if not wanted:
            return {}
        found = {NodeId(level, index): h for level, index, h in node_rows(session, wanted)}
        missing = wanted - found.keys()
        if missing:
            raise RuntimeError(
                f"log storage is missing nodes {sorted(missing)[:5]}: run `lianzheng audit`"
            )
        return found

    def _fetch_ordered(self, session: Session, ids: Sequence[NodeId]) -> list[bytes]:
        nodes = self._fetch(session, ids)
        return [nodes[n] for n in ids]


# What every log transaction sends while it holds the append lock (LogStore.lock, LogStore._seal)
_LOCK_HEAD = "SELECT size FROM log_head WHERE id = 1 FOR UPDATE"
_NEW_CHECKPOINT = "INSERT INTO log_checkpoints (size, root, note) VALUES (?, ?, ?)"
_MOVE_HEAD = "UPDATE log_head SET size = ? WHERE id = 1"

# One SQL text whatever the number of nodes, so psycopg prepares it once; a row-value
# IN list changes text with its length and cost twice as much at 10^6 leaves (bench/ledger.py).
# The leaf hashes below the unstored nodes come in the same statement (level -1): the border
# read of every log transaction is then one round trip while the append lock is held.
# Sent as text to the driver (ledger/db.py `driver_rows`), as every proof and append reads it.
_PG_NODES = (
    "SELECT n.level, n.node_index, n.hash FROM log_nodes AS n"
    " JOIN unnest(CAST(? AS smallint[]), CAST(? AS bigint[])) AS w(level, node_index)"
    " ON n.level = w.level AND n.node_index = w.node_index"
    " UNION ALL SELECT -1, leaf_index, leaf_hash FROM log_leaves"
    " WHERE leaf_index = ANY(CAST(? AS bigint[]))"
)


def node_rows(session: Session, wanted: set[NodeId]) -> list[tuple[int, int, bytes]]:
    """(level, index, hash) of the wanted nodes, those below STORED_FROM_LEVEL hashed from their
    leaves; a node whose row or leaves are missing is left out."""
    stored = {n for n in wanted if n.level >= STORED_FROM_LEVEL}
    hashed = wanted - stored
    leaves = sorted({i for n in hashed for i in _covered(n)})
    if session.get_bind().dialect.name == "postgresql":
        rows, leaf_hashes = _pg_rows(session, stored, leaves)
    else:
        rows = _sqlite_node_rows(session, stored)
        leaf_hashes = dict(_sqlite_leaf_hash_rows(session, leaves))
    rows.extend(_nodes_from_leaves(hashed, leaf_hashes))
    return rows


def _covered(node: NodeId) -> range:
    """The indexes of the leaves below `node`: the node at (level, index) spans index * 2^level
    up to the next node's first leaf."""
    return range(node.index << node.level, (node.index + 1) << node.level)


def _nodes_from_leaves(
    wanted: set[NodeId], hashes: dict[int, bytes]
) -> Iterator[tuple[int, int, bytes]]:
    """Each of the `wanted` nodes as the tree hash of its leaf hashes, if all of them are there."""
    for node in wanted:
        below = [hashes.get(i) for i in _covered(node)]
        if all(below):
            yield node.level, node.index, merkle.root_from_leaves(cast(list[bytes], below))


def _pg_rows(
    session: Session, stored: set[NodeId], leaves: list[int]
) -> tuple[list[tuple[int, int, bytes]], dict[int, bytes]]:
    """The `stored` nodes' rows and the hashes of the leaves at `leaves`, in one statement that the
    planner serves from the primary keys."""
    ids = list(stored)
    params = ([n.level for n in ids], [n.index for n in ids], leaves)
    rows, leaf_hashes = list[tuple[int, int, bytes]](), dict[int, bytes]()
    for level, index, digest in db.driver_rows(session, _PG_NODES, params):
        if level < 0:
            leaf_hashes[index] = bytes(digest)
        else:
            rows.append((level, index, bytes(digest)))
    return rows, leaf_hashes


def _sqlite_leaf_hash_rows(session: Session, indexes: list[int]) -> list[tuple[int, bytes]]:
    """(index, leaf hash) of the leaves at `indexes`, from the primary key."""
    rows: list[tuple[int, bytes]] = []
    for start in range(0, len(indexes), _SQLITE_NODES_AT_ONCE):
        chunk = indexes[start : start + _SQLITE_NODES_AT_ONCE]
        marks = ", ".join("?" * len(chunk))
        sql = f"SELECT leaf_index, leaf_hash FROM log_leaves WHERE leaf_index IN ({marks})"
        rows.extend((i, bytes(h)) for i, h in db.driver_rows(session, sql, chunk))
    return rows


def _sqlite_node_rows(session: Session, wanted: set[NodeId]) -> list[tuple[int, int, bytes]]:
    """(level, index, hash) of stored nodes. SQLite scans the whole table for a row-value IN list;
    one `level = ? AND node_index = ?` term per node is a primary-key search each. Sent as text: a
    statement whose shape changes with the size would cost SQLAlchemy a compilation per append."""
    ids, rows = list(wanted), list[tuple[int, int, bytes]]()
    for start in range(0, len(ids), _SQLITE_NODES_AT_ONCE):
        chunk = ids[start : start + _SQLITE_NODES_AT_ONCE]
        terms = " OR ".join(["(level = ? AND node_index = ?)"] * len(chunk))
        params = [value for n in chunk for value in (n.level, n.index)]
        sql = f"SELECT level, node_index, hash FROM log_nodes WHERE {terms}"  # our text, no input
        rows.extend(db.driver_rows(session, sql, params))
    return rows


_SQLITE_NODES_AT_ONCE = 400  # 800 parameters: under SQLite's smallest limit (999)


def _append_rows(
    compact: CompactRange,
    entries: Sequence[tuple[bytes, str | None]],
    leaves: list[dict[str, object]],
    nodes: list[dict[str, object]],
) -> list[Appended]:
    """Append `(event bytes, case number)` pairs to the tree whose border is `compact` (held by
    `lock`), adding the rows to store to `leaves` and `nodes` (LogTransaction.append sends them)."""
    if not entries:
        raise InvalidInput("nothing to append")
    appended: list[Appended] = []
    for data, case_no in entries:
        index, digest = compact.size, merkle.leaf_hash(data)
        leaves.append({"leaf_index": index, "leaf_hash": digest, "data": data, "case_no": case_no})
        nodes.extend(
            {"level": n.level, "node_index": n.index, "hash": h}
            for n, h in compact.append(digest)
            if n.level >= STORED_FROM_LEVEL
        )
        appended.append(Appended(index, digest))
    return appended


def _insert_rows(
    session: Session, tables: Sequence[tuple[type[Base], list[dict[str, Any]]]]
) -> None:
    """Bulk insert of each table's rows inside the session's transaction, the statements sent as
    text (SQLAlchemy's insert costs more than the rows of one append).

    PostgreSQL gets COPY for many rows: psycopg's executemany sends one statement per row
    (bench/ledger.py measured ~9,000 events/s that way, ~28,000 with COPY). A few rows, as a
    group commit brings, go as one INSERT a table of an array a column (`_pg_insert`), and those of
    every table in one round trip (db.driver_batch), where each round trip under the append lock
    waits for the database's process and then for the interpreter. SQLite's executemany is already
    a loop in C.
    """
    on_postgresql = session.get_bind().dialect.name == "postgresql"
    batch: list[tuple[str, Sequence[object]]] = []
    for model, rows in tables:
        if not rows:
            continue
        columns = list(rows[0])
        values = _values(session, model, columns, rows)
        table, names = model.__tablename__, ", ".join(columns)  # our names, no input
        if not on_postgresql:
            marks = "(" + ", ".join("?" * len(columns)) + ")"
            session.connection().exec_driver_sql(
                f"INSERT INTO {table} ({names}) VALUES {marks}", values
            )
        elif len(rows) <= _PG_INSERT_ROWS:
            arrays = [list(column) for column in zip(*values, strict=True)]
            batch.append((_pg_insert(model, tuple(columns)), arrays))
        else:
            _copy_rows(session, f"COPY {table} ({names}) FROM STDIN", values)
    db.driver_batch(session, batch)


@cache
def _pg_insert(model: type[Base], columns: tuple[str, ...]) -> str:
    """INSERT of the rows of one array a column (unnest): one text whatever the number of rows,
    which psycopg converts and PostgreSQL prepares once, where a VALUES list of as many rows made
    a new text each time, longer than psycopg caches (a fifth of the group leader's time)."""
    dialect = postgresql.dialect()  # type: ignore[no-untyped-call] # SQLAlchemy's, untyped
    types = model.__table__.columns
    arrays = ", ".join(f"CAST(? AS {types[c].type.compile(dialect=dialect)}[])" for c in columns)
    names = ", ".join(columns)
    return f"INSERT INTO {model.__tablename__} ({names}) SELECT * FROM unnest({arrays})"


def _values(
    session: Session, model: type[Base], columns: list[str], rows: list[dict[str, Any]]
) -> list[tuple[Any, ...]]:
    """The rows as tuples in the order of `columns`, each value of a column of our own type
    (models.UTCDateTime) converted as SQLAlchemy would bind it."""
    row_values = itemgetter(*columns)  # rows of several columns: a tuple each, made in C
    values = [row_values(row) for row in rows]
    dialect = session.get_bind().dialect
    types = model.__table__.columns
    converts = [
        (i, types[name].type.bind_processor(dialect))
        for i, name in enumerate(columns)
        if isinstance(types[name].type, TypeDecorator)
    ]
    if not converts:
        return values
    return [_converted(value, converts) for value in values]


def _converted(
    value: tuple[Any, ...], converts: Sequence[tuple[int, Callable[[Any], Any] | None]]
) -> tuple[Any, ...]:
    converted = list(value)
    for i, convert in converts:
        if convert is not None:
            converted[i] = convert(converted[i])
    return tuple(converted)


def _copy_rows(session: Session, copy_sql: str, values: list[tuple[Any, ...]]) -> None:
    driver = cast("psycopg.Connection[Any]", session.connection().connection.driver_connection)
    with driver.cursor() as cursor, cursor.copy(copy_sql) as copy:
        for value in values:
            copy.write_row(value)


_PG_INSERT_ROWS = 64  # up to this many rows in one INSERT; more go by COPY
