"""Deliberately wrong solutions: each must lose points in the named test cells.

A mutant is the solution notebook with one edit in one solution cell; the edit must apply
exactly once (``rnn_course.samples.mutate`` refuses otherwise), so a mutant cannot silently
equal the solution after the solution changes. Each chapter keeps its mutants in its own module
``m<chapter>.py`` (e.g. ``m01_rnn_forward.py``) defining ``MUTANTS``; ``MUTANTS`` here
gathers them all.

A mutant marked ``visible=True`` breaks a requirement the chapter's markdown states, so the
*visible* tests (what the student runs before submitting) must catch it, not only the hidden
ones: tests/notebooks/test_visible_mutants.py executes each such mutant as the student sees it
and checks that one of its ``loses`` test cells fails (and, where ``says`` is given, that the failure's
message names the real bug with that fragment: issue 18). Every exercise has at least one visible
mutant, or its chapter module says why not in ``NO_VISIBLE_MUTANT`` ({grade_id: reason}).
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
    visible: bool = False  # the visible tests of one of ``loses`` must catch it (not only hidden ones)
    says: str | None = None  # with visible: a fragment the failing check's message must contain

    @property
    def student(self) -> str:
        tag = zlib.crc32(f"{self.find}->{self.replace}".encode()) % 10**6
        return f"mutant-{self.grade_id}-{tag:06d}".replace("_", "-")


def M(chapter, grade_id, find, replace, loses, why, *, visible=False, says=None):
    if says is not None and not visible:
        raise ValueError(f"says= is checked against the visible tests: mark the mutant visible=True ({why})")
    return Mutant(chapter, grade_id, find, replace, frozenset(loses), why, visible, says)


def _gather() -> tuple[list, dict]:
    import importlib
    import pkgutil

    found, reasons = [], {}
    for info in sorted(pkgutil.iter_modules(__path__), key=lambda i: i.name):
        if info.name.startswith("m") and info.name[1:3].isdigit():
            module = importlib.import_module(f"{__name__}.{info.name}")
            found.extend(module.MUTANTS)
            chapter = info.name[1:]
            reasons.update({(chapter, gid): why for gid, why in getattr(module, "NO_VISIBLE_MUTANT", {}).items()})
    return found, reasons


MUTANTS, NO_VISIBLE_MUTANT = _gather()  # NO_VISIBLE_MUTANT: {(chapter, grade_id): reason}
