"""Migration to 0.2.0: the `evaluation.min_improvement` comment says what the gate does now.

Since 0.2.0 a candidate must beat the champion by *more* than `min_improvement` (an equal
score no longer promotes an identical model). The environment files are project-owned, so
`copier update` leaves their old comment ("by at least this much"), which is now untrue.
This rewrites that one comment where it is still as generated (the owner's value stays);
a comment the owner rewrote is left alone. Idempotent.
"""

from __future__ import annotations

from pathlib import Path

from _common import run

OLD = "# candidate must beat the champion by at least this much"
NEW = "# candidate must beat the champion by more than this (equal fails)"


def migrate(project: Path) -> list[Path]:
    """The files whose comment was corrected."""
    changed = []
    for path in sorted((project / "conf" / "envs").glob("*.yml")):
        text = path.read_text(encoding="utf-8")
        lines = text.splitlines(keepends=True)
        out = [
            line.replace(OLD, NEW) if line.lstrip().startswith("min_improvement:") else line
            for line in lines
        ]
        if out != lines:
            path.write_text("".join(out), encoding="utf-8")
            changed.append(path)
    return changed


def report(root: Path) -> None:
    for path in migrate(root):
        print(
            f"migration 0.2.0: {path.relative_to(root)}: evaluation.min_improvement now means "
            "'beat the champion by more than this'; the comment says so"
        )


if __name__ == "__main__":
    run("correct_min_improvement_comment", report)
