"""Wire constants shared by the agent and the client: versions, error codes, names.

The only module of ``remote_agent`` that ``tfdash`` imports. docs/protocol.md is the
reference for every method; keep both in step.
"""

from __future__ import annotations

# Bumped on any incompatible change of a method, its params or its result.
PROTOCOL_VERSION = 1

JSONRPC = "2.0"

# Longest request line the agent reads; a longer one is discarded with a parse error.
MAX_LINE_BYTES = 16 * 1024 * 1024

# JSON-RPC 2.0 standard codes.
PARSE_ERROR = -32700
INVALID_REQUEST = -32600
METHOD_NOT_FOUND = -32601
INVALID_PARAMS = -32602
INTERNAL_ERROR = -32603
# Same code as LSP's RequestCancelled.
REQUEST_CANCELLED = -32800

# Application codes.
NOT_FOUND = -32001
CONFLICT = -32002
UNAVAILABLE = -32003
LAUNCH_FAILED = -32004
PROTOCOL_MISMATCH = -32010

ERROR_NAMES = {
    PARSE_ERROR: "parse error",
    INVALID_REQUEST: "invalid request",
    METHOD_NOT_FOUND: "method not found",
    INVALID_PARAMS: "invalid params",
    INTERNAL_ERROR: "internal error",
    REQUEST_CANCELLED: "request cancelled",
    NOT_FOUND: "not found",
    CONFLICT: "conflict",
    UNAVAILABLE: "unavailable",
    LAUNCH_FAILED: "launch failed",
    PROTOCOL_MISMATCH: "protocol mismatch",
}

# Notification the client sends to cancel one of its requests: params {"id": <request id>}.
CANCEL_METHOD = "rpc.cancel"

# Job states. "starting" lasts from launch until the supervisor reports the command's pid.
STATE_STARTING = "starting"
STATE_RUNNING = "running"
STATE_SUCCEEDED = "succeeded"
STATE_FAILED = "failed"
STATE_STOPPED = "stopped"
STATE_LOST = "lost"
ACTIVE_STATES = (STATE_STARTING, STATE_RUNNING)
FINAL_STATES = (STATE_SUCCEEDED, STATE_FAILED, STATE_STOPPED, STATE_LOST)

MODE_TMUX = "tmux"
MODE_NOHUP = "nohup"
MODE_AUTO = "auto"
LAUNCH_MODES = (MODE_TMUX, MODE_NOHUP, MODE_AUTO)

# Prefix of the tmux session a tmux-mode job runs in: "tfdash-<job id>".
TMUX_SESSION_PREFIX = "tfdash-"

MAX_NAME_LENGTH = 128

DEFAULT_LOG_MAX_BYTES = 64 * 1024 * 1024
DEFAULT_LOG_BACKUPS = 5
DEFAULT_STOP_GRACE_S = 10.0
