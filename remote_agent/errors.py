"""Errors the agent answers with: each carries a JSON-RPC code and a message a person can act on."""

from __future__ import annotations

from typing import Any

from . import protocol


class AgentError(Exception):
    """An error reply: ``code``, one-line ``message``, machine-readable ``data``."""

    code = protocol.INTERNAL_ERROR

    def __init__(self, message: str, data: dict[str, Any] | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.data = data or {}

    def to_wire(self) -> dict[str, Any]:
        error: dict[str, Any] = {"code": self.code, "message": self.message}
        if self.data:
            error["data"] = self.data
        return error


class ParseError(AgentError):
    code = protocol.PARSE_ERROR


class InvalidRequest(AgentError):
    code = protocol.INVALID_REQUEST


class MethodNotFound(AgentError):
    code = protocol.METHOD_NOT_FOUND


class InvalidParams(AgentError):
    code = protocol.INVALID_PARAMS

    def __init__(self, message: str, field: str | None = None) -> None:
        super().__init__(message, {"field": field} if field else None)
        self.field = field


class RequestCancelled(AgentError):
    code = protocol.REQUEST_CANCELLED


class NotFound(AgentError):
    code = protocol.NOT_FOUND


class Conflict(AgentError):
    code = protocol.CONFLICT


class Unavailable(AgentError):
    code = protocol.UNAVAILABLE


class LaunchFailed(AgentError):
    code = protocol.LAUNCH_FAILED


class ProtocolMismatch(AgentError):
    code = protocol.PROTOCOL_MISMATCH


class InternalError(AgentError):
    code = protocol.INTERNAL_ERROR
