"""What every task run shares: config, logging, timing, failure.

A Databricks `python_wheel_task` calls the entry point (cli.main) and ignores its return
value, so a failed task must raise for its job run to fail. Locally the same entry point
is the console script: the exception then ends the process with status 1 and the
one-line reason already logged, without a traceback (`_quiet_excepthook`).
"""

from __future__ import annotations

import argparse
import logging
import os
import sys
import time
from collections.abc import Callable, Sequence
from functools import cached_property
from pathlib import Path
from typing import Any

from pyspark.sql import SparkSession

from .config import Config, ConfigError, load_config
from .spark import get_spark

log = logging.getLogger(__name__)


class TaskFailed(RuntimeError):
    """A task could not do its job; the message says why, in one line."""


def _quiet_excepthook(kind, value, traceback) -> None:
    """Leave a logged task failure at its one log line; anything else keeps its traceback."""
    if isinstance(value, TaskFailed) and getattr(value, "logged", False):
        return
    sys.__excepthook__(kind, value, traceback)


class TaskContext:
    """Config for the chosen environment plus the Spark session, created on first use.

    `allow_unvalidated`: go on with a features version that has not passed validation
    (platform/gate.py); only ever set by an explicit flag.
    """

    def __init__(self, config: Config, allow_unvalidated: bool = False):
        self.config = config
        self.allow_unvalidated = allow_unvalidated

    @cached_property
    def spark(self) -> SparkSession:
        return get_spark(app_name=f"{self.config.project.project.slug}-{self.config.env_name}")


Task = Callable[[TaskContext], dict[str, Any]]


def add_gate_flag(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--allow-unvalidated",
        action="store_true",
        help="use a features version that has not passed validation (logged and recorded)",
    )


def configure_logging() -> None:
    logging.basicConfig(
        level=logging.INFO,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
        stream=sys.stderr,
    )
    # py4j logs every gateway call at INFO.
    logging.getLogger("py4j").setLevel(logging.WARNING)
    # MLflow draws a progress bar for every artifact download (each model load): in a
    # job's log that is a screen of carriage returns per task. Set it to true to keep it.
    os.environ.setdefault("MLFLOW_ENABLE_ARTIFACTS_PROGRESS_BAR", "false")


def run_task(name: str, task: Task, context: TaskContext) -> dict[str, Any]:
    """Run one task, log its outcome and duration; exceptions propagate."""
    log.info("%s: started (env=%s)", name, context.config.env_name)
    started = time.perf_counter()
    result = task(context)
    log.info("%s: done in %.1f s: %s", name, time.perf_counter() - started, result)
    return result


def print_summary(results: dict[str, dict[str, Any]]) -> None:
    """Tell a person where to look at what the tasks produced."""
    print("\nResults:")
    for name, result in results.items():
        details = ", ".join(f"{key}={value}" for key, value in result.items())
        print(f"  {name:<10} {details}")


def run_tasks(
    tasks: Sequence[tuple[str, Task]],
    env: str,
    conf_dir: Path | None,
    summary: bool = False,
    overrides: dict | None = None,
    always_last: bool = False,
    allow_unvalidated: bool = False,
) -> str | None:
    """Run `tasks` in order on one context; None on success, else the logged reason.

    With `always_last`, the last task (a clean-up) runs even after an earlier failure.
    """
    configure_logging()
    try:
        context = TaskContext(load_config(env, conf_dir, overrides), allow_unvalidated)
    except ConfigError as error:
        log.error("config failed: %s", error)
        return f"config failed: {error}"
    results: dict[str, dict[str, Any]] = {}
    failure = None
    for index, (name, task) in enumerate(tasks):
        is_last = index == len(tasks) - 1
        if failure is not None and not (always_last and is_last):
            continue
        try:
            results[name] = run_task(name, task, context)
        except (ConfigError, TaskFailed) as error:
            log.error("%s failed: %s", name, error)
            failure = failure or f"{name} failed: {error}"
        except Exception:
            # Data and config mistakes are TaskFailed/ConfigError above, in one line;
            # anything else is a bug in the code, and its traceback follows.
            log.error("%s failed with an unexpected error (a bug): traceback follows", name)
            raise
    if failure is None and summary:
        print_summary(results)
    return failure


def raise_failure(reason: str) -> None:
    """Fail the job run (Databricks) or the process (console script) with `reason`."""
    failure = TaskFailed(reason)
    failure.logged = True
    sys.excepthook = _quiet_excepthook
    raise failure
