"""The second adversarial class: attacks written after reading the grader, against the OS boundary.

Each is a student who knows ``rnn_course/grading/`` (it ships with the package): where the
course directory is, how the sandbox is built, what the report pipe carries. They are graded
in the same run as :mod:`tests.grading.attacks` and checked the same way (score equal to an
honest twin), plus what :mod:`tests.grading.test_adversarial` checks for the whole run: no file
created outside the sandbox, no process alive afterwards, no secret of the grader in any page.

Everything an attack leaves on the host, or any process it starts, carries :data:`MARK` in its
name or command line, so the test can look for it.
"""

from __future__ import annotations

import json

import nbformat

from tests.grading.attacks import CHAPTER, Attack, _bytes, _with_cell

MARK = "rnn-escape-7f3a"
# Attacks only the operating-system sandbox stops (the in-kernel guard alone does not): left out
# of the class where bubblewrap cannot run, and the test says so.
NEEDS_SANDBOX = {"os-proc-root", "os-dir-fd", "os-find-classmates", "os-walk-disk", "os-grader-secrets",
                 "os-fork-exec", "os-fifo-mknod", "os-config-append", "os-rewrite-cache", "os-poison-pipes",
                 "os-inode-bomb", "os-disk-fill"}
SECRET_ENV = "RNN_COURSE_TEST_SECRET"

# Exec the answer cells of any notebook text found (a classmate's, or the solutions).
STEAL = r'''
import json as _json, os as _os
_stolen = []
def _steal(text, where):
    try:
        nb = _json.loads(text)
    except Exception:
        return
    for c in nb.get("cells", []):
        src = "".join(c.get("source", ""))
        if c.get("cell_type") == "code" and "def " in src and "NotImplementedError" not in src:
            try:
                exec(src, globals())
                _stolen.append(where)
            except Exception:
                pass
def _try_read(path, **kw):
    try:
        fd = _os.open(path, _os.O_RDONLY, **kw)
        chunks = []
        while True:
            b = _os.read(fd, 1 << 20)
            if not b:
                break
            chunks.append(b)
        _os.close(fd)
        _steal(b"".join(chunks).decode("utf-8", "replace"), path)
    except Exception:
        pass
'''


def _steal_cell(body: str) -> str:
    return STEAL + body + "\nprint('stolen from:', _stolen)\n"


def _deep_nesting(nb) -> bytes:
    text = _bytes(nb)
    depth = 100_000
    return text.replace(b'"metadata": {', b'"metadata": {"x": ' + b"[" * depth + b"]" * depth + b", ", 1)


def _many_cells(nb) -> bytes:
    raw = json.loads(_bytes(nb))
    extra = [{"cell_type": "code", "execution_count": None, "metadata": {}, "outputs": [],
              "source": f"x{i} = {i}"} for i in range(100_000)]
    raw["cells"] = raw["cells"][:3] + extra + raw["cells"][3:]
    return json.dumps(raw).encode()


def _zip_copies(nb) -> dict:
    return {f"copy{i}/{CHAPTER}.ipynb": _bytes(nb) for i in range(8)}


def _pages(nb):
    nb = _with_cell(nb, f"from IPython.display import HTML, Javascript, display\n"
                        f"display(HTML('<b>bold</b><script>window.x=\"{MARK}-html\"</script>'))\n"
                        f"display(Javascript('window.y=\"{MARK}-js\"'))\n")
    nb.cells.insert(3, nbformat.v4.new_markdown_cell(
        f"<script>window.z='{MARK}-md'</script><img src=x onerror=\"alert('{MARK}-onerror')\">"))
    return nb


def attacks(course_root: str) -> list[Attack]:
    """Every attack of the second class, with the honest student each must score like."""
    solution = f"{course_root}/solutions/{CHAPTER}/{CHAPTER}.ipynb"
    config = f"{course_root}/nbgrader_config.py"
    results = f"{course_root}/.rnn-course/results/{CHAPTER}"
    evil_config = f"\nimport os; open('/tmp/{MARK}-config', 'w')\n"
    forged = json.dumps({"status": "ok", "verdicts": {}, "fingerprint": "x", "score": 10})
    return [
        # -- reading what is denied ---------------------------------------------------------
        Attack("os-proc-root", "the solutions read through /proc/self/root, /proc/1/root and //",
               lambda h: _bytes(_with_cell(h["blank"], _steal_cell(
                   f"for p in ['/proc/self/root{solution}', '/proc/1/root{solution}', '/proc/2/root{solution}',\n"
                   f"          '/{solution}', '{solution}', '/proc/self/cwd/../../..{solution}']:\n"
                   f"    _try_read(p)\n"))), "blank"),
        Attack("os-dir-fd", "the solutions read with os.open(..., dir_fd=...) from / and the course folder",
               lambda h: _bytes(_with_cell(h["blank"], _steal_cell(
                   f"for base, rel in [('/', '{solution[1:]}'), ('{course_root}', 'solutions/{CHAPTER}/{CHAPTER}.ipynb')]:\n"
                   f"    try:\n        d = _os.open(base, _os.O_RDONLY)\n        _try_read(rel, dir_fd=d)\n"
                   f"    except Exception as e:\n        print(type(e).__name__)\n"))), "blank"),
        Attack("os-find-classmates", "other students' notebooks found through /proc (cmdline, cwd, fds, roots) and /tmp",
               lambda h: _bytes(_with_cell(h["blank"], _steal_cell(
                   "import glob, itertools\n"
                   "found = set()\n"
                   "for pid in [p for p in _os.listdir('/proc') if p.isdigit()]:\n"
                   "    for what in ('cmdline', 'environ'):\n"
                   "        try:\n"
                   "            found.update(w for w in open(f'/proc/{pid}/{what}', 'rb').read().decode('utf-8', 'replace').replace('=', '\\0').split('\\0') if w.startswith('/'))\n"
                   "        except Exception:\n            pass\n"
                   "    for link in ('cwd', 'root'):\n"
                   "        try:\n            found.add(_os.readlink(f'/proc/{pid}/{link}'))\n        except Exception:\n            pass\n"
                   "for folder in [f for f in found if f != '/'] + ['/tmp', '/dev/shm', '/run', '/home']:\n"
                   "    for path in itertools.islice(glob.iglob(folder.rstrip('/') + '/**/*.ipynb', recursive=True), 200):\n"
                   "        if not path.startswith(_os.getcwd()):\n"
                   "            _try_read(path)\n"
                   "for path in glob.glob('/proc/*/root/home/student/*.ipynb') + glob.glob('/tmp/rcg-*/k*/**/*.ipynb', recursive=True):\n"
                   "    _try_read(path)\n"))), "blank",
               # '/' (every process's root) is left to os-walk-disk, which bounds its walk; a
               # search that still runs past the class's CPU limit is stopped, scoring blank.
               status=("ok", "guarded", "timeout")),
        Attack("os-walk-disk", "the whole visible file system searched for notebooks with answers",
               lambda h: _bytes(_with_cell(h["blank"], _steal_cell(
                   "seen = 0\n"
                   "for root, dirs, files in _os.walk('/'):\n"
                   "    dirs[:] = [d for d in dirs if root + d not in ('/proc', '/sys', '/usr')]\n"
                   "    for f in files:\n"
                   "        seen += 1\n"
                   "        if f.endswith('.ipynb') and not root.startswith(_os.getcwd()):\n"
                   "            _try_read(_os.path.join(root, f))\n"
                   "    if seen > 50000:\n        break\n"))), "blank"),
        Attack("os-grader-secrets", "the grader's environment, command lines and open files printed into the notebook",
               lambda h: _bytes(_with_cell(h["complete"],
                   "import os\nprint(dict(os.environ))\n"
                   "for pid in [p for p in os.listdir('/proc') if p.isdigit()] + ['self', '1']:\n"
                   "    for what in ('environ', 'cmdline'):\n"
                   "        try:\n            print(pid, what, open(f'/proc/{pid}/{what}', 'rb').read()[:4000])\n"
                   "        except Exception as e:\n            print(pid, what, type(e).__name__)\n"
                   "    try:\n        print(pid, [os.readlink(f'/proc/{pid}/fd/{fd}') for fd in os.listdir(f'/proc/{pid}/fd')])\n"
                   "    except Exception as e:\n        print(pid, 'fd', type(e).__name__)\n")), "complete"),
        # -- escaping -------------------------------------------------------------------------
        Attack("os-fork-exec", "a daemon started with _posixsubprocess.fork_exec (no audit event) in a new session",
               lambda h: _bytes(_with_cell(h["complete"],
                   "import _posixsubprocess, os\n"
                   "try:\n"
                   "    r, w = os.pipe()\n"
                   f"    args = [b'/bin/sh', b'-c', b'while :; do sleep 1; done # {MARK}']\n"
                   "    pid = _posixsubprocess.fork_exec(args, [b'/bin/sh'], True, (w,), None, None, -1, -1, -1, -1, -1, -1,\n"
                   "                                     r, w, True, True, -1, None, None, None, -1, None, False)\n"
                   "    print('started', pid)\n"
                   "except Exception as e:\n    print('fork_exec:', type(e).__name__, e)\n")), "complete"),
        Attack("os-fifo-mknod", "FIFOs, device nodes and files made outside the scratch folder (/tmp, /dev/shm, the course)",
               lambda h: _bytes(_with_cell(h["complete"],
                   "import os\n"
                   f"for path in ['/tmp/{MARK}-fifo', '/dev/shm/{MARK}-fifo', '{course_root}/{MARK}-fifo', '/proc/self/root{course_root}/{MARK}-fifo']:\n"
                   "    try:\n        os.mkfifo(path); print('made', path)\n    except Exception as e:\n        print(path, type(e).__name__)\n"
                   f"for path in ['/tmp/{MARK}-file', '/dev/shm/{MARK}-file', '/dev/{MARK}-file', '/run/{MARK}-file']:\n"
                   "    try:\n        open(path, 'w').write('x'); print('wrote', path)\n    except Exception as e:\n        print(path, type(e).__name__)\n"
                   "try:\n"
                   f"    os.mknod('/dev/shm/{MARK}-node'); print('mknod')\n"
                   "except Exception as e:\n    print('mknod', type(e).__name__)\n")), "complete"),
        Attack("os-config-append", "code appended to the course's nbgrader_config.py (runs in the instructor's process)",
               lambda h: _bytes(_with_cell(h["complete"],
                   "import os\n"
                   f"evil = {evil_config!r}\n"
                   f"for path in ['{config}', '/{config}', '/proc/self/root{config}', '/proc/1/root{config}']:\n"
                   "    try:\n        open(path, 'a').write(evil); print('appended', path)\n    except Exception as e:\n        print(path, type(e).__name__)\n"
                   "try:\n"
                   f"    d = os.open('{course_root}', os.O_RDONLY)\n"
                   "    fd = os.open('nbgrader_config.py', os.O_WRONLY | os.O_APPEND, dir_fd=d)\n"
                   "    os.write(fd, evil.encode())\n"
                   "except Exception as e:\n    print('dir_fd', type(e).__name__)\n")), "complete"),
        # -- harming others --------------------------------------------------------------------
        Attack("os-rewrite-cache", "the grader's cached results of every student rewritten",
               lambda h: _bytes(_with_cell(h["complete"],
                   "import os, glob\n"
                   f"for folder in ['{results}', '/{results}', '/proc/self/root{results}']:\n"
                   "    for path in glob.glob(folder + '/*.json'):\n"
                   "        try:\n"
                   f"            open(path, 'w').write({forged!r}); print('rewrote', path)\n"
                   "        except Exception as e:\n            print(path, type(e).__name__)\n")), "complete"),
        Attack("os-poison-pipes", "lines forged into other sandboxes' report pipes, and garbage into its own",
               lambda h: _bytes(_with_cell(h["complete"],
                   "import glob, os\n"
                   "mine = os.path.realpath('/run/rnn-course/report')\n"
                   "for path in set(glob.glob('/tmp/rcg-*/k*/report') + glob.glob('/proc/*/root/run/rnn-course/report')\n"
                   "                + glob.glob('/run/rnn-course/report')):\n"
                   "    try:\n"
                   "        fd = os.open(path, os.O_WRONLY | os.O_NONBLOCK)\n"
                   "        lines = b'STATUS {broken json\\nSTATUS {\"isolation\": \"none\"}\\n' if os.path.realpath(path) == mine \\\n"
                   "            else b'RESTORED builtins.len\\nLIMIT output-flood 1\\nSTATUS {}\\n'\n"
                   "        os.write(fd, lines); print('wrote', path)\n"
                   "    except Exception as e:\n        print(path, type(e).__name__)\n")), "complete"),
        # -- stopping the class ------------------------------------------------------------------
        Attack("os-deep-nesting", "100,000 levels of nested lists in the notebook's metadata",
               lambda h: _deep_nesting(h["complete"]), "blank", status=("unreadable",), findings=("unreadable",)),
        Attack("os-many-cells", "100,000 added cells", lambda h: _many_cells(h["complete"]), "blank",
               status=("unreadable",), findings=("unreadable",)),
        Attack("os-zip-copies", "eight copies of the notebook in one hand-in",
               lambda h: _zip_copies(h["complete"]), "complete", findings=("extra-notebooks",)),
        Attack("os-inode-bomb", "empty files created without end after the last test",
               lambda h: _bytes(_with_cell(h["complete"], "i = 0\nwhile True:\n    open(f'f{i}', 'w').close()\n    i += 1\n",
                                           after="test_rnn_output")), "complete", status=("files",)),
        Attack("os-disk-fill", "the scratch folder, /tmp and /dev/shm filled until the disk is full",
               lambda h: _bytes(_with_cell(h["complete"],
                   "import os\nblock = b'x' * 2**20\n"
                   "for folder in ['.', '/tmp', '/dev/shm']:\n"
                   "    try:\n"
                   "        with open(folder + '/fill', 'wb') as f:\n"
                   "            for _ in range(100000):\n                f.write(block)\n"
                   "    except OSError as e:\n        print(folder, 'full:', e.strerror)\n"
                   "    try:\n        os.remove(folder + '/fill')\n    except Exception:\n        pass\n")), "complete"),
        Attack("os-raw-fds", "a forged progress line and terminal escapes written to file descriptors 1 and 2",
               lambda h: _bytes(_with_cell(h["complete"],
                   "import os\n"
                   f"line = b'\\r\\x1b[2J\\x1b[H[########################] 40/40 complete 10/10 ok {MARK}-fd\\n'\n"
                   "os.write(1, line); os.write(2, line)\n"
                   "try:\n    open('/dev/tty', 'wb').write(line)\nexcept Exception as e:\n    print('tty', type(e).__name__)\n")),
               "complete"),
        # -- pages ------------------------------------------------------------------------------
        Attack("os-pages", "script in an added markdown cell, HTML and JavaScript outputs",
               lambda h: _bytes(_pages(h["complete"])), "complete", findings=("added-cells",)),
    ]

