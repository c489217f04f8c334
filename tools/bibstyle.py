"""Sphinx extension: bibliography entries labelled "Author et al. (year)", matching the
author–year citations in the text (the default labels look like "[BEG+22]")."""

from __future__ import annotations

from pybtex.plugin import register_plugin
from pybtex.style.formatting.unsrt import Style as UnsrtStyle
from pybtex.style.labels import BaseLabelStyle


def _surname(person) -> str:
    return " ".join(person.prelast_names + person.last_names).replace("{", "").replace("}", "")


class AuthorYearLabels(BaseLabelStyle):
    """ "Surname year", "Surname and Surname year" or "Surname et al. year"; a, b, … on clashes."""

    def format_labels(self, sorted_entries):
        entries = list(sorted_entries)
        labels = [self._label(e) for e in entries]
        counts = {lab: labels.count(lab) for lab in labels}
        seen: dict[str, int] = {}
        for lab in labels:
            if counts[lab] > 1:
                seen[lab] = seen.get(lab, 0) + 1
                yield lab + "abcdefghijklmnopqrstuvwxyz"[seen[lab] - 1]
            else:
                yield lab

    @staticmethod
    def _label(entry) -> str:
        people = entry.persons.get("author") or entry.persons.get("editor") or []
        year = entry.fields.get("year", "")
        if not people:
            name = entry.key
        elif len(people) == 1:
            name = _surname(people[0])
        elif len(people) == 2:
            name = f"{_surname(people[0])} and {_surname(people[1])}"
        else:
            name = f"{_surname(people[0])} et al."
        return f"{name} {year}".strip()


class AuthorYearStyle(UnsrtStyle):
    default_label_style = AuthorYearLabels
    default_sorting_style = "author_year_title"


def setup(app):
    register_plugin("pybtex.style.formatting", "lmt_author_year", AuthorYearStyle)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
