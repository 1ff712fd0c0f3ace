"""What `--as-of` / `--to` texts mean: a snapshot id is never read as a timestamp."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from floe.errors import FloeError
from floe.runtime.rollback import E_PRODUCT_TARGET, rollback_product
from floe.runtime.timetravel import parse_timestamp

#: Snapshot ids (as Iceberg makes them: 63-bit integers) that Python 3.11's
#: ``datetime.fromisoformat`` accepts as basic-format timestamps.
SNAPSHOT_IDS = ("7590031111640465009", "6957031841351426366", "8036010260620117702")


@pytest.mark.requirement("FLOE-007")
@pytest.mark.parametrize("text", SNAPSHOT_IDS)
def test_an_integer_is_never_a_timestamp(text: str) -> None:
    """Each id parses with ``datetime.fromisoformat`` (the trap), yet ``parse_timestamp``
    answers None for it, as for its negative."""
    assert isinstance(datetime.fromisoformat(text), datetime)
    assert parse_timestamp(text) is None
    assert parse_timestamp(f"-{text}") is None
    assert parse_timestamp(f" {text} ") is None


@pytest.mark.requirement("FLOE-007")
def test_iso_timestamps_still_parse_naive_as_utc() -> None:
    """Extended and basic ISO forms with a time separator parse; naive ones are UTC."""
    assert parse_timestamp("2026-01-31T12:00:00Z") == datetime(2026, 1, 31, 12, tzinfo=UTC)
    assert parse_timestamp("2026-01-31 12:00") == datetime(2026, 1, 31, 12, tzinfo=UTC)
    assert parse_timestamp("20260131T120000") == datetime(2026, 1, 31, 12, tzinfo=UTC)
    assert parse_timestamp("yesterday") is None


@pytest.mark.requirement("FLOE-007")
@pytest.mark.parametrize("text", SNAPSHOT_IDS)
def test_a_product_is_not_rolled_back_to_a_snapshot_id(text: str) -> None:
    """`floe tables rollback <product> --to <snapshot id>` is E572 before any table is read
    (the catalog is never asked: it is None here)."""
    with pytest.raises(FloeError) as raised:
        rollback_product(None, ["tiny.orders"], text, "why", who="me")  # type: ignore[arg-type]
    (diag,) = raised.value.diagnostics
    assert diag.code == E_PRODUCT_TARGET
    assert diag.message == f"a product is rolled back to a run tag or a timestamp, not '{text}'"
