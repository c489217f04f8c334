"""Build a variant of the book from the one `_config.yml`: the student edition or a build that
does not execute notebooks. Writes a derived config under `_build/` and calls Jupyter Book.

    python tools/build.py --student --out _build/student
    python tools/build.py --no-execute --out _build/noexec
"""

from __future__ import annotations

import argparse
import shutil
import subprocess
import sys
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[1]


def derived_config(student: bool, execute: bool) -> dict:
    cfg = yaml.safe_load((ROOT / "_config.yml").read_text(encoding="utf-8"))
    # local extensions are found relative to the config file: make their folders absolute
    local = cfg.setdefault("sphinx", {}).setdefault("local_extensions", {}) or {}
    cfg["sphinx"]["local_extensions"] = {k: str((ROOT / v).resolve()) for k, v in local.items()}
    if student:
        cfg["title"] = cfg["title"] + " (student edition)"
        cfg.setdefault("sphinx", {}).setdefault("local_extensions", {})["student_edition"] = str(
            ROOT / "tools"
        )
    if not execute:
        cfg["execute"]["execute_notebooks"] = "off"
    return cfg


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    ap.add_argument("--student", action="store_true", help="hide the solutions of exercises")
    ap.add_argument("--no-execute", action="store_true", help="do not execute notebooks")
    ap.add_argument("--out", required=True, help="output folder (the HTML goes to OUT/html)")
    args = ap.parse_args(argv)
    out = (ROOT / args.out).resolve()
    out.mkdir(parents=True, exist_ok=True)
    cfg_path = out / "_config.derived.yml"
    cfg_path.write_text(
        yaml.safe_dump(derived_config(args.student, not args.no_execute), sort_keys=False),
        encoding="utf-8",
    )
    jb = (
        "import sys; from jupyter_book.cli.main import main; sys.exit(main())"  # no __main__ module
    )
    cmd = [
        sys.executable,
        "-c",
        jb,
        "build",
        str(ROOT),
        "--config",
        str(cfg_path),
        "--path-output",
        str(out),
        "-W",
        "--keep-going",
    ]
    rc = subprocess.call(cmd, cwd=ROOT)
    # Jupyter Book writes OUT/_build/html; the HTML belongs in OUT/html.
    built = out / "_build" / "html"
    if rc == 0 and built.is_dir():
        shutil.rmtree(out / "html", ignore_errors=True)
        built.rename(out / "html")
    return rc


if __name__ == "__main__":
    raise SystemExit(main())
