"""The committed release in notebooks/ is exactly what nbgrader generates from solutions/."""

from __future__ import annotations

import json

import pytest

from tests.conftest import CHAPTERS

pytestmark = pytest.mark.notebook


@pytest.mark.parametrize("chapter", CHAPTERS)
def test_release_matches_solutions(course, repo, chapter):
    generated = course.root / "notebooks" / chapter
    committed = repo / "notebooks" / chapter
    assert committed.is_dir(), f"notebooks/{chapter}/ is missing: run `make release` and commit it"
    names = sorted(p.name for p in generated.iterdir())
    assert sorted(p.name for p in committed.iterdir()) == names, f"files differ in notebooks/{chapter}/"
    for name in names:
        new, old = generated / name, committed / name
        if name.endswith(".ipynb"):
            new_nb, old_nb = json.loads(new.read_text()), json.loads(old.read_text())
            assert len(new_nb["cells"]) == len(old_nb["cells"]), f"notebooks/{chapter}/{name}: cell count"
            for index, (a, b) in enumerate(zip(new_nb["cells"], old_nb["cells"])):
                assert (a["cell_type"], a["source"]) == (b["cell_type"], b["source"]), (
                    f"notebooks/{chapter}/{name} cell {index} differs from solutions/: run `make release`"
                )
                assert a["metadata"].get("nbgrader") == b["metadata"].get("nbgrader"), (
                    f"notebooks/{chapter}/{name} cell {index}: nbgrader metadata differs"
                )
        assert new.read_bytes() == old.read_bytes(), (
            f"notebooks/{chapter}/{name} differs from what nbgrader generates: run `make release`"
        )
