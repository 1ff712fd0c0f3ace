"""The Dagster code location of one product in a Kubernetes pod.

The chart's code servers run ``dagster code-server start -m floe.app.k8s_location``, and so
do the run pods the K8sRunLauncher starts from them. Dagster imports this module and reads
``defs``; the paths come from the pod's environment (charts/floe-platform):

* ``FLOE_COMPILED_DIR`` — compiled_artifacts.json and profiles.yml (the ConfigMap that
  ``floe k8s generate`` writes), default ``/etc/floe/compiled``;
* ``FLOE_PRODUCT_DIR`` — the product's dbt project in the image, default ``/opt/floe/product``;
* ``FLOE_MANIFEST`` — the platform manifest, default ``/opt/floe/manifest.yaml``.
"""

from __future__ import annotations

import os
from pathlib import Path

from floe.app.location import load_location

COMPILED_DIR = "/etc/floe/compiled"
PRODUCT_DIR = "/opt/floe/product"
MANIFEST = "/opt/floe/manifest.yaml"

defs = load_location(
    compiled_dir=Path(os.environ.get("FLOE_COMPILED_DIR", COMPILED_DIR)),
    product_dir=Path(os.environ.get("FLOE_PRODUCT_DIR", PRODUCT_DIR)),
    manifest=Path(os.environ.get("FLOE_MANIFEST", MANIFEST)),
)
