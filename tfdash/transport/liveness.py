"""Liveness of one link: an application ping every few seconds until the link is dead.

An SSH keepalive only proves the TCP path; the ping proves the agent still answers.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable

from tfdash.transport.rpc import RpcClient


async def watch_link(rpc: RpcClient, interval: float, on_answer: Callable[[], None]) -> str:
    """Ping every ``interval`` s (timeout 2 x interval) until a ping fails or the link closes.

    Calls ``on_answer`` after every answered ping; returns why the link is considered dead.
    Does not close ``rpc``: the caller decides what to do with a dead link.
    """
    pinger = asyncio.create_task(ping_forever(rpc, interval, on_answer), name="ping")
    closed = asyncio.create_task(rpc.wait_closed(), name="closed")
    try:
        await asyncio.wait([pinger, closed], return_when=asyncio.FIRST_COMPLETED)
    finally:
        pinger.cancel()
        closed.cancel()
        await asyncio.wait([pinger, closed])
    if rpc.close_reason is not None:
        return rpc.close_reason
    if not pinger.cancelled() and pinger.exception() is not None:
        return f"the agent stopped answering pings: {pinger.exception()}"
    return "the connection ended"


async def ping_forever(rpc: RpcClient, interval: float, on_answer: Callable[[], None]) -> None:
    """Ping until a ping raises (RequestTimeout, ConnectionFailed, AgentError)."""
    while True:
        await asyncio.sleep(interval)
        await rpc.call("ping", timeout=2 * interval)
        on_answer()
