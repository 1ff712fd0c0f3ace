"""The audit trail (FR-073): append-only, hash-chained records in an Iceberg table.

Every push, promotion, approval, rejection and rollback is one row of
``floe_audit.promotions`` in the platform's catalog: a sequence number, when, who, the action,
product, digest, from/to, the request id, a reason, the gates with their evidence (JSON), the
previous record's hash and its own hash (sha256 of the canonical JSON of every other field).
:func:`verify` recomputes the chain: an edited, deleted or reordered record breaks it.
"""

from __future__ import annotations

import fcntl
import hashlib
import json
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from pyiceberg.catalog import Catalog

NAMESPACE = "floe_audit"
TABLE = f"{NAMESPACE}.promotions"
GENESIS = "0" * 64
FIELDS = ("seq", "at", "who", "action", "product", "digest", "from_env", "to_env",
          "request_id", "reason", "gates", "prev_hash", "hash")  # fmt: skip


@dataclass(frozen=True)
class Record:
    """One audit record."""

    seq: int
    at: str
    who: str
    action: str
    product: str
    digest: str
    from_env: str
    to_env: str
    request_id: str
    reason: str
    gates: str
    prev_hash: str
    hash: str = ""

    def computed_hash(self) -> str:
        """sha256 of the canonical JSON of every field but ``hash``."""
        body = {k: v for k, v in asdict(self).items() if k != "hash"}
        return hashlib.sha256(json.dumps(body, sort_keys=True).encode()).hexdigest()


def _schema() -> Any:
    import pyarrow as pa

    return pa.schema([(f, pa.int64() if f == "seq" else pa.string()) for f in FIELDS])


@contextmanager
def locked(lock_file: Path) -> Iterator[None]:
    """An exclusive file lock (one writer of the chain at a time)."""
    lock_file.parent.mkdir(parents=True, exist_ok=True)
    with lock_file.open("a") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def read(catalog: Catalog) -> list[Record]:
    """Every record, in sequence order (none when the table does not exist yet)."""
    from pyiceberg.exceptions import NoSuchTableError

    try:
        table = catalog.load_table(TABLE)
    except NoSuchTableError:
        return []
    rows = table.scan().to_arrow().to_pylist()
    return sorted((Record(**r) for r in rows), key=lambda r: r.seq)


def append(catalog: Catalog, lock_file: Path, *, who: str, action: str, product: str,
           digest: str, from_env: str = "", to_env: str = "", request_id: str = "",
           reason: str = "", gates: list[dict[str, Any]] | None = None) -> Record:  # fmt: skip
    """Chain a new record to the last one and append it."""
    import pyarrow as pa

    with locked(lock_file):
        records = read(catalog)
        prev = records[-1] if records else None
        record = Record(
            seq=(prev.seq + 1) if prev else 1,
            at=datetime.now(UTC).isoformat(),
            who=who, action=action, product=product, digest=digest, from_env=from_env,
            to_env=to_env, request_id=request_id, reason=reason,
            gates=json.dumps(gates or [], sort_keys=True),
            prev_hash=prev.hash if prev else GENESIS,
        )  # fmt: skip
        record = Record(**{**asdict(record), "hash": record.computed_hash()})
        catalog.create_namespace_if_not_exists(NAMESPACE)
        table = catalog.create_table_if_not_exists(TABLE, schema=_schema())
        table.append(pa.Table.from_pylist([asdict(record)], schema=_schema()))
    return record


def verify(records: list[Record]) -> list[str]:
    """What is wrong with the chain (empty: intact)."""
    problems = []
    prev_hash, expected_seq = GENESIS, 1
    for rec in records:
        if rec.seq != expected_seq:
            problems.append(f"record {expected_seq} is missing (next is {rec.seq})")
        if rec.prev_hash != prev_hash:
            problems.append(f"record {rec.seq} does not chain to the record before it")
        if rec.computed_hash() != rec.hash:
            problems.append(f"record {rec.seq} was edited (its hash does not match its content)")
        prev_hash, expected_seq = rec.hash, rec.seq + 1
    return problems
