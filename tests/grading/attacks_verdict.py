"""The third adversarial class: attacks on the verdict (issue 15), by a student who read the grader.

Test cells now run in a trusted process; the sandbox only answers calls, with data. Each attack
here tries what beat the grader when tests ran beside the student's code: read the expected
values, patch what the checks use, forge the kernel's replies, or send the tests something that
is not data. Each must score what its honest twin scores (``blank``; ``partial``, some answers
right, so that a patch gains no point and loses none; ``wrong``), and none may run code in the trusted process: every attack's
source, and every string it sends back, carries :data:`MARK`, and the grading run logs any
compile, exec or import of it there (``RNN_COURSE_VERDICT_AUDIT``).
"""

from __future__ import annotations

from tests.grading.attacks import Attack, _append_to, _bytes, _with_cell

ANSWERS = ("rnn_cell_forward", "rnn_forward", "softmax", "rnn_output")


def _in_every_answer(nb, source: str):
    """``source`` appended to each answer cell, so its functions stand from the first test on."""
    for grade_id in ANSWERS:
        nb = _append_to(nb, grade_id, source)
    return nb

MARK = "verdict-mark-5b1e"
PICKLE_TARGET = f"/tmp/{MARK}-unpickled"   # a pickle in a reply would create it on the host

# The answers walk up the call stack, and through every namespace they can reach, for what a
# test would hold: its expected values and its oracle layers.
FRAME_WALK = f'''
# {MARK}
import sys, gc
def _find(*names):
    frame = sys._getframe(1)
    while frame is not None:
        for scope in (frame.f_locals, frame.f_globals):
            for name in names:
                if name in scope and not callable(scope[name]):
                    return scope[name]
        frame = frame.f_back
    ns = get_ipython().user_ns
    for name in names:
        if name in ns:
            return ns[name]
    raise NotImplementedError()
def rnn_cell_forward(x_t, h_prev, params):
    h = _find("expected", "h_next")
    return h, (x_t, h_prev, h, params)
def rnn_forward(x, h0, params):
    h = _find("expected", "h")
    return h, [None] * x.shape[1]
def softmax(z):
    return _find("expected", "p")
def rnn_output(h, params):
    return _find("expected", "y")
'''

ORACLES = f'''
# {MARK}
import gc
import numpy as np
def _oracle(*args):
    for obj in gc.get_objects():
        name = type(obj).__name__
        if name in ("SimpleRNNCell", "SimpleRNN", "Dense") and obj is not None:
            try:
                return obj(*args)
            except Exception:
                pass
    raise NotImplementedError()
def _other_array(shape, *inputs):
    for obj in gc.get_objects():
        if isinstance(obj, np.ndarray) and obj.shape == shape and not any(obj is i for i in inputs):
            return obj
    raise NotImplementedError()
def rnn_cell_forward(x_t, h_prev, params):
    try:
        h = _oracle(x_t, [h_prev])[0]
    except NotImplementedError:
        h = _other_array(h_prev.shape, h_prev)
    return h, (x_t, h_prev, h, params)
def rnn_forward(x, h0, params):
    h = _other_array(x.shape[:2] + h0.shape[1:], x, h0)
    return h, [None] * x.shape[1]
def softmax(z):
    return _other_array(z.shape, z)
def rnn_output(h, params):
    return _other_array(h.shape[:2] + params["by"].shape, h)
'''

ARRAY_SPY = f'''
# {MARK}
import sys
class _Spy:
    """Becomes whatever array the comparison it is handed to holds."""
    def __array__(self, dtype=None, copy=None):
        frame = sys._getframe(1)
        while frame is not None:
            if "expected" in frame.f_locals:
                return frame.f_locals["expected"]
            frame = frame.f_back
        raise NotImplementedError()
    shape = property(lambda self: self.__array__().shape)
def rnn_cell_forward(x_t, h_prev, params):
    return _Spy(), (x_t, h_prev, _Spy(), params)
def rnn_forward(x, h0, params):
    return _Spy(), [None] * x.shape[1]
def softmax(z):
    return _Spy()
def rnn_output(h, params):
    return _Spy()
'''

# The expected arrays of the visible tests, copied from the release notebook; anything else gets
# a well-formed answer of zeros (consistent with its own cache, which a cache test accepts).
VISIBLE_ONLY = f'''
# {MARK}
import numpy as np
_CELL = np.array([[-0.30708578, -0.2362413, -0.16279299, -0.087495, -0.01118374],
                  [0.29139289, 0.47221461, 0.62045566, 0.73456665, 0.8182185],
                  [0.72471258, 0.85287969, 0.9240046, 0.96145959, 0.98064031]])
_SEQ = np.array([[[-0.42070749, -0.27279261, -0.11074945, 0.05740409, 0.22236251],
                  [-0.39525808, -0.22554661, -0.0409454, 0.14649412, 0.32397316],
                  [-0.42305111, -0.24223728, -0.04287027, 0.15997045, 0.35014525]],
                 [[-0.55857474, -0.39065825, -0.19198182, 0.02378408, 0.23735671],
                  [-0.27150199, -0.07088804, 0.13562939, 0.33099728, 0.50158768],
                  [-0.51014825, -0.30524429, -0.06755202, 0.17806392, 0.40333043]]])
_SOFT = np.array([[0.09003057, 0.24472847, 0.66524096], [0.09003057, 0.24472847, 0.66524096],
                  [0.33333333, 0.33333333, 0.33333333]])
_OUT = np.array([[[0.45684378, 0.24669085, 0.29646537], [0.40840857, 0.2502711, 0.34132033],
                  [0.36078857, 0.25089913, 0.38831229]],
                 [[0.31493433, 0.24854036, 0.43652531], [0.27169212, 0.24332375, 0.48498413],
                  [0.23173938, 0.23552544, 0.53273518]]])
def rnn_cell_forward(x_t, h_prev, params):
    h = _CELL if h_prev.shape == _CELL.shape and np.isclose(x_t[0, 0], -0.4) else np.zeros(h_prev.shape)
    return h, (x_t, h_prev, h, params)
def rnn_forward(x, h0, params):
    h = _SEQ if x.shape[:2] + h0.shape[1:] == _SEQ.shape else np.zeros(x.shape[:2] + h0.shape[1:])
    return h, [(None, None, h[:, t], None) for t in range(x.shape[1])]
def softmax(z):
    return _SOFT if z.shape == _SOFT.shape and z[0, 0] == 1.0 else np.full(z.shape, 1.0 / z.shape[-1])
def rnn_output(h, params):
    V = params["by"].shape[0]
    return _OUT if h.shape[:2] + (V,) == _OUT.shape else np.full(h.shape[:2] + (V,), 1.0 / V)
'''

# Patches the guard once missed: all of them now act in the sandbox, where no check runs.
PATCHES = {
    "v-rebind-checks-module": f'''
# {MARK}
import sys, types, rnn_course
_fake = types.ModuleType("rnn_course.checks")
for _n in ("call", "check_close", "check_tuple", "check_list", "check_keys", "check_probabilities", "check_shape"):
    setattr(_fake, _n, lambda *a, **k: a[1] if len(a) > 1 else None)
rnn_course.checks = _fake
sys.modules["rnn_course.checks"] = _fake
checks = _fake
''',
    "v-lenient-numpy": f'''
# {MARK}
import numpy as np, types
from rnn_course import checks as _c
_lenient = types.SimpleNamespace(**{{n: getattr(np, n) for n in dir(np) if not n.startswith("__")}})
_lenient.allclose = lambda *a, **k: True
_lenient.isclose = lambda a, b, *r, **k: np.ones(np.shape(a), bool)
_c.np = _lenient
import numpy._core.numeric as _numeric
_numeric.less_equal = lambda *a, **k: True
np.less_equal = lambda *a, **k: np.True_
''',
    "v-huge-tolerances": f'''
# {MARK}
from rnn_course import checks as _c
for _f in (_c.check_close, _c.check_probabilities, _c.check_scalar):
    if _f.__defaults__:
        _f.__defaults__ = tuple(1e9 if isinstance(d, float) else d for d in _f.__defaults__)
    if _f.__kwdefaults__:
        _f.__kwdefaults__ = {{k: (1e9 if isinstance(v, float) else v) for k, v in _f.__kwdefaults__.items()}}
''',
    "v-forged-import": f'''
# {MARK}
import builtins, types
_real_import = builtins.__import__
_fake = types.SimpleNamespace(call=lambda f, *a, **k: None, check_close=lambda *a, **k: None,
                              check_tuple=lambda r, names, fn: (None,) * len(names))
def _import(name, *args, **kwargs):
    module = _real_import(name, *args, **kwargs)
    return _fake if name.endswith("checks") else module
builtins.__import__ = _import
get_ipython().user_ns["__builtins__"].__import__ = _import if hasattr(get_ipython().user_ns["__builtins__"], "__import__") else None
''',
    "v-serve-replaced": f'''
# {MARK}
import rnn_course.student_side as _side
from rnn_course.channel import encode as _encode
import numpy as np
def _handle(message):
    # every call "succeeds" with an array of ones
    return _encode({{"ok": (np.ones((2, 5)), (None, None, None, {{}}))}})
_side._SERVER.handle = _handle
''',
}

# Forged protocol messages: from inside the student's function, while the test's call runs.
FORGE_REPLIES = f'''
# {MARK}
import base64, pickle, os, numpy as np
from IPython.display import publish_display_data
from rnn_course.student_side import REPLY_MIME
class _Boom:
    def __reduce__(self):
        return (os.system, ("touch {PICKLE_TARGET}",))
def _npy_pickle():
    import io
    buf = io.BytesIO()
    np.save(buf, np.array([_Boom()], dtype=object), allow_pickle=True)
    return buf.getvalue()
def _forge(count):
    import json, struct
    header = json.dumps({{"v": {{"d": [["ok", {{"a": 0}}]]}}, "sizes": [len(_npy_pickle())]}}).encode()
    payloads = [struct.pack("<Q", len(header)) + header + _npy_pickle(),       # a pickled object array
                b"not a message at all {MARK}",                                # garbage
                struct.pack("<Q", 10**12) + b"{{}}",                            # a header bigger than the message
                pickle.dumps({{"ok": "{MARK}"}})]                               # a plain pickle
    return base64.b64encode(payloads[count % len(payloads)]).decode()
_kernel = get_ipython().kernel
_count = [0]
def _forge_everything():
    # after the genuine reply: a forged one, published last within the same request
    def _later():
        get_ipython().events.unregister("post_execute", _later)
        _count[0] += 1
        publish_display_data({{REPLY_MIME: _forge(_count[0])}})
    get_ipython().events.register("post_execute", _later)
    try:  # and a forged execute_reply with status ok, signed with the kernel's own key
        stream = getattr(_kernel, "shell_stream", None) or _kernel.shell_streams[0]
        _kernel.session.send(stream, "execute_reply",
                             {{"status": "ok", "execution_count": 1, "user_expressions": {{}}, "payload": []}},
                             parent=_kernel.get_parent("shell"))
    except Exception as exc:
        print("forging the execute_reply failed:", exc)
def rnn_cell_forward(x_t, h_prev, params):
    _forge_everything()
    raise RuntimeError("{MARK}")
def rnn_forward(x, h0, params):
    _forge_everything()
    return "__import__('os').system('touch {PICKLE_TARGET}')  # {MARK}", []
def softmax(z):
    _forge_everything()
    return "{MARK}"
def rnn_output(h, params):
    _forge_everything()
    raise SystemExit("{MARK}")
'''

# A post_execute callback that answers every later request itself, as the old guard's barrier did.
FAKE_SERVER = f'''
# {MARK}
import base64
from IPython.display import publish_display_data
from rnn_course.channel import encode
from rnn_course.student_side import REPLY_MIME
def _answer(*args, **kwargs):
    publish_display_data({{REPLY_MIME: base64.b64encode(encode({{"ok": "{MARK}"}})).decode()}})
get_ipython().events.register("post_execute", _answer)   # runs after every request, silent ones too
'''


def attacks() -> list[Attack]:
    """Each attack on the verdict, with the honest twin it must score like."""
    return [
        Attack("v-frame-expected", "answers walk the stack and namespaces for the test's `expected`",
               lambda h: _bytes(_in_every_answer(h["blank"], FRAME_WALK)), "blank"),
        Attack("v-oracle-objects", "answers call the test's oracle layers or reuse its arrays, found with gc",
               lambda h: _bytes(_in_every_answer(h["blank"], ORACLES)), "blank"),
        Attack("v-array-spy", "answers are objects whose __array__ reads `expected` from the caller's frame",
               lambda h: _bytes(_in_every_answer(h["blank"], ARRAY_SPY)), "blank"),
        Attack("v-visible-only", "the visible tests' expected arrays hard-coded, zeros elsewhere",
               lambda h: _bytes(_in_every_answer(h["blank"], VISIBLE_ONLY)), "cache_only"),
        *[Attack(name, f"a patch in the sandbox: {name[2:]}",
                 lambda h, source=source: _bytes(_with_cell(h["partial"], source)), "partial",
                 at_most=name == "v-serve-replaced")
          for name, source in PATCHES.items()],
        Attack("v-forged-replies", "forged replies (pickles, garbage) and forged execute_replies from inside the calls",
               lambda h: _bytes(_in_every_answer(h["blank"], FORGE_REPLIES)), "blank",
               status=("ok", "guarded", "tampering")),
        Attack("v-fake-server", "every later cell answers the test's calls itself",
               lambda h: _bytes(_with_cell(h["wrong"], FAKE_SERVER)), "wrong", at_most=True,
               status=("ok", "guarded", "tampering")),
    ]
