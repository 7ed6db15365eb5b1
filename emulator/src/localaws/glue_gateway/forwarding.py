"""The ``glue`` service object LocalStack loads: a dispatch table that forwards every Glue operation."""
from __future__ import annotations

import logging

from localstack.aws.api import RequestContext, ServiceException
from localstack.aws.skeleton import Skeleton
from localstack.aws.spec import load_service
from localstack.http import Response
from localstack.http.proxy import Proxy
from localstack.services.plugins import Service

LOG = logging.getLogger(__name__)

# Hop-by-hop and length headers: the gateway sets its own for the body it sends.
_HOP_BY_HOP = {"connection", "keep-alive", "transfer-encoding", "content-length", "content-encoding"}


class GlueServiceUnavailable(ServiceException):
    """The Glue-compatible service behind LocalStack did not answer (AWS's code for a down backend)."""

    code = "ServiceUnavailableException"
    status_code = 503
    sender_fault = False


class GlueForwardingProvider:
    """The provider object LocalStack keeps for the service (lifecycle hooks look it up by name)."""

    service = "glue"

    def __init__(self, glue_url: str):
        self.glue_url = glue_url.rstrip("/")
        # preserve_host: the Glue service sees the Host the client used, as behind any AWS endpoint.
        self._proxy = Proxy(self.glue_url, preserve_host=True)

    def forward(self, context: RequestContext, _request) -> Response:
        try:
            answer = self._proxy.forward(context.request)
        except OSError as error:  # connection refused/reset: the Glue service is not running
            LOG.warning("Glue request %s could not reach %s: %s", context.operation.name, self.glue_url, error)
            raise GlueServiceUnavailable(
                f"The Glue service at {self.glue_url} is not reachable ({error}). "
                "Start it (`localaws up` starts LocalStack and Glue together) and retry."
            ) from error
        # The Skeleton passes through only its own Response type; copy status, headers and body.
        headers = [(k, v) for k, v in answer.headers.items() if k.lower() not in _HOP_BY_HOP]
        return Response(response=answer.get_data(), status=answer.status_code, headers=headers)


def create_glue_service(glue_url: str) -> Service:
    provider = GlueForwardingProvider(glue_url)
    model = load_service("glue")
    # Skeleton returns a handler's Response as is, so the Glue service's own answer reaches the client.
    table = {operation: provider.forward for operation in model.operation_names}
    service = Service(name="glue", skeleton=Skeleton(model, table))
    service._provider = provider
    return service
