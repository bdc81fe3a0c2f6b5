"""What every task entry point shares: arguments, config, logging, timing, exit code."""

from __future__ import annotations

import argparse
import logging
import sys
import time
from collections.abc import Callable, Sequence
from functools import cached_property
from pathlib import Path
from typing import Any

from pyspark.sql import SparkSession

from .config import ENVIRONMENTS, Config, ConfigError, load_config
from .spark import get_spark

log = logging.getLogger(__name__)


class TaskFailed(RuntimeError):
    """A task could not do its job; the message says why, in one line."""


class TaskContext:
    """Config for the chosen environment plus the Spark session, created on first use."""

    def __init__(self, config: Config):
        self.config = config

    @cached_property
    def spark(self) -> SparkSession:
        return get_spark(app_name=f"{self.config.project.project.slug}-{self.config.env_name}")


Task = Callable[[TaskContext], dict[str, Any]]


def parse_args(task: str, argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog=task, description=f"Run the '{task}' task.")
    parser.add_argument("--env", default="local", choices=ENVIRONMENTS)
    parser.add_argument("--conf-dir", type=Path, default=None, help="default: ./conf")
    return parser.parse_args(argv)


def configure_logging() -> None:
    logging.basicConfig(
        level=logging.INFO,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
        stream=sys.stderr,
    )
    # py4j logs every gateway call at INFO.
    logging.getLogger("py4j").setLevel(logging.WARNING)


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


def execute(
    tasks: Sequence[tuple[str, Task]], env: str, conf_dir: Path | None, summary: bool = False
) -> int:
    """Run `tasks` in order on one context; 0 on success, 1 with a one-line reason."""
    configure_logging()
    name = "config"
    results: dict[str, dict[str, Any]] = {}
    try:
        context = TaskContext(load_config(env, conf_dir))
        for name, task in tasks:
            results[name] = run_task(name, task, context)
    except (ConfigError, TaskFailed) as error:
        log.error("%s failed: %s", name, error)
        return 1
    if summary:
        print_summary(results)
    return 0


def entry_point(name: str, task: Task) -> Callable[[Sequence[str] | None], int]:
    """Wrap a task as a console script: `<task> --env <env> [--conf-dir DIR]`."""

    def main(argv: Sequence[str] | None = None) -> int:
        args = parse_args(name, argv)
        return execute([(name, task)], args.env, args.conf_dir)

    main.__name__ = f"{name}_main"
    return main
