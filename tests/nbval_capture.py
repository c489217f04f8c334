"""pytest plugin: keep the outputs of notebooks executed by nbval.

Loaded with ``-p tests.nbval_capture`` next to ``--nbval-lax``. After a notebook whose every cell
passed, it writes the executed notebook to ``_build/executed/<path>.ipynb``; `tools/cache_executed.py`
then hands those to Jupyter Book's cache, so that each chapter is executed once per test run.
"""

from __future__ import annotations

from pathlib import Path

import nbformat
import pytest

ROOT = Path(__file__).resolve().parents[1]
OUT = ROOT / "_build" / "executed"
_files: dict[str, dict] = {}


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    outcome = yield
    report = outcome.get_result()
    if type(item).__name__ != "IPyNbCell" or report.when != "call":
        return
    nbfile = item.parent
    rec = _files.setdefault(str(nbfile.fspath), {"file": nbfile, "ok": True, "count": 0})
    if report.passed and item.test_outputs is not None:
        rec["count"] += 1
        item.cell.outputs = list(item.test_outputs)
        item.cell.execution_count = rec["count"]
        for out in item.cell.outputs:
            if out.get("output_type") == "execute_result":
                out["execution_count"] = rec["count"]
    else:
        rec["ok"] = False


def pytest_sessionfinish(session, exitstatus):
    for path, rec in _files.items():
        if not rec["ok"]:
            continue
        src = Path(path).resolve()
        try:
            rel = src.relative_to(ROOT)
        except ValueError:
            continue
        dest = OUT / rel
        dest.parent.mkdir(parents=True, exist_ok=True)
        nbformat.write(rec["file"].nb, dest)
