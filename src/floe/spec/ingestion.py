"""floe.yaml ``ingestion:`` — external sources loaded into the product's raw Iceberg tables.

Each source is a dbt source of the product (``source('<source name>', '<resource name>')``);
each resource one raw table ``<namespace>.<resource name>``. The source types are the ones
dlt verifies (``rest_api``, ``sql_database``, ``filesystem``); the ingestion plugin chosen in
the manifest loads them (docs/ingestion.md). Credentials are secret references only.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Annotated, Any, Literal

from pydantic import Field, StringConstraints

from floe.spec.base import FloeModel, new_dict, new_list
from floe.spec.common import SecretRef

#: A raw table (and dbt source table) name: lower-case, as Iceberg and DuckDB keep it.
TableName = Annotated[
    str, StringConstraints(pattern=r"^[a-z_][a-z0-9_]*$", max_length=128, min_length=1)
]
#: A plaintext value where a secret reference belongs is kept here only to be refused at
#: VALIDATE with a located E673 that never shows the value.
Credential = SecretRef | str | None


class Incremental(FloeModel):
    """Load only what is new since the last run: the rows whose ``cursor`` is beyond the
    highest value already published (kept in the raw table's Iceberg properties)."""

    cursor: str = Field(description="The cursor column (a JSON path for rest_api).")
    initial_value: Any = Field(
        default=None, description="Where the first run starts (none: everything)."
    )
    param: str | None = Field(
        default=None,
        description="rest_api: the query parameter the last cursor value is sent in (none: "
        "every page is read and floe keeps only the rows beyond the cursor).",
    )


class _Resource(FloeModel):
    """What every resource has: its raw table name, key and how its rows are written."""

    name: TableName = Field(description="The raw table and dbt source table name.")
    primary_key: list[str] = Field(
        default_factory=new_list, description="Columns identifying a row (merge; audited unique)."
    )
    write_disposition: Literal["append", "replace", "merge"] = Field(
        default="append",
        description="append: new rows are added; replace: the table becomes what was "
        "loaded; merge: loaded rows replace the published rows of the same primary key.",
    )
    incremental: Incremental | None = None


class RestResource(_Resource):
    """One endpoint of a REST API."""

    path: str | None = Field(default=None, description="Endpoint path (default: the name).")
    data_selector: str | None = Field(
        default=None, description="JSON path of the records in a page (default: detected)."
    )
    params: dict[str, Any] = Field(default_factory=new_dict, description="Query parameters.")


class SqlResource(_Resource):
    """One table of a SQL database."""

    table: str | None = Field(default=None, description="Source table (default: the name).")


class FileResource(_Resource):
    """Files of one format under the source's folder (or bucket)."""

    glob: str = Field(default="*", description="Which files, relative to bucket_url.")
    format: Literal["jsonl", "csv", "parquet"] = "jsonl"
    incremental_files: bool = Field(
        default=True,
        description="Read only files modified since the last run (their modification date "
        "is the cursor).",
    )


class RestApiSource(FloeModel):
    """A REST API returning pages of JSON."""

    type: Literal["rest_api"]
    name: TableName = Field(description="The dbt source name.")
    base_url: str
    token: Credential = Field(default=None, description="Bearer token, by secret reference.")
    headers: dict[str, str] = Field(default_factory=new_dict)
    paginator: str | dict[str, Any] | None = Field(
        default=None,
        description="dlt's paginator: a name (json_link, header_link, offset, page_number, "
        "cursor, single_page) or its config mapping (e.g. {type: json_link, next_url_path: "
        "next}); default: detected.",
    )
    resources: list[RestResource] = Field(min_length=1)


class SqlDatabaseSource(FloeModel):
    """Tables of a SQL database (SQLAlchemy URL parts; the password by secret reference)."""

    type: Literal["sql_database"]
    name: TableName = Field(description="The dbt source name.")
    drivername: str = Field(default="postgresql+psycopg", description="SQLAlchemy driver.")
    host: str = "localhost"
    port: int | None = None
    database: str
    username: str | None = None
    password: Credential = Field(default=None, description="By secret reference.")
    db_schema: str | None = Field(default=None, alias="schema", description="Database schema.")
    resources: list[SqlResource] = Field(min_length=1)


class FilesystemSource(FloeModel):
    """Files in a folder (relative to floe.yaml) or a bucket URL."""

    type: Literal["filesystem"]
    name: TableName = Field(description="The dbt source name.")
    bucket_url: str = Field(description="A folder (relative to floe.yaml) or file:// URL.")
    resources: list[FileResource] = Field(min_length=1)


IngestionSource = Annotated[
    RestApiSource | SqlDatabaseSource | FilesystemSource, Field(discriminator="type")
]

#: The credential fields of each source type (checked to be secret references).
CREDENTIAL_FIELDS: dict[str, tuple[str, ...]] = {
    "rest_api": ("token",),
    "sql_database": ("password",),
    "filesystem": (),
}


class IngestionSection(FloeModel):
    """The ``ingestion:`` section on its own: floe.yaml and the artifacts hold it as plain
    mappings, typed here only when a product has one (building these models' validators costs
    every compile ~50 M instructions otherwise)."""

    ingestion: list[IngestionSource] = Field(default_factory=new_list)


def parse_sources(raw: Sequence[Mapping[str, Any]]) -> list[IngestionSource]:
    """The typed sources of an ``ingestion:`` section (pydantic's ValidationError if not;
    LOAD turns it into located diagnostics)."""
    if not raw:
        return []
    return IngestionSection.model_validate({"ingestion": list(raw)}).ingestion


def ingestion_json_schema(schema: dict[str, Any]) -> None:
    """The JSON Schema of the section's items, inlined where the plain mapping's would be
    (a ``json_schema_extra`` hook: built only by ``floe schema export``)."""
    full = IngestionSection.model_json_schema(mode="validation")
    defs = full.get("$defs", {})
    items = _inline(full["properties"]["ingestion"]["items"], defs)
    schema["items"] = items


def _inline(node: Any, defs: Mapping[str, Any]) -> Any:
    """``node`` with every ``$ref`` to ``defs`` replaced by the definition (these models are
    not recursive)."""
    if isinstance(node, dict):
        ref = node.get("$ref")
        if isinstance(ref, str) and ref.startswith("#/$defs/"):
            return _inline(defs[ref.removeprefix("#/$defs/")], defs)
        # OpenAPI's discriminator mapping names the $defs that inlining removes
        return {k: _inline(v, defs) for k, v in node.items() if k != "discriminator"}
    if isinstance(node, list):
        return [_inline(v, defs) for v in node]
    return node
