"""A real JupyterLab in a real (headless) Chromium, reaching the session's test stack.

The server runs on a scratch copy of the course (notebooks/, labs/ and the fixtures here),
so the tests can type answers into labs without touching the checkout, with its own
nbgrader exchange, and with the learner configuration ``make lab`` uses
(``edalab/jupyter`` on ``JUPYTER_CONFIG_PATH``).

Chromium comes from the system (``apt-get install chromium``); Playwright cannot download
browsers here. Without it the tests skip - unless ``EDALAB_REQUIRE_BROWSER=1`` (CI), where a
missing browser is a failure.
"""

from __future__ import annotations

import os
import secrets
import shutil
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

from edalab.stack import free_port

ROOT = Path(__file__).resolve().parents[2]
HERE = Path(__file__).resolve().parent
CHROMIUM = Path(os.environ.get("EDALAB_CHROMIUM", "/usr/bin/chromium"))  # Debian's package
ARTIFACTS = ROOT / "artifacts" / "browser"
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync"]


@pytest.fixture(scope="session")
def chromium() -> Path:
    if CHROMIUM.is_file() and os.access(CHROMIUM, os.X_OK):
        return CHROMIUM
    reason = (f"Chromium not found at {CHROMIUM}: install it with "
              "`apt-get install -y chromium` to run the browser tests")
    if os.environ.get("EDALAB_REQUIRE_BROWSER") == "1":
        pytest.fail(reason + " (EDALAB_REQUIRE_BROWSER=1 requires them)")
    pytest.skip(reason)


@pytest.fixture(scope="session")
def course(tmp_path_factory) -> Path:
    """A scratch copy of the learner's side of the course, plus the browser fixtures."""
    root = tmp_path_factory.mktemp("course")
    ignore = shutil.ignore_patterns(".ipynb_checkpoints", "__pycache__")
    shutil.copytree(ROOT / "notebooks", root / "notebooks", ignore=ignore)
    labs = ROOT / "labs"
    if labs.is_dir():
        shutil.copytree(labs, root / "labs", ignore=ignore)
    (root / "labs").mkdir(exist_ok=True)
    shutil.copytree(HERE / "fixtures" / "lab00_browser", root / "labs" / "lab00_browser")
    shutil.copy(HERE / "fixtures" / "widget-walkthrough.ipynb", root / "notebooks")
    return root


@pytest.fixture(scope="session")
def jupyter(stack, course, tmp_path_factory):
    """``(base_url, token)`` of a JupyterLab server started like ``make lab``, on a free port."""
    port, token = free_port(), secrets.token_hex(16)
    state = tmp_path_factory.mktemp("jupyter")
    env = {
        **os.environ,  # the stack fixture exported EDALAB_HOME / _AWS_PORT / _KAFKA_PORT
        "JUPYTER_CONFIG_PATH": str(ROOT / "edalab" / "jupyter"),
        "JUPYTER_CONFIG_DIR": str(state / "config"),  # ignore the developer's ~/.jupyter
        "JUPYTER_RUNTIME_DIR": str(state / "runtime"),
        "EDALAB_LABS_DIR": str(course / "labs"),
        "EDALAB_EXCHANGE": str(state / "exchange"),
    }
    argv = [str(Path(sys.executable).with_name("jupyter")), "lab", "--no-browser",
            "--ServerApp.ip=127.0.0.1", f"--ServerApp.port={port}", "--ServerApp.port_retries=0",
            f"--IdentityProvider.token={token}", f"--ServerApp.root_dir={course}",
            f"--LabApp.workspaces_dir={state / 'workspaces'}",
            f"--LabApp.user_settings_dir={state / 'settings'}",
            "--LabApp.expose_app_in_browser=True"]
    if os.geteuid() == 0:  # CI containers run as root
        argv.append("--allow-root")
    # A lab released to the exchange but not in labs/ yet: the learner fetches it in a test.
    released = state / "exchange" / "edalab" / "outbound" / "lab00_fetch"
    released.mkdir(parents=True)
    shutil.copy(HERE / "fixtures" / "lab00_browser" / "lab00_browser.ipynb", released / "lab00_fetch.ipynb")
    # No "get Jupyter news?" toast over the notebook (it would hide buttons in screenshots).
    news = state / "settings" / "@jupyterlab" / "apputils-extension"
    news.mkdir(parents=True)
    (news / "notification.jupyterlab-settings").write_text('{"fetchNews": "false"}')
    log = open(state / "jupyter.log", "wb")
    proc = subprocess.Popen(argv, env=env, cwd=course, stdout=log, stderr=subprocess.STDOUT,
                            stdin=subprocess.DEVNULL, start_new_session=True)
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 120
    while True:
        try:
            with urllib.request.urlopen(f"{base}/api/status?token={token}", timeout=2) as resp:
                if resp.status == 200:
                    break
        except OSError:
            pass
        if proc.poll() is not None or time.monotonic() > deadline:
            proc.kill()
            pytest.fail("JupyterLab did not start:\n" + (state / "jupyter.log").read_text()[-3000:])
        time.sleep(0.3)
    yield {"url": base, "token": token, "course": course, "log": state / "jupyter.log",
           "exchange": state / "exchange"}
    proc.terminate()
    try:
        proc.wait(15)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()
    log.close()


@pytest.fixture(scope="session")
def browser(chromium):
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        brw = pw.chromium.launch(executable_path=str(chromium), args=CHROMIUM_ARGS)
        yield brw
        brw.close()


@pytest.fixture
def page(browser, jupyter):
    context = browser.new_context(viewport={"width": 1400, "height": 1000})
    pg = context.new_page()
    pg.set_default_timeout(120_000)  # generous: CI shares 2 cores with other tests
    yield pg
    context.close()


@pytest.fixture
def shot(request):
    """``shot(page, "step")`` saves artifacts/browser/<test>-<step>.png (git-ignored)."""
    ARTIFACTS.mkdir(parents=True, exist_ok=True)

    def save(pg, step: str) -> Path:
        path = ARTIFACTS / f"{request.node.name}-{step}.png"
        pg.screenshot(path=str(path), full_page=False)
        return path

    return save
