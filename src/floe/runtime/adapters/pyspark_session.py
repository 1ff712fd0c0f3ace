"""PySpark's process-wide session.

Wraps: ``pyspark.sql.SparkSession._instantiatedSession`` and ``_activeSession`` — the private
class attributes through which ``SparkSession.builder.getOrCreate()`` hands every caller the
one session of the process.

Why: dbt-spark's ``session`` method runs each statement on
``SparkSession.builder.enableHiveSupport().getOrCreate()``; floe gives every run a *new*
session of the running Spark (``newSession()``: its own catalogs and SQL settings, the same
JVM), and only these attributes make ``getOrCreate`` return it. PySpark has no public call that
makes a session the default one on the Python side.

Checked against pyspark 3.5.9.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from pyspark.sql import SparkSession

#: The private attributes this adapter uses (tests/unit/test_adapters.py checks they exist).
ATTRIBUTES = ("_instantiatedSession", "_activeSession")


def current_session() -> SparkSession | None:
    """The session ``getOrCreate`` would return, while its SparkContext is alive."""
    from pyspark.sql import SparkSession

    session: SparkSession | None = getattr(SparkSession, ATTRIBUTES[0], None)
    if session is None or session.sparkContext._jsc is None:
        return None
    return session


def make_current(session: SparkSession) -> None:
    """Make ``session`` the one ``SparkSession.builder.getOrCreate()`` returns."""
    from pyspark.sql import SparkSession

    for attribute in ATTRIBUTES:
        setattr(SparkSession, attribute, session)
