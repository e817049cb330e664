"""The environment variables the infrastructure sets in a service's container.

One place answers it: the config rules reserve these names (a service's own
``environment`` may not use them) and the service stacks set them, so the two
never drift apart. Locally, compose sets the same names (``BACKEND_HOST=backend``),
so the app code is the same in both places.
"""

from __future__ import annotations

from dataclasses import dataclass

from infra.config.model import ServiceConfig

PORT = "PORT"
# A public service's host names (its load balancer's, its domain), comma-separated,
# so the app can refuse requests for any other Host.
ALLOWED_HOSTS = "ALLOWED_HOSTS"


def env_name(service: str) -> str:
    """The prefix of the variables a consumer gets for ``service``: my-cache -> MY_CACHE."""
    return service.upper().replace("-", "_")


@dataclass(frozen=True)
class PeerVariables:
    """The names under which a consumer finds one service it connects to."""

    host: str
    port: str
    password: str
    # "true" when the peer requires TLS (a managed engine).
    tls: str


def peer_variables(peer: str) -> PeerVariables:
    """``<PEER>_HOST``, ``<PEER>_PORT``, ``<PEER>_PASSWORD`` and ``<PEER>_TLS`` for ``peer``."""
    prefix = env_name(peer)
    return PeerVariables(f"{prefix}_HOST", f"{prefix}_PORT", f"{prefix}_PASSWORD", f"{prefix}_TLS")


@dataclass(frozen=True)
class Injected:
    """What service ``name`` gets: its own port and password, its public host names
    (when public), and each peer's names."""

    port: str | None
    own_password: str | None
    peers: dict[str, PeerVariables]
    allowed_hosts: str | None = None

    def names(self) -> frozenset[str]:
        """Every name reserved for the infrastructure in this service's container.

        A peer's password and TLS names are reserved even when that peer has no
        ``auth`` or is a container, so turning either on later never collides
        with a user's variable.
        """
        found = {name for name in (self.port, self.own_password) if name is not None}
        found |= {self.allowed_hosts} if self.allowed_hosts else set()
        for peer in self.peers.values():
            found |= {peer.host, peer.port, peer.password, peer.tls}
        return frozenset(found)


def injected(name: str, service: ServiceConfig) -> Injected:
    """The variables the infrastructure injects into service ``name`` (a worker,
    with no port, gets no ``PORT``)."""
    container = service.managed is None  # a managed engine gets no variables
    return Injected(
        port=PORT if service.port is not None and container else None,
        own_password=peer_variables(name).password if service.auth and container else None,
        peers={peer: peer_variables(peer) for peer in service.connects_to},
        allowed_hosts=ALLOWED_HOSTS if service.public is not None else None,
    )
