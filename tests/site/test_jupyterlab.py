"""A student's Run All in JupyterLab: chapter 1's student notebook (colab/01_sparse_parity.ipynb)
opened in JupyterLab on 127.0.0.1, driven by Playwright with Debian's Chromium.

Asserts that every cell ran without an error, that the Explore controls render as widgets with a
figure drawn at once and a labelled button that redraws it after a slider moved, that no
failed-looking (red) progress bar remains, and that after saving and reopening no widget shows
"Error displaying widget" (except the Explore controls, which need a live kernel: running their
cell again brings them back). Screenshots go to `_build/screenshots/`.

JupyterLab is among the development requirements (`requirements-dev.txt`), so `make test` runs
this test (about 75 s). Elsewhere it runs when `jupyterlab` is importable, or when
`LMT_JUPYTERLAB` names a `jupyter-lab` executable of another environment (the kernel is always
this environment's Python), and is skipped otherwise.
"""

from __future__ import annotations

import json
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
SCREENSHOTS = ROOT / "_build" / "screenshots"
CHROMIUM = Path("/usr/bin/chromium")
NOTEBOOK = ROOT / "colab" / "01_sparse_parity.ipynb"
RUN_ALL_TIMEOUT_MS = 15 * 60 * 1000

pytestmark = pytest.mark.slow


def _lab_command() -> list[str]:
    exe = os.environ.get("LMT_JUPYTERLAB", "").strip()
    if exe:
        return [exe]
    try:
        import jupyterlab  # noqa: F401
    except ImportError:
        pytest.skip("jupyterlab is not installed (pip install jupyterlab, or set LMT_JUPYTERLAB)")
    return [sys.executable, "-m", "jupyterlab"]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def lab(tmp_path_factory):
    """A JupyterLab server whose kernel is this environment's Python; yields (url, token, root)."""
    command = _lab_command()
    if not CHROMIUM.exists():
        pytest.skip("Debian's chromium is not installed (make browser)")
    pytest.importorskip("playwright")
    tmp = tmp_path_factory.mktemp("lab")
    root, jpath, settings = tmp / "root", tmp / "jupyter", tmp / "settings"
    root.mkdir()
    shutil.copy(NOTEBOOK, root / NOTEBOOK.name)
    spec = jpath / "kernels" / "python3"
    spec.mkdir(parents=True)
    (spec / "kernel.json").write_text(
        json.dumps(
            {
                "argv": [sys.executable, "-m", "ipykernel_launcher", "-f", "{connection_file}"],
                "display_name": "Python 3",
                "language": "python",
            }
        )
    )
    # Render every cell (JupyterLab 4 only renders the cells in view by default).
    tracker = settings / "@jupyterlab" / "notebook-extension"
    tracker.mkdir(parents=True)
    (tracker / "tracker.jupyterlab-settings").write_text(json.dumps({"windowingMode": "none"}))
    env = dict(
        os.environ,
        LMT_SCALE="quick",
        OMP_NUM_THREADS="1",
        JUPYTER_PATH=os.pathsep.join([str(jpath), str(Path(sys.prefix) / "share" / "jupyter")]),
    )
    env.pop("LMT_STATIC", None)  # a student's session: widgets, not static figures
    token, port = secrets.token_hex(16), _free_port()
    args = command + [
        "--no-browser",
        "--ip=127.0.0.1",
        f"--port={port}",
        f"--IdentityProvider.token={token}",
        f"--ServerApp.root_dir={root}",
        f"--LabApp.user_settings_dir={settings}",
        "--LabApp.expose_app_in_browser=True",
    ]
    if hasattr(os, "geteuid") and os.geteuid() == 0:
        args.append("--allow-root")
    log = open(tmp / "lab.log", "w")
    server = subprocess.Popen(args, env=env, stdout=log, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}"
    try:
        for _ in range(240):
            try:
                urllib.request.urlopen(f"{url}/api/status?token={token}", timeout=2)
                break
            except OSError:
                if server.poll() is not None:
                    pytest.fail(f"JupyterLab exited: {(tmp / 'lab.log').read_text()[-2000:]}")
                time.sleep(0.5)
        else:
            pytest.fail("JupyterLab did not start within 2 minutes")
        yield url, token, root
    finally:
        server.terminate()
        try:
            server.wait(30)
        except subprocess.TimeoutExpired:
            server.kill()
        log.close()


KERNEL_IDLE_JS = """() => { const w = jupyterapp.shell.currentWidget;
  const k = w && w.sessionContext && w.sessionContext.session && w.sessionContext.session.kernel;
  return k && k.status === 'idle'; }"""
ALL_RAN_JS = """() => { const w = jupyterapp.shell.currentWidget;
  const cells = w.content.widgets.filter(c => c.model.type === 'code');
  return cells.every(c => c.model.executionCount !== null)
      && w.sessionContext.session.kernel.status === 'idle'; }"""


# The source of every cell with an output that says "Error displaying widget". The source comes
# from the cell's model: the editor renders only the lines on screen, so its text can be partial.
WIDGET_ERRORS_JS = """() => jupyterapp.shell.currentWidget.content.widgets
  .filter(w => [...w.node.querySelectorAll('.jp-OutputArea-output')]
                 .some(o => o.textContent.includes('Error displaying widget')))
  .map(w => w.model.sharedModel.getSource())"""


def test_run_all_in_jupyterlab(lab):
    from playwright.sync_api import sync_playwright

    url, token, _ = lab
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    with sync_playwright() as p:
        browser = p.chromium.launch(
            executable_path=str(CHROMIUM), args=["--no-sandbox", "--disable-gpu"]
        )
        page = browser.new_page(viewport={"width": 1400, "height": 1000})
        page.goto(f"{url}/lab/tree/{NOTEBOOK.name}?token={token}")
        page.wait_for_function(
            "window.jupyterapp && document.querySelector('.jp-Notebook .jp-Cell')", timeout=120_000
        )
        page.wait_for_function(KERNEL_IDLE_JS, timeout=120_000)
        page.evaluate("jupyterapp.commands.execute('notebook:run-all-cells')")
        page.wait_for_timeout(2000)
        page.wait_for_function(ALL_RAN_JS, timeout=RUN_ALL_TIMEOUT_MS, polling=1000)
        page.screenshot(path=str(SCREENSHOTS / "jupyterlab-run-all.png"))

        errors = page.locator("[data-mime-type='application/vnd.jupyter.error']")
        assert errors.count() == 0, f"cells raised: {errors.first.inner_text()[:2000]}"
        assert page.locator(".progress-bar-danger").count() == 0, "a red (failed) progress bar"

        # Explore: sliders, a figure drawn at once, a labelled button that redraws it.
        assert page.locator(".widget-slider").count() >= 1, "the Explore controls are no widgets"
        figure = page.locator(".widget-output img")
        assert figure.count() >= 1, "no figure under the Explore controls after Run All"
        button = page.get_by_role("button", name="Re-run with these settings")
        assert button.count() == 1
        before = figure.first.get_attribute("src")
        handle = page.locator(".widget-slider .noUi-handle").last
        handle.focus()
        handle.press("ArrowRight")
        button.scroll_into_view_if_needed()
        button.click()
        page.wait_for_function(
            "s => { const i = document.querySelector('.widget-output img'); return i && i.src !== s; }",
            arg=before,
            timeout=600_000,
            polling=500,
        )
        page.screenshot(path=str(SCREENSHOTS / "jupyterlab-explore.png"))

        # Save, close the kernel, reopen (a new kernel, as the next day): no widget may fail to
        # display, except the Explore controls themselves, which need a live kernel (running
        # their cell again brings them back; JupyterLab's "Save Widget State Automatically"
        # setting keeps them).
        page.evaluate("jupyterapp.commands.execute('docmanager:save')")
        page.wait_for_timeout(3000)
        page.evaluate("jupyterapp.shell.currentWidget.sessionContext.shutdown()")
        page.wait_for_timeout(3000)
        page.reload()
        page.wait_for_function(
            "window.jupyterapp && document.querySelector('.jp-Notebook .jp-Cell')", timeout=120_000
        )
        page.wait_for_timeout(10_000)
        page.screenshot(path=str(SCREENSHOTS / "jupyterlab-reopened.png"))
        broken = page.evaluate(WIDGET_ERRORS_JS)
        broken = [code for code in broken if "notebook.explore(" not in code]
        assert not broken, (
            f"{len(broken)} widget(s) show 'Error displaying widget' after reopening, "
            f"in cells starting: {[c[:60] for c in broken[:5]]}"
        )
        browser.close()
