"""Browser fixtures: Debian's Chromium driven by Playwright, JupyterLab started as `make lab` does.

`make test-browser` installs Chromium from Debian's packages (``apt-get install chromium``) and
runs these tests; Playwright never downloads a browser of its own. Without Chromium every test
here skips, and says why. Screenshots of every step land in ``build/browser/<test>/`` (git-ignored),
with the JupyterLab server's log beside them.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

from tests.conftest import REPO

ARTEFACTS = REPO / "build" / "browser"
INSTALL_LOG = ARTEFACTS / "chromium-install.log"
# As root on a machine with a closed network: no sandbox (root), no GPU, and none of Chromium's
# background connections (they are refused here, many at a time).
CHROMIUM_FLAGS = [
    "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
]
TOKEN = "rnn-course-browser-tests"
VIEWPORT = {"width": 1400, "height": 900}
# JupyterLab settings for the tests: every cell in the DOM (no windowing), no news prompt.
LAB_SETTINGS = {
    "@jupyterlab/notebook-extension/tracker.jupyterlab-settings": {"windowingMode": "none"},
    "@jupyterlab/apputils-extension/notification.jupyterlab-settings": {"fetchNews": "false"},
}


def pytest_collection_modifyitems(items):
    """Mark every test here `browser`; without Chromium, skip them all before any fixture runs."""
    here = Path(__file__).parent
    mine = [item for item in items if Path(str(item.fspath)).is_relative_to(here)]
    reason = None if chromium_path() else no_chromium_reason()
    for item in mine:
        item.add_marker(pytest.mark.browser)
        if reason:
            item.add_marker(pytest.mark.skip(reason=reason))


def chromium_path() -> str | None:
    """Debian's Chromium: RNN_COURSE_CHROMIUM, else `chromium` on PATH, else None."""
    wanted = os.environ.get("RNN_COURSE_CHROMIUM")
    if wanted:
        return wanted if os.access(wanted, os.X_OK) else None
    return shutil.which("chromium")


def no_chromium_reason() -> str:
    wanted = os.environ.get("RNN_COURSE_CHROMIUM")
    why = (f"no Chromium: RNN_COURSE_CHROMIUM={wanted} is not an executable" if wanted
           else "no Chromium: `chromium` is not on PATH")
    if INSTALL_LOG.is_file():
        tail = INSTALL_LOG.read_text(errors="replace").strip().splitlines()[-3:]
        return why + "; `make test-browser` could not install it: " + " | ".join(tail)
    return why + "; `make test-browser` installs it with apt-get (Debian's package chromium)"


@pytest.fixture(scope="session")
def chromium() -> str:
    path = chromium_path()
    if path is None:
        pytest.skip(no_chromium_reason())
    return path


@pytest.fixture(scope="session")
def browser(chromium):
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=chromium, args=CHROMIUM_FLAGS, headless=True)
        yield browser
        browser.close()


@pytest.fixture
def page(browser):
    """A fresh browser context (its own cookies and storage) and page; 60 s per action."""
    context = browser.new_context(viewport=VIEWPORT)
    page = context.new_page()
    page.set_default_timeout(60_000)
    yield page
    context.close()


class Shots:
    """Numbered screenshots of one test's steps in build/browser/<test>/."""

    def __init__(self, folder: Path):
        self.folder = folder
        if folder.exists():
            shutil.rmtree(folder)
        folder.mkdir(parents=True)
        self.taken: list[Path] = []

    def __call__(self, target, name: str) -> Path:
        """Screenshot a page or a locator as NN-name.png."""
        path = self.folder / f"{len(self.taken) + 1:02d}-{name}.png"
        target.screenshot(path=str(path))
        self.taken.append(path)
        return path


@pytest.fixture
def shots(request) -> Shots:
    return Shots(ARTEFACTS / re.sub(r"[^A-Za-z0-9_.-]+", "_", request.node.name))


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Lab:
    """A JupyterLab server started with `python -m rnn_course.lab` (what `make lab` runs)."""

    def __init__(self, root: Path, course: Path, scratch: Path, log: Path):
        self.root, self.course = Path(root), Path(course)
        self.port = _free_port()
        self.base = f"http://127.0.0.1:{self.port}"
        settings = scratch / "user-settings"
        for name, values in LAB_SETTINGS.items():
            (settings / name).parent.mkdir(parents=True, exist_ok=True)
            (settings / name).write_text(json.dumps(values))
        argv = [
            sys.executable, "-m", "rnn_course.lab", "--root", str(self.root), "--course", str(self.course), "--",
            f"--port={self.port}", "--no-browser", f"--IdentityProvider.token={TOKEN}",
            f"--LabApp.user_settings_dir={settings}", f"--LabApp.workspaces_dir={scratch / 'workspaces'}",
        ]
        env = dict(os.environ, JUPYTER_CONFIG_DIR=str(scratch / "config"),
                   JUPYTER_RUNTIME_DIR=str(scratch / "runtime"))
        self.log = log
        log.parent.mkdir(parents=True, exist_ok=True)
        self._log_file = open(log, "w")
        self.process = subprocess.Popen(argv, stdout=self._log_file, stderr=subprocess.STDOUT,
                                        stdin=subprocess.DEVNULL, env=env, start_new_session=True)
        self._wait_ready()

    def _wait_ready(self, seconds: float = 90.0) -> None:
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"JupyterLab exited with {self.process.returncode}:\n{self.log_tail()}")
            try:
                with urllib.request.urlopen(f"{self.base}/api/status?token={TOKEN}", timeout=2) as reply:
                    if reply.status == 200:
                        return
            except OSError:
                time.sleep(0.3)
        raise RuntimeError(f"JupyterLab did not answer within {seconds:.0f} s:\n{self.log_tail()}")

    def url(self, path: str) -> str:
        """Address of ``path`` on the server, logged in with the token (as `make lab` prints it)."""
        sep = "&" if "?" in path else "?"
        return f"{self.base}/{path.lstrip('/')}{sep}token={TOKEN}"

    def shutdown_kernels(self) -> None:
        """Shut down every kernel the server runs (as the Running tab's "Shut Down All")."""
        with urllib.request.urlopen(f"{self.base}/api/kernels?token={TOKEN}", timeout=10) as reply:
            kernels = json.load(reply)
        for kernel in kernels:
            request = urllib.request.Request(f"{self.base}/api/kernels/{kernel['id']}?token={TOKEN}",
                                             method="DELETE")
            urllib.request.urlopen(request, timeout=30).close()

    def log_tail(self, lines: int = 40) -> str:
        self._log_file.flush()
        return "\n".join(self.log.read_text(errors="replace").splitlines()[-lines:])

    def stop(self) -> None:
        """Stop the server and its kernels (the whole process group)."""
        if self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait()
        try:
            os.killpg(self.process.pid, signal.SIGKILL)  # kernels left behind, if any
        except ProcessLookupError:
            pass
        self._log_file.close()


@pytest.fixture
def start_lab(tmp_path, shots):
    """Start JupyterLab servers for one test; all are stopped when it ends."""
    servers = []

    def start(root: Path, course: Path | None = None) -> Lab:
        lab = Lab(root, course or root, tmp_path / f"lab{len(servers)}", shots.folder / f"jupyterlab{len(servers)}.log")
        servers.append(lab)
        return lab

    yield start
    for lab in servers:
        lab.stop()
