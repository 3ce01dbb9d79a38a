"""JupyterLab in headless Chromium: a server on a free localhost port with a token, and a browser page per test.

The lessons are copied to a temporary folder first, so that running them (and JupyterLab's autosave) never
writes outputs into the student edition. The tests skip, saying why, where Chromium or Playwright is missing;
`.ci/run` installs Chromium so that CI always runs them. Screenshots go to tests/browser/screenshots/.

A test marked `runs_lesson("NN_name")` runs that lesson of the student edition top to bottom in quick mode and fails
on any error output, which is everything nbval's run of the same notebook checks (`--nbval-lax` compares no
outputs). Where both are collected, nbval's run of that notebook is deselected rather than run a second time;
`make test-notebooks` and a run without Chromium still give every notebook to nbval.
"""

import os
import secrets
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
SCREENSHOTS = Path(__file__).with_name("screenshots")
CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
CHROMIUM_FLAGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-quic",
    # The site's tests call play() on every player, as a reader's click would.
    "--autoplay-policy=no-user-gesture-required",
]


def pytest_configure(config):
    config.addinivalue_line("markers", "runs_lesson(name): the test runs this lesson of the student edition")


def _is_browser_test(item):
    return "browser" in str(item.fspath)


def pytest_collection_modifyitems(config, items):
    reason = None
    if CHROMIUM is None:
        reason = "Chromium is not installed (Debian: apt-get install chromium); the browser tests need it"
    else:
        try:
            import playwright  # noqa: F401
        except ImportError:
            reason = "the playwright package is not installed (pip install -e '.[dev]')"
    if reason:
        for item in items:
            if _is_browser_test(item):
                item.add_marker(pytest.mark.skip(reason=reason))
        return
    run_here = {
        f"{marker.args[0]}.ipynb"
        for item in items
        if _is_browser_test(item)
        for marker in item.iter_markers("runs_lesson")
    }
    repeated = [item for item in items if item.path.parent == ROOT / "notebooks" and item.path.name in run_here]
    if repeated:
        config.hook.pytest_deselected(items=repeated)
        items[:] = [item for item in items if item not in repeated]


def _free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="session")
def lab(tmp_path_factory):
    """A running JupyterLab serving a copy of notebooks/; yields (base URL, token)."""
    root = tmp_path_factory.mktemp("course")
    shutil.copytree(ROOT / "notebooks", root / "notebooks")
    port, token = _free_port(), secrets.token_hex(16)
    log = open(root / "jupyterlab.log", "w")
    command = [
        sys.executable,
        "-m",
        "jupyterlab",
        "--no-browser",
        "--ServerApp.ip=127.0.0.1",
        f"--ServerApp.port={port}",
        f"--IdentityProvider.token={token}",
        f"--ServerApp.root_dir={root}",
        "--LabApp.expose_app_in_browser=True",
        "--ServerApp.port_retries=0",
    ]
    if hasattr(os, "geteuid") and os.geteuid() == 0:
        command.append("--allow-root")
    server = subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT, env={**os.environ, "MUSEGEN_QUICK": "1"})
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 60
    while True:
        try:
            urllib.request.urlopen(f"{url}/api/status?token={token}", timeout=2)
            break
        except OSError:
            if server.poll() is not None or time.monotonic() > deadline:
                server.kill()
                pytest.fail(f"JupyterLab did not start; see {root / 'jupyterlab.log'}")
            time.sleep(0.5)
    yield url, token
    server.terminate()
    try:
        server.wait(timeout=15)
    except subprocess.TimeoutExpired:
        server.kill()
    log.close()


@pytest.fixture(scope="session")
def browser():
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        instance = playwright.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_FLAGS)
        yield instance
        instance.close()


@pytest.fixture
def page(browser, request):
    """A fresh page; uncaught JavaScript exceptions are collected in page.errors. A screenshot is kept."""
    context = browser.new_context(viewport={"width": 1400, "height": 1000})
    page = context.new_page()
    page.errors = []
    page.on("pageerror", lambda error: page.errors.append(str(error)))
    yield page
    SCREENSHOTS.mkdir(exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / f"{request.node.name}.png"), full_page=True)
    context.close()


@pytest.fixture
def lesson_page(page, lab, request):
    """The page of the lesson the test is marked with (`runs_lesson`), opened in JupyterLab and run with Run All.
    Taking the lesson from the mark keeps what is run and what nbval is spared the same."""
    from notebook_page import open_and_run

    open_and_run(page, lab, f"{request.node.get_closest_marker('runs_lesson').args[0]}.ipynb")
    return page
