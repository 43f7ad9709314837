"""Make sure nursery's pytest plugin is active for this test-suite.

An installed nursery registers the plugin through its ``pytest11`` entry point.
When the package is only importable (say, from a source checkout on
``PYTHONPATH``) nothing registers it, so load it from here instead; loading it
both ways would make pytest refuse the second registration.
"""

from __future__ import annotations

import os
from importlib.metadata import entry_points


def _autoloaded() -> bool:
    if os.environ.get("PYTEST_DISABLE_PLUGIN_AUTOLOAD"):
        return False
    return any(ep.name == "nursery" for ep in entry_points(group="pytest11"))


pytest_plugins = [] if _autoloaded() else ["nursery.testing._pytest_plugin"]
