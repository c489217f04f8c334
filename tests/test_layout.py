"""The layout of `lmt_core`: each package's `__init__` is its map, each concept has one home, and
the chapters import the library one way.

* every public name of a submodule (its `__all__`) is re-exported by its package, as the same
  object, and the package docstring names every submodule;
* `lmt_core/__init__.py` imports every subpackage and top-level module and its docstring names
  each;
* a list of concepts that used to be defined in several places is defined exactly once;
* the chapters write `from lmt_core import tasks, models, …` and nothing else.
"""

from __future__ import annotations

import importlib
import pkgutil
import re
from pathlib import Path

import pytest

import lmt_core

ROOT = Path(__file__).resolve().parents[1]
LIB = ROOT / "lmt_core"
PACKAGES = ["tasks", "models", "analysis", "optim"]
CHAPTERS = sorted((ROOT / "notebooks").glob("[0-9][0-9]_*.py"))


def _submodules(package: str) -> list[str]:
    """The public submodules of ``lmt_core.<package>`` (files on disk, not `_private` ones)."""
    pkg = importlib.import_module(f"lmt_core.{package}")
    return sorted(m.name for m in pkgutil.iter_modules(pkg.__path__) if not m.name.startswith("_"))


def _names_module(doc: str, name: str) -> bool:
    """Whether a docstring names module ``name``: as ``:mod:`…name``` or as the bare word."""
    pattern = rf"(?<![\w.])(?:~?lmt_core\.(?:\w+\.)*)?{re.escape(name)}(?!\w)"
    return re.search(pattern, doc) is not None


SUBMODULES = [(p, m) for p in PACKAGES for m in _submodules(p)]


@pytest.mark.parametrize("package", PACKAGES)
def test_package_has_submodules(package: str):
    assert _submodules(package), f"lmt_core.{package} has no submodules"


@pytest.mark.parametrize(("package", "module"), SUBMODULES, ids=lambda x: x)
def test_submodule_names_are_reexported(package: str, module: str):
    """`getattr(pkg, name) is getattr(submodule, name)` for every name of the submodule's
    `__all__` (so a chapter writes `tasks.Copy`, never `tasks.sequences.Copy`)."""
    pkg = importlib.import_module(f"lmt_core.{package}")
    sub = importlib.import_module(f"lmt_core.{package}.{module}")
    names = getattr(sub, "__all__", None)
    assert names is not None, f"lmt_core.{package}.{module} has no __all__"
    missing = [n for n in names if getattr(pkg, n, None) is not getattr(sub, n)]
    assert not missing, f"lmt_core.{package} does not re-export {missing} from {module}"
    not_listed = [n for n in names if n not in getattr(pkg, "__all__", [])]
    assert not not_listed, f"lmt_core.{package}.__all__ lacks {not_listed} (from {module})"


@pytest.mark.parametrize(("package", "module"), SUBMODULES, ids=lambda x: x)
def test_package_docstring_names_submodule(package: str, module: str):
    doc = importlib.import_module(f"lmt_core.{package}").__doc__ or ""
    assert _names_module(doc, module), f"the docstring of lmt_core.{package} does not name {module}"


TOP_LEVEL = sorted(
    m.name for m in pkgutil.iter_modules(lmt_core.__path__) if not m.name.startswith("_")
)


@pytest.mark.parametrize("name", TOP_LEVEL)
def test_lmt_core_imports_and_names_every_module(name: str):
    """`import lmt_core` gives every subpackage and module, and its docstring says what each is."""
    sub = importlib.import_module(f"lmt_core.{name}")
    assert getattr(lmt_core, name, None) is sub, f"lmt_core/__init__.py does not import {name}"
    assert name in lmt_core.__all__, f"lmt_core.__all__ lacks {name}"
    assert _names_module(lmt_core.__doc__ or "", name), f"lmt_core's docstring does not name {name}"


# ---- one home per concept ---------------------------------------------------------------------

# The concepts that were defined more than once before the regrouping. A definition is a
# top-level `NAME =`, `NAME: type =`, `def NAME` or `class NAME` in a module of lmt_core.
CONCEPTS = {
    "IGNORE_INDEX": r"IGNORE_INDEX",
    "random_orthonormal": r"random_orthonormal",
    "all_bits": r"_?all_bits",
    "check_tokens": r"_?check_tokens",
    "hypercube": r"_?hypercube",
    "dirichlet sampler": r"_?(?:dirichlet\w*|\w*_dirichlet\w*|sample_dirichlet)",
    "count_params": r"_?(?:count_params|n_params|num_params|count_parameters)",
}


def _top_level_definitions(pattern: str) -> list[str]:
    """``path: name`` for each top-level definition of a name matching ``pattern``."""
    rx = re.compile(rf"^(?:(?:async\s+)?def\s+|class\s+)?({pattern})\s*(?:\(|:|=(?!=))", re.M)
    found = []
    for f in sorted(LIB.rglob("*.py")):
        text = f.read_text(encoding="utf-8")
        for m in rx.finditer(text):
            found.append(f"{f.relative_to(ROOT)}: {m.group(1)}")
    return found


@pytest.mark.parametrize("concept", sorted(CONCEPTS))
def test_concept_is_defined_once(concept: str):
    defs = _top_level_definitions(CONCEPTS[concept])
    assert len(defs) == 1, f"{concept} should have one definition in lmt_core, found {defs}"


# ---- one import style in the chapters ----------------------------------------------------------

IMPORT_STYLE = re.compile(r"^\s*(?:from\s+lmt_core\.\S+\s+import|import\s+lmt_core(?:\.\S+)?)")


@pytest.mark.parametrize("py", CHAPTERS, ids=lambda p: p.stem)
def test_chapter_imports_the_library_one_way(py: Path):
    """Only `from lmt_core import a, b, …`: never `from lmt_core.x import …` or
    `import lmt_core.x`."""
    code = [
        line for line in py.read_text(encoding="utf-8").splitlines() if not line.startswith("#")
    ]
    bad = [line.strip() for line in code if IMPORT_STYLE.match(line)]
    assert not bad, f"{py.name}: write `from lmt_core import …` instead of {bad}"
