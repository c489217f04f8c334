"""A chapter's setup cell installs lmt_core on Colab without touching Colab's own torch.

Colab ships its own torch build (with CUDA). A `pip install` that pins torch replaces it and
breaks the runtime. This test simulates Colab on this machine:

1. a fresh virtual environment, with torch installed from the CPU wheel on disk and then renamed
   to look like Colab's own build (version FAKE_TORCH, which does not satisfy our pin in
   constraints.txt), plus the scientific packages Colab has too (COLAB_PREINSTALLED);
2. the repository (working tree, tracked and untracked-but-not-ignored files) committed to a
   temporary git repository on branch `main`;
3. each chapter's real setup cell (the first code cell of notebooks/NN_*.py that mentions pip),
   with the GitHub URL of its install line pointed at that repository, run by the simulated
   environment's Python, IPython magics (`%pip`, `!pip`) included;

and checks that torch is untouched, `lmt_core` imports from the installed copy, `runtime.setup()`
works, and `pip check` has nothing to say about torch. A negative control installs a throw-away
package that pins torch and checks that the same inspection sees torch replaced.

It takes about a minute and a half (mostly installing torch into the fresh environment).
"""

from __future__ import annotations

import base64
import hashlib
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import zipfile
from dataclasses import dataclass
from pathlib import Path

import jupytext
import pytest
from packaging.requirements import Requirement
from packaging.specifiers import SpecifierSet

pytestmark = pytest.mark.slow  # about a minute: a fresh venv with torch, then pip installs

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tools"))
import repo_url  # noqa: E402

# Colab's torch as the simulation presents it: a different build that our pin does not match.
# (Not "2.13.0+colab": PEP 440 ignores a local label, so that would still satisfy torch==2.13.0.)
FAKE_TORCH = "2.12.0+colab"
TIMEOUT_S = 600
# Packages every Colab runtime ships besides torch that chapters import directly.
COLAB_PREINSTALLED = ("numpy", "matplotlib", "tqdm", "scipy", "scikit-learn")


def _torch_pin() -> str:
    """The torch requirement of constraints.txt (what local and CI machines install)."""
    for line in (ROOT / "constraints.txt").read_text(encoding="utf-8").splitlines():
        line = line.split("#")[0].strip()
        if line and Requirement(line).name == "torch":
            return line
    raise AssertionError("constraints.txt pins no torch")


def setup_cells() -> tuple[dict[str, list[str]], list[str]]:
    """Each distinct setup cell -> the chapters that use it; and the chapters that have none."""
    cells: dict[str, list[str]] = {}
    missing = []
    for py in sorted((ROOT / "notebooks").glob("[0-9][0-9]_*.py")):
        code = [c.source for c in jupytext.read(py).cells if c.cell_type == "code"]
        cell = next((src for src in code if "pip" in src), None)
        if cell is None:
            missing.append(py.name)
        else:
            cells.setdefault(cell, []).append(py.stem)
    return cells, missing


SETUP_CELLS, NO_SETUP_CELL = setup_cells()


# ---------------------------------------------------------------------------------------------
# The simulated Colab machine

# Runs a setup cell as Colab would: IPython magics go through a minimal `get_ipython()`, and
# `google.colab` is importable. Prints one JSON line with what the cell left behind.
RUNNER = r"""
import importlib.metadata, json, os, shlex, subprocess, sys, types

pip_calls = []

class Shell:
    def run_line_magic(self, name, line):
        if name != "pip":
            raise NotImplementedError(f"the Colab simulation does not know the magic %{name}")
        cmd = [sys.executable, "-m", "pip"] + shlex.split(line)
        pip_calls.append({"cmd": " ".join(cmd[2:]), "rc": subprocess.call(cmd)})

    def run_cell_magic(self, name, line, body):
        if name != "capture":
            raise NotImplementedError(f"the Colab simulation does not know the cell magic %%{name}")
        exec(compile(body, "<setup cell>", "exec"), ns)

    def system(self, cmd):
        rc = subprocess.call(cmd, shell=True)
        if "pip" in cmd:
            pip_calls.append({"cmd": cmd, "rc": rc})

    def getoutput(self, cmd, split=True):
        out = subprocess.run(cmd, shell=True, capture_output=True, text=True).stdout
        return out.splitlines() if split else out

_shell = Shell()
google = types.ModuleType("google"); google.__path__ = []
colab = types.ModuleType("google.colab"); google.colab = colab
sys.modules.update({"google": google, "google.colab": colab})

ns = {"__name__": "__main__", "get_ipython": lambda: _shell}
exec(compile(open(sys.argv[1], encoding="utf-8").read(), "<setup cell>", "exec"), ns)

import torch, lmt_core
from lmt_core import runtime
cfg = runtime.setup(seed=0, verbose=False)
dist = importlib.metadata.distribution("lmt_core")
print("RESULT " + json.dumps({
    "pip_calls": pip_calls,
    "torch_dist": importlib.metadata.version("torch"),
    "torch_version": torch.__version__,
    "lmt_core_file": lmt_core.__file__,
    "lmt_core_source": dist.read_text("direct_url.json") or "",
    "cfg": str(cfg),
}))
"""

# What torch looks like in the environment, without importing anything else.
TORCH_STATE = (
    "import importlib.metadata, json, torch; "
    "print(json.dumps({'torch_dist': importlib.metadata.version('torch'), 'torch_version': torch.__version__}))"
)


@dataclass
class Colab:
    root: Path
    python: Path
    site: Path
    repo: Path
    env: dict

    def run(self, args: list[str], **kw) -> subprocess.CompletedProcess:
        return subprocess.run(
            args,
            cwd=self.root,
            env=self.env,
            capture_output=True,
            text=True,
            timeout=TIMEOUT_S,
            **kw,
        )

    def pip(self, *args: str) -> subprocess.CompletedProcess:
        proc = self.run([str(self.python), "-m", "pip", *args])
        assert proc.returncode == 0, (
            f"pip {' '.join(args)} failed:\n{proc.stdout[-3000:]}\n{proc.stderr[-3000:]}"
        )
        return proc

    def torch_state(self) -> dict:
        proc = self.run([str(self.python), "-c", TORCH_STATE])
        assert proc.returncode == 0, (
            f"importing torch in the simulated Colab failed:\n{proc.stderr[-3000:]}"
        )
        state = json.loads(proc.stdout.strip().splitlines()[-1])
        state["dist_infos"] = sorted(p.name for p in self.site.glob("torch-*.dist-info"))
        return state

    def torch_untouched(self) -> list[str]:
        """Problems with Colab's torch; empty when it is still the fake-versioned build."""
        state = self.torch_state()
        problems = []
        if state["torch_dist"] != FAKE_TORCH:
            problems.append(
                f"torch's installed version is now {state['torch_dist']} (Colab's was {FAKE_TORCH})"
            )
        if state["torch_version"] != FAKE_TORCH:
            problems.append(
                f"torch.__version__ is now {state['torch_version']} (Colab's was {FAKE_TORCH})"
            )
        if state["dist_infos"] != [f"torch-{FAKE_TORCH}.dist-info"]:
            problems.append(f"torch's metadata in site-packages: {state['dist_infos']}")
        return problems


def _make_colab_torch(site: Path) -> None:
    """Give the installed torch Colab's (fake) version: metadata, dist-info name, RECORD, torch/version.py."""
    [dist] = site.glob("torch-*.dist-info")
    new = site / f"torch-{FAKE_TORCH}.dist-info"
    meta = dist / "METADATA"
    meta.write_text(
        re.sub(
            r"(?m)^Version: .*$",
            f"Version: {FAKE_TORCH}",
            meta.read_text(encoding="utf-8"),
            count=1,
        ),
        encoding="utf-8",
    )
    record = dist / "RECORD"
    record.write_text(
        record.read_text(encoding="utf-8").replace(f"{dist.name}/", f"{new.name}/"),
        encoding="utf-8",
    )
    version_py = site / "torch" / "version.py"
    version_py.write_text(
        re.sub(
            r"(?m)^__version__ = .*$",
            f"__version__ = '{FAKE_TORCH}'",
            version_py.read_text(encoding="utf-8"),
        ),
        encoding="utf-8",
    )
    dist.rename(new)


def _snapshot_repo(dest: Path) -> None:
    """The working tree (tracked and untracked-but-not-ignored files) as a git repo on branch main."""
    files = subprocess.run(
        ["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
    ).stdout.split("\0")
    for rel in filter(None, files):
        src = ROOT / rel
        if src.is_file():
            (dest / rel).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(src, dest / rel)
    git = [
        "git",
        "-c",
        "user.name=LMT test",
        "-c",
        "user.email=test@lmt.invalid",
        "-c",
        "commit.gpgsign=false",
    ]
    for args in (
        ["init", "-q", "-b", "main"],
        ["add", "-A"],
        ["commit", "-q", "-m", "snapshot for the Colab test"],
    ):
        subprocess.run(git + args, cwd=dest, check=True, capture_output=True)


@pytest.fixture(scope="module")
def colab():
    root = Path(tempfile.mkdtemp(prefix="lmt-colab-"))
    try:
        venv = root / "venv"
        subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True, timeout=TIMEOUT_S)
        env = {
            k: v
            for k, v in os.environ.items()
            if k not in ("PYTHONPATH", "VIRTUAL_ENV", "PYTHONHOME")
        }
        env.update(
            VIRTUAL_ENV=str(venv),
            PATH=f"{venv / 'bin'}{os.pathsep}{env.get('PATH', '')}",
            LMT_STATIC="1",
            LMT_SCALE="quick",
            MPLBACKEND="Agg",
            PIP_DISABLE_PIP_VERSION_CHECK="1",
            COLAB_RELEASE_TAG="lmt-simulation",
        )
        python = venv / "bin" / "python"
        site = Path(
            subprocess.run(
                [str(python), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
                capture_output=True,
                text=True,
                check=True,
            ).stdout.strip()
        )
        repo = root / "repo"
        repo.mkdir()
        sim = Colab(root=root, python=python, site=site, repo=repo, env=env)
        # The CPU wheel on disk; then what Colab has besides torch.
        sim.pip("install", "-q", "--no-compile", _torch_pin(), *COLAB_PREINSTALLED)
        _make_colab_torch(site)
        shown = sim.pip("show", "torch").stdout
        assert f"Version: {FAKE_TORCH}" in shown, (
            f"the fake Colab torch is not what pip sees:\n{shown}"
        )
        assert not SpecifierSet(str(Requirement(_torch_pin()).specifier)).contains(FAKE_TORCH), (
            f"{FAKE_TORCH} satisfies our pin {_torch_pin()}: the simulation would prove nothing"
        )
        _snapshot_repo(repo)
        yield sim
    finally:
        shutil.rmtree(root, ignore_errors=True)


# ---------------------------------------------------------------------------------------------
# Tests


def _ipython_to_python(cell: str) -> str:
    """The cell as IPython runs it: `%pip ...` -> get_ipython().run_line_magic('pip', ...), etc."""
    from IPython.core.inputtransformer2 import TransformerManager

    return TransformerManager().transform_cell(cell)


def test_every_chapter_has_a_setup_cell():
    assert not NO_SETUP_CELL, (
        f"no code cell mentions pip (no Colab setup cell) in: {', '.join(NO_SETUP_CELL)}"
    )


@pytest.mark.parametrize("cell", list(SETUP_CELLS), ids=[",".join(c) for c in SETUP_CELLS.values()])
def test_setup_cell_keeps_colabs_torch(colab: Colab, cell: str):
    chapters = ", ".join(SETUP_CELLS[cell])
    url, branch = repo_url.repository()
    github = f"git+{url}@{branch}"
    if github not in cell:
        pytest.fail(
            f"setup cell of {chapters} does not install from {github} (_config.yml's repository):\n{cell}",
            pytrace=False,
        )
    local = cell.replace(github, f"git+file://{colab.repo}@main")
    script = colab.root / "setup_cell.py"
    script.write_text(_ipython_to_python(local), encoding="utf-8")
    runner = colab.root / "runner.py"
    runner.write_text(RUNNER, encoding="utf-8")
    subprocess.run(
        [str(colab.python), "-m", "pip", "uninstall", "-q", "-y", "lmt_core"],
        env=colab.env,
        capture_output=True,
    )  # each cell must install it itself

    proc = colab.run([str(colab.python), str(runner), str(script)])
    log = f"--- stdout ---\n{proc.stdout[-4000:]}\n--- stderr ---\n{proc.stderr[-4000:]}"
    if proc.returncode != 0:
        pytest.fail(
            f"setup cell of {chapters} failed in the simulated Colab:\n{log}", pytrace=False
        )
    result = json.loads(
        next(line for line in proc.stdout.splitlines() if line.startswith("RESULT "))[7:]
    )

    problems = colab.torch_untouched()
    if problems and len(list(colab.site.glob("torch-*.dist-info"))) == 1:
        _make_colab_torch(colab.site)  # so that the next chapter starts from Colab's torch again
    problems += [f"`{c['cmd']}` exited {c['rc']}" for c in result["pip_calls"] if c["rc"] != 0]
    if not Path(result["lmt_core_file"]).is_relative_to(colab.site):
        problems.append(
            f"lmt_core was imported from {result['lmt_core_file']}, not from the installed copy"
        )
    if (
        str(colab.repo) not in result["lmt_core_source"]
    ):  # pip's direct_url.json of the installed lmt_core
        problems.append(
            f"the cell did not install lmt_core from its install line's repository "
            f"(lmt_core's direct_url.json: {result['lmt_core_source']!r})"
        )
    if "scale=quick" not in result["cfg"]:
        problems.append(f"runtime.setup() gave {result['cfg']!r}; LMT_SCALE=quick was set")
    check = colab.run([str(colab.python), "-m", "pip", "check"])
    problems += [
        f"pip check: {line}"
        for line in (check.stdout + check.stderr).splitlines()
        if "torch" in line.lower()
    ]
    if problems:
        pytest.fail(
            f"setup cell of {chapters} on the simulated Colab:\n  - "
            + "\n  - ".join(problems)
            + f"\n{log}",
            pytrace=False,
        )


def _wheel_requiring(dest: Path, requirement: str) -> Path:
    """A throw-away pure-Python wheel whose only content is a dependency on `requirement`."""
    name, version = "lmt_pins_torch", "0.0.0"
    info = f"{name}-{version}.dist-info"
    files = {
        f"{name}/__init__.py": "",
        f"{info}/METADATA": f"Metadata-Version: 2.1\nName: {name}\nVersion: {version}\nRequires-Dist: {requirement}\n",
        f"{info}/WHEEL": "Wheel-Version: 1.0\nGenerator: lmt-test\nRoot-Is-Purelib: true\nTag: py3-none-any\n",
    }
    record = []
    for path, text in files.items():
        digest = (
            base64.urlsafe_b64encode(hashlib.sha256(text.encode()).digest()).rstrip(b"=").decode()
        )
        record.append(f"{path},sha256={digest},{len(text.encode())}")
    files[f"{info}/RECORD"] = "\n".join(record + [f"{info}/RECORD,,"]) + "\n"
    wheel = dest / f"{name}-{version}-py3-none-any.whl"
    with zipfile.ZipFile(wheel, "w") as zf:
        for path, text in files.items():
            zf.writestr(path, text)
    return wheel


def test_negative_control_a_torch_pin_is_caught(colab: Colab):
    """Installing, with dependency resolution, a package that pins torch replaces Colab's torch, and
    the inspection used above notices. (Runs last: it restores the fake torch afterwards.)"""
    assert colab.torch_untouched() == [], (
        "the simulated Colab torch was already altered before the control"
    )
    wheel = _wheel_requiring(colab.root, _torch_pin())
    colab.pip("install", "-q", "--no-compile", str(wheel))
    try:
        problems = colab.torch_untouched()
        assert problems, (
            f"installing a package that requires {_torch_pin()} left the fake Colab torch "
            f"({FAKE_TORCH}) in place: the simulation cannot catch a torch pin"
        )
    finally:
        colab.pip("uninstall", "-q", "-y", "lmt_pins_torch")
        _make_colab_torch(colab.site)


def _torch_requirements() -> dict[str, Requirement]:
    try:
        import tomllib
    except ModuleNotFoundError:  # Python 3.10
        tomllib = pytest.importorskip("tomli")
    reqs = {}
    deps = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"][
        "dependencies"
    ]
    reqs.update({f"pyproject.toml: {d}": Requirement(d) for d in deps})
    for line in (ROOT / "requirements.txt").read_text(encoding="utf-8").splitlines():
        line = line.split("#")[0].strip()
        if line and not line.startswith("-"):
            reqs[f"requirements.txt: {line}"] = Requirement(line)
    return {where: r for where, r in reqs.items() if r.name == "torch"}


def test_torch_requirements_are_lower_bounds_only():
    """What Colab installs (pyproject's dependencies, requirements.txt) never pins or caps torch."""
    found = _torch_requirements()
    assert any(w.startswith("pyproject.toml") for w in found), "pyproject.toml does not name torch"
    bad = [
        where
        for where, r in found.items()
        if any(s.operator not in (">=", ">", "!=") for s in r.specifier)
    ]
    assert not bad, (
        "torch must have lower bounds only (no ==, ~=, <, <=), or pip replaces Colab's torch: "
        + "; ".join(bad)
    )
