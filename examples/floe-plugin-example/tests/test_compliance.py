"""The plugin passes floe's compliance kit (run with the package installed)."""

from floe.plugins.testing import PluginCompliance
from floe_plugin_example.alerts import JsonlAlertChannel


class TestJsonlAlertChannel(PluginCompliance):
    """The seven checks of floe.plugins.testing against the jsonl alert channel."""

    plugin_class = JsonlAlertChannel
    config = {"path": "/tmp/floe-plugin-example/alerts.jsonl"}
