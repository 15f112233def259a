"""The data-only wire format between a test and the student's code (see :mod:`rnn_course.student_side`).

What crosses is plain data: ``None``, bools, ints, floats, strings, numpy arrays of numbers
(written with ``np.save`` and read back with ``allow_pickle=False``), numpy scalars, and
lists, tuples and dicts (string or integer keys) of these — plus *references*: the number of an
object that stays on the side that made it (a student's Keras layer, a bound method) and that
the other side can only name in a later request. Nothing that is read back is code, a pickle or
an object with behaviour. Every message is capped in bytes, nesting depth and item count; a
message over a cap is refused with :class:`ChannelError`.

A message is ``8-byte length of the header`` + ``the header (JSON)`` + ``the arrays' .npy
bytes``. In the header a list stays a JSON list; the other kinds are one-key objects:
``{"a": i}`` the i-th array, ``{"t": [...]}`` a tuple, ``{"d": [[key, value], ...]}`` a dict,
``{"r": n, "type": "Name"}`` a reference and ``{"f": "nan"}`` a float that JSON cannot write.
"""

from __future__ import annotations

import io
import json
import math
import struct

import numpy as np

MAX_BYTES = 64 * 2**20        # one message
MAX_DEPTH = 32                # nesting of lists, tuples and dicts
MAX_ITEMS = 100_000           # values in one message, arrays counted once
MAX_STRING = 1_000_000        # characters in one string
MAX_INT_DIGITS = 4_000
ARRAY_KINDS = "biufc"         # bool, int, unsigned, float, complex: never object, str or void

__all__ = ["ChannelError", "Reference", "encode", "decode"]


class ChannelError(ValueError):
    """A value cannot cross (too large, too deep, not data), or a message is malformed."""


class Reference:
    """An object that stays on the other side, known here by its number and its type's name."""

    __slots__ = ("number", "type_name")

    def __init__(self, number: int, type_name: str):
        self.number, self.type_name = number, type_name

    def __repr__(self) -> str:
        return f"<the student's {self.type_name} object>"


def encode(value, refer=None) -> bytes:
    """Write ``value`` as a message.

    Args:
        value: data as listed in the module's docstring.
        refer: called with any other object; returns a :class:`Reference` for it (the side that
            owns the objects keeps them), or data that stands for it (a framework tensor's values
            as a numpy array, a TensorShape as a tuple); without it such an object raises
            ChannelError, and so do subclasses of list, tuple and dict (with it they cross as
            plain ones).

    Returns:
        the message's bytes.
    """
    arrays: list = []
    counter = [0]

    def walk(v, depth):
        counter[0] += 1
        if counter[0] > MAX_ITEMS:
            raise ChannelError(f"more than {MAX_ITEMS} values in one message")
        if depth > MAX_DEPTH:
            raise ChannelError(f"nested more than {MAX_DEPTH} levels deep")
        kind = type(v)
        if v is None or kind is bool:
            return v
        if kind is int:
            if abs(v) >= 10 ** MAX_INT_DIGITS:
                raise ChannelError("an integer with too many digits")
            return v
        if kind is float:
            return v if math.isfinite(v) else {"f": repr(v)}
        if kind is str:
            if len(v) > MAX_STRING:
                raise ChannelError(f"a string longer than {MAX_STRING} characters")
            return v
        if kind is np.ndarray or isinstance(v, np.generic):
            array = np.asarray(v)
            if array.dtype.kind not in ARRAY_KINDS or array.dtype.hasobject:
                raise ChannelError(f"an array of dtype {array.dtype} (only numbers cross)")
            arrays.append(array)
            return {"a": len(arrays) - 1, "scalar": isinstance(v, np.generic)}
        if kind is list:
            return [walk(x, depth + 1) for x in v]
        if kind is tuple:
            return {"t": [walk(x, depth + 1) for x in v]}
        if kind is dict:
            items = []
            for key, x in v.items():
                if type(key) not in (str, int):
                    raise ChannelError(f"a dict key of type {type(key).__name__} (only str and int keys cross)")
                items.append([key, walk(x, depth + 1)])
            return {"d": items}
        if kind is Reference:
            return {"r": v.number, "type": v.type_name}
        if refer is None:
            raise ChannelError(f"a {kind.__name__} object is not data")
        # The side that owns the object (the student's): subclasses of list, tuple and dict (a
        # Keras TrackedList, a namedtuple) cross as plain ones; anything else as refer says.
        if isinstance(v, list):
            return [walk(x, depth + 1) for x in list(v)]
        if isinstance(v, tuple):
            return {"t": [walk(x, depth + 1) for x in tuple(v)]}
        if isinstance(v, dict):
            return walk(dict(v), depth + 1)
        ref = refer(v)
        if type(ref) in (np.ndarray, tuple, list):
            return walk(ref, depth + 1)
        if type(ref) is not Reference:
            raise ChannelError(f"a {kind.__name__} object is not data")
        return {"r": ref.number, "type": ref.type_name}

    tree = walk(value, 0)
    blobs = []
    for array in arrays:
        buffer = io.BytesIO()
        np.save(buffer, np.require(array, requirements="C"), allow_pickle=False)  # keeps 0-d as 0-d
        blobs.append(buffer.getvalue())
    header = json.dumps({"v": tree, "sizes": [len(b) for b in blobs]}, allow_nan=False).encode()
    message = struct.pack("<Q", len(header)) + header + b"".join(blobs)
    if len(message) > MAX_BYTES:
        raise ChannelError(f"a message of {len(message)} bytes (at most {MAX_BYTES})")
    return message


def decode(message: bytes, resolve=None):
    """Read a message written by :func:`encode`; never runs code from it.

    Args:
        message: the bytes.
        resolve: called with each :class:`Reference`, returns what stands for it here (default:
            the Reference itself).

    Returns:
        the value.
    """
    if not isinstance(message, (bytes, bytearray)):
        raise ChannelError(f"a message must be bytes; received {type(message).__name__}")
    if len(message) > MAX_BYTES:
        raise ChannelError(f"a message of {len(message)} bytes (at most {MAX_BYTES})")
    if len(message) < 8:
        raise ChannelError("a message shorter than its header")
    (length,) = struct.unpack("<Q", message[:8])
    if length > len(message) - 8:
        raise ChannelError("a header longer than the message")
    try:
        header = json.loads(bytes(message[8:8 + length]))
        tree, sizes = header["v"], header["sizes"]
    except (ValueError, KeyError, TypeError, RecursionError) as exc:
        raise ChannelError(f"a malformed header ({exc.__class__.__name__})") from None
    if not isinstance(sizes, list) or not all(type(s) is int and s >= 0 for s in sizes):
        raise ChannelError("malformed array sizes")
    arrays, offset = [], 8 + length
    for size in sizes:
        if offset + size > len(message):
            raise ChannelError("an array runs past the end of the message")
        array = _load_array(bytes(message[offset:offset + size]))
        if not isinstance(array, np.ndarray) or array.dtype.kind not in ARRAY_KINDS:
            raise ChannelError("an array that is not numbers")
        arrays.append(array)
        offset += size
    counter = [0]

    def walk(node, depth):
        counter[0] += 1
        if counter[0] > MAX_ITEMS or depth > MAX_DEPTH:
            raise ChannelError("a message too large or too deep")
        if node is None or type(node) in (bool, int, float):
            return node
        if type(node) is str:
            return node
        if type(node) is list:
            return [walk(x, depth + 1) for x in node]
        if type(node) is not dict or len(node) not in (1, 2):
            raise ChannelError("a malformed value")
        if "a" in node:
            index = node["a"]
            if type(index) is not int or not 0 <= index < len(arrays):
                raise ChannelError("a reference to a missing array")
            array = arrays[index]
            return array[()] if node.get("scalar") is True and array.ndim == 0 else array
        if "t" in node and type(node["t"]) is list:
            return tuple(walk(x, depth + 1) for x in node["t"])
        if "d" in node and type(node["d"]) is list:
            out = {}
            for item in node["d"]:
                if type(item) is not list or len(item) != 2 or type(item[0]) not in (str, int):
                    raise ChannelError("a malformed dict item")
                out[item[0]] = walk(item[1], depth + 1)
            return out
        if "f" in node and node["f"] in ("nan", "inf", "-inf"):
            return float(node["f"])
        if "r" in node and type(node["r"]) is int and type(node.get("type")) is str:
            ref = Reference(node["r"], node["type"][:100])
            return resolve(ref) if resolve is not None else ref
        raise ChannelError("a malformed value")

    return walk(tree, 0)


def _load_array(blob: bytes) -> np.ndarray:
    """One ``.npy`` blob, its header checked against its size before anything is allocated."""
    from numpy.lib import format as npy

    stream = io.BytesIO(blob)
    try:
        version = npy.read_magic(stream)
        if version == (1, 0):
            shape, fortran, dtype = npy.read_array_header_1_0(stream)
        elif version in ((2, 0), (3, 0)):
            shape, fortran, dtype = npy.read_array_header_2_0(stream)
        else:
            raise ValueError(f"npy version {version}")
        if dtype.hasobject or dtype.kind not in ARRAY_KINDS:
            raise ValueError(f"an array of dtype {dtype}, not numbers")
        count = 1
        for n in shape:
            count *= int(n)
        if count * dtype.itemsize != len(blob) - stream.tell():
            raise ValueError("a shape that does not match the bytes")
        stream.seek(0)
        return np.load(stream, allow_pickle=False)
    except (ValueError, OSError, EOFError, TypeError, SyntaxError, MemoryError, RecursionError) as exc:
        raise ChannelError(f"an unreadable array ({exc.__class__.__name__}: {str(exc)[:80]})") from None
