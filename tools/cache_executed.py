"""Put the notebooks executed by the nbval test run into Jupyter Book's execution cache.

`make test` executes every chapter once, under nbval (tests/nbval_capture.py saves the executed
notebooks to `_build/executed/`). This script stores them in `_build/.jupyter_cache`, keyed on
their code cells exactly as Jupyter Book keys them, so the book build that follows reuses the
outputs instead of executing every chapter a second time.
"""

from __future__ import annotations

from pathlib import Path

import nbformat
from jupyter_cache import get_cache
from jupyter_cache.base import CacheBundleIn

ROOT = Path(__file__).resolve().parents[1]
EXECUTED = ROOT / "_build" / "executed"
CACHE = ROOT / "_build" / ".jupyter_cache"


def main() -> int:
    files = sorted(EXECUTED.rglob("*.ipynb")) if EXECUTED.exists() else []
    if not files:
        print("cache_executed: no executed notebooks found; the book build will execute them")
        return 0
    cache = get_cache(str(CACHE))
    for f in files:
        nb = nbformat.read(f, as_version=4)
        source = ROOT / f.relative_to(EXECUTED)
        cache.cache_notebook_bundle(
            CacheBundleIn(nb, str(source), data={"source": "nbval"}),
            check_validity=False,
            overwrite=True,
        )
        print(f"cache_executed: cached {source.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
