"""The protobuf classes for event files: tensorboard's own, and a lean view of the same bytes.

tensorboard's ``Event`` (imported on first use, never TensorFlow) is the reference. Parsing a
million scalar events with it spends most of the time building Python wrappers for nested
messages; the lean ``Event`` declared here reads the same wire format but keeps only wall
time, step and each summary value's tag, ``simple_value`` and raw ``tensor`` bytes (a
message field may be read as bytes: both are length-delimited), and skips everything else.
"""

from __future__ import annotations

import functools
from typing import Any

from .errors import Unavailable

_PACKAGE = "tfdash_lean_event"


def tensorboard_classes() -> tuple[Any, Any, Any]:
    """tensorboard's ``Event`` and ``TensorProto`` and protobuf's ``DecodeError``, or -32003."""
    try:
        from google.protobuf.message import DecodeError  # type: ignore[import-untyped]
        from tensorboard.compat.proto import (  # type: ignore[import-untyped]
            event_pb2,
            tensor_pb2,
        )
    except ImportError as exc:
        raise Unavailable(
            "reading TensorBoard scalars needs the tensorboard package in the agent's Python "
            f"({exc}): every TensorFlow image has it; elsewhere run `pip install tensorboard`",
            {"missing": "tensorboard"},
        ) from exc
    return event_pb2.Event, tensor_pb2.TensorProto, DecodeError


@functools.lru_cache(maxsize=None)
def lean_event_class() -> Any:
    """A message class for ``Event`` bytes with only the fields scalars need."""
    from google.protobuf import (  # type: ignore[import-untyped]
        descriptor_pb2,
        descriptor_pool,
        message_factory,
    )

    field = descriptor_pb2.FieldDescriptorProto
    file = descriptor_pb2.FileDescriptorProto(
        name=_PACKAGE + ".proto", package=_PACKAGE, syntax="proto3"
    )

    def message(name: str, fields: list[tuple[str, int, int, int, str]]) -> None:
        proto = file.message_type.add(name=name)
        for field_name, number, kind, label, type_name in fields:
            added = proto.field.add(name=field_name, number=number, type=kind, label=label)
            if type_name:
                added.type_name = f".{_PACKAGE}.{type_name}"

    one, many = field.LABEL_OPTIONAL, field.LABEL_REPEATED
    message(
        "Value",
        [
            ("tag", 1, field.TYPE_STRING, one, ""),
            ("simple_value", 2, field.TYPE_FLOAT, one, ""),
            ("tensor", 8, field.TYPE_BYTES, one, ""),
        ],
    )
    message("Summary", [("value", 1, field.TYPE_MESSAGE, many, "Value")])
    message(
        "Event",
        [
            ("wall_time", 1, field.TYPE_DOUBLE, one, ""),
            ("step", 2, field.TYPE_INT64, one, ""),
            ("summary", 5, field.TYPE_MESSAGE, one, "Summary"),
        ],
    )
    pool = descriptor_pool.DescriptorPool()
    pool.AddSerializedFile(file.SerializeToString())
    descriptor = pool.FindMessageTypeByName(_PACKAGE + ".Event")
    get_class = getattr(message_factory, "GetMessageClass", None)
    if get_class is not None:
        return get_class(descriptor)
    return message_factory.MessageFactory(pool).GetPrototype(descriptor)  # protobuf < 4.21
