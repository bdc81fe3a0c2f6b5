"""Migration to 0.2.0: comments in `conf/envs/*.yml` that 0.2.0 made untrue.

The environment files are project-owned, so `copier update` leaves their old comments.
Two of them no longer say what the platform does:

- `evaluation.min_improvement`: a candidate must now beat the champion by *more* than it
  (an equal score no longer promotes an identical model);
- `evaluation.metric`: the metrics now depend on the model's `PROBLEM_TYPE` (regression
  and multi-class models have their own), so the binary-only list is wrong.

Each comment is rewritten on its key's own line where it is still as generated (the
owner's value stays); a comment the owner rewrote is left alone. Idempotent.
"""

from __future__ import annotations

from pathlib import Path

from _common import run

# key -> (the comment as 0.1.0 generated it, the comment now)
CORRECTIONS = {
    "min_improvement:": (
        "# candidate must beat the champion by at least this much",
        "# candidate must beat the champion by more than this (equal fails)",
    ),
    "metric:": (
        "# roc_auc | accuracy | f1 | log_loss (lower is better)",
        "# one of PROBLEM_TYPE's metrics (docs/how-to.md); lower is better: log_loss, rmse, mae",
    ),
}


def _corrected(line: str) -> str:
    key = line.lstrip().split(" ", 1)[0]
    if key in CORRECTIONS:
        old, new = CORRECTIONS[key]
        return line.replace(old, new)
    return line


def migrate(project: Path) -> list[Path]:
    """The files whose comments were corrected."""
    changed = []
    for path in sorted((project / "conf" / "envs").glob("*.yml")):
        lines = path.read_text(encoding="utf-8").splitlines(keepends=True)
        out = [_corrected(line) for line in lines]
        if out != lines:
            path.write_text("".join(out), encoding="utf-8")
            changed.append(path)
    return changed


def report(root: Path) -> None:
    for path in migrate(root):
        print(
            f"migration 0.2.0: {path.relative_to(root)}: comments on evaluation.metric and "
            "evaluation.min_improvement now say what 0.2.0 does"
        )


if __name__ == "__main__":
    run("correct_conf_comments", report)
