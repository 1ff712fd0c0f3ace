"""The audit trail (FR-073): append-only, hash-chained records in an Iceberg table.

Every push, promotion, approval, rejection and rollback is one row of
``floe_audit.promotions`` in the platform's catalog: a sequence number, when, who, the action,
product, digest, from/to, the request id, a reason, the gates with their evidence (JSON), the
previous record's hash and its own hash (sha256 of the canonical JSON of every other field).
:func:`verify` recomputes the chain: an edited, deleted or reordered record breaks it.

The chain alone cannot show that its *newest* records were deleted (what is left still chains),
so every append also writes the head — the newest record's ``seq`` and ``hash`` — to anchors
outside the rows: the summary of the Iceberg snapshot that appended it, the file
``audit.head`` beside the chain's lock in the platform home and, when the manifest names an
OCI registry, the tag ``head`` of the repository ``floe.audit`` (:mod:`floe.promote.anchor`).
:func:`verify` checks the rows against every anchor (docs/promotion.md#audit-trail).
"""

from __future__ import annotations

import fcntl
import hashlib
import json
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

if TYPE_CHECKING:
    from pyiceberg.catalog import Catalog

NAMESPACE = "floe_audit"
TABLE = f"{NAMESPACE}.promotions"
GENESIS = "0" * 64
HEAD_FILE = "audit.head"
SEQ_PROPERTY, HASH_PROPERTY = "floe.audit.seq", "floe.audit.hash"
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


@dataclass(frozen=True)
class Head:
    """The newest record of the chain, as an anchor keeps it."""

    seq: int
    hash: str


class Anchor(Protocol):
    """A place outside the audit table that keeps the chain's head."""

    @property
    def name(self) -> str:
        """Where the head is kept (named by :func:`verify`)."""
        ...

    def write(self, head: Head) -> None:
        """Keep ``head`` (the chain's newest record)."""
        ...

    def read(self) -> Head | None:
        """The head kept here (None: none was ever written)."""
        ...


@dataclass(frozen=True)
class FileAnchor:
    """The head in a file of the platform home (``<home>/promotions/audit.head``)."""

    path: Path

    @property
    def name(self) -> str:
        """The file."""
        return str(self.path)

    def write(self, head: Head) -> None:
        """Replace the file atomically."""
        tmp = self.path.with_suffix(".tmp")
        tmp.write_text(json.dumps(asdict(head), sort_keys=True) + "\n", encoding="utf-8")
        tmp.replace(self.path)

    def read(self) -> Head | None:
        """The head in the file (None when there is no file)."""
        try:
            doc = json.loads(self.path.read_text(encoding="utf-8"))
        except FileNotFoundError:
            return None
        return Head(int(doc["seq"]), str(doc["hash"]))


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


def file_anchor(lock_file: Path) -> FileAnchor:
    """The head file beside the chain's lock file."""
    return FileAnchor(lock_file.with_name(HEAD_FILE))


def append(catalog: Catalog, lock_file: Path, *, who: str, action: str, product: str,
           digest: str, from_env: str = "", to_env: str = "", request_id: str = "",
           reason: str = "", gates: list[dict[str, Any]] | None = None,
           anchors: Sequence[Anchor] = ()) -> Record:  # fmt: skip
    """Chain a new record to the last one, append it (its snapshot's summary carrying the
    head) and write the head to the file beside ``lock_file`` and to ``anchors``."""
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
        head = {SEQ_PROPERTY: str(record.seq), HASH_PROPERTY: record.hash}
        table.append(pa.Table.from_pylist([asdict(record)], schema=_schema()),
                     snapshot_properties=head)  # fmt: skip
        for anchor in (file_anchor(lock_file), *anchors):
            anchor.write(Head(record.seq, record.hash))
    return record


def snapshot_head(catalog: Catalog) -> tuple[str, Head | None]:
    """The newest head any snapshot of the audit table recorded in its summary (a delete or
    an overwrite commits a new snapshot; the append's stays in the table's history)."""
    from pyiceberg.exceptions import NoSuchTableError

    name = f"the snapshots of {TABLE}"
    try:
        snapshots = catalog.load_table(TABLE).metadata.snapshots
    except NoSuchTableError:
        return name, None
    summaries = [(dict(s.summary.additional_properties), s.snapshot_id)
                 for s in snapshots if s.summary is not None]  # fmt: skip
    heads = [(int(p[SEQ_PROPERTY]), str(p[HASH_PROPERTY]), snapshot_id)
             for p, snapshot_id in summaries if SEQ_PROPERTY in p]  # fmt: skip
    if not heads:
        return name, None
    seq, digest, snapshot_id = max(heads)
    return f"snapshot {snapshot_id} of {TABLE}", Head(seq, digest)


def check_head(records: list[Record], where: str, head: Head | None) -> list[str]:
    """What the rows lack compared to the head an anchor kept (empty: they agree)."""
    last = records[-1].seq if records else 0
    if head is None:
        return [f"{where} holds no head of the chain"] if records else []
    if head.seq > last:
        gone = f"record {head.seq}" if head.seq == last + 1 else f"records {last + 1}–{head.seq}"
        return [f"{gone} missing: {where} names record {head.seq} (hash {head.hash[:12]}) as "
                f"the newest, the table ends at record {last}"]  # fmt: skip
    found = next((r for r in records if r.seq == head.seq), None)
    if found is not None and found.hash != head.hash:
        return [f"record {head.seq} is not the one {where} anchored (hash {head.hash[:12]})"]
    return []


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
