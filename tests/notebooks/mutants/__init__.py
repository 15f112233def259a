"""Deliberately wrong solutions: each must lose points in the named test cells.

A mutant is the solution notebook with one edit in one solution cell; the edit must apply
exactly once (``rnn_course.samples.mutate`` refuses otherwise), so a mutant cannot silently
equal the solution after the solution changes. Each chapter keeps its mutants in its own module
``m<chapter>.py`` (e.g. ``m01_rnn_forward.py``) defining ``MUTANTS``; ``MUTANTS`` here
gathers them all.
"""

from __future__ import annotations

import dataclasses
import zlib


@dataclasses.dataclass(frozen=True)
class Mutant:
    chapter: str
    grade_id: str          # the solution cell to edit
    find: str
    replace: str
    loses: frozenset       # test cells (grade_id) that must score below their maximum
    why: str

    @property
    def student(self) -> str:
        tag = zlib.crc32(f"{self.find}->{self.replace}".encode()) % 10**6
        return f"mutant-{self.grade_id}-{tag:06d}".replace("_", "-")


def M(chapter, grade_id, find, replace, loses, why):
    return Mutant(chapter, grade_id, find, replace, frozenset(loses), why)


def _gather() -> list:
    import importlib
    import pkgutil

    found = []
    for info in sorted(pkgutil.iter_modules(__path__), key=lambda i: i.name):
        if info.name.startswith("m") and info.name[1:3].isdigit():
            found.extend(importlib.import_module(f"{__name__}.{info.name}").MUTANTS)
    return found


MUTANTS = _gather()
