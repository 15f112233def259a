"""Every chapter's execution time against its budget, in wall and CPU seconds (`make bench`).

Budgets: a chapter in full mode (as a student runs it) within 60 s, every code cell within 20 s
(a sixth of nbgrader's per-cell timeout, `c.Execute.timeout` in nbgrader_config.py). They used
to be assertions of `tests/notebooks/test_execute.py`, where a busy machine failed them with no
defect in the course; here they are measured, printed and judged, and the exit status is 1 when
a budget is broken. The verdict is on wall seconds, what a student waits: run it on an idle
machine (the load average is printed; the CPU seconds of the kernel show whether a slow run
was slow work or a busy machine).

    .venv/bin/python benchmarks/chapters.py [--chapters 01_rnn_forward,02_bptt] [--fast]
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from rnn_course.course import chapters, execute_notebook  # noqa: E402

NBGRADER_CELL_TIMEOUT = 120
CELL_BUDGET = NBGRADER_CELL_TIMEOUT / 6
CHAPTER_BUDGET = 60.0


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--chapters", default="", help="comma-separated chapter names (default: all)")
    parser.add_argument("--fast", action="store_true", help="fast mode (as nbgrader grades) instead of full")
    args = parser.parse_args()
    names = [c for c in args.chapters.split(",") if c] or chapters(REPO)
    config = (REPO / "nbgrader_config.py").read_text()
    if f"c.Execute.timeout = {NBGRADER_CELL_TIMEOUT}" not in config:
        print(f"nbgrader_config.py no longer sets c.Execute.timeout = {NBGRADER_CELL_TIMEOUT}: update the budgets")
        return 2

    import keras

    print(f"backend {keras.config.backend()}, {'fast' if args.fast else 'full'} mode, {os.cpu_count()} cores, "
          f"load average {', '.join(f'{x:.2f}' for x in os.getloadavg())}")
    print(f"budgets: {CHAPTER_BUDGET:.0f} s a chapter, {CELL_BUDGET:.0f} s a cell (wall)")
    print(f"{'chapter':<26}{'wall s':>8}{'cpu s':>8}{'slowest cell':>14}{'wall s':>8}{'cpu s':>8}  verdict")
    broken = []
    for chapter in names:
        cpu: list = []
        _, wall = execute_notebook(REPO / "solutions" / chapter / f"{chapter}.ipynb",
                                   timeout=NBGRADER_CELL_TIMEOUT, fast=args.fast, cpu=cpu)
        slowest = max(range(len(wall)), key=wall.__getitem__)
        over = []
        if sum(wall) >= CHAPTER_BUDGET:
            over.append(f"chapter {sum(wall):.1f} s >= {CHAPTER_BUDGET:.0f} s")
        if wall[slowest] >= CELL_BUDGET:
            over.append(f"cell {slowest} {wall[slowest]:.1f} s >= {CELL_BUDGET:.0f} s")
        print(f"{chapter:<26}{sum(wall):8.1f}{sum(cpu):8.1f}{slowest:>14}{wall[slowest]:8.1f}{cpu[slowest]:8.1f}  "
              + ("SLOW: " + "; ".join(over) if over else "ok"))
        broken.extend(f"{chapter}: {o}" for o in over)
    if broken:
        print("slow (budgets broken; meaningful on an idle machine only):\n  " + "\n  ".join(broken))
        return 1
    print("every chapter within its budgets")
    return 0


if __name__ == "__main__":
    sys.exit(main())
