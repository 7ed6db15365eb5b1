"""LocalStack service plugin that serves the ``glue`` API on LocalStack's own port by forwarding each
request, unchanged, to a Glue-compatible service (``LOCALAWS_GLUE_URL``). See :mod:`.plugin`.

Cheap to import (no LocalStack): the launcher builds LocalStack's environment with
:func:`gateway_environment`.
"""
from __future__ import annotations

GLUE_URL_VARIABLE = "LOCALAWS_GLUE_URL"
PROVIDER_NAME = "localaws"  # the plugin's name: PROVIDER_OVERRIDE_GLUE selects it


def gateway_environment(glue_url: str) -> dict[str, str]:
    """The variables that make LocalStack serve Glue by forwarding to the service at ``glue_url``."""
    return {GLUE_URL_VARIABLE: glue_url, "PROVIDER_OVERRIDE_GLUE": PROVIDER_NAME}
