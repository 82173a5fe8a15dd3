"""Scalar points out of TensorBoard ``Event`` records: v1 ``simple_value`` and v2 tensor scalars.

A tag's kind is decided once, from its first value parsed with tensorboard's own ``Event``, as
TensorBoard does: ``simple_value``; a tensor whose plugin is ``scalars``; or a rank-0 numeric
tensor with no plugin. Other tags (histograms, images, text) are skipped. Later records are
read through the lean view (eventproto): a tensor whose bytes are the tag's first tensor's
bytes but for the value is unpacked directly, any other is parsed as a ``TensorProto``.
"""

from __future__ import annotations

import struct
from array import array
from typing import Any, Iterable

from .eventproto import lean_event_class, tensorboard_classes

# TensorFlow DataType → (struct format of one element in tensor_content, typed field).
_DTYPES = {
    1: ("<f", "float_val"),  # DT_FLOAT
    2: ("<d", "double_val"),  # DT_DOUBLE
    3: ("<i", "int_val"),  # DT_INT32
    4: ("<B", "int_val"),  # DT_UINT8
    5: ("<h", "int_val"),  # DT_INT16
    6: ("<b", "int_val"),  # DT_INT8
    9: ("<q", "int64_val"),  # DT_INT64
    14: ("<H", "half_val"),  # DT_BFLOAT16: the high 16 bits of a float32
    17: ("<H", "int_val"),  # DT_UINT16
    19: ("<e", "half_val"),  # DT_HALF
    22: ("<I", "uint32_val"),  # DT_UINT32
    23: ("<Q", "uint64_val"),  # DT_UINT64
}
_BFLOAT16 = 14
_SCALAR_PLUGIN = "scalars"
_SKIP = 0
_SIMPLE = 1
_TENSOR = 2


def _half(bits: int, dtype: int) -> float:
    if dtype == _BFLOAT16:
        return float(struct.unpack("<f", struct.pack("<I", (bits & 0xFFFF) << 16))[0])
    return float(struct.unpack("<e", struct.pack("<H", bits & 0xFFFF))[0])


def tensor_scalar(tensor: Any) -> float | None:
    """The value of a rank-0 numeric ``TensorProto``, or None if it is not one."""
    if len(tensor.tensor_shape.dim):
        return None
    spec = _DTYPES.get(tensor.dtype)
    if spec is None:
        return None
    fmt, field = spec
    content = tensor.tensor_content
    if content:
        if len(content) != struct.calcsize(fmt):
            return None
        number = struct.unpack(fmt, content)[0]
        return _half(number, _BFLOAT16) if tensor.dtype == _BFLOAT16 else float(number)
    values = getattr(tensor, field)
    if len(values) != 1:
        return None
    return _half(values[0], tensor.dtype) if field == "half_val" else float(values[0])


class Columns:
    """New points of one tag, column-wise (arrays hold a million points in 24 MB)."""

    __slots__ = ("steps", "values", "walls")

    def __init__(self) -> None:
        self.steps = array("q")
        self.walls = array("d")
        self.values = array("d")

    def __len__(self) -> int:
        return len(self.steps)


class _Tag:
    """A tag's kind and, for tensors, the bytes its value follows and how to unpack it."""

    __slots__ = ("columns", "kind", "length", "prefix", "unpack_from")

    def __init__(self, kind: int, tensor: Any = None) -> None:
        self.kind = kind
        self.columns: Columns | None = None  # this decode's new points
        self.prefix = b""
        self.length = -1  # matches no tensor's bytes: every value takes the slow path
        self.unpack_from = struct.Struct("<f").unpack_from
        spec = _DTYPES.get(tensor.dtype) if tensor is not None else None
        if spec is None or tensor.dtype == _BFLOAT16 or spec[1] == "half_val":
            return
        # The value is the last bytes when it is the tensor's last field and fixed-size.
        if tensor.tensor_content or spec[1] in ("float_val", "double_val"):
            raw = tensor.SerializeToString()
            size = struct.calcsize(spec[0])
            self.unpack_from = struct.Struct(spec[0]).unpack_from
            self.prefix = raw[:-size]
            self.length = len(raw)


class ScalarDecoder:
    """Decodes record payloads into per-tag columns; counts records protobuf cannot parse."""

    def __init__(self) -> None:
        self.event_class, self.tensor_class, self.decode_error = tensorboard_classes()
        self.lean_class = lean_event_class()
        self.tags: dict[str, _Tag] = {}
        self.bad_records = 0

    def _classify(self, data: bytes, tag: str) -> _Tag | None:
        """The kind of ``tag`` from the full parse of the record holding its first value
        (None: only the lean view could parse the record)."""
        try:
            event = self.event_class.FromString(data)
        except self.decode_error:
            return None
        for value in event.summary.value:
            if value.tag != tag:
                continue
            which = value.WhichOneof("value")
            if which == "simple_value":
                return _Tag(_SIMPLE)
            plugin = value.metadata.plugin_data.plugin_name
            if which != "tensor" or (plugin and plugin != _SCALAR_PLUGIN):
                return _Tag(_SKIP)
            if tensor_scalar(value.tensor) is None:
                return _Tag(_SKIP)
            return _Tag(_TENSOR, value.tensor)
        return _Tag(_SKIP)

    def _slow_tensor(self, raw: bytes) -> float | None:
        try:
            return tensor_scalar(self.tensor_class.FromString(raw))
        except self.decode_error:
            return None

    def decode(self, batches: Iterable[list[bytes]]) -> dict[str, Columns]:
        """The scalar points of record payloads (in batches), by tag, in record order."""
        from_string = self.lean_class.FromString
        tags = self.tags
        out: dict[str, Columns] = {}
        for seen in tags.values():
            seen.columns = None
        for batch in batches:
            for data in batch:
                try:
                    event = from_string(data)
                except self.decode_error:
                    self.bad_records += 1
                    continue
                values = event.summary.value
                if not values:
                    continue
                step = event.step
                wall = event.wall_time
                for value in values:
                    tag = value.tag
                    known = tags.get(tag)
                    if known is None:
                        known = self._classify(data, tag)
                        if known is None:
                            self.bad_records += 1
                            break
                        tags[tag] = known
                    kind = known.kind
                    if kind == _TENSOR:
                        raw = value.tensor
                        prefix = known.prefix
                        if len(raw) == known.length and raw.startswith(prefix):
                            number = known.unpack_from(raw, len(prefix))[0]
                        else:
                            found = self._slow_tensor(raw)
                            if found is None:
                                continue
                            number = found
                    elif kind == _SIMPLE:
                        number = value.simple_value
                    else:
                        continue
                    columns = known.columns
                    if columns is None:
                        columns = known.columns = out[tag] = Columns()
                    columns.steps.append(step)
                    columns.walls.append(wall)
                    columns.values.append(number)
        return out
