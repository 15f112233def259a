"""Unit tests for rnn_course.channel (the data-only wire format) and rnn_course.student_side
(the ``student`` handle, served in this process or through a transport).

No TensorFlow here except in the one test that needs a framework tensor.
"""

from __future__ import annotations

import io
import json
import math
import os
import shutil
import struct

import numpy as np
import pytest

from rnn_course import channel, checks, student_side
from rnn_course.channel import ChannelError, Reference, decode, encode
from rnn_course.checks import CheckFailure
from rnn_course.student_side import Remote, StudentError, StudentSide


def round_trip(value):
    return decode(encode(value))


def message(header, blobs: bytes = b"") -> bytes:
    """A hand-made message: the 8-byte length, the header (JSON, or raw bytes), the blobs."""
    head = header if isinstance(header, bytes) else json.dumps(header).encode()
    return struct.pack("<Q", len(head)) + head + blobs


def npy(array, allow_pickle=False) -> bytes:
    buffer = io.BytesIO()
    np.save(buffer, array, allow_pickle=allow_pickle)
    return buffer.getvalue()


# --- round trips of every data kind ------------------------------------------------------------


@pytest.mark.parametrize("value", [
    None, True, False, 0, -7, 2**70, -(10**50), 0.0, -2.5, 1e-300, 1.7976931348623157e308,
    "", "hello", "é ü \ufffd 漢字 \n\t \x00", [], (), {}, [1, "a", None], (1, (2, (3,))),
    {"a": 1, "b": [2, 3]}, {1: "one", 2: "two"}, {"nested": {"deeper": [(), {}, [None]]}},
])
def test_plain_values_round_trip(value):
    out = round_trip(value)
    assert out == value
    assert type(out) is type(value)


def test_containers_keep_their_kinds():
    out = round_trip({"t": (1, [2, (3,)]), "l": [(4,), {"k": (5,)}]})
    assert type(out["t"]) is tuple and type(out["t"][1]) is list and type(out["t"][1][1]) is tuple
    assert type(out["l"][0]) is tuple and type(out["l"][1]["k"]) is tuple


def test_dict_keys_of_both_kinds_and_their_order():
    value = {"b": 1, 3: 2, "a": 3}
    out = round_trip(value)
    assert out == value and list(out) == ["b", 3, "a"]


@pytest.mark.parametrize("text", ["nan", "inf", "-inf"])
def test_non_finite_floats_round_trip(text):
    out = round_trip(float(text))
    assert type(out) is float
    assert (math.isnan(out) if text == "nan" else out == float(text))


@pytest.mark.parametrize("array", [
    np.arange(6, dtype=np.float64).reshape(2, 3),
    np.arange(6, dtype=np.float32).reshape(3, 2),
    np.array([True, False, True]),
    np.arange(-3, 3, dtype=np.int8),
    np.arange(5, dtype=np.int64),
    np.arange(5, dtype=np.uint16),
    np.array([1 + 2j, -1j], dtype=np.complex128),
    np.zeros((0, 4)),
    np.zeros((2, 0, 3), dtype=np.int32),
    np.full((2, 2, 2), np.nan),
    np.array([np.inf, -np.inf, 0.0]),
])
def test_arrays_round_trip_with_dtype_and_shape(array):
    out = round_trip(array)
    assert type(out) is np.ndarray
    assert out.dtype == array.dtype and out.shape == array.shape
    np.testing.assert_array_equal(out, array)


def test_non_contiguous_and_fortran_arrays_round_trip():
    base = np.arange(24.0).reshape(4, 6)
    for array in (base.T, base[::2, 1::3], np.asfortranarray(base)):
        out = round_trip(array)
        np.testing.assert_array_equal(out, array)


def test_arrays_in_containers_and_a_shared_array():
    a = np.arange(3.0)
    out = round_trip({"x": [a, (a, np.ones(2, dtype=np.int64))]})
    np.testing.assert_array_equal(out["x"][0], a)
    np.testing.assert_array_equal(out["x"][1][0], a)
    assert out["x"][1][1].dtype == np.int64


@pytest.mark.parametrize("scalar", [np.float64(1.25), np.float32(-0.5), np.int64(7), np.int8(-3), np.uint32(9),
                                    np.bool_(True), np.complex64(1 - 1j)])
def test_numpy_scalars_come_back_as_numpy_scalars(scalar):
    out = round_trip(scalar)
    assert type(out) is type(scalar)
    assert out == scalar


def test_a_0d_array_stays_0d():
    out = round_trip(np.array(3.5))
    assert type(out) is np.ndarray and out.shape == ()


def test_a_students_numpy_scalar_passes_check_scalar(monkeypatch):
    monkeypatch.setattr(student_side, "_namespace", lambda: {"loss": lambda: np.mean([1.0, 2.0])})
    checks.check_scalar(StudentSide().loss(), 1.5, name="loss")


def test_decoded_arrays_are_independent_of_the_input():
    array = np.arange(4.0)
    out = round_trip(array)
    out[0] = 99.0
    assert array[0] == 0.0


# --- what cannot cross -------------------------------------------------------------------------


@pytest.mark.parametrize("value", [
    np.array([object(), 1], dtype=object),
    np.array(["a", "bc"]),                           # unicode strings: dtype kind U
    np.array([b"a"]),                                # bytes: kind S
    np.zeros(2, dtype=[("a", "f8"), ("b", "i4")]),   # structured: kind V
    np.array(["2020-01-01"], dtype="datetime64[D]"),
    {1.5: "float key"}, {(1, 2): "tuple key"}, {True: "bool key"}, {None: 1},
    {1, 2}, b"bytes", bytearray(b"x"), 1 + 2j, object(), len, lambda: 0, int,
])
def test_what_is_not_data_is_refused(value):
    with pytest.raises(ChannelError):
        encode(value)


def test_subclasses_of_data_kinds_are_not_data():
    class MyList(list):
        pass

    class MyStr(str):
        pass

    for value in (MyList([1]), MyStr("x")):
        with pytest.raises(ChannelError, match="not data"):
            encode(value)


def test_an_integer_with_too_many_digits_is_refused():
    encode(10 ** (channel.MAX_INT_DIGITS - 1))
    with pytest.raises(ChannelError, match="digits"):
        encode(10 ** channel.MAX_INT_DIGITS)


def test_a_string_too_long_is_refused():
    with pytest.raises(ChannelError, match="longer than"):
        encode("x" * (channel.MAX_STRING + 1))


def test_too_deep_is_refused():
    ok = []
    for _ in range(channel.MAX_DEPTH):
        ok = [ok]
    assert round_trip(ok) == ok
    with pytest.raises(ChannelError, match="deep"):
        encode([ok])
    deep = {}
    for _ in range(channel.MAX_DEPTH + 1):
        deep = {"k": deep}
    with pytest.raises(ChannelError, match="deep"):
        encode(deep)


def test_too_many_items_are_refused():
    encode(list(range(channel.MAX_ITEMS - 1)))       # the list itself counts as one
    with pytest.raises(ChannelError, match="values"):
        encode(list(range(channel.MAX_ITEMS)))
    with pytest.raises(ChannelError, match="values"):
        encode([[0] * 1000 for _ in range(channel.MAX_ITEMS // 1000)])


def test_an_array_counts_as_one_item():
    out = round_trip(np.zeros(channel.MAX_ITEMS * 2, dtype=np.int8))
    assert out.size == channel.MAX_ITEMS * 2


def test_too_many_bytes_are_refused():
    with pytest.raises(ChannelError, match="bytes"):
        encode(np.zeros(channel.MAX_BYTES // 8 + 1))
    with pytest.raises(ChannelError, match="bytes"):
        decode(b"\0" * (channel.MAX_BYTES + 1))


# --- decode: malformed messages raise ChannelError, and nothing is ever executed ---------------


@pytest.mark.parametrize("raw", [
    b"",
    b"\x01\x00",
    struct.pack("<Q", 100) + b"{}",                  # a header longer than the message
    message(b"not json"),
    message(b"\xff\xfe{"),                           # not UTF-8
    message({"sizes": []}),                          # no value
    message({"v": 1}),                               # no sizes
    message([1, 2]),                                 # a header that is not an object
    message({"v": 1, "sizes": "3"}),
    message({"v": 1, "sizes": [-1]}),
    message({"v": 1, "sizes": [1.5]}),
    message({"v": 1, "sizes": [100]}, b"\0" * 10),   # an array past the end
    message({"v": {"a": 0}, "sizes": []}),           # a missing array
    message({"v": {"a": "0"}, "sizes": []}),
    message({"v": {"x": 1}, "sizes": []}),           # an unknown kind
    message({"v": {"a": 0, "b": 1, "c": 2}, "sizes": []}),
    message({"v": {}, "sizes": []}),
    message({"v": {"t": "abc"}, "sizes": []}),
    message({"v": {"d": [[1.5, 2]]}, "sizes": []}),  # a float key
    message({"v": {"d": [["k"]]}, "sizes": []}),
    message({"v": {"d": [[None, 1]]}, "sizes": []}),
    message({"v": {"f": "1e3"}, "sizes": []}),       # only nan, inf, -inf
    message({"v": {"f": "__import__('os')"}, "sizes": []}),
    message({"v": {"r": "1", "type": "X"}, "sizes": []}),
    message({"v": {"r": 1}, "sizes": []}),
    message({"v": {"r": 1, "type": 5}, "sizes": []}),
    message({"v": {"a": 0}, "sizes": [4]}, b"junk"),  # an unreadable array
])
def test_malformed_messages_raise_channel_error(raw):
    with pytest.raises(ChannelError):
        decode(raw)


def test_a_message_must_be_bytes():
    with pytest.raises(ChannelError, match="bytes"):
        decode("a str")
    assert decode(bytearray(encode([1]))) == [1]


def test_decode_checks_depth_and_items_itself():
    deep = {"v": 0, "sizes": []}
    for _ in range(channel.MAX_DEPTH + 2):
        deep["v"] = [deep["v"]]
    with pytest.raises(ChannelError):
        decode(message(deep))
    with pytest.raises(ChannelError):
        decode(message({"v": [0] * (channel.MAX_ITEMS + 1), "sizes": []}))


def test_a_header_nested_beyond_the_json_parser_raises_channel_error():
    nested = b'{"v": ' + b"[" * 100_000 + b"]" * 100_000 + b', "sizes": []}'
    with pytest.raises(ChannelError):
        decode(message(nested))


def test_an_array_header_claiming_more_data_than_sent_raises_channel_error():
    from numpy.lib import format as npy_format

    header = io.BytesIO()
    npy_format.write_array_header_1_0(header, {"descr": "<f8", "fortran_order": False, "shape": (10**13,)})
    blob = header.getvalue() + b"\0" * 16
    with pytest.raises(ChannelError):
        decode(message({"v": {"a": 0}, "sizes": [len(blob)]}, blob))


class _Trap:
    """Unpickling this would set the flag: decode must never get that far."""

    sprung = []

    def __reduce__(self):
        return (_Trap.sprung.append, ("unpickled",))


def test_a_pickled_npy_is_refused_and_never_unpickled():
    blob = npy(np.array([_Trap()], dtype=object), allow_pickle=True)
    with pytest.raises(ChannelError):
        decode(message({"v": {"a": 0}, "sizes": [len(blob)]}, blob))
    assert _Trap.sprung == []


def test_an_object_dtype_header_without_pickle_data_is_refused():
    blob = npy(np.zeros(3))
    blob = blob.replace(b"'<f8'", b"'|O' ")          # same length: the header stays aligned
    with pytest.raises(ChannelError):
        decode(message({"v": {"a": 0}, "sizes": [len(blob)]}, blob))


def test_strings_that_look_like_code_stay_strings():
    evil = ["__import__('os').system('false')", "{{7*7}}", "${x}"]
    assert decode(message({"v": evil, "sizes": []})) == evil


def test_a_str_array_in_a_message_is_refused():
    blob = npy(np.array(["abc"]))
    with pytest.raises(ChannelError, match="not numbers"):
        decode(message({"v": {"a": 0}, "sizes": [len(blob)]}, blob))


# --- references ----------------------------------------------------------------------------------


def test_references_need_refer_and_resolve():
    thing = object()
    with pytest.raises(ChannelError, match="not data"):
        encode([thing])
    seen = []

    def refer(value):
        seen.append(value)
        return Reference(41, type(value).__name__)

    raw = encode({"x": [thing, 1]}, refer=refer)
    assert seen == [thing]
    out = decode(raw)
    ref = out["x"][0]
    assert isinstance(ref, Reference) and ref.number == 41 and ref.type_name == "object"
    assert "object" in repr(ref)
    assert decode(raw, resolve=lambda r: ("resolved", r.number))["x"][0] == ("resolved", 41)
    assert decode(encode(ref)).number == 41          # a Reference itself crosses as it is


def test_refer_may_stand_an_array_in_for_an_object():
    class Tensorish:
        pass

    out = decode(encode([Tensorish()], refer=lambda v: np.arange(3)))
    np.testing.assert_array_equal(out[0], np.arange(3))


def test_refer_returning_anything_else_is_refused():
    with pytest.raises(ChannelError):
        encode(object(), refer=lambda v: "not a reference")


def test_a_long_type_name_is_cut():
    out = decode(message({"v": {"r": 1, "type": "T" * 500}, "sizes": []}))
    assert len(out.type_name) == 100


# --- the student handle, served in this process --------------------------------------------------


class Thing:
    units = 4
    weights = np.arange(3.0)

    def __init__(self, scale=1.0):
        self.scale = scale

    def apply(self, x, *, offset=0.0):
        return np.asarray(x) * self.scale + offset

    def child(self):
        return Thing(self.scale * 2)

    def boom(self):
        raise ValueError("the student's message")

    def __len__(self):
        return 3


class ShapeError(Exception):
    """An exception type that is not a builtin."""


def not_implemented(*args):
    raise NotImplementedError()


def raises_value_error(x):
    raise ValueError(f"bad x: {x}")


def raises_custom(x):
    raise ShapeError("expected (N, T, D)")


def raises_system_exit():
    raise SystemExit(3)


@pytest.fixture
def namespace(monkeypatch):
    """The student's globals: what student.<name> reads in this process."""
    ns = {
        "Thing": Thing,
        "thing": Thing(3.0),
        "answer": 42,
        "data": {"a": np.ones(2), "b": (1, "x")},
        "not_implemented": not_implemented,
        "raises_value_error": raises_value_error,
        "raises_custom": raises_custom,
        "raises_system_exit": raises_system_exit,
        "same": lambda a, b: a is b,
        "identity": lambda x: x,
        "object_array": lambda: np.array([object()], dtype=object),
    }
    monkeypatch.setattr(student_side, "_namespace", lambda: ns)
    return ns


@pytest.fixture(params=["local", "transport"])
def student(request, namespace):
    """The handle as a test cell sees it: served here (one kernel) or through a transport (graded)."""
    side = StudentSide()
    if request.param == "transport":
        server = student_side._Server()
        side.use(server.handle)
    return side


def test_data_comes_back_as_data(student):
    assert student.answer == 42
    data = student.data
    np.testing.assert_array_equal(data["a"], np.ones(2))
    assert data["b"] == (1, "x")


def test_other_objects_come_back_as_remotes(student):
    thing = student.thing
    assert type(thing) is Remote
    assert thing.type_name == "Thing"
    assert "Thing" in repr(thing) and thing.__name__ == "thing"
    assert thing.units == 4
    assert thing.scale == 3.0
    np.testing.assert_array_equal(thing.weights, np.arange(3.0))


def test_a_remote_can_be_called_with_args_and_kwargs(student):
    out = student.thing.apply(np.arange(3.0), offset=1.0)
    np.testing.assert_array_equal(out, np.arange(3.0) * 3 + 1)
    made = student.Thing(scale=0.5)
    assert type(made) is Remote and made.scale == 0.5
    child = made.child()
    assert type(child) is Remote and child.scale == 1.0
    assert child.__name__.endswith(".child()")


def test_a_remote_goes_back_as_the_same_object(student):
    thing = student.thing
    assert student.same(thing, thing) is True
    assert student.same(thing, student.Thing()) is False
    assert type(student.identity(thing)) is Remote


def test_getattr_with_a_default_and_hasattr(student):
    thing = student.thing
    assert getattr(thing, "missing", "default") == "default"
    assert not hasattr(thing, "missing")
    assert hasattr(thing, "units")
    with pytest.raises(AttributeError):
        thing.missing


def test_dunder_names_stay_here_and_setattr_is_refused(student):
    thing = student.thing
    with pytest.raises(AttributeError):
        thing.__len__
    with pytest.raises(AttributeError, match="cannot set"):
        thing.units = 5
    with pytest.raises(AttributeError):
        student._private
    with pytest.raises(TypeError):
        len(thing)                                   # no __len__ crosses: a test reads it another way


def test_an_undefined_name_is_a_name_error(student):
    with pytest.raises(NameError, match="not defined"):
        student.no_such_name


def test_trusted_side_objects_cannot_be_sent(student):
    for value in (lambda: 0, object(), Thing(), {1, 2}):
        with pytest.raises(ChannelError, match="cannot be sent"):
            student.identity(value)


def test_an_unsendable_result_comes_back_as_an_error(student):
    with pytest.raises(StudentError, match="cannot be sent to the test"):
        student.object_array()


@pytest.mark.parametrize("function, builtin", [("not_implemented", NotImplementedError),
                                               ("raises_value_error", ValueError)])
def test_student_errors_mix_in_the_builtin_type(student, function, builtin):
    with pytest.raises(builtin) as info:
        getattr(student, function)(1)
    assert isinstance(info.value, StudentError)
    assert info.value.type_name == builtin.__name__


def test_a_student_error_carries_message_and_traceback_lines(student):
    with pytest.raises(ValueError) as info:
        student.raises_value_error(7)
    exc = info.value
    assert str(exc) == "bad x: 7" and exc.message == "bad x: 7"
    assert any("raises_value_error" in line for line in exc.lines)
    assert not any("student_side.py" in line for line in exc.lines)


def test_a_student_exception_of_its_own_type(student):
    with pytest.raises(StudentError) as info:
        student.raises_custom(1)
    assert type(info.value) is StudentError          # no builtin of that name to mix in
    assert info.value.type_name == "ShapeError"
    assert not isinstance(info.value, ShapeError)


def test_system_exit_in_the_students_code_is_an_error_not_an_exit(student):
    with pytest.raises(StudentError) as info:
        student.raises_system_exit()
    assert info.value.type_name == "SystemExit"
    assert not isinstance(info.value, SystemExit)


def test_the_error_class_is_made_once_per_name():
    assert student_side._error_class("ValueError") is student_side._error_class("ValueError")
    assert issubclass(student_side._error_class("KeyError"), LookupError)
    assert student_side._error_class("Exception") is StudentError
    assert student_side._error_class("BaseException") is StudentError
    assert student_side._error_class("KeyboardInterrupt") is StudentError
    assert student_side._error_class("NoSuchName") is StudentError


def test_scratch_path_is_a_fresh_writable_path(student):
    first, second = student.scratch_path("m.keras"), student.scratch_path("../../escape.keras")
    assert os.path.basename(first) == "m.keras"
    assert os.path.basename(second) == "escape.keras"
    assert os.path.dirname(first) != os.path.dirname(second)
    with open(first, "w") as handle:
        handle.write("ok")
    assert os.path.isfile(first)
    for path in (first, second):
        shutil.rmtree(os.path.dirname(path))


# --- checks.call on the student's code -----------------------------------------------------------


def test_checks_call_names_the_students_exception_by_its_own_type(student):
    with pytest.raises(CheckFailure) as info:
        checks.call(student.raises_custom, np.zeros(2))
    text = str(info.value)
    assert "raises_custom(...) raised ShapeError: expected (N, T, D)" in text
    with pytest.raises(CheckFailure, match=r"raised ValueError: bad x: 3"):
        checks.call(student.raises_value_error, 3)


def test_checks_call_points_at_the_students_lines_when_graded(namespace):
    side = StudentSide()
    side.use(student_side._Server().handle)
    with pytest.raises(CheckFailure) as info:
        checks.call(side.raises_custom, 1)
    assert "In your code:" in str(info.value) and "raise ShapeError" in str(info.value)


def test_checks_call_not_implemented_and_labels(student):
    with pytest.raises(CheckFailure, match="not_implemented is not implemented yet"):
        checks.call(student.not_implemented, 1)
    with pytest.raises(CheckFailure, match="^Thing.apply is not"):
        checks.call(student.not_implemented, name="Thing.apply")


def test_checks_call_and_check_raises_with_remotes(student):
    out = checks.call(student.thing.apply, np.ones(2), offset=2.0)
    np.testing.assert_array_equal(out, np.full(2, 5.0))
    exc = checks.check_raises(student.raises_value_error, 1, exception=ValueError, mentions=["bad x"])
    assert exc.type_name == "ValueError"
    with pytest.raises(CheckFailure, match="raised ShapeError"):
        checks.check_raises(student.raises_custom, 1, exception=ValueError)


# --- transport: what the trusted process reads back ----------------------------------------------


def test_a_malformed_reply_is_a_channel_error(namespace):
    for reply in (b"garbage", encode([1]), encode({"ok": 1, "error": 2}), encode({"error": "text"})):
        side = StudentSide()
        side.use(lambda request, reply=reply: reply)
        with pytest.raises(ChannelError):
            side.answer


def test_a_reply_can_only_name_a_type_not_run_it(namespace):
    reply = encode({"error": {"type": "SystemExit", "message": "m" * 10_000, "lines": ["l"] * 500}})
    side = StudentSide()
    side.use(lambda request: reply)
    with pytest.raises(StudentError) as info:
        side.answer
    assert len(info.value.message) == 5000 and len(info.value.lines) == student_side.MAX_TRACEBACK_LINES


def test_a_request_for_an_unknown_object_is_an_error(namespace):
    server = student_side._Server()
    reply = decode(server.handle(encode({"op": "get", "ref": Reference(999, "X"), "attr": "a"})))
    assert reply["error"]["type"] == "ChannelError"
    reply = decode(server.handle(encode({"op": "nope"})))
    assert "unknown request" in reply["error"]["message"]
    reply = decode(server.handle(b"not a message"))
    assert reply["error"]["type"] == "ChannelError"


def test_tensors_come_back_as_numpy(namespace):
    keras = pytest.importorskip("keras")
    namespace["tensor"] = keras.ops.convert_to_tensor(np.arange(6.0).reshape(2, 3))
    namespace["dense"] = keras.layers.Dense(2)
    graded = StudentSide()
    graded.use(student_side._Server().handle)
    for side in (StudentSide(), graded):
        out = side.tensor
        assert type(out) is np.ndarray and out.shape == (2, 3)
        np.testing.assert_array_equal(out, np.arange(6.0).reshape(2, 3))
        y = side.dense(np.ones((1, 3), dtype="float32"))
        assert type(y) is np.ndarray and y.shape == (1, 2)
