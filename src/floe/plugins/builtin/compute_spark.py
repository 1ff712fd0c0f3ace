"""Spark compute: dbt-spark on a SparkSession floe starts, or on a Spark Thrift Server.

``session`` (default): floe starts Spark in its own process — ``local[*]`` on one machine, or a
``spark://``/``k8s://`` master whose executors run elsewhere — with the Iceberg runtime on the
classpath and floe's Iceberg catalog configured from the catalog plugin at run time
(:mod:`floe.runtime.spark.session`); dbt-spark's ``session`` method runs on that session.
``thrift``: dbt-spark talks to a Spark Thrift Server the platform runs (``host``/``port``; the
server carries the Iceberg catalog; credentials are secret references read by ``env_var``) and
floe's write–audit–publish runs over SQL on it (:mod:`floe.runtime.spark.thrift`).
"""

from __future__ import annotations

from typing import Any, ClassVar, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from floe.plugins.abcs import ComputePlugin
from floe.plugins.builtin.compute_duckdb import env_var
from floe.spec.base import new_dict
from floe.spec.common import SecretRef

#: dbt's schema of every relation a run builds (Spark's session catalog: the run's scratch).
SCHEMA = "main"
#: Settings of every session on a Thrift server (dbt's, through the profile's
#: ``server_side_parameters``, and floe's): timestamps without time zone, as DuckDB writes them.
THRIFT_SESSION = {"spark.sql.timestampType": "TIMESTAMP_NTZ", "spark.sql.session.timeZone": "UTC"}
#: How a session's opening request carries a Spark setting to the Thrift server: Hive's
#: ``set:hiveconf:`` (a plain key is kept by Hive and never reaches Spark's session).
HIVECONF = "set:hiveconf:"
#: The user a thrift session opens as when the config names none (dbt-spark requires one).
THRIFT_USER = "floe"


class SparkConfig(BaseModel):
    """Settings of the Spark compute."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    method: Literal["session", "thrift"] = Field(
        default="session",
        description="session: a SparkSession floe starts; thrift: a Spark Thrift Server.",
    )
    master: str = Field(
        default="local[*]",
        pattern=r"^(local(\[(\*|\d+)\])?|spark://\S+|k8s://\S+|yarn)$",
        description="session: the Spark master (local[*], local[2], spark://host:7077, "
        "k8s://https://host:443).",
    )
    host: str | None = Field(default=None, description="thrift: the Thrift server's host.")
    port: int = Field(default=10000, ge=1, le=65535, description="thrift: its port.")
    user: str | None = Field(
        default=None, description="thrift: the user to connect as (default floe)."
    )
    auth_method: Literal["NONE", "LDAP", "KERBEROS", "NOSASL"] | None = Field(
        default=None, description="thrift: the authentication mechanism (default NONE)."
    )
    password: SecretRef | None = Field(
        default=None, description="thrift: the password, as {secret: NAME}."
    )
    threads: int = Field(default=1, ge=1, le=64, description="dbt threads.")
    conf: dict[str, str | int | float | bool] = Field(
        default_factory=new_dict,
        description="session: Spark settings (e.g. spark.driver.memory: 2g, "
        "spark.executor.instances: 4); no credentials here.",
    )

    @model_validator(mode="after")
    def _thrift_needs_host(self) -> SparkConfig:
        if self.method == "thrift" and not self.host:
            raise ValueError("method thrift needs host (the Spark Thrift Server)")
        return self


class SparkComputePlugin(ComputePlugin[SparkConfig]):
    """Apache Spark through dbt-spark."""

    name: ClassVar[str] = "spark"
    version: ClassVar[str] = "0.1.0"
    description: ClassVar[str] = (
        "Apache Spark via dbt-spark: a local or cluster SparkSession, or a Thrift server"
    )

    def dbt_profile_output(self, *, product: str) -> dict[str, Any]:
        """A dbt-spark output; secrets as ``env_var`` lookups, never their values."""
        cfg = self.config
        if cfg.method == "session":
            # dbt-spark requires a host; the session method never dials it
            return {"type": "spark", "method": "session", "host": "localhost",
                    "schema": SCHEMA, "threads": cfg.threads}  # fmt: skip
        output: dict[str, Any] = {
            "type": "spark",
            "method": "thrift",
            "host": cfg.host,
            "port": cfg.port,
            # the server's session catalog is shared by every product's runs: one schema each
            "schema": thrift_schema(product),
            "threads": cfg.threads,
            "user": self.thrift_user(),
            "server_side_parameters": hiveconf(THRIFT_SESSION),
            "poll_interval": 1,  # dbt-spark polls a running statement every 5 s by default
        }
        if cfg.auth_method:
            output["auth"] = cfg.auth_method
        if cfg.password is not None:
            output["password"] = env_var(cfg.password)
        return output

    def thrift_user(self) -> str:
        """The user thrift sessions open as."""
        return self.config.user or THRIFT_USER

    def session_conf(self) -> dict[str, str]:
        """Spark settings of the session floe starts (``session`` method)."""
        return {key: _text(value) for key, value in sorted(self.config.conf.items())}


def hiveconf(settings: dict[str, str]) -> dict[str, str]:
    """Spark settings as a Thrift session's opening configuration."""
    return {HIVECONF + key: value for key, value in settings.items()}


def thrift_schema(product: str) -> str:
    """dbt's schema of a product's relations on a Thrift server: ``floe_<product>``."""
    return "floe_" + "".join(c if c.isalnum() else "_" for c in product.lower())


def _text(value: str | int | float | bool) -> str:
    return str(value).lower() if isinstance(value, bool) else str(value)
