"""HTTP edge of the Glue-compatible service (WSGI, werkzeug).

Routes: ``POST /`` with ``X-Amz-Target: AWSGlue.<Operation>`` (the AWS JSON 1.1 protocol) and
``GET /health``. Errors become AWS's shape: HTTP 400 and ``{"__type": <code>, "message": ...}``.
"""

from __future__ import annotations

import json
import logging
import re
import shutil
import time
from typing import Any

from werkzeug.exceptions import HTTPException
from werkzeug.routing import Map, Rule
from werkzeug.wrappers import Request, Response

from .backend import GlueBackend
from .config import DEFAULT_REGION, Settings
from .exceptions import GlueError, InternalServiceException
from .events import JobStateEvents
from .responses import GlueResponses
from .runner import JobRunner

log = logging.getLogger(__name__)

AMZ_JSON = "application/x-amz-json-1.1"
# SigV4: "Credential=<key>/<date>/<region>/<service>/aws4_request"; jobs run in the caller's region.
_CREDENTIAL_SCOPE = re.compile(r"Credential=[^/]+/\d{8}/([a-z0-9-]+)/")


class GlueApp:
    """WSGI application: routes -> responses -> models, plus the runner that executes job runs."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.started = time.time()
        # Jobs call back on loopback even when the service listens on every interface (a container).
        host = "127.0.0.1" if settings.host in ("0.0.0.0", "::") else settings.host  # nosec B104 - a comparison, not a bind
        self.runner = JobRunner(settings, self_endpoint=f"http://{host}:{settings.port}")
        self.events = JobStateEvents(lambda region: self.runner.client("events", region))
        self.backend = GlueBackend(
            settings.state_dir, self.runner.start, self.runner.request_stop, self.events.publish
        )
        self.runner.backend = self.backend
        self.runner.reap_orphans()
        if settings.fresh_start:
            # One emulation, one account: the AWS emulation beside this service started empty.
            self.backend.forget_everything()
            shutil.rmtree(settings.state_dir / "runs", ignore_errors=True)  # the runner's run directories
            log.info("fresh start: no jobs, no runs (LOCALAWS_GLUE_FRESH_START=1)")
        self.responses = GlueResponses(self.backend)
        self.url_map = Map(
            [
                Rule("/", methods=["POST"], endpoint="api"),
                Rule("/health", methods=["GET"], endpoint="health"),
            ]
        )

    def __call__(self, environ, start_response):
        return self.wsgi(environ, start_response)

    @Request.application
    def wsgi(self, request: Request) -> Response:
        try:
            endpoint, _ = self.url_map.bind_to_environ(request.environ).match()
        except HTTPException as exc:
            return exc
        return self.health() if endpoint == "health" else self.api(request)

    def api(self, request: Request) -> Response:
        target = request.headers.get("X-Amz-Target", "")
        match = _CREDENTIAL_SCOPE.search(request.headers.get("Authorization", ""))
        region = match.group(1) if match else DEFAULT_REGION
        try:
            result = self.responses.dispatch(target, request.get_data(), region)
        except GlueError as exc:
            return _error(exc)
        except Exception as exc:
            log.exception("%s failed", target)
            return _error(InternalServiceException(f"{type(exc).__name__}: {exc}"))
        return _json(result)

    def health(self) -> Response:
        return _json(
            {
                "service": "glue",
                "status": "running",
                "uptime_seconds": round(time.time() - self.started, 1),
                "runs_in_flight": self.runner.in_flight(),
                "aws_endpoint": self.settings.aws_endpoint,
                "python_interpreters": dict(self.settings.python_interpreters),
                "operations": self.responses.operations,
            },
            content_type="application/json",
        )


def _json(body: dict[str, Any], status: int = 200, content_type: str = AMZ_JSON) -> Response:
    return Response(json.dumps(body), status=status, content_type=content_type)


def _error(exc: GlueError) -> Response:
    response = _json({"__type": exc.code, "message": exc.message}, status=exc.status)
    response.headers["x-amzn-ErrorType"] = exc.code
    return response
