"""`python -m <package> <task|pipeline> --env <env>`: run lifecycle tasks by name."""

from __future__ import annotations

import argparse
import importlib
import importlib.util
from collections.abc import Sequence
from pathlib import Path

from .platform.config import ENVIRONMENTS
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


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog=f"python -m {__package__}")
    parser.add_argument(
        "task", choices=(*PIPELINE, *EXTRA, "pipeline"), help="a task, or all in order"
    )
    parser.add_argument("--env", default="local", choices=ENVIRONMENTS)
    parser.add_argument("--conf-dir", type=Path, default=None, help="default: ./conf")
    add_gate_flag(parser)
    args = parser.parse_args(argv)
    names = PIPELINE if args.task == "pipeline" else (args.task,)
    tasks = [(name, load_task(name)) for name in names]
    summary = args.task == "pipeline"
    return execute(tasks, args.env, args.conf_dir, summary, args.allow_unvalidated)
