"""The repository URL lives in `_config.yml` (repository.url). Chapters' Colab setup cells install
`lmt_core` from `git+<url>@<branch>`; this script checks them, or rewrites them after a fork.

    python tools/repo_url.py            # print the URL and check every chapter (exit 1 on drift)
    python tools/repo_url.py --write    # rewrite the chapters' install lines, re-sync .ipynb and
                                        # regenerate the student notebooks (colab/)
"""

from __future__ import annotations

import argparse
import re
import subprocess
import sys
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[1]
INSTALL = re.compile(r'"git\+(?P<url>[^"@]+)@(?P<branch>[^"]+)"')


def repository() -> tuple[str, str]:
    """(url, branch) from `_config.yml`."""
    cfg = yaml.safe_load((ROOT / "_config.yml").read_text(encoding="utf-8"))
    return cfg["repository"]["url"].rstrip("/"), cfg["repository"].get("branch", "main")


def install_spec() -> str:
    url, branch = repository()
    return f'"git+{url}@{branch}"'


def chapters() -> list[Path]:
    return sorted((ROOT / "notebooks").glob("[0-9][0-9]_*.py"))


def drift() -> list[str]:
    """Chapters whose install line does not name the configured repository."""
    want = install_spec()
    bad = []
    for py in chapters():
        found = [m.group(0) for m in INSTALL.finditer(py.read_text(encoding="utf-8"))]
        if found != [want]:
            bad.append(f"{py.relative_to(ROOT)}: {found or 'no install line'}")
    return bad


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    ap.add_argument("--write", action="store_true")
    args = ap.parse_args(argv)
    print("repository:", *repository())
    if args.write:
        for py in chapters():
            text = py.read_text(encoding="utf-8")
            py.write_text(INSTALL.sub(install_spec(), text), encoding="utf-8")
            subprocess.check_call([sys.executable, "-m", "jupytext", "--sync", str(py)])
        # the student notebooks (colab/) carry the repository's and the book's addresses too
        subprocess.check_call([sys.executable, str(ROOT / "tools" / "student_notebooks.py")])
    bad = drift()
    for b in bad:
        print("drift:", b)
    return 1 if bad else 0


if __name__ == "__main__":
    raise SystemExit(main())
