"""Regenerate the book's chapter lists and counts from `_toc.yml` and the chapters' title cells.

The chapters are listed in several places: the section "The chapters" of `book/intro.md`, the
table of each part's overview page (`book/part1.md`, …), and the counts "37 recent results in 17
chapters" in `README.md`, `book/intro.md` and `book/bibliography.md`. None of them is edited by
hand; each is derived from two sources:

* `_toc.yml` gives the parts (their captions and overview pages), the chapters in order, and for
  each chapter a `meta.summary`, the one-sentence blurb of the lists. The blurb is navigation,
  so it lives in the table of contents and not in the chapter, whose opening paragraph has a
  different job (it states the results, in several sentences). An optional `meta.background`
  names works cited in the chapter's "Paper(s)." paragraph that are not among the chapter's
  papers (background and related work);
* each chapter's title cell (the first markdown cell of `notebooks/NN_slug.py`) gives the
  title (its `# Title` heading) and the papers (the `{cite}` keys of its "**Paper.**" or
  "**Papers.**" paragraph, less the background ones).

The number of results is the number of distinct papers over all chapters, counted here.

    python tools/chapter_lists.py --check   # exit 1 and list the blocks that drifted
    python tools/chapter_lists.py --write   # rewrite them

The lists sit between `<!-- chapters:start -->` and `<!-- chapters:end -->` markers; the counts
are found by the sentences in `COUNTS`.
"""

from __future__ import annotations

import argparse
import re
import sys
from dataclasses import dataclass
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[1]
START, END = "<!-- chapters:start -->", "<!-- chapters:end -->"
BLOCK = re.compile(re.escape(START) + r"\n.*?" + re.escape(END), re.DOTALL)
CITE = re.compile(r"\{cite(?::\w+)?\}`([^`]+)`")
PAPERS_PARAGRAPH = re.compile(r"^\*\*Papers?\.\*\*")
HEADING = re.compile(r"^# (?:Chapter (\d+) — )?(.+?)\s*$")
NUMBER_WORDS = ["zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine"]

# (file, sentence): the counts typed in prose. Group "papers" is the number of distinct papers,
# group "chapters" the number of chapters; a sentence that is no longer found is an error too.
COUNTS: list[tuple[str, re.Pattern[str]]] = [
    ("README.md", re.compile(r"(?P<papers>\d+) recent results in (?P<chapters>\d+) chapters")),
    ("book/intro.md", re.compile(r"works through (?P<papers>\d+) recent research results")),
    ("book/bibliography.md", re.compile(r"the (?P<papers>\d+) papers the chapters")),
]


@dataclass(frozen=True)
class Chapter:
    """One chapter as the lists show it."""

    number: int
    docname: str  # "notebooks/01_sparse_parity"
    title: str
    summary: str
    papers: tuple[str, ...]


@dataclass(frozen=True)
class Part:
    """One part of the book: its caption, its overview page and its chapters."""

    caption: str
    overview: str  # "book/part1"
    chapters: tuple[Chapter, ...]


def title_cell(py: Path) -> str:
    """The first markdown cell of a jupytext percent script, with the leading ``# `` removed."""
    lines = py.read_text(encoding="utf-8").splitlines()
    try:
        start = lines.index("# %% [markdown]") + 1
    except ValueError:
        raise ValueError(f"{py.name}: no markdown cell") from None
    cell = []
    for line in lines[start:]:
        if line.startswith("# %%"):
            break
        cell.append(line[2:] if line.startswith("# ") else line.lstrip("#"))
    return "\n".join(cell).strip()


def parse_title_cell(text: str, name: str, number: int) -> tuple[str, list[str]]:
    """The title and the cite keys of the "Paper(s)." paragraph of a chapter's title cell.

    Raises:
        ValueError: no ``# Title`` heading, a ``Chapter N`` prefix with the wrong number, or no
            "Paper(s)." paragraph with a citation.
    """
    first = text.splitlines()[0] if text else ""
    m = HEADING.match(first)
    if not m:
        raise ValueError(f"{name}: the title cell does not start with a '# Title' heading")
    if m.group(1) is not None and int(m.group(1)) != number:
        raise ValueError(f"{name}: heading says Chapter {m.group(1)}, the toc makes it {number}")
    paragraphs = [p.strip() for p in re.split(r"\n\s*\n", text)]
    found = [p for p in paragraphs if PAPERS_PARAGRAPH.match(p)]
    if len(found) != 1:
        raise ValueError(f"{name}: expected one '**Paper(s).**' paragraph, found {len(found)}")
    keys = [k.strip() for group in CITE.findall(found[0]) for k in group.split(",")]
    if not keys:
        raise ValueError(f"{name}: the '**Paper(s).**' paragraph cites nothing")
    return m.group(2), list(dict.fromkeys(keys))


def load(root: Path = ROOT) -> list[Part]:
    """The parts of the book that hold chapters, read from ``_toc.yml`` and the title cells.

    Raises:
        ValueError: a chapter without a summary, a background key that its title cell does not
            cite, a chapter with no paper left, or chapter files out of order.
    """
    toc = yaml.safe_load((root / "_toc.yml").read_text(encoding="utf-8"))
    parts, number = [], 0
    for part in toc["parts"]:
        entries = part["chapters"]
        notebooks = [e for e in entries if e["file"].startswith("notebooks/")]
        if not notebooks:
            continue
        overview = entries[0]["file"]
        if overview.startswith("notebooks/"):
            raise ValueError(f"part {part['caption']!r} does not open with an overview page")
        chapters = []
        for entry in notebooks:
            number += 1
            docname = entry["file"]
            stem = docname.split("/", 1)[1]
            if not stem.startswith(f"{number:02d}_"):
                raise ValueError(f"{docname} is chapter {number} in _toc.yml: rename or reorder")
            meta = entry.get("meta") or {}
            summary = " ".join(str(meta.get("summary", "")).split())
            if not summary.endswith("."):
                raise ValueError(f"{docname}: meta.summary in _toc.yml must be one sentence")
            title, cited = parse_title_cell(title_cell(root / f"{docname}.py"), stem, number)
            background = list(meta.get("background") or [])
            stale = [k for k in background if k not in cited]
            if stale:
                raise ValueError(
                    f"{docname}: meta.background names {stale}, which the "
                    "'**Paper(s).**' paragraph does not cite"
                )
            papers = tuple(k for k in cited if k not in background)
            if not papers:
                raise ValueError(f"{docname}: every key of '**Paper(s).**' is background")
            chapters.append(Chapter(number, docname, title, summary, papers))
        parts.append(Part(str(part["caption"]), overview, tuple(chapters)))
    return parts


def count_papers(parts: list[Part]) -> int:
    """The number of distinct papers the chapters teach (a paper shared by two counts once)."""
    return len({k for p in parts for c in p.chapters for k in c.papers})


def _number_word(n: int) -> str:
    return NUMBER_WORDS[n] if 0 <= n < len(NUMBER_WORDS) else str(n)


def intro_block(parts: list[Part], page: str) -> str:
    """The chapter list of ``book/intro.md``: per part, numbered linked titles with summaries."""
    n = sum(len(p.chapters) for p in parts)
    out = [
        f"The book has {n} chapters in {_number_word(len(parts))} parts; each title below "
        "links to its chapter."
    ]
    for part in parts:
        out += ["", f"### {part.caption}", ""]
        for c in part.chapters:
            out.append(f"{c.number}. {{doc}}`{c.title} <{_rel(page, c.docname)}>`: {c.summary}")
    return "\n".join(out)


def part_block(part: Part) -> str:
    """The table of a part's overview page: linked chapter titles and the papers they cover."""
    out = ["| Chapter | Papers |", "| --- | --- |"]
    for c in part.chapters:
        link = f"{{doc}}`{c.number}. {c.title} <{_rel(part.overview, c.docname)}>`"
        out.append(f"| {link} | " + ", ".join(f"{{cite}}`{k}`" for k in c.papers) + " |")
    return "\n".join(out)


def _rel(page: str, docname: str) -> str:
    """``docname`` relative to the folder of ``page`` (both relative to the book root)."""
    depth = page.count("/")
    return "../" * depth + docname


def expected(root: Path = ROOT) -> dict[str, str]:
    """Every generated file, as it should read: ``{relative path: text}``."""
    parts = load(root)
    n_papers = count_papers(parts)
    n_chapters = sum(len(p.chapters) for p in parts)
    blocks = {"book/intro.md": intro_block(parts, "book/intro")}
    blocks.update({f"{p.overview}.md": part_block(p) for p in parts})
    files = sorted(set(blocks) | {f for f, _ in COUNTS})
    out = {}
    for rel in files:
        text = (root / rel).read_text(encoding="utf-8")
        if rel in blocks:
            if len(BLOCK.findall(text)) != 1:
                raise ValueError(f"{rel}: needs one {START} … {END} block")
            body = blocks[rel]
            text = BLOCK.sub(lambda _m, body=body: f"{START}\n{body}\n{END}", text)
        for name, pattern in COUNTS:
            if name != rel:
                continue
            if not pattern.search(text):
                raise ValueError(f"{rel}: the sentence {pattern.pattern!r} is gone; update COUNTS")
            values = {"papers": n_papers, "chapters": n_chapters}
            text = pattern.sub(lambda m, v=values: _fill(m, v), text)
        out[rel] = text
    return out


def _fill(m: re.Match[str], values: dict[str, int]) -> str:
    """The matched sentence with each named group replaced by its counted value."""
    s, base, pieces, last = m.group(0), m.start(), [], 0
    spans = sorted((m.start(g) - base, m.end(g) - base, g) for g in m.groupdict() if m.group(g))
    for start, end, name in spans:
        pieces += [s[last:start], str(values[name])]
        last = end
    return "".join(pieces) + s[last:]


def drift(root: Path = ROOT) -> list[str]:
    """The generated files that differ from what the sources give."""
    return [
        rel
        for rel, text in expected(root).items()
        if (root / rel).read_text(encoding="utf-8") != text
    ]


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    mode = ap.add_mutually_exclusive_group(required=True)
    mode.add_argument("--check", action="store_true", help="exit 1 if a list or count drifted")
    mode.add_argument("--write", action="store_true", help="rewrite the lists and counts")
    args = ap.parse_args(argv)
    if args.check:
        stale = drift()
        for rel in stale:
            print(f"{rel} is out of date: run `python tools/chapter_lists.py --write`")
        return 1 if stale else 0
    for rel, text in expected().items():
        path = ROOT / rel
        if path.read_text(encoding="utf-8") != text:
            path.write_text(text, encoding="utf-8")
            print(f"wrote {rel}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
