"""The `hello` exchange that opens every connection, and the protocol version check."""

from __future__ import annotations

from remote_agent import protocol
from tfdash import __version__
from tfdash.errors import AgentError, ConnectionFailed, ProtocolMismatch, RequestTimeout
from tfdash.models import HostInfo
from tfdash.transport.rpc import RpcClient

HELLO_TIMEOUT_S = 20.0


def hello_params() -> dict[str, object]:
    """What tfdash says about itself in `hello`."""
    return {
        "protocol": protocol.PROTOCOL_VERSION,
        "client": {"name": "tfdash", "version": __version__},
    }


async def say_hello(rpc: RpcClient, host: str, *, timeout: float = HELLO_TIMEOUT_S) -> HostInfo:
    """Call `hello` and check the protocol version.

    Raises ProtocolMismatch (never worth retrying) or ConnectionFailed (worth retrying),
    each naming ``host``.
    """
    try:
        result = await rpc.call("hello", dict(hello_params()), timeout=timeout)
    except AgentError as exc:
        if exc.code == protocol.PROTOCOL_MISMATCH:
            raise ProtocolMismatch(f"{host}: {exc.message}") from exc
        raise ConnectionFailed(f"{host}: the agent refused hello: {exc}") from exc
    except RequestTimeout as exc:
        raise ConnectionFailed(f"{host}: {exc}") from exc
    except ConnectionFailed as exc:
        raise ConnectionFailed(f"cannot connect to {host}: {exc}") from exc
    if not isinstance(result, dict):
        raise ConnectionFailed(f"{host}: the agent answered hello with {result!r}")
    info = HostInfo.from_wire(result)
    if info.protocol_version != protocol.PROTOCOL_VERSION:
        newer = "tfdash" if info.protocol_version > protocol.PROTOCOL_VERSION else "the agent"
        raise ProtocolMismatch(
            f"{host}: the agent speaks protocol {info.protocol_version}, this tfdash speaks "
            f"{protocol.PROTOCOL_VERSION}: upgrade {newer}"
        )
    return info
