"""The built book, as a reader's browser shows it.

Every page of `_toc.yml` is opened in headless Chromium (served over http from `_build/html`) and
screenshotted to `_build/screenshots/<page>.png`. Chapter pages (toc entries under notebooks/) are
checked for what a chapter promises: theorem and proof boxes, figures that load (on a white
background), solutions folded in dropdowns that open on a click, citations that link into the
bibliography, the Colab launch link, and outputs free of errors.
"""

from __future__ import annotations

import re
from pathlib import Path
from urllib.parse import unquote, urlparse

import pytest

ROOT = Path(__file__).resolve().parents[2]
SCREENSHOTS = ROOT / "_build" / "screenshots"

# Markup that MyST should have turned into something else; seen in the prose, it leaked.
LEAKED_MARKUP = re.compile(
    r"\{(?:prf:\w+|cite(?::\w+)?|doc|ref|numref|eq|glue(?::\w+)?|exercise(?:-start|-end)?|"
    r"solution(?:-start|-end)?|bibliography|figure|code-cell|admonition|note|warning|margin|math)\}"
    r"|:::\s*\{|```\s*\{"
)
THEOREM_LIKE = ("theorem", "proposition", "lemma", "corollary")

# What a page shows, read in the browser. Prose is the article's text outside code and math.
PAGE_FACTS_JS = """
() => {
  const article = document.querySelector('article.bd-article') || document.body;
  const skip = 'pre, code, script, style, .math, .MathJax, mjx-container';
  const walker = document.createTreeWalker(article, NodeFilter.SHOW_TEXT);
  const parts = [];
  for (let n = walker.nextNode(); n; n = walker.nextNode()) {
    if (!n.parentElement.closest(skip)) parts.push(n.textContent);
  }
  const where = (el) => {
    const box = el.closest('[id]');
    return (box ? '#' + box.id + ': ' : '') + (el.textContent || '').trim().slice(0, 80);
  };
  return {
    title: document.title,
    h1: (article.querySelector('h1') || {}).textContent || '',
    prose: parts.join(' '),
    unresolved: [...article.querySelectorAll('.xref')].filter(e => !e.closest('a')).map(where),
    brokenImages: [...article.querySelectorAll('img')]
      .filter(i => !(i.complete && i.naturalWidth > 0)).map(i => i.getAttribute('src')),
    mathCount: article.querySelectorAll('.math').length,
    rawMath: [...article.querySelectorAll('.math')].filter(e => !e.querySelector('mjx-container'))
      .map(e => e.textContent.trim().slice(0, 60)),
    mathErrors: [...article.querySelectorAll('mjx-merror')].map(e => e.textContent.slice(0, 60)),
    citations: [...article.querySelectorAll('.bibtex-citation')].map(c => ({
      text: c.textContent.trim(),
      links: [...c.querySelectorAll('a[href]')].map(a => a.href),
    })),
  };
}
"""


def _clip(items, n: int = 8) -> str:
    items = list(items)
    more = f" … and {len(items) - n} more" if len(items) > n else ""
    return "; ".join(str(i) for i in items[:n]) + more


def check_page_basics(site, facts: dict) -> list[str]:
    """Problems any page can have; empty when the page is fine."""
    problems = []
    if not facts["h1"].strip():
        problems.append("the page has no <h1> title")
    for marker in ("??", "[?]"):
        if marker in facts["prose"]:
            i = facts["prose"].index(marker)
            problems.append(
                f"unresolved reference: the text shows {marker!r} in "
                f"'…{facts['prose'][max(0, i - 60) : i + 20].strip()}…'"
            )
    leaked = sorted({m.group(0) for m in LEAKED_MARKUP.finditer(facts["prose"])})
    if leaked:
        problems.append(f"MyST markup shown as text (not parsed): {_clip(leaked)}")
    if facts["unresolved"]:
        problems.append(
            f"unresolved cross-references (Sphinx rendered them without a link): "
            f"{_clip(facts['unresolved'])}"
        )
    if facts["rawMath"]:
        problems.append(
            f"{len(facts['rawMath'])} of {facts['mathCount']} formulas not typeset "
            f"(MathJax did not load or run): {_clip(facts['rawMath'], 3)}"
        )
    if facts["mathErrors"]:
        problems.append(f"MathJax errors: {_clip(facts['mathErrors'])}")
    empty_cites = [c["text"] for c in facts["citations"] if not c["links"]]
    if empty_cites:
        problems.append(
            f"citations without a link to the bibliography (unknown key?): {_clip(empty_cites)}"
        )
    if facts["brokenImages"]:
        problems.append(f"images that did not load: {_clip(facts['brokenImages'])}")
    if site.failed_local:
        problems.append(f"requests for the book's own files failed: {_clip(site.failed_local)}")
    if site.page_errors:
        problems.append(f"JavaScript errors: {_clip(site.page_errors)}")
    return problems


def _report(docname: str, problems: list[str]) -> str:
    return f"page {docname}:\n  - " + "\n  - ".join(problems)


def expect_no_problems(docname: str, problems: list[str]) -> None:
    """Fail with one line per problem, naming the page (no source listing: the message says it all)."""
    if problems:
        pytest.fail(_report(docname, problems), pytrace=False)


def bibliography_pages(pages: list[str]) -> set[str]:
    """Docnames of the pages that hold a {bibliography} directive."""
    found = set()
    for docname in pages:
        for suffix in (".md", ".ipynb"):
            src = ROOT / f"{docname}{suffix}"
            if src.exists() and re.search(
                r"[`:]{3,}\s*\{bibliography\}", src.read_text(encoding="utf-8")
            ):
                found.add(docname)
    return found


def student_notebook(chapter: str) -> str:
    """The chapter's student notebook (no MyST markup), written by tools/student_notebooks.py."""
    return f"colab/{chapter.rsplit('/', 1)[-1]}.ipynb"


def colab_url(cfg: dict, chapter: str) -> str:
    """Where the Colab launch button must point: the chapter's student notebook on branch main of
    the configured repository."""
    owner_repo = urlparse(cfg["repository"]["url"]).path.strip("/").removesuffix(".git")
    owner, repo = owner_repo.split("/")[:2]
    return f"https://colab.research.google.com/github/{owner}/{repo}/blob/main/{student_notebook(chapter)}"


# ---------------------------------------------------------------------------------------------
# Every page


def test_front_page(site, site_url, toc, config):
    """The site's address opens the book's root page, whose sidebar links to every page."""
    pages, page = toc, site.page
    page.goto(site_url, wait_until="load")
    page.wait_for_url(f"**/{pages[0]}.html", timeout=10_000)
    facts = page.evaluate(PAGE_FACTS_JS)
    site.screenshot("index")
    problems = check_page_basics(site, facts)
    title = config["title"]
    if title not in facts["title"]:
        problems.append(f"the window title {facts['title']!r} does not name the book ({title!r})")
    hrefs = page.eval_on_selector_all(
        ".bd-sidebar-primary a[href], nav a[href]", "els => els.map(a => new URL(a.href).pathname)"
    )
    missing = [p for p in pages[1:] if f"/{p}.html" not in hrefs]
    if missing:
        problems.append(f"the navigation does not link to these toc pages: {_clip(missing)}")
    expect_no_problems(f"front page ({site_url} -> {page.url})", problems)


def test_page(site, page):
    """Each page of the toc loads, with no unresolved references, leaked markup or broken images."""
    site.open(page)
    facts = site.page.evaluate(PAGE_FACTS_JS)
    site.screenshot(Path(page).name)
    problems = check_page_basics(site, facts)
    expect_no_problems(page, problems)


# ---------------------------------------------------------------------------------------------
# Chapter pages


def test_chapter_theorem_and_proof_boxes(site, chapter):
    page = site.open(chapter)
    boxes = page.evaluate(
        """() => [...document.querySelectorAll('article div.admonition.proof')].map(d => ({
            classes: [...d.classList],
            title: (d.querySelector(':scope > .admonition-title') || {}).textContent || null,
            text: d.textContent.trim().slice(0, 60),
            visible: d.getBoundingClientRect().height > 0,
        }))"""
    )
    # sphinx-proof 0.4: a result is <div class="proof theorem admonition"> with an
    # .admonition-title "Theorem N (name)"; a proof is <div class="proof admonition"> without a
    # title whose text starts "Proof.".
    theorems = [b for b in boxes if set(THEOREM_LIKE) & set(b["classes"])]
    proofs = [b for b in boxes if b["title"] is None and b["text"].startswith("Proof")]
    problems = []
    if not theorems:
        problems.append(
            f"no theorem box ({'/'.join(THEOREM_LIKE)}: div.proof.theorem etc.); "
            f"sphinx-proof boxes found: {_clip(b['classes'] for b in boxes) or 'none'}"
        )
    for b in theorems:
        kind = (set(THEOREM_LIKE) & set(b["classes"])).pop()
        if not (b["title"] and re.match(rf"\s*{kind}\s+\d", b["title"], re.I)):
            problems.append(f"{kind} box without a numbered title: {b['title']!r} ({b['text']!r})")
        if not b["visible"]:
            problems.append(f"{kind} box is not displayed: {b['text']!r}")
    if not proofs:
        problems.append("no proof box (div.proof.admonition whose text starts 'Proof.')")
    problems += [f"proof box is not displayed: {b['text']!r}" for b in proofs if not b["visible"]]
    if theorems:  # a picture of the first result as a reader sees it (typeset mathematics)
        first = page.locator(
            "article div.admonition.proof.theorem, article div.admonition.proof.proposition"
        ).first
        if first.count():
            SCREENSHOTS.mkdir(parents=True, exist_ok=True)
            first.screenshot(path=str(SCREENSHOTS / f"{Path(chapter).name}-theorem.png"))
    expect_no_problems(chapter, problems)


def _corners(png: Path) -> list[tuple[int, ...]]:
    from PIL import Image

    with Image.open(png) as im:
        rgba = im.convert("RGBA")
        w, h = rgba.size
        return [rgba.getpixel(xy) for xy in ((0, 0), (w - 1, 0), (0, h - 1), (w - 1, h - 1))]


def test_chapter_figures_load_on_white(site, chapter, book_html):
    page = site.open(chapter)
    images = page.evaluate(
        """() => [...document.querySelectorAll('article img')]
              .filter(i => new URL(i.src).pathname.includes('/_images/'))
              .map(i => ({src: i.src, loaded: i.complete && i.naturalWidth > 0, width: i.naturalWidth}))"""
    )
    loaded = [i for i in images if i["loaded"]]
    if not loaded:
        expect_no_problems(
            chapter,
            [
                f"no figure image loaded (looked for <img> from _images/ in the article; found {len(images)}, "
                f"none with naturalWidth > 0). Do the notebook's plots reach the page? A figure shown by "
                f"plt.show() is lost when the kernel runs with MPLBACKEND=Agg."
            ],
        )
    problems = [f"figure did not load: {i['src']}" for i in images if not i["loaded"]]
    for img in loaded:
        file = book_html / unquote(urlparse(img["src"]).path).lstrip("/")
        if file.suffix.lower() not in (".png", ".jpg", ".jpeg"):
            continue
        corners = _corners(file)
        not_white = [c for c in corners if min(c[:3]) < 245 or c[3] < 255]
        if not_white:
            problems.append(
                f"figure {file.name} has no white background: corner pixels (RGBA) {corners}; "
                f"use a white face colour (lmt_core.plotting.use_house_style) and no transparency"
            )
    expect_no_problems(chapter, problems)


def test_chapter_solutions_are_folded_and_open_on_click(site, chapter):
    page = site.open(chapter)
    n_exercises = page.locator("article div.admonition.exercise").count()
    solutions = page.locator("article div.admonition.solution")
    problems = []
    if n_exercises == 0:
        problems.append("no exercise (div.exercise.admonition)")
    if solutions.count() == 0:
        problems.append("no solution (div.solution.admonition)")
    # sphinx-exercise writes <div class="solution dropdown admonition">; sphinx-togglebutton's
    # script then adds a button.toggle-button to its title and hides the body (class toggle-hidden).
    if solutions.count():
        try:
            page.wait_for_selector(
                "article div.admonition.solution button.toggle-button",
                state="attached",
                timeout=5000,
            )
        except Exception:  # playwright TimeoutError: reported per solution below
            pass
    for i in range(solutions.count()):
        sol = solutions.nth(i)
        name = (
            sol.locator(":scope > .admonition-title").text_content() or f"solution {i + 1}"
        ).strip()
        body = sol.locator(":scope > :not(.admonition-title)").first
        button = sol.locator("button.toggle-button")
        if "dropdown" not in (sol.get_attribute("class") or "").split():
            problems.append(f"{name!r} is not a dropdown (add `:class: dropdown`)")
            continue
        if button.count() == 0:
            problems.append(f"{name!r} has no toggle button (sphinx-togglebutton did not run)")
            continue
        if body.is_visible():
            problems.append(f"{name!r} is open before it is clicked")
            continue
        button.first.click()
        try:
            body.wait_for(state="visible", timeout=3000)
        except Exception:  # playwright TimeoutError
            problems.append(f"{name!r} did not open when its toggle button was clicked")
    expect_no_problems(chapter, problems)


def test_chapter_citations_link_into_the_bibliography(site, chapter, book_html, toc):
    page = site.open(chapter)
    facts = page.evaluate(PAGE_FACTS_JS)
    if not facts["citations"]:
        expect_no_problems(chapter, ["no citation ({cite} renders span.bibtex-citation)"])
    bib_pages = bibliography_pages(toc)
    if not bib_pages:
        pytest.fail("no page of the toc holds a {bibliography} directive", pytrace=False)
    ids_on = {
        d: set(
            re.findall(
                r'<div class="citation" id="([^"]+)"',
                (book_html / f"{d}.html").read_text(encoding="utf-8"),
            )
        )
        for d in bib_pages
    }
    problems = []
    for cite in facts["citations"]:
        if not cite["links"]:
            problems.append(f"citation {cite['text']!r} has no link")
        for href in cite["links"]:
            url = urlparse(href)
            target = url.path.lstrip("/").removesuffix(".html")
            if target not in bib_pages:
                problems.append(
                    f"citation {cite['text']!r} links to {href}, not to the bibliography "
                    f"({', '.join(sorted(bib_pages))})"
                )
            elif url.fragment not in ids_on[target]:
                problems.append(
                    f"citation {cite['text']!r} links to #{url.fragment}, which is no entry of {target}"
                )
    expect_no_problems(chapter, problems)


def test_chapter_colab_link(site, chapter, config):
    page = site.open(chapter)
    want = colab_url(config, chapter)
    hrefs = page.eval_on_selector_all(
        "a[href*='colab.research.google.com']", "els => els.map(a => a.href)"
    )
    if want not in hrefs:
        expect_no_problems(
            chapter,
            [f"no Colab launch link to {want}; Colab links on the page: {_clip(hrefs) or 'none'}"],
        )
    if not (ROOT / student_notebook(chapter)).exists():
        expect_no_problems(
            chapter,
            [f"the Colab link opens {student_notebook(chapter)}, which is not in the repository"],
        )
    # The rocket button of sphinx-book-theme opens a menu with the link.
    page.click(".dropdown-launch-buttons button")
    try:
        page.locator(f".dropdown-launch-buttons a[href='{want}']").wait_for(
            state="visible", timeout=3000
        )
    except Exception:  # playwright TimeoutError
        expect_no_problems(
            chapter, ["the launch (rocket) button does not show the Colab link when clicked"]
        )


def test_chapter_outputs_show_no_errors(site, chapter):
    page = site.open(chapter)
    bad = page.evaluate(
        r"""() => {
          const out = [];
          for (const el of document.querySelectorAll('article .cell_output')) {
            const cls = [...el.classList, ...[...el.querySelectorAll('[class]')].flatMap(e => [...e.classList])];
            const flagged = cls.filter(c => /^(traceback|error|output_error)$/.test(c));
            const text = el.textContent;
            if (flagged.length || /Traceback \(most recent call last\)/.test(text))
              out.push({classes: [...new Set(flagged)], text: text.trim().slice(0, 200)});
          }
          return out;
        }"""
    )
    problems = [f"cell output shows an error (classes {b['classes']}): {b['text']!r}" for b in bad]
    expect_no_problems(chapter, problems)


def test_chapter_shows_its_recorded_full_mode_figure(site, chapter):
    """Each chapter shows the headline figure of its full-mode record, with commit, date, machine
    (``reproduce.show_record``: the caption, then the PNG, as cell outputs)."""
    page = site.open(chapter)
    found = page.evaluate(
        r"""() => {
          for (const el of document.querySelectorAll('article .cell_output')) {
            if (!/Full mode, recorded/.test(el.textContent)) continue;
            const img = el.querySelector('img');
            return {caption: el.textContent.trim().slice(0, 300),
                    loaded: !!img && img.complete && img.naturalWidth > 0};
          }
          return null;
        }"""
    )
    problems = []
    if found is None:
        problems.append(
            "no 'Full mode, recorded' output: call reproduce.show_record(...) after the quick "
            "headline figure, and make the record with `make reproduce`"
        )
    elif not found["loaded"]:
        problems.append(f"the recorded full-mode figure did not load ({found['caption']!r})")
    elif not re.search(r"commit \w+", found["caption"]) or "20" not in found["caption"]:
        problems.append(f"the caption lacks commit/date: {found['caption']!r}")
    expect_no_problems(chapter, problems)
