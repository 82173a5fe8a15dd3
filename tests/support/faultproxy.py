"""A loopback TCP proxy that can reset its connections or silently stop forwarding.

The two ways links die in real life: a reset (the peer or a middlebox says so at once)
and a blackhole (a laptop lid closes, Wi-Fi drops: nothing arrives, nothing is said).
The proxy runs its own event loop in a thread, so sync and async tests can both use it.
"""

from __future__ import annotations

import asyncio
import contextlib
import socket
import struct
import threading
from concurrent.futures import Future


class FaultProxy:
    """Forwards 127.0.0.1:<port> to ``target``; ``abort()``, ``freeze()``, ``thaw()``."""

    def __init__(self, target_host: str, target_port: int) -> None:
        self.target = (target_host, target_port)
        self.port = 0
        self.connections = 0
        self._frozen = False
        self._pairs: list[tuple[asyncio.StreamWriter, asyncio.StreamWriter]] = []
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._loop.run_forever, daemon=True)
        self._server: asyncio.Server | None = None
        self._thaw_event: asyncio.Event | None = None

    def start(self) -> FaultProxy:
        self._thread.start()
        self._run(self._start()).result(10)
        return self

    def _run(self, coro: object) -> Future[object]:
        return asyncio.run_coroutine_threadsafe(coro, self._loop)  # type: ignore[arg-type]

    async def _start(self) -> None:
        self._thaw_event = asyncio.Event()
        self._thaw_event.set()
        self._server = await asyncio.start_server(self._accept, "127.0.0.1", 0)
        self.port = self._server.sockets[0].getsockname()[1]

    async def _accept(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        if self._frozen:
            # A blackholed link accepts nothing either: hold the socket, say nothing.
            assert self._thaw_event is not None
            await self._thaw_event.wait()
        try:
            up_reader, up_writer = await asyncio.open_connection(*self.target)
        except OSError:
            writer.close()
            return
        self.connections += 1
        self._pairs.append((writer, up_writer))
        await asyncio.gather(
            self._pipe(reader, up_writer), self._pipe(up_reader, writer), return_exceptions=True
        )
        for w in (writer, up_writer):
            w.close()

    async def _pipe(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        assert self._thaw_event is not None
        while True:
            data = await reader.read(65536)
            if not data:
                writer.close()
                return
            # While frozen, bytes are held back (a blackhole), never dropped or reordered.
            await self._thaw_event.wait()
            writer.write(data)
            await writer.drain()

    def abort(self) -> None:
        """Reset every open connection (RST), as a crashed middlebox would."""

        async def do() -> None:
            for pair in self._pairs:
                for w in pair:
                    sock = w.get_extra_info("socket")
                    if sock is not None:
                        with contextlib.suppress(OSError):
                            sock.setsockopt(
                                socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0)
                            )
                    w.transport.abort()
            self._pairs.clear()

        self._run(do()).result(10)

    def freeze(self) -> None:
        """Stop forwarding in both directions and accept no new connection: a blackhole."""

        async def do() -> None:
            self._frozen = True
            assert self._thaw_event is not None
            self._thaw_event.clear()

        self._run(do()).result(10)

    def thaw(self, drop: bool = True) -> None:
        """End a freeze; with ``drop`` the connections held during it are reset first."""
        if drop:
            self.abort()

        async def do() -> None:
            self._frozen = False
            assert self._thaw_event is not None
            self._thaw_event.set()

        self._run(do()).result(10)

    def close(self) -> None:
        async def do() -> None:
            if self._server is not None:
                self._server.close()
            for pair in self._pairs:
                for w in pair:
                    w.transport.abort()
            # Connections held by a freeze wait in _accept: end them too.
            others = [t for t in asyncio.all_tasks() if t is not asyncio.current_task()]
            for task in others:
                task.cancel()
            await asyncio.gather(*others, return_exceptions=True)

        with contextlib.suppress(OSError, TimeoutError, RuntimeError):
            self._run(do()).result(10)
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(5)
