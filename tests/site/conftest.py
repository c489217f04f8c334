"""Fixtures for the site tests: build the book (and its student edition) once, serve the HTML
over http on 127.0.0.1, and drive Debian's Chromium with Playwright.

`make test` runs these after the notebooks were executed by nbval and their outputs handed to
Jupyter Book's cache (tools/cache_executed.py), so the builds here do not execute the chapters
again. Run alone (`pytest tests/site`), the first build executes every chapter in quick mode.
`make test` shares the tests between two pytest-xdist workers (`-n 2`); the workers share one
build of each edition (`_once_per_run`).

Pages are found in `_toc.yml`; chapters are its entries under `notebooks/`. A test that takes a
`page` argument runs once for every page of the toc, one with a `chapter` argument once for every
chapter (see `pytest_generate_tests`).
"""

from __future__ import annotations

import functools
import http.server
import os
import re
import shutil
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[2]
BUILD = ROOT / "_build"
SCREENSHOTS = BUILD / "screenshots"
CHROMIUM = Path("/usr/bin/chromium")
# Flags known to run Debian's Chromium headless on these machines (shared toolchain notes).
# Playwright adds --headless itself and gives every launch a fresh temporary --user-data-dir.
CHROMIUM_FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
# `python -m jupyter_book` does not work with Jupyter Book 1.0.4 (the package has no __main__),
# so the build calls the CLI's entry point, exactly as the `jupyter-book` script does.
JUPYTER_BOOK = [
    sys.executable,
    "-c",
    "import sys; from jupyter_book.cli.main import main; sys.exit(main())",
]
BUILD_TIMEOUT_S = 3600  # a cold cache executes every chapter (at most ~90 s each in quick mode)
ANSI = re.compile(r"\x1b\[[0-9;]*m")
# Resolves once MathJax has typeset the page (or at once on a page without mathematics). The
# book serves MathJax from its own _static folder; requests leaving the site are blocked here,
# exactly as they fail on a machine without network.
WAIT_FOR_MATHJAX_JS = """
async () => {
  if (!document.querySelector('.math')) return true;
  for (let i = 0; i < 200 && !(window.MathJax && MathJax.startup && MathJax.startup.promise); i++)
    await new Promise(r => setTimeout(r, 50));
  if (!(window.MathJax && MathJax.startup && MathJax.startup.promise)) return false;
  await MathJax.startup.promise;
  return true;
}
"""


# ---------------------------------------------------------------------------------------------
# The book's structure, from _config.yml and _toc.yml


def book_config() -> dict:
    return yaml.safe_load((ROOT / "_config.yml").read_text(encoding="utf-8"))


def _toc_files(node) -> list[str]:
    files: list[str] = []
    if isinstance(node, dict):
        if "file" in node:
            files.append(str(node["file"]))
        for key in ("parts", "chapters", "sections"):
            for child in node.get(key, []) or []:
                files.extend(_toc_files(child))
    elif isinstance(node, list):
        for child in node:
            files.extend(_toc_files(child))
    return files


def toc_pages() -> list[str]:
    """Every page of the book as a docname (path without suffix), the root first."""
    toc = yaml.safe_load((ROOT / "_toc.yml").read_text(encoding="utf-8"))
    pages = [str(toc["root"])] + _toc_files(toc)
    pages = [re.sub(r"\.(md|ipynb|py)$", "", p) for p in pages]
    return list(dict.fromkeys(pages))


def toc_chapters() -> list[str]:
    """The chapter notebooks of the toc (entries under notebooks/)."""
    return [p for p in toc_pages() if p.startswith("notebooks/")]


def page_id(docname: str) -> str:
    return Path(docname).name


@pytest.fixture(scope="session")
def toc() -> list[str]:
    """The book's pages (docnames), in toc order, the root first."""
    return toc_pages()


@pytest.fixture(scope="session")
def config() -> dict:
    """The parsed _config.yml."""
    return book_config()


def pytest_generate_tests(metafunc):
    if "page" in metafunc.fixturenames:
        pages = toc_pages()
        metafunc.parametrize("page", pages, ids=[page_id(p) for p in pages])
    if "chapter" in metafunc.fixturenames:
        chapters = toc_chapters()
        metafunc.parametrize("chapter", chapters, ids=[page_id(p) for p in chapters])


# ---------------------------------------------------------------------------------------------
# Builds


def _build_env() -> dict[str, str]:
    env = dict(os.environ)
    env.setdefault("LMT_SCALE", "quick")
    env.setdefault("LMT_STATIC", "1")
    env["NO_COLOR"] = "1"
    return env


def _run_build(cmd: list[str], what: str, log: Path) -> None:
    """Run a build command in the repository root; fail with its warnings and log tail."""
    start = time.monotonic()
    proc = subprocess.run(
        cmd,
        cwd=ROOT,
        env=_build_env(),
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        timeout=BUILD_TIMEOUT_S,
    )
    out = ANSI.sub("", proc.stdout)
    log.parent.mkdir(parents=True, exist_ok=True)
    log.write_text(out, encoding="utf-8")
    print(f"\n{what}: {time.monotonic() - start:.1f} s (log: {log.relative_to(ROOT)})")
    if proc.returncode != 0:
        problems = [
            line
            for line in out.splitlines()
            if re.search(r"\b(WARNING|ERROR|CRITICAL)\b|Error:", line)
            and "Kernel is running over TCP" not in line
        ]
        tail = "\n".join(out.splitlines()[-40:])
        pytest.fail(
            f"{what} failed (exit {proc.returncode})\n"
            f"--- warnings and errors ({len(problems)}) ---\n"
            + "\n".join(problems[:60])
            + f"\n--- last 40 lines of the log (full log: {log}) ---\n{tail}",
            pytrace=False,
        )


def _once_per_run(name: str, build) -> None:
    """Call `build()` once per test run, also when pytest-xdist shares the tests between workers.

    Under xdist (`make test` runs these tests with `-n 2`) every worker has its own session
    fixtures; the first worker to take the lock builds, the others wait and reuse its output,
    recognised by a stamp holding the run's id. Without xdist this simply builds.
    """
    run_id = os.environ.get("PYTEST_XDIST_TESTRUNUID")
    if run_id is None:
        build()
        return
    from filelock import FileLock

    BUILD.mkdir(parents=True, exist_ok=True)
    stamp = BUILD / f".site-test-{name}.run"
    with FileLock(str(BUILD / f".site-test-{name}.lock")):
        if stamp.exists() and stamp.read_text(encoding="utf-8") == run_id:
            return
        stamp.unlink(missing_ok=True)
        build()  # fails the test (and writes no stamp) if the build fails
        stamp.write_text(run_id, encoding="utf-8")


@pytest.fixture(scope="session")
def book_html() -> Path:
    """The book, built once per session as `make book` builds it (warnings are errors)."""
    # --all: a fresh Sphinx environment, so warnings of pages unchanged since an earlier build
    # are reported too (an incremental build would not re-read them).
    _once_per_run(
        "book",
        lambda: _run_build(
            JUPYTER_BOOK + ["build", str(ROOT), "-W", "--keep-going", "--all"],
            "the book build (jupyter-book build . -W --keep-going --all)",
            BUILD / "site-test-build.log",
        ),
    )
    html = BUILD / "html"
    assert (html / "index.html").exists(), f"the build wrote no {html / 'index.html'}"
    return html


@pytest.fixture(scope="session")
def student_html() -> Path:
    """The student edition, built by tools/build.py --student (as `make book-student`)."""
    out = BUILD / "student"

    def build() -> None:
        shutil.rmtree(out, ignore_errors=True)  # no stale pages from an earlier build
        _run_build(
            [
                sys.executable,
                str(ROOT / "tools" / "build.py"),
                "--student",
                "--out",
                "_build/student",
            ],
            "the student-edition build (tools/build.py --student)",
            BUILD / "site-test-student.log",
        )

    _once_per_run("student", build)
    html = out / "html"
    elsewhere = sorted(str(p.parent.relative_to(ROOT)) for p in out.rglob("index.html"))
    assert (html / "index.html").exists(), (
        f"tools/build.py --out _build/student wrote no {html.relative_to(ROOT)}/index.html, where its "
        f"docstring and `make book-student` say the HTML goes; index.html found in: {elsewhere or 'nowhere'}"
    )
    return html


# ---------------------------------------------------------------------------------------------
# Serving


class _QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, format, *args):  # noqa: A002 - signature of the base class
        pass


@pytest.fixture(scope="session")
def serve():
    """serve(html_dir) -> base URL ('http://127.0.0.1:PORT/') of that folder, served in a thread."""
    servers = []

    def _serve(directory: Path) -> str:
        handler = functools.partial(_QuietHandler, directory=str(directory))
        server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)  # port 0: a free port
        threading.Thread(target=server.serve_forever, name=f"http {directory}", daemon=True).start()
        servers.append(server)
        return f"http://127.0.0.1:{server.server_address[1]}/"

    yield _serve
    for server in servers:
        server.shutdown()
        server.server_close()


@pytest.fixture(scope="session")
def site_url(book_html, serve) -> str:
    return serve(book_html)


@pytest.fixture(scope="session")
def student_url(student_html, serve) -> str:
    return serve(student_html)


# ---------------------------------------------------------------------------------------------
# Browser


@pytest.fixture(scope="session")
def browser():
    if not CHROMIUM.exists():
        msg = f"{CHROMIUM} is missing: install Debian's chromium (`make browser`)"
        if os.environ.get("CI"):
            pytest.fail(f"{msg}; in CI the browser test must run", pytrace=False)
        pytest.skip(msg)
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        browser = pw.chromium.launch(
            executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_FLAGS
        )
        yield browser
        browser.close()


class PageSession:
    """A Playwright page on a served build that records what went wrong while it was open."""

    # sphinx-thebe's configuration <script> is emitted twice by Jupyter Book 1.0.4, so every page
    # logs this SyntaxError; thebe is not used by the book. Any other page error is reported.
    KNOWN_PAGE_ERRORS = ("Identifier 'THEBE_JS_URL' has already been declared",)

    def __init__(self, page, base_url: str):
        self.page = page
        self.base_url = base_url
        self.page_errors: list[str] = []
        self.failed_local: list[str] = []
        page.on("pageerror", self._on_page_error)
        page.on("requestfailed", self._on_request_failed)
        page.on("response", self._on_response)

    def _on_page_error(self, err) -> None:
        text = str(err)
        if not any(known in text for known in self.KNOWN_PAGE_ERRORS):
            self.page_errors.append(text)

    def _on_request_failed(self, request) -> None:
        if request.url.startswith(self.base_url):
            self.failed_local.append(f"{request.url} ({request.failure})")

    def _on_response(self, response) -> None:
        if response.url.startswith(self.base_url) and response.status >= 400:
            self.failed_local.append(f"{response.url} (HTTP {response.status})")

    def url(self, docname: str) -> str:
        return f"{self.base_url}{docname}.html"

    def open(self, docname: str):
        response = self.page.goto(self.url(docname), wait_until="load")
        assert response is not None and response.ok, (
            f"{docname}: {self.url(docname)} answered {response.status if response else 'nothing'}"
        )
        self.page.evaluate(WAIT_FOR_MATHJAX_JS)
        return self.page

    def screenshot(self, name: str) -> Path:
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        path = SCREENSHOTS / f"{name}.png"
        self.page.screenshot(path=str(path), full_page=True)
        return path


def _page_session(browser, base_url: str):
    context = browser.new_context(viewport={"width": 1280, "height": 900})

    def only_local(route):
        # The book is tested offline: only the served folder is reachable. External resources
        # (MathJax and thebe from their CDNs) are aborted at once instead of timing out.
        if route.request.url.startswith(base_url):
            route.continue_()
        else:
            route.abort()

    context.route("**/*", only_local)
    return context, PageSession(context.new_page(), base_url)


@pytest.fixture
def site(browser, site_url):
    """A fresh browser page on the built book."""
    context, session = _page_session(browser, site_url)
    yield session
    context.close()


@pytest.fixture
def student_site(browser, student_url):
    """A fresh browser page on the student edition."""
    context, session = _page_session(browser, student_url)
    yield session
    context.close()
