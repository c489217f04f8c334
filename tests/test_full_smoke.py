"""Full mode, capped: every chapter's full branch runs end to end with a few training steps.

Each chapter is executed headless with ``LMT_SCALE=full`` and ``LMT_MAX_STEPS=3``: the sizes,
sweeps and code paths are those of full mode, but every training loop stops after three updates.
This catches shape and logic errors in the full branches within the CI budget (about half a
minute a chapter). Checks that need the training (``reproduce.report`` and ``reproduce.check``)
say they were skipped; every other assert still runs. The full runs themselves, uncapped, are
made by ``make reproduce`` and leave their records in ``reproductions/``.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
CHAPTERS = sorted((ROOT / "notebooks").glob("[0-9][0-9]_*.ipynb"))
TIMEOUT_S = 420

pytestmark = pytest.mark.slow


def run_capped(nb: Path, tmp_path: Path) -> None:
    """Execute the chapter ``nb`` in full mode with ``LMT_MAX_STEPS=3``; fail with its log."""
    env = dict(
        os.environ,
        LMT_SCALE="full",
        LMT_MAX_STEPS="3",
        LMT_STATIC="1",
        LMT_THREADS="1",
        OMP_NUM_THREADS="1",
        LMT_CHECKPOINTS=str(tmp_path / "checkpoints"),
        PYTHONHASHSEED="0",
    )
    for name in ("LMT_RECORD", "LMT_RECORD_FIGURE"):
        env.pop(name, None)
    cmd = [
        str(Path(sys.executable).parent / "jupyter-execute"),
        f"--timeout={TIMEOUT_S}",
        "--kernel_name=python3",
        nb.name,
    ]
    proc = subprocess.run(
        cmd, cwd=nb.parent, env=env, capture_output=True, text=True, timeout=TIMEOUT_S + 60
    )
    log = proc.stdout + proc.stderr
    assert proc.returncode == 0, f"{nb.stem} failed in capped full mode:\n{log[-4000:]}"


# One class per chapter: under `pytest -n 2 --dist loadscope` each class is its own scope, so the
# chapters are shared between the workers instead of running one after another on one of them.
for _nb in CHAPTERS:
    _name = f"TestChapter{_nb.stem[:2]}FullCapped"
    globals()[_name] = type(
        _name,
        (),
        {
            "test_full_mode_runs_capped": (lambda self, tmp_path, nb=_nb: run_capped(nb, tmp_path)),
            "__doc__": f"{_nb.stem} in full mode, every training loop capped at three steps.",
        },
    )
del _nb, _name
