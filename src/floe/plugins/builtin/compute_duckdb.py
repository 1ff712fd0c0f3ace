"""DuckDB compute: stateless, in-process; extensions loaded by path, never downloaded."""

from __future__ import annotations

from typing import Any, ClassVar

from pydantic import BaseModel, ConfigDict, Field

from floe.plugins.abcs import ComputePlugin
from floe.spec.base import new_dict
from floe.spec.common import SecretRef

#: Load order matters: iceberg needs avro and httpfs.
DEFAULT_EXTENSIONS = ("httpfs", "avro", "iceberg")
#: Environment variable through which `floe run` gives dbt a fresh scratch database.
SCRATCH_ENV = "FLOE_DUCKDB_PATH"
#: The dbt-duckdb plugin module that loads extensions from the installed wheels.
EXTENSION_LOADER = "floe.runtime.dbt_duckdb_plugin"


class DuckDBConfig(BaseModel):
    """Settings of the DuckDB compute."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    path: str = Field(
        default=":memory:",
        description="Database path; ':memory:' (default) keeps DuckDB stateless. "
        "'{product_slug}' expands to the product name with underscores.",
    )
    threads: int = Field(default=4, ge=1, le=256)
    memory_limit: str | None = Field(default=None, description="e.g. '2GB'")
    extensions: list[str] = Field(default_factory=lambda: list(DEFAULT_EXTENSIONS))
    settings: dict[str, str | int | float | bool | SecretRef] = Field(
        default_factory=new_dict,
        description="DuckDB settings; credentials as {secret: NAME} (read by dbt's env_var).",
    )


class DuckDBComputePlugin(ComputePlugin[DuckDBConfig]):
    """DuckDB through dbt-duckdb."""

    name: ClassVar[str] = "duckdb"
    version: ClassVar[str] = "0.1.0"
    description: ClassVar[str] = "DuckDB in-process compute via dbt-duckdb (stateless)"

    def dbt_profile_output(self, *, product: str) -> dict[str, Any]:
        """A dbt-duckdb output: autoinstall off, extensions loaded by path through our plugin."""
        cfg = self.config
        settings: dict[str, Any] = {
            key: env_var(value) if isinstance(value, SecretRef) else value
            for key, value in sorted(cfg.settings.items())
        }
        if cfg.memory_limit:
            settings["memory_limit"] = cfg.memory_limit
        path = cfg.path.replace("{product_slug}", product.replace("-", "_"))
        output: dict[str, Any] = {
            "type": "duckdb",
            # floe run points dbt at a fresh scratch database per phase; plain dbt gets `path`
            "path": "{{ env_var('" + SCRATCH_ENV + "', '" + path + "') }}",
            "threads": cfg.threads,
            "config_options": {
                "autoinstall_known_extensions": False,
                "autoload_known_extensions": False,
            },
        }
        if settings:
            output["settings"] = settings
        if cfg.extensions:
            output["plugins"] = [
                {"module": EXTENSION_LOADER, "config": {"extensions": list(cfg.extensions)}}
            ]
        return output


def env_var(ref: SecretRef) -> str:
    """A secret reference as dbt reads it at run time: never the value itself."""
    return "{{ env_var('" + ref.secret + "') }}"
