"""The twisted runtime server of LocalStack, listening only on the GATEWAY_LISTEN host (see __init__)."""

from __future__ import annotations

from typing import Optional

from localstack import config
from localstack.aws.serving.twisted import TLSMultiplexerFactory
from localstack.runtime.server.twisted import TwistedRuntimeServer
from rolo.gateway import Gateway
from rolo.serving.twisted import TwistedGateway
from twisted.internet import endpoints, reactor, ssl


class BoundTwistedRuntimeServer(TwistedRuntimeServer):
    """``TwistedRuntimeServer`` whose IPv4 endpoints listen on the configured interface, not on all."""

    def register(
        self,
        gateway: Gateway,
        listen: list[config.HostAndPort],
        ssl_creds: Optional[tuple[str, str]] = None,
    ) -> None:
        site = TwistedGateway(gateway)
        protocol_factory = site
        if ssl_creds:
            cert_file_name, key_file_name = ssl_creds
            context_factory = ssl.DefaultOpenSSLContextFactory(key_file_name, cert_file_name)
            context_factory.getContext().use_certificate_chain_file(cert_file_name)
            protocol_factory = TLSMultiplexerFactory(context_factory, False, site)
        for host_and_port in listen:
            endpoint_class = (
                endpoints.TCP6ServerEndpoint
                if config.is_ipv6_address(host_and_port.host)
                else endpoints.TCP4ServerEndpoint
            )
            endpoint_class(reactor, host_and_port.port, interface=host_and_port.host).listen(protocol_factory)
