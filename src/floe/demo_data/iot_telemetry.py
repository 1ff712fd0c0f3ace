"""Seeds for demo/iot-telemetry: the sensor register, sensor readings and work orders.

Sizes for ``rows`` readings: about 1.25 x sqrt(rows) machines with three sensors each
(temperature, vibration, pressure) and two to six work orders per machine. Readings cover
the day up to 2026-01-15 10:00 with every active sensor reporting at a fixed interval;
a few faulty sensors drift out of their operating band. Dirty rows mirror the committed
fixture: duplicates, reading dropouts without a value, a negative cost booking, and ids /
enumerations with stray whitespace or the wrong case.
"""

from __future__ import annotations

import math
import random
from dataclasses import dataclass
from datetime import date
from pathlib import Path

from floe.demo_data._common import (
    Clock,
    TableWriter,
    id_width,
    noisy_lower,
    noisy_trim,
    noisy_upper,
    pick,
    share,
    table_rng,
)

PRODUCT = "iot-telemetry"
SENSORS = "raw_sensors.csv"
READINGS = "raw_readings.csv"
MAINTENANCE = "raw_maintenance.csv"

# fmt: off
COLUMNS: dict[str, tuple[str, ...]] = {
    SENSORS: (
        "sensor_id", "equipment_id", "equipment_name", "production_line", "sensor_type",
        "unit", "min_threshold", "max_threshold", "installed_on", "is_active", "_loaded_at",
    ),
    READINGS: ("reading_id", "sensor_id", "reading_at", "value", "quality_flag", "_loaded_at"),
    MAINTENANCE: (
        "work_order_id", "equipment_id", "maintenance_type", "started_at", "completed_at",
        "downtime_minutes", "cost", "technician", "_loaded_at",
    ),
}

Kind = tuple[str, str, bool, bool, tuple[float, float]]
# Machine kinds: (name, production line, runs hot, precision machine, pressure band in bar).
KINDS: tuple[Kind, ...] = (
    ("CNC Mill", "LINE-A", False, True, (2.0, 8.0)),
    ("Hydraulic Press", "LINE-A", True, False, (150.0, 210.0)),
    ("Lathe", "LINE-A", False, True, (2.0, 8.0)),
    ("Injection Molder", "LINE-B", False, False, (2.0, 8.0)),
    ("Conveyor Drive", "LINE-B", False, False, (2.0, 8.0)),
    ("Laser Cutter", "LINE-B", False, True, (2.0, 8.0)),
    ("Robotic Welder", "LINE-C", False, False, (2.0, 8.0)),
    ("Air Compressor", "LINE-C", True, False, (6.0, 10.0)),
    ("Paint Booth Fan", "LINE-C", False, False, (2.0, 8.0)),
    ("Curing Oven", "LINE-C", True, False, (2.0, 8.0)),
)
SENSOR_TYPES = (("temperature", "celsius"), ("vibration", "mm_s"), ("pressure", "bar"))
TECHNICIANS = (
    "J. Peeters", "M. van Dijk", "A. Kowalski", "S. Yilmaz", "R. Costa", "L. Novak",
    "K. Hansen", "E. Moreau", "T. Nakamura", "P. Oliveira",
)
PREVENTIVE_COSTS = (180.0, 240.0, 325.5, 410.0, 560.0)
DOWNTIME = {"preventive": (60, 90, 120, 180), "corrective": (240, 360, 480),
            "emergency": (600, 720, 960)}
COST = {"preventive": PREVENTIVE_COSTS, "corrective": (950.0, 1480.0, 2250.0),
        "emergency": (3400.0, 4875.0, 5990.0)}
# fmt: on

SENSORS_LOADED = "2026-01-15 00:00:00"
MAINTENANCE_LOADED = "2026-01-15 00:00:00"
IN_PROGRESS_LOADED = "2026-01-15 04:00:00"
LATE_LOADED = "2026-01-15 10:00:00"
# Readings cover 2026-01-14 10:00 .. 2026-01-15 10:00 and arrive in 4-hourly batches.
READINGS_START = 10 * 3_600
BATCH_SECONDS = 4 * 3_600
# Work orders: 2025-10-01 .. 2026-01-10 (day offsets from 2025-10-01).
MAINTENANCE_DAYS = 101
IN_PROGRESS_DAY = 105  # 2026-01-14


@dataclass(frozen=True)
class Sensor:
    """What the readings need to know about one sensor."""

    sensor_id: str
    low: float
    high: float
    can_read_low: bool


def _band(kind: Kind, stype: str) -> tuple[float, float]:
    _, _, hot, precise, pressure = kind
    if stype == "temperature":
        return (10.0, 95.0 if hot else 85.0)
    if stype == "vibration":
        return (0.0, 4.5 if precise else 7.1)
    return pressure


def equipment_count(rows: int) -> int:
    """Machines in the plant for ``rows`` readings."""
    return max(4, round(1.25 * math.sqrt(rows)))


# --------------------------------------------------------------------------- sensors
def _dirty_sensor(rng: random.Random, row: list[str]) -> None:
    field = int(rng.random() * 4)
    if field == 0:
        row[4] = noisy_lower(rng, row[4])
    elif field == 1:
        row[3] = noisy_upper(rng, row[3])
    elif field == 2:
        row[2] = noisy_trim(rng, row[2])
    else:
        row[5] = noisy_lower(rng, row[5])


def _write_sensors(path: Path, machines: int, seed: int) -> tuple[list[Sensor], int]:
    """Write the sensor register; return the active sensors and the rows written."""
    rng = table_rng(seed, PRODUCT, "sensors")
    count = 3 * machines
    dups, dirty = pick(rng, count, share(count, 0.03)), pick(rng, count, share(count, 0.12))
    inactive = pick(rng, count, share(count, 0.03))
    ewidth, swidth = id_width(machines, 2), id_width(count, 3)
    installed, seen = Clock(date(2022, 6, 1)), [0] * len(KINDS)
    active: list[Sensor] = []
    with TableWriter(path, COLUMNS[SENSORS]) as out:
        for m in range(machines):
            k = (m * 7 + int(rng.random() * 3)) % len(KINDS)
            seen[k] += 1
            kind = KINDS[k]
            name, equipment = f"{kind[0]} {seen[k]}", f"EQ-{m + 1:0{ewidth}d}"
            for t, (stype, unit) in enumerate(SENSOR_TYPES):
                n = 3 * m + t
                low, high = _band(kind, stype)
                sensor_id = f"S{n + 1:0{swidth}d}"
                row = [
                    sensor_id,
                    equipment,
                    name,
                    kind[1],
                    stype,
                    unit,
                    f"{low:.2f}",
                    f"{high:.2f}",
                    installed.day(int(rng.random() * 1_200)),
                    "false" if n in inactive else "true",
                    SENSORS_LOADED,
                ]
                if n not in inactive:
                    active.append(Sensor(sensor_id, low, high, stype != "vibration"))
                if n in dirty:
                    _dirty_sensor(rng, row)
                out.write(row)
                if n in dups:
                    out.write(row)
        return active, out.rows


# --------------------------------------------------------------------------- readings
def _value(rng: random.Random, sensor: Sensor, faulty: bool) -> float:
    span = sensor.high - sensor.low
    r = rng.random()
    if (faulty and r < 0.3) or r < 0.004:
        if sensor.can_read_low and rng.random() < 0.2:
            return sensor.low - span * (0.10 + 0.10 * rng.random())
        return sensor.high + span * (0.05 + 0.10 * rng.random())
    return sensor.low + span * (0.2 + 0.6 * rng.random())


def _write_readings(path: Path, total: int, sensors: list[Sensor], seed: int) -> int:
    rng = table_rng(seed, PRODUCT, "readings")
    n_dup, n_blank = share(total, 0.013), share(total, 0.013)
    base = total - n_dup - n_blank
    dups, dirty = pick(rng, base, n_dup), pick(rng, base, share(base, 0.04))
    faulty = pick(rng, len(sensors), share(len(sensors), 0.08))
    count = len(sensors)
    interval = max(60, 86_400 // -(-base // count))
    width, clock = id_width(total, 5), Clock(date(2026, 1, 14))
    with TableWriter(path, COLUMNS[READINGS]) as out:
        for i in range(base + n_blank):
            s = i % count
            sensor = sensors[s]
            at = READINGS_START + (i // count) * interval + (s * 37) % interval
            value = f"{_value(rng, sensor, s in faulty):.2f}" if i < base else ""
            flag = "suspect" if rng.random() < 0.077 else "good"
            if i >= base:  # gateway dropouts: no value, removed by staging
                at = READINGS_START + int(rng.random() * 86_000)
            loaded = clock.at((at // BATCH_SECONDS + 1) * BATCH_SECONDS)
            row = [f"R{i + 1:0{width}d}", sensor.sensor_id, clock.at(at), value, flag, loaded]
            if i in dirty:
                if rng.random() < 0.5:
                    row[1] = noisy_upper(rng, row[1])
                else:
                    row[4] = noisy_lower(rng, row[4])
            out.write(row)
            if i in dups:
                out.write(row)
        return out.rows


# --------------------------------------------------------------------------- maintenance
def _work_order_type(rng: random.Random) -> str:
    r = rng.random()
    return "emergency" if r < 0.04 else ("corrective" if r < 0.12 else "preventive")


def _work_order(
    rng: random.Random, number: int, equipment: str, started: int, clock: Clock
) -> list[str]:
    mtype = _work_order_type(rng)
    downtime = DOWNTIME[mtype][int(rng.random() * len(DOWNTIME[mtype]))]
    cost = COST[mtype][int(rng.random() * len(COST[mtype]))] * (0.9 + 0.2 * rng.random())
    return [
        f"WO-{number}",
        equipment,
        mtype,
        clock.at(started),
        clock.at(started + downtime * 60),
        str(downtime),
        f"{cost:.2f}",
        TECHNICIANS[int(rng.random() * len(TECHNICIANS))],
        MAINTENANCE_LOADED,
    ]


def _planned_orders(rng: random.Random, machines: int, ewidth: int) -> list[tuple[str, int]]:
    """(equipment id, start offset in seconds) of every regular work order, by machine."""
    orders: list[tuple[str, int]] = []
    for m in range(machines):
        count = 2 + int(rng.random() * 5)
        slot = MAINTENANCE_DAYS // count
        for k in range(count):
            day = k * slot + int(rng.random() * slot)
            hour = 7 + int(rng.random() * 9)
            orders.append((f"EQ-{m + 1:0{ewidth}d}", day * 86_400 + hour * 3_600))
    return orders


def _dirty_work_order(rng: random.Random, row: list[str]) -> None:
    if rng.random() < 0.6:
        row[2] = noisy_lower(rng, row[2])
    else:
        row[1] = noisy_upper(rng, row[1])


def _negative_booking(rng: random.Random, number: int, equipment: str, clock: Clock) -> list[str]:
    """A preventive work order booked with a negative cost: rejected by staging."""
    start = (IN_PROGRESS_DAY - 2) * 86_400 + 28_800 + 3_600 * int(rng.random() * 8)
    row = _work_order(rng, number, equipment, start, clock)
    cost = PREVENTIVE_COSTS[int(rng.random() * len(PREVENTIVE_COSTS))]
    row[2], row[4], row[5] = "preventive", clock.at(start + 5_400), "90"
    row[6], row[8] = f"-{cost:.2f}", LATE_LOADED
    return row


def _write_maintenance(path: Path, machines: int, seed: int) -> int:
    rng = table_rng(seed, PRODUCT, "maintenance")
    orders = _planned_orders(rng, machines, id_width(machines, 2))
    base = len(orders)
    dups, dirty = pick(rng, base, share(base, 0.03)), pick(rng, base, share(base, 0.09))
    open_orders, clock = pick(rng, base, share(base, 0.06)), Clock(date(2025, 10, 1))
    n_negative = share(base, 0.03)
    with TableWriter(path, COLUMNS[MAINTENANCE]) as out:
        for i, (equipment, started) in enumerate(orders):
            row = _work_order(rng, 1001 + i, equipment, started, clock)
            if i in open_orders:  # still in progress: no completion, downtime or cost yet
                start = IN_PROGRESS_DAY * 86_400 + 21_600 + 1_800 * int(rng.random() * 18)
                row[3:7] = [clock.at(start), "", "", ""]
                row[8] = IN_PROGRESS_LOADED
            if i in dirty:
                _dirty_work_order(rng, row)
            out.write(row)
            if i in dups:
                out.write(row)
        for j in range(n_negative):
            equipment = orders[int(rng.random() * base)][0]
            out.write(_negative_booking(rng, 1001 + base + j, equipment, clock))
        return out.rows


def write(rows: int, out_dir: Path, seed: int) -> dict[str, int]:
    """Write the three iot-telemetry seeds with ``rows`` readings into ``out_dir``."""
    machines = equipment_count(rows)
    active, sensor_rows = _write_sensors(out_dir / SENSORS, machines, seed)
    return {
        SENSORS: sensor_rows,
        READINGS: _write_readings(out_dir / READINGS, rows, active, seed),
        MAINTENANCE: _write_maintenance(out_dir / MAINTENANCE, machines, seed),
    }
