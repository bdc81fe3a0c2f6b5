"""`python -m <package> <task|pipeline> --env <env>`: run lifecycle tasks by name."""

from __future__ import annotations

import argparse
import importlib
import importlib.util
import sys
from collections.abc import Sequence
from pathlib import Path

from .platform.config import ENVIRONMENTS
from .platform.contract import MODEL_DIR, MODEL_PACKAGE
from .platform.runner import Task, add_gate_flag, execute

# Lifecycle order; each name is a module in tasks/ with a `run(context)` function.
# `monitor` exists only in projects generated with monitoring.
PIPELINE = ("ingest", "validate", "train", "evaluate", "promote", "infer") + (
    ("monitor",) if importlib.util.find_spec(f"{__package__}.tasks.monitor") else ()
)
# Commands outside the pipeline: name -> (module, function).
EXTRA = {"rollback": ("promote", "rollback")}


def load_task(name: str) -> Task:
    module, function = EXTRA.get(name, (name, "run"))
    return getattr(importlib.import_module(f"{__package__}.tasks.{module}"), function)


def check_model() -> str | None:
    """Build the project's model before Spark starts: a mistake in model code shows in
    seconds, as one line, instead of after ingest and validate."""
    try:
        importlib.import_module(MODEL_PACKAGE).build_model()
    except Exception as error:  # the project's code: any error is the message
        return f"{MODEL_DIR}: build_model() failed: {type(error).__name__}: {error}"
    return None


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog=f"python -m {__package__}")
    parser.add_argument(
        "tasks",
        nargs="+",
        metavar="task",
        choices=(*PIPELINE, *EXTRA, "pipeline"),
        help="one or more tasks, run in the order given, or `pipeline` for all",
    )
    parser.add_argument("--env", default="local", choices=ENVIRONMENTS)
    parser.add_argument("--conf-dir", type=Path, default=None, help="default: ./conf")
    add_gate_flag(parser)
    args = parser.parse_args(argv)
    if "pipeline" in args.tasks and len(args.tasks) > 1:
        parser.error("`pipeline` runs every task; name it alone")
    names = PIPELINE if args.tasks == ["pipeline"] else tuple(args.tasks)
    if "train" in names:
        problem = check_model()
        if problem:
            print(f"error: {problem}", file=sys.stderr)
            return 1
    tasks = [(name, load_task(name)) for name in names]
    summary = len(names) > 1
    return execute(tasks, args.env, args.conf_dir, summary, args.allow_unvalidated)
