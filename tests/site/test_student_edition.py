"""The student edition (tools/build.py --student): chapters keep their exercises, lose their solutions."""

from __future__ import annotations

import re

import pytest

# The text of every solution of a chapter, as the instructor build holds it (hidden or not).
SOLUTIONS_JS = """
() => [...document.querySelectorAll('article div.admonition.solution')].map(s => {
  const body = [...s.children].filter(c => !c.classList.contains('admonition-title'));
  return body.map(c => c.textContent).join(' ');
})
"""
EXERCISES_JS = (
    "() => [...document.querySelectorAll('article div.admonition.exercise')].map(e => e.id)"
)
# The instructor page's text outside its solutions (a line found there may well be in the student edition).
OUTSIDE_SOLUTIONS_JS = """
() => {
  const article = document.querySelector('article').cloneNode(true);
  article.querySelectorAll('div.admonition.solution').forEach(s => s.remove());
  return article.textContent;
}
"""


def _snippets(text: str) -> list[str]:
    """Distinctive lines of a solution (long enough not to occur by chance elsewhere)."""
    lines = [re.sub(r"\s+", " ", line).strip() for line in text.splitlines()]
    return sorted({line for line in lines if len(line) >= 24}, key=len, reverse=True)[:5]


def test_student_chapter_has_exercises_but_no_solutions(site, student_site, chapter):
    teacher = site.open(chapter)
    exercises = teacher.evaluate(EXERCISES_JS)
    solutions = teacher.evaluate(SOLUTIONS_JS)
    outside = re.sub(r"\s+", " ", teacher.evaluate(OUTSIDE_SOLUTIONS_JS))
    if not exercises:
        pytest.fail(
            f"page {chapter}: the instructor build has no exercise (div.exercise.admonition)",
            pytrace=False,
        )

    student = student_site.open(chapter)
    title = student.title()
    student_exercises = student.evaluate(EXERCISES_JS)
    student_solutions = student.locator("article div.admonition.solution").count()
    student_text = re.sub(
        r"\s+", " ", student.evaluate("() => document.querySelector('article').textContent")
    )

    problems = []
    if "student edition" not in title.lower():
        problems.append(
            f"the window title {title!r} does not say 'student edition': is this the student build?"
        )
    missing = [e for e in exercises if e not in student_exercises]
    if missing:
        problems.append(
            f"exercises missing from the student edition: {', '.join(missing)} "
            f"(instructor build: {len(exercises)}, student edition: {len(student_exercises)})"
        )
    if student_solutions:
        problems.append(
            f"{student_solutions} solution box(es) (div.solution.admonition) in the student edition"
        )
    if "Solution to" in student_text:
        problems.append("the text 'Solution to' appears in the student edition")
    leaked = [
        s for text in solutions for s in _snippets(text) if s in student_text and s not in outside
    ]
    if leaked:
        problems.append(
            "solution content appears in the student edition (e.g. the code cells of a gated "
            "solution-start/solution-end block): " + "; ".join(repr(s[:80]) for s in leaked[:5])
        )
    if problems:
        pytest.fail(
            f"student edition, page {chapter}:\n  - " + "\n  - ".join(problems), pytrace=False
        )
