"""Refresh the README's figure from an executed Chapter 1.

The figure is the PNG output of the chapter cell tagged `readme-figure`. Run after `make test`
(which leaves executed notebooks in `_build/executed/`):

    python tools/readme_figure.py
"""

from __future__ import annotations

import base64
from pathlib import Path

import nbformat

ROOT = Path(__file__).resolve().parents[1]
SOURCE = ROOT / "_build" / "executed" / "notebooks" / "01_sparse_parity.ipynb"
TARGET = ROOT / "book" / "images" / "ch01_hidden_progress.png"


def main() -> int:
    if not SOURCE.exists():
        print(f"{SOURCE.relative_to(ROOT)} not found: run `make test` first")
        return 1
    nb = nbformat.read(SOURCE, as_version=4)
    for cell in nb.cells:
        if cell.cell_type == "code" and "readme-figure" in cell.metadata.get("tags", []):
            for out in cell.get("outputs", []):
                png = out.get("data", {}).get("image/png")
                if png:
                    TARGET.parent.mkdir(parents=True, exist_ok=True)
                    TARGET.write_bytes(base64.b64decode(png))
                    print(f"wrote {TARGET.relative_to(ROOT)}")
                    return 0
    print("no PNG output in a cell tagged 'readme-figure'")
    return 1


if __name__ == "__main__":
    raise SystemExit(main())
