"""`<slug> <task|pipeline> --env <env>`: the project's one console script.

Locally it is `<slug> train --env local` (or `python -m <package> train`); on Databricks
every `python_wheel_task` calls it with the task's name first in its parameters. The
tasks and their order come from the registry in tasks/__init__.py.
"""

from __future__ import annotations

import argparse
import importlib
import sys
from collections.abc import Sequence
from pathlib import Path

from .platform.config import ENVIRONMENTS
from .platform.contract import MODEL_DIR, MODEL_PACKAGE
from .platform.runner import add_gate_flag, raise_failure, run_tasks
from .tasks import COMMANDS, PIPELINE, load

E2E = "e2e"  # the staging end-to-end test: tasks/e2e.py, with arguments of its own


def check_model() -> str | None:
    """Build the project's model before Spark starts: a mistake in model code shows in
    seconds, as one line, instead of after ingest and validate."""
    try:
        importlib.import_module(MODEL_PACKAGE).build_model()
    except Exception as error:  # the project's code: any error is the message
        return f"{MODEL_DIR}: build_model() failed: {type(error).__name__}: {error}"
    return None


def main(argv: Sequence[str] | None = None, overrides: dict | None = None) -> int:
    """Run the tasks named; 0 on success, else raise (a Databricks job run ignores the
    return value, so a failure must raise to fail it; locally the process exits 1).

    `overrides`: config keys merged into the environment's settings for this run only
    (the dev executor notebook's widget), never written to conf/.
    """
    argv = list(sys.argv[1:] if argv is None else argv)
    if argv[:1] == [E2E]:
        from .tasks import e2e

        return e2e.main(argv[1:])
    parser = argparse.ArgumentParser()
    parser.add_argument(
        "tasks",
        nargs="+",
        metavar="task",
        choices=(*PIPELINE, *COMMANDS, "pipeline"),
        help=f"one or more of {', '.join(PIPELINE + tuple(COMMANDS))}, run in the order "
        f"given, or `pipeline` for all ({E2E}: `{E2E} --help`)",
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
            raise_failure(problem)
    tasks = [(name, load(name)) for name in names]
    reason = run_tasks(
        tasks,
        args.env,
        args.conf_dir,
        len(names) > 1,
        overrides=overrides,
        allow_unvalidated=args.allow_unvalidated,
    )
    if reason is not None:
        raise_failure(reason)
    return 0
