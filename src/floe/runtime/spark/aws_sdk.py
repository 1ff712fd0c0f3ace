"""The AWS SDK v2 for Iceberg's ``S3FileIO`` on Spark, built from a PyPI package.

Iceberg's Spark runtime jar has ``S3FileIO`` (its ``iceberg-aws`` classes) but not the AWS SDK
v2 it calls; Iceberg ships that as ``iceberg-aws-bundle``, a Maven artifact, and Maven is not
reachable here. The one package of the reachable registries found to ship the SDK v2 is PyPI's
``sagemaker-feature-store-pyspark`` (Apache-2.0): its Spark 3.5 jar holds the SDK (S3, STS,
KMS, Glue…) relocated under ``smfs.shaded.``. floe takes the SDK's classes (with the HTTP
components and commons they were shaded with, and the unshaded reactive-streams API they
need) out of that jar and relocates the SDK back to ``software.amazon`` with Debian's jarjar,
once, into the Spark jar cache (``make setup`` does: ``python -m floe.runtime.spark.aws_sdk``;
~1 minute of CPU, a second call returns at once). The wheel is fetched by pip, pinned by
version and sha256.

The same jar's Apache HttpComponents 5 (``httpclient5``/``httpcore5``, 5.4+) are what Iceberg's
REST catalog client is built on, and the Spark runtime jar lacks them too
(``NoClassDefFoundError: org/apache/iceberg/shaded/org/apache/hc/core5/http/Method`` when a
REST catalog is loaded): :func:`rest_http_jar` relocates them into Iceberg's shaded package
(``org.apache.iceberg.shaded.org.apache.hc``) into a jar of their own, from the SDK jar.
"""

from __future__ import annotations

import hashlib
import shutil
import subprocess
import sys
import tempfile
import zipfile
from pathlib import Path

from floe.runtime.spark.jars import (
    AWS_SDK_JAR,
    JARJAR,
    REST_HTTP_JAR,
    _missing,
    cache_dir,
    relocate,
)

PACKAGE = "sagemaker-feature-store-pyspark"
VERSION = "2.2.2"
WHEEL = f"sagemaker_feature_store_pyspark-{VERSION}-py3-none-any.whl"
WHEEL_SHA256 = "5e5da72967812a0cc92399682da0d8fab3d0ec9e038eb82fe79b645c35fbf8e9"
FAT_JAR = "feature_store_pyspark/jars/sagemaker-feature-store-spark-sdk-3.5.jar"
SHADED = "smfs/shaded/"
#: what the SDK needs from the fat jar: the SDK, what it was shaded with, reactive-streams
TAKE = (f"{SHADED}software/amazon/awssdk/", f"{SHADED}org/apache/hc/",
        f"{SHADED}org/apache/commons/", "org/reactivestreams/")  # fmt: skip
RELOCATION = "rule smfs.shaded.software.amazon.** software.amazon.@1\n"
JAR_NAME = AWS_SDK_JAR  # aws-sdk-v2-from-<PACKAGE>-<VERSION>.jar (jars.py puts it on the classpath)
#: HttpComponents 5 of the SDK jar, for Iceberg's REST client (its shaded package)
HTTP5 = (f"{SHADED}org/apache/hc/client5/", f"{SHADED}org/apache/hc/core5/")
HTTP5_RELOCATION = "rule smfs.shaded.org.apache.hc.** org.apache.iceberg.shaded.org.apache.hc.@1\n"


def sdk_jar(cache: Path | None = None) -> Path:
    """Where the relocated SDK jar is (or will be) kept."""
    return (cache or cache_dir()) / JAR_NAME


def build(cache: Path | None = None) -> Path:
    """The relocated AWS SDK v2 jar, built on first use (idempotent)."""
    target = sdk_jar(cache)
    if target.is_file():
        return target
    if not JARJAR.is_file():
        raise _missing(str(JARJAR), "apt-get install libjarjar-java (make setup does)")
    target.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=target.parent) as tmp:
        wheel = _download(Path(tmp))
        classes, rest, out = Path(tmp, "in.jar"), Path(tmp, "rest.jar"), Path(tmp, "out.jar")
        _split(wheel, classes, rest)
        relocate(RELOCATION, classes, out)
        _append(rest, out)
        out.replace(target)  # atomic: a concurrent build finds a whole jar or none
    return target


def rest_http_jar(cache: Path | None = None) -> Path:
    """HttpComponents 5 relocated for Iceberg's REST catalog client, built once from the SDK
    jar (which :func:`build` makes first when it is missing); idempotent."""
    target = (cache or cache_dir()) / REST_HTTP_JAR
    if target.is_file():
        return target
    sdk = build(cache)
    with tempfile.TemporaryDirectory(dir=target.parent) as tmp:
        classes, out = Path(tmp, "in.jar"), Path(tmp, "out.jar")
        with zipfile.ZipFile(sdk) as jar, zipfile.ZipFile(classes, "w", zipfile.ZIP_DEFLATED) as o:
            for entry in jar.infolist():
                if entry.filename.startswith(HTTP5) and entry.filename.endswith(".class"):
                    o.writestr(entry.filename, jar.read(entry))
        relocate(HTTP5_RELOCATION, classes, out)
        out.replace(target)  # atomic: a concurrent build finds a whole jar or none
    return target


def _download(folder: Path) -> Path:
    """The pinned wheel, fetched by pip (no dependencies installed), its sha256 checked."""
    subprocess.run([sys.executable, "-m", "pip", "download", "--no-deps", "--quiet",
                    "--dest", str(folder), f"{PACKAGE}=={VERSION}"],
                   check=True, capture_output=True)  # fmt: skip
    wheel = folder / WHEEL
    digest = hashlib.sha256()
    with wheel.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    if digest.hexdigest() != WHEEL_SHA256:
        raise _missing(f"{WHEEL} with sha256 {WHEEL_SHA256} (got {digest.hexdigest()})",
                       "check the package index pip uses")  # fmt: skip
    return wheel


def _split(wheel: Path, classes: Path, rest: Path) -> None:
    """The SDK's classes (for jarjar) and the rest it needs as it is: its resources moved to
    their unshaded paths, reactive-streams unchanged."""
    with zipfile.ZipFile(wheel) as outer, outer.open(FAT_JAR) as inner_file:
        inner_path = classes.with_name("fat.jar")
        with inner_path.open("wb") as copy:
            shutil.copyfileobj(inner_file, copy)
    with zipfile.ZipFile(inner_path) as jar, \
            zipfile.ZipFile(classes, "w", zipfile.ZIP_DEFLATED) as out, \
            zipfile.ZipFile(rest, "w", zipfile.ZIP_DEFLATED) as other:  # fmt: skip
        for entry in jar.infolist():
            name = entry.filename
            if name.endswith("/") or not name.startswith(TAKE):
                continue
            if name.startswith("org/reactivestreams/"):
                other.writestr(name, jar.read(entry))
            elif name.endswith(".class"):
                out.writestr(name, jar.read(entry))
            elif name.startswith(f"{SHADED}software/amazon/"):
                other.writestr(name.removeprefix(SHADED), jar.read(entry))
    inner_path.unlink()


def _append(rest: Path, jar: Path) -> None:
    with zipfile.ZipFile(rest) as source, zipfile.ZipFile(jar, "a", zipfile.ZIP_DEFLATED) as out:
        names = set(out.namelist())
        for entry in source.infolist():
            if entry.filename not in names:
                out.writestr(entry.filename, source.read(entry))


if __name__ == "__main__":  # `python -m floe.runtime.spark.aws_sdk`: a build step of make setup
    print(build())
    print(rest_http_jar())
