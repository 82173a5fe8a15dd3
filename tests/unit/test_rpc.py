"""RpcClient against an in-test peer over a pair of os.pipe()s (no agent involved)."""

from __future__ import annotations

import asyncio
import json
import logging
import os
from collections.abc import AsyncIterator
from typing import Any

import pytest

from remote_agent import protocol
from tfdash.errors import AgentError, ConnectionFailed, RequestTimeout
from tfdash.transport.rpc import RpcClient

WAIT_S = 10.0  # generous: only ever reached when a test is about to fail


async def pipe_streams() -> tuple[asyncio.StreamReader, asyncio.StreamWriter]:
    """A StreamReader and a StreamWriter joined by an os.pipe()."""
    read_fd, write_fd = os.pipe()
    loop = asyncio.get_running_loop()
    reader = asyncio.StreamReader(limit=64 * 1024 * 1024)
    await loop.connect_read_pipe(
        lambda: asyncio.StreamReaderProtocol(reader), os.fdopen(read_fd, "rb", 0)
    )
    transport, flow = await loop.connect_write_pipe(
        asyncio.streams.FlowControlMixin, os.fdopen(write_fd, "wb", 0)
    )
    return reader, asyncio.StreamWriter(transport, flow, None, loop)


class PipeChannel:
    """The client's end: a Channel over pipes, with a scripted stderr tail."""

    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.reader = reader
        self.writer = writer
        self.stderr = ""
        self.closed = False

    async def close(self) -> None:
        self.closed = True
        self.writer.close()

    def describe(self) -> str:
        return "test peer"

    def stderr_tail(self) -> str:
        return self.stderr


class Peer:
    """The agent's end, driven by the test."""

    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.reader = reader
        self.writer = writer

    async def receive(self) -> dict[str, Any]:
        line = await asyncio.wait_for(self.reader.readline(), WAIT_S)
        assert line, "the client closed its side"
        message: dict[str, Any] = json.loads(line)
        return message

    async def send_raw(self, data: bytes) -> None:
        self.writer.write(data)
        await self.writer.drain()

    async def send(self, message: dict[str, Any]) -> None:
        await self.send_raw(json.dumps(message).encode() + b"\n")

    async def reply(self, request_id: int, result: Any) -> None:
        await self.send({"jsonrpc": "2.0", "id": request_id, "result": result})


@pytest.fixture
async def link() -> AsyncIterator[tuple[RpcClient, Peer, PipeChannel]]:
    client_reader, peer_writer = await pipe_streams()
    peer_reader, client_writer = await pipe_streams()
    channel = PipeChannel(client_reader, client_writer)
    client = RpcClient(channel)
    client.start()
    yield client, Peer(peer_reader, peer_writer), channel
    await client.close()
    peer_writer.close()


async def test_request_ids_increase_and_out_of_order_replies_match(link: Any) -> None:
    client, peer, _ = link
    first = asyncio.create_task(client.call("jobs.get", {"id": "a"}))
    second = asyncio.create_task(client.call("jobs.get", {"id": "b"}))
    requests = [await peer.receive(), await peer.receive()]
    by_param = {request["params"]["id"]: request for request in requests}
    assert by_param["a"]["id"] < by_param["b"]["id"]
    assert all(isinstance(request["id"], int) for request in requests)
    assert by_param["a"]["method"] == "jobs.get"
    assert by_param["a"]["jsonrpc"] == "2.0"
    await peer.reply(by_param["b"]["id"], "result b")
    await peer.reply(by_param["a"]["id"], "result a")
    assert await asyncio.wait_for(first, WAIT_S) == "result a"
    assert await asyncio.wait_for(second, WAIT_S) == "result b"


async def test_notifications_reach_their_handlers(link: Any) -> None:
    client, peer, _ = link
    received: asyncio.Queue[dict[str, Any]] = asyncio.Queue()
    client.on_notification("stream.data", received.put_nowait)
    await peer.send({"jsonrpc": "2.0", "method": "other", "params": {"x": 0}})
    await peer.send({"jsonrpc": "2.0", "method": "stream.data", "params": {"sub": 3}})
    assert await asyncio.wait_for(received.get(), WAIT_S) == {"sub": 3}
    assert received.empty()


async def test_an_error_reply_raises_agent_error_with_its_fields(link: Any) -> None:
    client, peer, _ = link
    call = asyncio.create_task(client.call("jobs.remove", {"id": "j1"}))
    request = await peer.receive()
    error = {"code": protocol.CONFLICT, "message": "job j1 is running", "data": {"id": "j1"}}
    await peer.send({"jsonrpc": "2.0", "id": request["id"], "error": error})
    with pytest.raises(AgentError) as caught:
        await asyncio.wait_for(call, WAIT_S)
    assert caught.value.code == protocol.CONFLICT
    assert caught.value.message == "job j1 is running"
    assert caught.value.data == {"id": "j1"}
    assert caught.value.title == "Conflict"
    assert caught.value.exit_code == 1


async def test_invalid_params_is_a_usage_error_for_the_cli(link: Any) -> None:
    client, peer, _ = link
    call = asyncio.create_task(client.call("jobs.launch", {"name": "a/b"}))
    request = await peer.receive()
    error = {"code": protocol.INVALID_PARAMS, "message": "name may not contain /"}
    await peer.send({"jsonrpc": "2.0", "id": request["id"], "error": error})
    with pytest.raises(AgentError) as caught:
        await asyncio.wait_for(call, WAIT_S)
    assert caught.value.exit_code == 2
    assert caught.value.data == {}


async def test_a_timeout_raises_request_timeout_and_sends_cancel(link: Any) -> None:
    client, peer, _ = link
    with pytest.raises(RequestTimeout) as caught:
        await client.call("logs.read", {"id": "j"}, timeout=0.2)
    assert "logs.read" in caught.value.message
    assert "0.2 s" in caught.value.message
    request = await peer.receive()
    cancel = await peer.receive()
    assert cancel["method"] == protocol.CANCEL_METHOD
    assert cancel["params"] == {"id": request["id"]}
    assert "id" not in cancel


async def test_cancelling_the_caller_sends_cancel(link: Any) -> None:
    client, peer, _ = link
    call = asyncio.create_task(client.call("logs.read", {"id": "j", "wait_s": 60}, timeout=None))
    request = await peer.receive()
    call.cancel()
    with pytest.raises(asyncio.CancelledError):
        await call
    cancel = await peer.receive()
    assert cancel == {"jsonrpc": "2.0", "method": "rpc.cancel", "params": {"id": request["id"]}}
    # A late reply to the cancelled request is ignored and the link keeps working.
    await peer.reply(request["id"], {"late": True})
    second = asyncio.create_task(client.call("ping"))
    await peer.reply((await peer.receive())["id"], {"time": 1.0})
    assert await asyncio.wait_for(second, WAIT_S) == {"time": 1.0}


async def test_link_closed_fails_pending_calls_with_the_stderr_tail(link: Any) -> None:
    client, peer, channel = link
    channel.stderr = "Traceback ...\nMemoryError"
    calls = [asyncio.create_task(client.call("jobs.list")) for _ in range(3)]
    for _ in calls:
        await peer.receive()
    peer.writer.close()
    for call in calls:
        with pytest.raises(ConnectionFailed) as caught:
            await asyncio.wait_for(call, WAIT_S)
        assert "MemoryError" in caught.value.message
        assert "test peer" in caught.value.message
    await asyncio.wait_for(client.wait_closed(), WAIT_S)
    assert client.closed
    assert channel.closed
    with pytest.raises(ConnectionFailed):
        await client.call("ping")


async def test_garbage_lines_are_counted_and_skipped(
    link: Any, caplog: pytest.LogCaptureFixture
) -> None:
    client, peer, _ = link
    call = asyncio.create_task(client.call("ping"))
    request = await peer.receive()
    with caplog.at_level(logging.WARNING, logger="tfdash.transport.rpc"):
        await peer.send_raw(b'this is not json\n\n   \n[1, 2]\n{"jsonrpc": "2.0"}\n')
        await peer.reply(request["id"], "pong")
        assert await asyncio.wait_for(call, WAIT_S) == "pong"
    assert client.bad_lines == 3
    assert sum("ignoring a line" in record.message for record in caplog.records) == 3
    assert not client.closed


async def test_replies_split_across_writes_and_joined_in_one_write(link: Any) -> None:
    client, peer, _ = link
    calls = [asyncio.create_task(client.call("jobs.get", {"id": str(n)})) for n in range(2)]
    first, second = await peer.receive(), await peer.receive()
    lines = b"".join(
        json.dumps({"jsonrpc": "2.0", "id": request["id"], "result": n}).encode() + b"\n"
        for n, request in enumerate((first, second))
    )
    await peer.send_raw(lines[:7])
    await asyncio.sleep(0.05)
    await peer.send_raw(lines[7:])
    results = await asyncio.wait_for(asyncio.gather(*calls), WAIT_S)
    assert sorted(results) == [0, 1]


async def test_a_five_megabyte_reply_line_arrives_whole(link: Any) -> None:
    client, peer, _ = link
    call = asyncio.create_task(client.call("logs.read", {"id": "big"}))
    request = await peer.receive()
    text = "".join(f"line {n:07d} " + "x" * 80 + "\n" for n in range(55_000))
    assert len(text) > 5_000_000
    writer = asyncio.create_task(peer.reply(request["id"], {"text": text}))
    result = await asyncio.wait_for(call, WAIT_S * 3)
    await writer
    assert result["text"] == text


async def test_notify_sends_a_line_without_id(link: Any) -> None:
    client, peer, _ = link
    await client.notify("unsubscribe", {"sub": 4})
    assert await peer.receive() == {"jsonrpc": "2.0", "method": "unsubscribe", "params": {"sub": 4}}


async def test_close_fails_pending_calls_and_later_calls(link: Any) -> None:
    client, peer, channel = link
    call = asyncio.create_task(client.call("jobs.list"))
    await peer.receive()
    await client.close()
    with pytest.raises(ConnectionFailed, match="closed the connection"):
        await asyncio.wait_for(call, WAIT_S)
    assert channel.closed
    with pytest.raises(ConnectionFailed):
        await client.call("jobs.list")
