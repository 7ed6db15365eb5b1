"""plux entry point ``glue:localaws`` in the ``localstack.aws.provider`` namespace.

Free LocalStack has no Glue provider and answers every Glue request with "not included in your
license plan". This provider takes the ``glue`` service: LocalStack's gateway parses the request as
usual (so its handler chain — CORS, request ids, service routing — stays in front), then every
operation of the botocore ``glue`` model is forwarded as the original HTTP request to the
Glue-compatible service at ``LOCALAWS_GLUE_URL``, and its HTTP response goes back to the client
byte for byte. The Glue service stays the one implementation; this is only a route.

The plugin is generic: it knows nothing about any project and loads only when ``LOCALAWS_GLUE_URL``
is set (``PROVIDER_OVERRIDE_GLUE=localaws`` selects it; the launcher sets both). Importing this
module must stay cheap: LocalStack imports every plugin's entry point to list them.
"""
from __future__ import annotations

import os

from localstack.services.plugins import aws_provider

from localaws.glue_gateway import GLUE_URL_VARIABLE, PROVIDER_NAME


def _configured() -> bool:
    return bool(os.environ.get(GLUE_URL_VARIABLE))


@aws_provider(api="glue", name=PROVIDER_NAME, should_load=_configured)
def glue():
    from localaws.glue_gateway.forwarding import create_glue_service

    return create_glue_service(os.environ[GLUE_URL_VARIABLE])
