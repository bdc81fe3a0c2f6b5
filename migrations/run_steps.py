"""Run one release's migration steps in one process, in the order given.

    python migrations/run_steps.py STEP [STEP ...]   (in the project directory)

Each step is a script next to this one (`STEP.py`, with a `report(project)` function
and a test in tests/test_update.py) that can also run on its own. One process for all
of a release's steps instead of one per step: starting Python and importing YAML was
most of each step's time. A step that fails stops the rest, as copier stops at a failed
migration; the update is then undone (scripts/template_update.py).
"""

from __future__ import annotations

import importlib
import sys
from pathlib import Path

from _common import run


def main(steps: list[str], project: Path) -> None:
    for step in steps:
        run(step, importlib.import_module(step).report, project)


if __name__ == "__main__":
    main(sys.argv[1:], Path.cwd())
