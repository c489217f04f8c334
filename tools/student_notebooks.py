"""The chapters as students meet them: notebooks for Colab and JupyterLab, without MyST markup.

Each chapter's percent script `notebooks/NN_slug.py` is turned into `colab/NN_slug.ipynb`
(committed without outputs; the Colab launch button and the README point at these):

- `prf:` directives (definition, theorem, lemma, proof, ...) become quote blocks with a bold
  title numbered as the book numbers them ("**Theorem 1 (title).**"), exercises likewise;
- solutions are folded in `<details>`; a gated solution's code cells are kept, after a Markdown
  cell saying that they are the solution, with their code folded;
- `{cite}` roles become author–year links to the book's bibliography page; `{prf:ref}`, `{ref}`,
  `{doc}`, `{numref}`, `{eq}` become links to the book's page; relative links to book pages and
  images become absolute (the book's site, the repository's raw files);
- a Markdown cell with `{glue:text}` numbers becomes a code cell that renders the sentence with
  the computed numbers (`notebook.show_prose`), with its code folded;
- admonitions become quote blocks, `{math}` display math, `{figure}` an image.

    python tools/student_notebooks.py           # write colab/*.ipynb
    python tools/student_notebooks.py --check   # exit 1 when a committed notebook is stale

The book's address is `html.baseurl` of `_config.yml` when set, else the GitHub Pages address of
`repository.url` (https://OWNER.github.io/REPO/).
"""

from __future__ import annotations

import argparse
import copy
import re
import sys
from dataclasses import dataclass, field
from pathlib import Path

import jupytext
import nbformat
import yaml

ROOT = Path(__file__).resolve().parents[1]
OUT_DIR = "colab"
sys.path.insert(0, str(ROOT / "tools"))

from bibstyle import AuthorYearLabels  # noqa: E402  (tools/ is not a package)

# Book markup that must not survive into a student notebook (the test scans for these).
ROLE = re.compile(r"\{([A-Za-z][\w:+-]*)\}`([^`]*)`")
FENCE_OPEN = re.compile(
    r"^(?P<indent>\s*)(?P<fence>:{3,}|`{3,})\{(?P<name>[\w:+-]+)\}\s*(?P<arg>.*?)\s*$"
)
OPTION = re.compile(r"^\s*:(?P<key>[\w-]+):\s*(?P<value>.*?)\s*$")
TARGET = re.compile(r"^\s*\((?P<label>[\w:.-]+)\)=\s*$")
CODE_FENCE = re.compile(r"^\s*(`{3,}|~{3,})")
PLACEHOLDER = "{{{{{name}{spec}}}}}"  # -> {{name:spec}}, filled by notebook.show_prose

PRF_TITLES = {
    "prf:theorem": "Theorem",
    "prf:lemma": "Lemma",
    "prf:definition": "Definition",
    "prf:proposition": "Proposition",
    "prf:corollary": "Corollary",
    "prf:proof": "Proof",
    "prf:conjecture": "Conjecture",
    "prf:remark": "Remark",
    "prf:example": "Example",
    "prf:axiom": "Axiom",
    "prf:criterion": "Criterion",
    "prf:algorithm": "Algorithm",
    "prf:assumption": "Assumption",
    "prf:observation": "Observation",
    "prf:property": "Property",
    "prf:notation": "Notation",
    "prf:condition": "Condition",
}
ADMONITIONS = {
    "note": "Note",
    "warning": "Warning",
    "tip": "Tip",
    "important": "Important",
    "hint": "Hint",
    "caution": "Caution",
    "attention": "Attention",
    "danger": "Danger",
    "error": "Error",
    "seealso": "See also",
    "margin": "Aside",
    "sidebar": "Aside",
    "admonition": "",
}


# ---------------------------------------------------------------------------------------------
# The book: its address, its pages, labels and bibliography


def config() -> dict:
    return yaml.safe_load((ROOT / "_config.yml").read_text(encoding="utf-8"))


def book_url(cfg: dict) -> str:
    """The book's site, ending in "/"."""
    base = (cfg.get("html") or {}).get("baseurl") or ""
    if base:
        return base.rstrip("/") + "/"
    url = cfg["repository"]["url"].rstrip("/").removesuffix(".git")
    owner, repo = url.split("github.com/")[1].split("/")[:2]
    return f"https://{owner.lower()}.github.io/{repo}/"


def raw_url(cfg: dict) -> str:
    """Where the repository's files are served (images), ending in "/"."""
    url = cfg["repository"]["url"].rstrip("/").removesuffix(".git")
    owner, repo = url.split("github.com/")[1].split("/")[:2]
    branch = cfg["repository"].get("branch", "main")
    return f"https://raw.githubusercontent.com/{owner}/{repo}/{branch}/"


def chapters() -> list[Path]:
    return sorted((ROOT / "notebooks").glob("[0-9][0-9]_*.py"))


@dataclass
class Target:
    docname: str  # e.g. "notebooks/01_sparse_parity"
    anchor: str  # the HTML id on that page ("" for the page itself)
    text: str  # what a reference without explicit text prints ("Theorem 1")


@dataclass
class Book:
    url: str
    raw: str
    targets: dict[str, Target] = field(default_factory=dict)
    titles: dict[str, str] = field(default_factory=dict)  # docname -> page title
    cites: dict[str, str] = field(default_factory=dict)  # bib key -> "Barak et al., 2022"
    cites_t: dict[str, str] = field(default_factory=dict)  # bib key -> "Barak et al. (2022)"

    def page(self, docname: str, anchor: str = "") -> str:
        return f"{self.url}{docname}.html" + (f"#{anchor}" if anchor else "")

    @property
    def bibliography(self) -> str:
        return self.page("book/bibliography")


def _markdown_of(path: Path) -> str:
    """The Markdown of a page: a chapter's Markdown cells, or a .md file."""
    if path.suffix == ".py":
        nb = jupytext.read(path)
        return "\n\n".join(c.source for c in nb.cells if c.cell_type == "markdown")
    return path.read_text(encoding="utf-8")


def _index_page(book: Book, docname: str, text: str) -> None:
    """Record the page's title, its numbered directives and its labelled sections."""
    counters: dict[str, int] = {}
    pending: list[str] = []
    in_code = False
    lines = text.splitlines()
    for i, line in enumerate(lines):
        if CODE_FENCE.match(line) and not FENCE_OPEN.match(line):
            in_code = not in_code
            continue
        if in_code:
            continue
        if docname not in book.titles and line.startswith("# "):
            book.titles[docname] = _plain_heading(line[2:])
        if m := TARGET.match(line):
            pending.append(m.group("label"))
            continue
        if line.startswith("#") and pending:
            heading = _plain_heading(line.lstrip("#").strip())
            for label in pending:
                book.targets[label] = Target(docname, label, heading)
            pending = []
            continue
        m = FENCE_OPEN.match(line)
        if not m:
            continue
        name = m.group("name")
        kind = PRF_TITLES.get(name) or ("Exercise" if name == "exercise" else None)
        if kind is None or name == "prf:proof":
            continue
        counters[kind] = counters.get(kind, 0) + 1
        for opt in lines[i + 1 :]:
            o = OPTION.match(opt)
            if not o:
                break
            if o.group("key") == "label":
                book.targets[o.group("value")] = Target(
                    docname, o.group("value"), f"{kind} {counters[kind]}"
                )


def _plain_heading(text: str) -> str:
    return re.sub(r"[*_`]", "", text).strip()


def _bibliography(book: Book) -> None:
    from pybtex.database import parse_file

    db = parse_file(str(ROOT / "book" / "references.bib"))
    for key, entry in db.entries.items():
        label = AuthorYearLabels._label(entry)  # "Barak et al. 2022"
        year = entry.fields.get("year", "")
        name = label[: -len(year)].strip() if year and label.endswith(year) else label
        book.cites[key] = f"{name}, {year}" if year else name
        book.cites_t[key] = f"{name} ({year})" if year else name


def load_book() -> Book:
    cfg = config()
    book = Book(url=book_url(cfg), raw=raw_url(cfg))
    for path in sorted((ROOT / "book").glob("*.md")):
        _index_page(book, f"book/{path.stem}", _markdown_of(path))
    for path in chapters():
        _index_page(book, f"notebooks/{path.stem}", _markdown_of(path))
    _bibliography(book)
    return book


# ---------------------------------------------------------------------------------------------
# Markdown: roles and links


class Converter:
    """Converts one chapter's Markdown; numbers its exercises as the book does."""

    def __init__(self, book: Book, docname: str):
        self.book = book
        self.docname = docname
        self.exercise_numbers: dict[str, int] = {}
        self.counters: dict[str, int] = {}

    # -- roles --------------------------------------------------------------------------------

    def roles(self, text: str) -> str:
        """Replace every role outside code blocks; glue roles become {{name:spec}} placeholders."""
        out, in_code = [], False
        for line in text.split("\n"):
            if CODE_FENCE.match(line):
                in_code = not in_code
                out.append(line)
                continue
            out.append(line if in_code else self._roles_in_line(line))
        return "\n".join(out)

    def _roles_in_line(self, line: str) -> str:
        # Inline code spans are left alone.
        parts = re.split(r"(`[^`]*`)", line)
        result = []
        i = 0
        while i < len(parts):
            part = parts[i]
            # A role is "{name}" at the end of a text part followed by a code span.
            m = re.search(r"\{([A-Za-z][\w:+-]*)\}$", part)
            if m and i + 1 < len(parts) and parts[i + 1].startswith("`"):
                content = parts[i + 1][1:-1]
                result.append(self._links(part[: m.start()]) + self.role(m.group(1), content))
                i += 2
                continue
            result.append(self._links(part) if not part.startswith("`") else part)
            i += 1
        return "".join(result)

    def role(self, name: str, content: str) -> str:
        text, label = _split_target(content)
        if name in ("glue:text", "glue", "glue:"):
            key, _, spec = content.partition(":")
            return PLACEHOLDER.format(name=key.strip(), spec=f":{spec}" if spec else "")
        if name in ("cite", "cite:p", "cite:ps", "cite:t", "cite:ts", "cite:alp", "cite:year"):
            keys = [k.strip() for k in content.split(",") if k.strip()]
            for k in keys:
                if k not in self.book.cites:
                    raise KeyError(f"{self.docname}: unknown citation key {k!r}")
            bib = self.book.bibliography
            if name.startswith("cite:t"):
                return ", ".join(f"[{self.book.cites_t[k]}]({bib})" for k in keys)
            return "[" + "; ".join(f"[{self.book.cites[k]}]({bib})" for k in keys) + "]"
        if name in ("prf:ref", "ref", "numref", "eq", "doc", "any"):
            if name == "doc":
                docname = _resolve_doc(self.docname, label)
                shown = text or self.book.titles.get(docname, docname.split("/")[-1])
                return f"[{shown}]({self.book.page(docname)})"
            target = self.book.targets.get(label)
            if target is None:
                return text or label
            shown = text or target.text
            if name == "numref" and text and "%s" in text:
                shown = text.replace("%s", target.text.split()[-1])
            if name == "eq":
                shown = text or f"({label})"
            return f"[{shown}]({self.book.page(target.docname, target.anchor)})"
        if name == "math":
            return f"${content}$"
        if name in ("sub", "sup"):
            return f"<{name}>{content}</{name}>"
        if name == "kbd":
            return f"<kbd>{content}</kbd>"
        # Any other role (abbr, term, ...): its text.
        return text or label

    def _links(self, text: str) -> str:
        """Relative links to book pages and images become absolute."""

        def fix(m: re.Match[str]) -> str:
            bang, shown, href = m.group(1), m.group(2), m.group(3)
            if re.match(r"^[a-z]+:|^#|^mailto:", href):
                return m.group(0)
            path, _, frag = href.partition("#")
            resolved = (Path(self.docname).parent / path).as_posix()
            resolved = _normpath(resolved)
            if bang:
                return f"![{shown}]({self.book.raw}{resolved})"
            stem = re.sub(r"\.(md|ipynb|py)$", "", resolved)
            return f"[{shown}]({self.book.page(stem, frag)})"

        return re.sub(r"(!?)\[([^\]]*)\]\(([^)\s]+)\)", fix, text)


def _split_target(content: str) -> tuple[str, str]:
    """ "text <label>" -> (text, label); "label" -> ("", label)."""
    m = re.match(r"^(.*?)\s*<([^<>]+)>$", content.strip(), re.S)
    if m:
        return m.group(1).strip(), m.group(2).strip()
    return "", content.strip()


def _normpath(path: str) -> str:
    parts: list[str] = []
    for p in path.split("/"):
        if p == "..":
            if parts:
                parts.pop()
        elif p not in ("", "."):
            parts.append(p)
    return "/".join(parts)


def _resolve_doc(docname: str, target: str) -> str:
    target = re.sub(r"\.(md|ipynb)$", "", target)
    if target.startswith("/"):
        return target.lstrip("/")
    return _normpath((Path(docname).parent / target).as_posix())


# ---------------------------------------------------------------------------------------------
# Markdown: directives


def _quote(text: str) -> str:
    """``text`` as a Markdown quote block.

    Display math spread over several lines is put on one line first: the front ends cut math out
    before parsing Markdown, so the quote's "> " inside a formula would be typeset as ">".
    """
    lines: list[str] = []
    open_math: list[str] | None = None
    for line in text.strip("\n").split("\n"):
        odd = line.count("$$") % 2 == 1
        if open_math is not None:
            open_math.append(line.strip())
            if odd:
                lines.append(" ".join(open_math))
                open_math = None
        elif odd:
            open_math = [line.rstrip()]
        else:
            lines.append(line)
    if open_math is not None:
        lines.append(" ".join(open_math))
    return "\n".join(("> " + line).rstrip() for line in lines)


@dataclass
class Piece:
    """Part of a converted Markdown cell: Markdown, or a marker of a gated solution."""

    kind: str  # "md", "solution-start", "solution-end"
    text: str = ""


def _blocks(lines: list[str]) -> list[tuple[str, str, dict, list[str]] | str]:
    """Split lines into plain lines and (name, argument, options, body) directive blocks."""
    out: list = []
    i = 0
    in_code = False
    while i < len(lines):
        line = lines[i]
        m = FENCE_OPEN.match(line)
        if not m:
            if CODE_FENCE.match(line):
                in_code = not in_code
            out.append(line)
            i += 1
            continue
        if in_code:
            out.append(line)
            i += 1
            continue
        fence = m.group("fence")
        i += 1
        options: dict[str, str] = {}
        while i < len(lines) and (o := OPTION.match(lines[i])):
            options[o.group("key")] = o.group("value")
            i += 1
        body: list[str] = []
        depth = 0
        while i < len(lines):
            cur = lines[i]
            inner = FENCE_OPEN.match(cur)
            if inner and inner.group("fence") == fence:
                depth += 1
            elif cur.strip() == fence:
                if depth == 0:
                    i += 1
                    break
                depth -= 1
            body.append(cur)
            i += 1
        out.append((m.group("name"), m.group("arg"), options, body))
    return out


class Chapter(Converter):
    """Converts one chapter: directives first (recursively), then roles."""

    def markdown(self, text: str) -> list[Piece]:
        pieces: list[Piece] = []
        buf: list[str] = []

        def flush() -> None:
            if "\n".join(buf).strip():
                pieces.append(Piece("md", "\n".join(buf).strip("\n")))
            buf.clear()

        for block in _blocks(text.split("\n")):
            if isinstance(block, str):
                if TARGET.match(block):
                    continue  # (label)= targets: the book's anchors; nothing to show
                buf.append(block)
                continue
            name, arg, options, body = block
            if name == "solution-start":
                flush()
                pieces.append(Piece("solution-start", self._solution_title(arg)))
                continue
            if name == "solution-end":
                flush()
                pieces.append(Piece("solution-end"))
                continue
            buf.append(self.directive(name, arg, options, body))
        flush()
        return [Piece(p.kind, self.roles(p.text)) if p.kind == "md" else p for p in pieces]

    def _inner(self, body: list[str]) -> str:
        """A directive's body, its own directives converted."""
        parts = []
        for p in self.markdown("\n".join(body)):
            if p.kind == "md":
                parts.append(p.text)
        return "\n\n".join(parts)

    def _solution_title(self, label: str) -> str:
        number = self.exercise_numbers.get(label.strip())
        return f"Solution to Exercise {number}" if number else "Solution"

    def directive(self, name: str, arg: str, options: dict, body: list[str]) -> str:
        # Roles in the body are converted later, with the whole cell; titles are converted here
        # so that a title's role cannot hide behind the bold markers.
        title = arg.strip()
        if name in PRF_TITLES:
            kind = PRF_TITLES[name]
            inner = self._inner(body)
            if name == "prf:proof":
                head = f"*Proof{' (' + title + ')' if title else ''}.*"
                return _quote(f"{head} {inner.lstrip()}".rstrip() + " $\\square$") + "\n"
            self.counters[kind] = self.counters.get(kind, 0) + 1
            head = f"**{kind} {self.counters[kind]}{' (' + title + ')' if title else ''}.**"
            return _quote(f"{head}\n\n{inner}") + "\n"
        if name == "exercise":
            self.counters["Exercise"] = self.counters.get("Exercise", 0) + 1
            number = self.counters["Exercise"]
            if "label" in options:
                self.exercise_numbers[options["label"]] = number
            head = f"**Exercise {number}{' (' + title + ')' if title else ''}.**"
            return _quote(f"{head}\n\n{self._inner(body)}") + "\n"
        if name == "solution":
            summary = self._solution_title(title)
            return (
                f"<details><summary><b>{summary}</b> (try the exercise first)</summary>\n\n"
                f"{self._inner(body)}\n\n</details>\n"
            )
        if name == "dropdown":
            return (
                f"<details><summary><b>{title or 'More'}</b></summary>\n\n"
                f"{self._inner(body)}\n\n</details>\n"
            )
        if name in ADMONITIONS:
            head = title if name == "admonition" else ADMONITIONS[name]
            return (
                _quote(
                    f"**{head}.**"
                    + (f" {title}" if title and name != "admonition" else "")
                    + f"\n\n{self._inner(body)}"
                )
                + "\n"
            )
        if name == "math":
            return "$$\n" + "\n".join(body).strip() + "\n$$\n"
        if name in ("code-cell", "code", "code-block", "sourcecode"):
            return f"```{title or 'python'}\n" + "\n".join(body).strip("\n") + "\n```\n"
        if name in ("figure", "image"):
            caption = self._inner(body).strip()
            alt = options.get("alt", caption.split("\n")[0] if caption else "figure")
            image = self._links(f"![{alt}]({title})")
            return image + (f"\n\n*{caption}*" if caption else "") + "\n"
        if name in ("bibliography", "tableofcontents", "toctree", "glossary"):
            return ""
        # An unknown directive: its body in a quote block, titled by its name.
        head = name.split(":")[-1].replace("-", " ").capitalize()
        return _quote(f"**{head}{': ' + title if title else ''}.**\n\n{self._inner(body)}") + "\n"


# ---------------------------------------------------------------------------------------------
# Cells


SOLUTION_CODE_TITLE = "# @title Solution code (double-click to show it)"
PROSE_TITLE = "# @title Results computed above (double-click for the code)"


def _prose_cell(text: str) -> nbformat.NotebookNode:
    """A code cell that renders a Markdown text with glued numbers (its code folded)."""
    body = text.replace("\\", "\\\\").replace('"""', '\\"\\"\\"')
    source = f'{PROSE_TITLE}\nnotebook.show_prose("""\n{body}\n""")'
    cell = nbformat.v4.new_code_cell(source)
    cell.metadata.update(
        {"cellView": "form", "jupyter": {"source_hidden": True}, "tags": ["student-prose"]}
    )
    return cell


def convert(path: Path, book: Book) -> nbformat.NotebookNode:
    """The student notebook of the chapter `path` (a percent script)."""
    docname = f"notebooks/{path.stem}"
    src = jupytext.read(path)
    chapter = Chapter(book, docname)
    cells: list[nbformat.NotebookNode] = []
    in_solution = False

    for cell in src.cells:
        if cell.cell_type == "code":
            new = nbformat.v4.new_code_cell(cell.source)
            tags = [t for t in cell.metadata.get("tags", []) if t != "remove-input"]
            if tags:
                new.metadata["tags"] = tags
            if in_solution:
                new.source = f"{SOLUTION_CODE_TITLE}\n{cell.source}"
                new.metadata.update({"cellView": "form", "jupyter": {"source_hidden": True}})
            cells.append(new)
            continue
        if cell.cell_type != "markdown":
            cells.append(copy.deepcopy(cell))
            continue
        start = len(cells)
        for piece in chapter.markdown(cell.source):
            if piece.kind == "solution-start":
                in_solution = True
                cells.append(
                    nbformat.v4.new_markdown_cell(
                        f'**{piece.text}.** The cells below, down to "End of the solution", are the '
                        "solution: try the exercise first. Their code is folded; open it to read it."
                    )
                )
                continue
            if piece.kind == "solution-end":
                in_solution = False
                cells.append(nbformat.v4.new_markdown_cell("*End of the solution.*"))
                continue
            text = _colab_links(piece.text)
            if in_solution:
                text = (
                    f"<details><summary><b>Solution</b> (explanation)</summary>\n\n{text}"
                    "\n\n</details>"
                )
            # Only the paragraphs with computed numbers become code cells: headings and the rest
            # stay Markdown (and in the front end's table of contents).
            for glued, chunk in _split_glued(text):
                cells.append(_prose_cell(chunk) if glued else nbformat.v4.new_markdown_cell(chunk))
        cells[start:] = _merge_markdown(cells[start:])

    nb = nbformat.v4.new_notebook()
    nb.cells = _after_their_glue(cells)
    nb.metadata = {
        "kernelspec": {"display_name": "Python 3", "language": "python", "name": "python3"},
        "language_info": {"name": "python"},
        "colab": {"provenance": [], "toc_visible": True},
    }
    _header(nb, path, book)
    for i, c in enumerate(nb.cells):
        c.id = f"cell-{i:03d}"  # stable ids: regenerating gives the same file
    return nb


GLUED_NAME = re.compile(r"\{\{([A-Za-z_][\w.-]*)(?::[^{}]*)?\}\}")


def _glues(source: str, name: str) -> bool:
    return f'"{name}"' in source or f"'{name}'" in source


def _after_their_glue(cells: list[nbformat.NotebookNode]) -> list[nbformat.NotebookNode]:
    """A sentence whose numbers are glued by a later cell moves to just after that cell.

    The book may print a number above the cell that computes it (myst-nb glues per page); a
    student notebook renders the sentence when its cell runs, so it must come after.
    """
    cells = list(cells)
    i = 0
    while i < len(cells):
        cell = cells[i]
        if "student-prose" not in cell.metadata.get("tags", []):
            i += 1
            continue
        names = set(GLUED_NAME.findall(cell.source))
        before = "\n".join(c.source for c in cells[:i] if c.cell_type == "code")
        missing = {n for n in names if not _glues(before, n)}
        later = None
        if not missing:
            i += 1
            continue
        for j in range(i + 1, len(cells)):
            if cells[j].cell_type == "code" and "student-prose" not in cells[j].metadata.get(
                "tags", []
            ):
                missing = {n for n in missing if not _glues(cells[j].source, n)}
                if not missing:
                    later = j
                    break
        if later is not None and later > i:
            cells.insert(later, cells.pop(i))  # now just after cells[later] (shifted by one)
            continue
        i += 1
    return cells


def _paragraphs(text: str) -> list[str]:
    """``text`` split at blank lines that are not inside a code fence, `<details>` or `$$`."""
    out: list[str] = []
    buf: list[str] = []
    fence = details = math = False
    for line in text.split("\n"):
        if CODE_FENCE.match(line):
            fence = not fence
        if not fence:
            details = (details or "<details>" in line) and "</details>" not in line
            if line.count("$$") % 2:
                math = not math
        if not line.strip() and not (fence or details or math):
            if buf:
                out.append("\n".join(buf))
            buf = []
            continue
        buf.append(line)
    if buf:
        out.append("\n".join(buf))
    return out


def _split_glued(text: str) -> list[tuple[bool, str]]:
    """Runs of paragraphs, each marked whether it carries a glued number ({{name}})."""
    runs: list[tuple[bool, str]] = []
    for para in _paragraphs(text):
        glued = bool(GLUED_NAME.search(para))
        if runs and runs[-1][0] == glued:
            runs[-1] = (glued, runs[-1][1] + "\n\n" + para)
        else:
            runs.append((glued, para))
    return runs


def _colab_links(text: str) -> str:
    """Links that open a chapter on Colab open its student notebook instead."""
    text = re.sub(
        r"(colab\.research\.google\.com/github/[^)\s]+?/blob/[^/)\s]+/)notebooks/"
        r"(\d\d_[\w-]+\.ipynb)",
        rf"\1{OUT_DIR}/\2",
        text,
    )
    return re.sub(r"\[notebooks/(\d\d_[\w-]+\.ipynb)\]", rf"[{OUT_DIR}/\1]", text)


def _merge_markdown(cells: list[nbformat.NotebookNode]) -> list[nbformat.NotebookNode]:
    """Adjacent Markdown cells made from one source cell are joined again (not across a
    gated solution's boundary)."""
    out: list[nbformat.NotebookNode] = []
    for c in cells:
        if (
            c.cell_type == "markdown"
            and out
            and out[-1].cell_type == "markdown"
            and not c.metadata
            and not out[-1].metadata
            and not c.source.startswith("**Solution")
            and not out[-1].source.startswith("**Solution")
            and c.source != "*End of the solution.*"
            and out[-1].source != "*End of the solution.*"
        ):
            out[-1].source = out[-1].source + "\n\n" + c.source
        else:
            out.append(c)
    return out


def _header(nb: nbformat.NotebookNode, path: Path, book: Book) -> None:
    """A first-cell note: where the book's page is, and that this notebook is generated."""
    page = book.page(f"notebooks/{path.stem}")
    note = (
        f"*This is the student notebook of a chapter of the LMT book; the chapter's page, "
        f"with every figure computed, is [on the book's site]({page}). Run the cells from the "
        f"top (Runtime → Run all on Colab); sentences with computed numbers appear as small "
        f"cells that fill them in.*"
    )
    first = nb.cells[0]
    if first.cell_type == "markdown" and first.source.startswith("# "):
        lines = first.source.split("\n")
        first.source = "\n".join(lines[:1] + ["", note] + lines[1:])
    else:
        nb.cells.insert(0, nbformat.v4.new_markdown_cell(note))


def render(nb: nbformat.NotebookNode) -> str:
    return nbformat.writes(nb) + "\n"


def targets() -> dict[Path, str]:
    """Every student notebook's path and its current text."""
    book = load_book()
    return {ROOT / OUT_DIR / f"{p.stem}.ipynb": render(convert(p, book)) for p in chapters()}


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    ap.add_argument("--check", action="store_true", help="exit 1 if a notebook is out of date")
    args = ap.parse_args(argv)
    stale = []
    for out, text in targets().items():
        current = out.read_text(encoding="utf-8") if out.exists() else None
        if current == text:
            continue
        stale.append(out.relative_to(ROOT))
        if not args.check:
            out.parent.mkdir(exist_ok=True)
            out.write_text(text, encoding="utf-8")
    for s in stale:
        print(("stale: " if args.check else "wrote: ") + str(s))
    return 1 if (args.check and stale) else 0


if __name__ == "__main__":
    raise SystemExit(main())
