"""LocalStack's gateway server, bound to the addresses GATEWAY_LISTEN names.

LocalStack 2026.3.0's ``twisted`` runtime server (``localstack/runtime/server/twisted.py``) passes
the host of an IPv4 ``GATEWAY_LISTEN`` entry to nobody: it opens ``TCP4ServerEndpoint(reactor, port)``
(a ``# TODO: interface = host?`` in its source), i.e. every interface, so ``127.0.0.1:4566`` listens
on ``0.0.0.0:4566`` and anyone who can reach the machine can create and run Lambda code. This plugin
(entry point ``localstack.runtime.server: twisted-bound``, selected by ``GATEWAY_SERVER=twisted-bound``
in the launcher) is the same server with the interface passed on. The plugin class is cheap to import;
``load()`` imports twisted and LocalStack lazily.
"""

from __future__ import annotations

from typing import Any

from localstack.runtime.server.core import RuntimeServerPlugin

#: The GATEWAY_SERVER value that selects this server.
NAME = "twisted-bound"


class BoundTwistedRuntimeServerPlugin(RuntimeServerPlugin):
    name = NAME

    def load(self, *args: Any, **kwargs: Any) -> Any:
        from .server import BoundTwistedRuntimeServer

        return BoundTwistedRuntimeServer()
