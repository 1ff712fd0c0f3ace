"""S3-compatible object storage (AWS S3, MinIO, …) for the Iceberg warehouse."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import ClassVar
from urllib.parse import urlsplit

from pydantic import BaseModel, ConfigDict, Field

from floe.plugins.abcs import StoragePlugin
from floe.plugins.base import SecretResolver
from floe.spec.common import SecretRef


class S3StorageConfig(BaseModel):
    """Settings of S3 storage; credentials are secret references."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    bucket: str = Field(description="Bucket holding the warehouse.")
    prefix: str = Field(default="warehouse", description="Key prefix of the warehouse.")
    endpoint: str | None = Field(default=None, description="e.g. http://minio:9000 for MinIO.")
    region: str = "us-east-1"
    path_style_access: bool = Field(default=False, description="True for MinIO.")
    access_key_id: SecretRef | None = None
    secret_access_key: SecretRef | None = None


class S3StoragePlugin(StoragePlugin[S3StorageConfig]):
    """Iceberg data and metadata in an S3 bucket, through PyIceberg's PyArrow S3 FileIO."""

    name: ClassVar[str] = "s3"
    version: ClassVar[str] = "0.1.0"
    description: ClassVar[str] = "S3-compatible object storage (AWS S3, MinIO)"

    def warehouse_location(self, home: Path) -> str:
        """``s3://<bucket>/<prefix>``."""
        prefix = self.config.prefix.strip("/")
        return f"s3://{self.config.bucket}/{prefix}" if prefix else f"s3://{self.config.bucket}"

    def fileio_properties(self, resolve: SecretResolver) -> dict[str, str]:
        """PyIceberg ``s3.*`` properties with the credentials resolved (run time only)."""
        cfg = self.config
        props: dict[str, str] = {
            "s3.region": cfg.region,
            "s3.force-virtual-addressing": "false" if cfg.path_style_access else "true",
        }
        if cfg.endpoint:
            props["s3.endpoint"] = cfg.endpoint
        if cfg.access_key_id is not None:
            props["s3.access-key-id"] = resolve(cfg.access_key_id).get_secret_value()
        if cfg.secret_access_key is not None:
            props["s3.secret-access-key"] = resolve(cfg.secret_access_key).get_secret_value()
        return props

    def duckdb_secret(self, value: Callable[[SecretRef], str]) -> dict[str, str] | None:
        """A DuckDB ``s3`` secret: region, endpoint (``host:port``), URL style, SSL, keys."""
        cfg = self.config
        secret = {
            "type": "s3",
            "region": cfg.region,
            "url_style": "path" if cfg.path_style_access else "vhost",
        }
        if cfg.endpoint:
            parts = urlsplit(cfg.endpoint)
            secret["endpoint"] = parts.netloc or cfg.endpoint
            secret["use_ssl"] = "false" if parts.scheme == "http" else "true"
        if cfg.access_key_id is not None:
            secret["key_id"] = value(cfg.access_key_id)
        if cfg.secret_access_key is not None:
            secret["secret"] = value(cfg.secret_access_key)
        return secret
