"""Execute chapters in full mode and write their records, ``reproductions/NN_slug.json``.

    python tools/reproduce.py                 # every chapter
    python tools/reproduce.py 09 15           # chapters 9 and 15
    python tools/reproduce.py 09 --no-quick   # full mode only (the record's quick values stay null)

Each chapter is executed twice, headless, with one thread: in quick mode and in full mode, with
``$LMT_RECORD`` pointing at a scratch file into which :func:`lmt_core.reproduce.report` writes one
line per checked result, and ``$LMT_RECORD_FIGURE`` at ``reproductions/NN_slug.png`` for the full
run's headline figure. The two runs are joined by (paper, claim) into the record::

    {"chapter", "commit", "code_hash", "scale": "full", "wall_seconds", "machine", "date",
     "results": [{"paper", "claim", "paper_value", "quick", "full", "assert", "passed",
                  "status", "section"}, ...]}

Chapters run in parallel, up to ``--jobs`` (default: the number of cores). A chapter whose full
run fails keeps its previous record; the tool exits 1 and says which failed.
"""

from __future__ import annotations

import argparse
import concurrent.futures as cf
import datetime as dt
import json
import os
import platform
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
RECORDS = ROOT / "reproductions"
TIMEOUT_S = 3600  # per run; full mode is meant to take at most 15 minutes on 2 CPU cores


def chapters(selected: list[str]) -> list[Path]:
    """The chapter notebooks whose number or slug starts with one of ``selected`` (all if empty)."""
    every = sorted((ROOT / "notebooks").glob("[0-9][0-9]_*.ipynb"))
    if not selected:
        return every
    chosen = [
        nb for nb in every if any(nb.stem.startswith(s.zfill(2)) or nb.stem == s for s in selected)
    ]
    unknown = [s for s in selected if not any(nb.stem.startswith(s.zfill(2)) for nb in every)]
    if unknown:
        raise SystemExit(f"no chapter matches {unknown}; chapters are {[nb.stem for nb in every]}")
    return chosen


def machine() -> str:
    """The processor (or GPU) the record was made on, in words."""
    try:
        import torch

        if torch.cuda.is_available():
            return f"{torch.cuda.get_device_name(0)} (GPU), {os.cpu_count()} CPU cores"
    except ImportError:
        pass
    model = platform.processor() or platform.machine()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return f"{model}, {os.cpu_count()} cores"


def commit(chapter: str) -> str:
    """HEAD's sha, with ``+dirty`` when the chapter's script or lmt_core differ from it."""
    sha = (
        subprocess.run(
            ["git", "rev-parse", "HEAD"], cwd=ROOT, capture_output=True, text=True
        ).stdout.strip()
        or "unknown"
    )
    paths = ["lmt_core", f"notebooks/{chapter}.py"]
    dirty = subprocess.run(["git", "diff", "--quiet", "HEAD", "--", *paths], cwd=ROOT).returncode
    return sha + ("+dirty" if dirty != 0 else "")


def code_hash(chapter: str, root: Path = ROOT) -> str:
    """The hash of the code a chapter's run depends on (see :func:`lmt_core.reproduce.code_hash`)."""
    from lmt_core.reproduce import code_hash as lmt_code_hash

    return lmt_code_hash(chapter, root)


def execute(
    nb: Path, scale: str, record: Path, figure: Path | None, checkpoints: Path
) -> tuple[bool, float, str]:
    """Run ``nb`` headless at ``scale``; returns (ok, wall seconds, the tail of the log).

    Checkpoints go to ``checkpoints`` (a scratch folder): a record is made from scratch, never
    from a run loaded from an earlier checkpoint.
    """
    env = dict(
        os.environ,
        LMT_SCALE=scale,
        LMT_STATIC="1",
        LMT_THREADS="1",
        OMP_NUM_THREADS="1",
        LMT_RECORD=str(record),
        LMT_CHECKPOINTS=str(checkpoints),
        PYTHONHASHSEED="0",
    )
    env.pop("LMT_MAX_STEPS", None)
    env.pop("LMT_RECORD_FIGURE", None)
    if figure is not None:
        env["LMT_RECORD_FIGURE"] = str(figure)
    # nbclient's runner (installed with the book toolchain) executes in the notebook's folder
    cmd = [
        str(Path(sys.executable).parent / "jupyter-execute"),
        f"--timeout={TIMEOUT_S}",
        "--kernel_name=python3",
        nb.name,
    ]
    start = time.perf_counter()
    proc = subprocess.run(cmd, cwd=nb.parent, env=env, capture_output=True, text=True)
    wall = time.perf_counter() - start
    return proc.returncode == 0, wall, (proc.stdout + proc.stderr)[-3000:]


def read_lines(path: Path) -> list[dict]:
    if not path.exists():
        return []
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line]


def join(quick: list[dict], full: list[dict]) -> list[dict]:
    """One row per result of the full run, with the quick run's value for the same claim."""
    quick_value = {(r["paper"], r["claim"]): r["value"] for r in quick}
    return [
        {
            "paper": r["paper"],
            "claim": r["claim"],
            "paper_value": r["paper_value"],
            "quick": quick_value.get((r["paper"], r["claim"])),
            "full": r["value"],
            "assert": r["assertion"],
            "passed": r["passed"],
            "status": r["status"],
            "section": r.get("section"),
        }
        for r in full
    ]


def reproduce(nb: Path, with_quick: bool) -> tuple[str, bool, str]:
    """Make the record of one chapter and its headline figure; returns (chapter, ok, message).

    A chapter whose full run fails, or saves no headline figure, keeps its previous record.
    """
    RECORDS.mkdir(exist_ok=True)
    with tempfile.TemporaryDirectory() as tmp:
        q_lines, f_lines = Path(tmp) / "quick.jsonl", Path(tmp) / "full.jsonl"
        figure = Path(tmp) / "headline.png"
        if with_quick:
            ok, wall, log = execute(nb, "quick", q_lines, None, Path(tmp) / "ckpt")
            if not ok:
                return nb.stem, False, f"quick run failed after {wall:.0f} s:\n{log}"
        ok, wall, log = execute(nb, "full", f_lines, figure, Path(tmp) / "ckpt")
        if not ok:
            return nb.stem, False, f"full run failed after {wall:.0f} s:\n{log}"
        if not figure.is_file():
            return nb.stem, False, "the full run saved no headline figure (reproduce.save_headline)"
        results = join(read_lines(q_lines), read_lines(f_lines))
        if not results:
            return nb.stem, False, "the full run reported no result (reproduce.report)"
        figure.replace(RECORDS / f"{nb.stem}.png")
    record = {
        "chapter": nb.stem,
        "commit": commit(nb.stem),
        "code_hash": code_hash(nb.stem),
        "scale": "full",
        "wall_seconds": round(wall),
        "machine": machine(),
        "date": dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds"),
        "results": results,
    }
    (RECORDS / f"{nb.stem}.json").write_text(json.dumps(record, indent=1) + "\n", encoding="utf-8")
    return nb.stem, True, f"{len(results)} results in {wall:.0f} s"


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    ap.add_argument("chapters", nargs="*", help="chapter numbers or slugs (default: all)")
    ap.add_argument("--jobs", type=int, default=os.cpu_count() or 1)
    ap.add_argument("--no-quick", action="store_true", help="skip the quick-mode run")
    args = ap.parse_args(argv)
    todo = chapters(args.chapters)
    failed = []
    with cf.ThreadPoolExecutor(max_workers=max(1, args.jobs)) as pool:
        futures = [pool.submit(reproduce, nb, not args.no_quick) for nb in todo]
        for fut in cf.as_completed(futures):
            name, ok, msg = fut.result()
            print(f"{name}: {'ok' if ok else 'FAILED'} — {msg}", flush=True)
            if not ok:
                failed.append(name)
    if failed:
        print(f"failed: {failed}", file=sys.stderr)
    return 1 if failed else 0


if __name__ == "__main__":
    raise SystemExit(main())
