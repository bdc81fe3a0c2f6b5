"""What every migration needs: read a project's YAML, or stop with one line.

A migration runs after `copier update` has written the new platform files; if it stops,
scripts/template_update.py puts the project back as it was before the update, so the
owner fixes the file named here and runs the same update again.
"""

from __future__ import annotations

import os
import sys
import traceback
from pathlib import Path

import yaml

# Where scripts/template_update.py asks for a failed step's one-line error.
ERROR_FILE = "TEMPLATE_MIGRATION_ERROR_FILE"
# Where it collects what the owner must do, one line each, for the update's summary,
# the pull-request body and the fleet's row of this project.
ACTIONS_FILE = "TEMPLATE_MIGRATION_ACTIONS_FILE"


def action_needed(text: str) -> None:
    """Say what the owner must do after the update: printed, and handed to the update."""
    print(f"  action needed: {text}")
    if report_to := os.environ.get(ACTIONS_FILE):
        with open(report_to, "a", encoding="utf-8") as handle:
            handle.write(" ".join(text.split()) + "\n")


class MigrationError(Exception):
    """A project file the migration cannot read; the message names it and the line."""


def load_yaml(path: Path, root: Path) -> object:
    try:
        return yaml.safe_load(path.read_text(encoding="utf-8"))
    except yaml.YAMLError as error:
        # Where the broken construct opened (an unclosed bracket), else where parsing stopped.
        mark = getattr(error, "context_mark", None) or getattr(error, "problem_mark", None)
        where = f"{path.relative_to(root)}:{mark.line + 1}" if mark else str(path.relative_to(root))
        problem = getattr(error, "problem", None) or str(error).splitlines()[0]
        raise MigrationError(f"{where}: not valid YAML ({problem})") from None


def run(name: str, migrate_and_report, root: Path | None = None) -> None:
    """Step entry: the project is `root`, else argv[1] or the working directory (a step
    run as a script); errors are one line."""
    if root is None:
        root = Path(sys.argv[1]) if len(sys.argv) > 1 else Path.cwd()
    try:
        migrate_and_report(root)
    except MigrationError as error:
        stop(f"migration {name}: {error}")
    except Exception as error:  # a bug, or a file it did not expect: the step still named
        traceback.print_exc()
        first = (str(error).strip().splitlines() or [""])[0]
        stop(f"migration {name}: {type(error).__name__}: {first} (traceback above)")


def stop(line: str) -> None:
    print(f"error: {line}", file=sys.stderr)
    # For the update's one-line summary (a fleet's table), which cannot see stderr.
    if report_to := os.environ.get(ERROR_FILE):
        Path(report_to).write_text(line, encoding="utf-8")
    sys.exit(1)
