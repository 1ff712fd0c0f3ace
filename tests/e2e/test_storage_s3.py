"""The s3 storage plugin against a real S3-compatible server (moto) on 127.0.0.1."""

from __future__ import annotations

from pathlib import Path

import pyarrow as pa
import pytest

from floe.runtime.catalog import catalog_properties, open_catalog
from floe.runtime.home import PlatformHome
from floe.runtime.publish import replace
from floe.spec.common import PluginRef
from tests.e2e.servers import moto_server


@pytest.mark.requirement("FR-022")
def test_iceberg_table_on_s3_written_read_and_listed(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Credentials come from secret references; PyIceberg's S3 FileIO writes data and metadata
    into the bucket under the prefix; the table reads back; the objects are listed."""
    import boto3

    monkeypatch.setenv("TEST_S3_KEY", "testing-key")
    monkeypatch.setenv("TEST_S3_SECRET", "testing-secret-value")
    with moto_server() as endpoint:
        s3 = boto3.client(
            "s3", endpoint_url=endpoint, region_name="us-east-1",
            aws_access_key_id="testing-key", aws_secret_access_key="testing-secret-value",
        )  # fmt: skip
        s3.create_bucket(Bucket="lake")
        plugins = {
            "catalog": PluginRef(type="sql"),
            "storage": PluginRef(
                type="s3",
                config={
                    "bucket": "lake", "prefix": "wh", "endpoint": endpoint,
                    "path_style_access": True,
                    "access_key_id": {"secret": "TEST_S3_KEY"},
                    "secret_access_key": {"secret": "TEST_S3_SECRET"},
                },
            ),
        }  # fmt: skip
        home = PlatformHome(tmp_path / ".floe")
        props = catalog_properties(plugins, home)
        assert props["warehouse"] == "s3://lake/wh"
        assert props["s3.endpoint"] == endpoint
        assert props["s3.access-key-id"] == "testing-key"
        assert props["s3.force-virtual-addressing"] == "false"
        catalog = open_catalog(plugins, home)
        df = pa.table({"id": pa.array([1, 2, 3], pa.int64()), "name": ["a", "b", "c"]})
        result = replace(catalog, "shop.orders", df, {"floe.run_id": "r-s3"})
        assert result.rows_total == 3
        table = catalog.load_table("shop.orders")
        assert table.metadata_location.startswith("s3://lake/wh/shop/orders/metadata/")
        assert sorted(table.scan().to_arrow().to_pylist(), key=lambda r: r["id"]) == [
            {"id": 1, "name": "a"}, {"id": 2, "name": "b"}, {"id": 3, "name": "c"},
        ]  # fmt: skip
        keys = [o["Key"] for o in s3.list_objects_v2(Bucket="lake")["Contents"]]
        data = [k for k in keys if k.startswith("wh/shop/orders/data/") and k.endswith(".parquet")]
        meta = [k for k in keys if k.startswith("wh/shop/orders/metadata/")]
        assert len(data) == 1
        assert any(k.endswith(".metadata.json") for k in meta)
        assert any(k.endswith(".avro") for k in meta)


@pytest.mark.requirement("FR-022")
@pytest.mark.requirement("FR-061")
def test_product_runs_end_to_end_on_an_s3_warehouse(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A whole product on S3 (moto): seeds published to the bucket, then the models read them
    in DuckDB through views over `iceberg_scan('s3://…')` with the storage credentials as a
    DuckDB secret; the gold value is right; the dbt profile and artifacts hold only references,
    never the key or secret; a second run reads its own snapshots back the same way."""
    import boto3

    from floe.app.run import run
    from tests.conftest import TINY_MANIFEST, write_tiny
    from tests.e2e.conftest import Platform

    monkeypatch.setenv("TINY_S3_KEY", "tiny-key-id")
    monkeypatch.setenv("TINY_S3_SECRET", "tiny-secret-value-42")
    with moto_server() as endpoint:
        boto3.client(
            "s3", endpoint_url=endpoint, region_name="us-east-1",
            aws_access_key_id="tiny-key-id", aws_secret_access_key="tiny-secret-value-42",
        ).create_bucket(Bucket="lake")  # fmt: skip
        manifest = TINY_MANIFEST.replace(
            "  storage:\n    type: local\n",
            "  storage:\n    type: s3\n    config:\n      bucket: lake\n      prefix: wh\n"
            f"      endpoint: {endpoint}\n      path_style_access: true\n"
            "      access_key_id: {secret: TINY_S3_KEY}\n"
            "      secret_access_key: {secret: TINY_S3_SECRET}\n",
        )
        product = write_tiny(tmp_path / "tiny", manifest=manifest)
        first = run(product)
        assert first.success, first.failure
        second = run(product)
        assert second.success, second.failure
        catalog = Platform(product, {}).catalog()
        mart = catalog.load_table("tiny.mart_revenue")
        assert mart.metadata_location.startswith("s3://lake/wh/tiny/mart_revenue/metadata/")
        assert mart.scan().to_arrow().to_pylist() == [{"revenue": 60}]
        assert len(mart.snapshots()) == 2
    compiled = product / "target" / "floe"
    for name in ("profiles.yml", "compiled_artifacts.json"):
        text = (compiled / name).read_text()
        assert "tiny-secret-value-42" not in text
        assert "tiny-key-id" not in text
    import yaml

    profile = yaml.safe_load((compiled / "profiles.yml").read_text())["tiny"]["outputs"]["dev"]
    assert profile["plugins"][0]["config"]["secrets"] == [{
        "type": "s3", "region": "us-east-1", "url_style": "path",
        "endpoint": endpoint.removeprefix("http://"), "use_ssl": "false",
        "key_id": "{{ env_var('TINY_S3_KEY') }}", "secret": "{{ env_var('TINY_S3_SECRET') }}",
    }]  # fmt: skip
