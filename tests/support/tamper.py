"""What someone holding the database file, but not the agency's keys, can do to an embedded
deployment."""

from __future__ import annotations

import sqlite3
from pathlib import Path

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from ledger import merkle
from ledger.checkpoint import CheckpointSigner


def drop_triggers(database: sqlite3.Connection) -> None:
    for (name,) in database.execute(
        "SELECT name FROM sqlite_master WHERE type = 'trigger'"
    ).fetchall():
        database.execute(f"DROP TRIGGER {name}")


def rewrite_history(path: Path, index: int, data: bytes, origin: str) -> CheckpointSigner:
    """Replace leaf `index` with `data` and make everything else agree: every node recomputed, every
    checkpoint re-signed by a key of the forger's own. Returns the forger's signer."""
    forger = CheckpointSigner(origin, Ed25519PrivateKey.generate())
    database = sqlite3.connect(path)
    drop_triggers(database)
    leaf = merkle.leaf_hash(data)
    database.execute(
        "UPDATE log_leaves SET data = ?, leaf_hash = ? WHERE leaf_index = ?", (data, leaf, index)
    )
    leaves = [
        bytes(d) for (d,) in database.execute("SELECT data FROM log_leaves ORDER BY leaf_index")
    ]
    compact, nodes = merkle.CompactRange(), []
    roots = {}
    for leaf_data in leaves:
        nodes += compact.append(merkle.leaf_hash(leaf_data))
        roots[compact.size] = compact.root()
    database.execute("DELETE FROM log_nodes")
    database.executemany(
        "INSERT INTO log_nodes (level, node_index, hash) VALUES (?, ?, ?)",
        [(n.level, n.index, h) for n, h in nodes],
    )
    for (size,) in database.execute("SELECT size FROM log_checkpoints").fetchall():
        database.execute(
            "UPDATE log_checkpoints SET root = ?, note = ? WHERE size = ?",
            (roots[size], forger.sign(size, roots[size]), size),
        )
    database.commit()
    database.close()
    return forger
