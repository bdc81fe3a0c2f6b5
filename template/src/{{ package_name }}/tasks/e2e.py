"""The end-to-end test a staging job runs: the whole pipeline, then checks its outcome.

`<slug> e2e --env staging --isolate pr-42` runs every lifecycle task in order as the
staging service principal, in a schema of its own (`<schema>_e2e_pr_42`: its tables and
its registered model), then checks that a champion is served and that the latest batch
was scored completely, and finally drops that schema and model, pass or fail. The
staging schema, its tables and its `champion` are never touched, so pull requests can
not move each other's or staging's model. Any failure raises, which fails the job run
and so the pull request that launched it. Without `--isolate` it runs in place.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from pyspark.sql import functions as F

from ..platform import gate, tracking
from ..platform.config import ENVIRONMENTS, ConfigError, isolation_overrides, load_config
from ..platform.runner import TaskContext, TaskFailed, raise_failure, run_task, run_tasks
from ..platform.tables import batch_id, current_version, read_version, resolve, schema_exists
from . import PIPELINE, load


def check(context: TaskContext) -> dict[str, Any]:
    config, spark = context.config, context.spark
    client = tracking.configure(config)
    champion = tracking.version_by_alias(client, config.model_name, tracking.CHAMPION)
    if champion is None:
        raise TaskFailed(f"e2e: no '{tracking.CHAMPION}' for {config.model_name} after the run")
    features = config.env.tables.features
    version = current_version(spark, features)
    expected = read_version(spark, features, version).count()
    scored = (
        spark.read.table(resolve(config.env.tables.predictions))
        .where(F.col("batch_id") == batch_id(features, version))
        .count()
    )
    if scored != expected:
        raise TaskFailed(f"e2e: {scored} predictions for {expected} rows of {features}")
    # The data gate held: what was scored is a version that passed validation.
    found, _ = gate.status(spark, config.env.tables.validation_results, features, version)
    if found != "passed":
        raise TaskFailed(f"e2e: {features} v{version} was scored but its validation is {found}")
    return {"champion": champion.version, "predictions": scored, "validation": found}


def run(context: TaskContext) -> dict[str, Any]:
    for name in PIPELINE:
        run_task(name, load(name), context)
    return check(context)


def clean_up(context: TaskContext) -> dict[str, Any]:
    """Drop the run's registered model and schema (tables included)."""
    config, spark = context.config, context.spark
    client = tracking.configure(config)
    name = config.model_name
    if client.search_model_versions(f"name = '{name}'") or tracking.registered(client, name):
        for alias in (tracking.CHAMPION, tracking.CHALLENGER, tracking.PREVIOUS):
            if tracking.version_by_alias(client, name, alias):
                client.delete_registered_model_alias(name, alias)
        for version in client.search_model_versions(f"name = '{name}'"):
            client.delete_model_version(name, version.version)
        client.delete_registered_model(name)
    schema = resolve(config.env.tables.features).rpartition(".")[0]
    if schema_exists(spark, schema):
        spark.sql(f"DROP SCHEMA {schema} CASCADE")
    return {"dropped": schema, "model": name}


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="e2e", description="Run the end-to-end test.")
    parser.add_argument("--env", default="local", choices=ENVIRONMENTS)
    parser.add_argument("--conf-dir", type=Path, default=None, help="default: ./conf")
    parser.add_argument("--isolate", default="", help="run id: own schema and model, dropped")
    args = parser.parse_args(argv)
    overrides = None
    if args.isolate:
        try:
            overrides = isolation_overrides(load_config(args.env, args.conf_dir), args.isolate)
        except (ConfigError, TaskFailed) as error:
            print(f"error: e2e failed: {error}", file=sys.stderr)
            raise_failure(f"e2e failed: {error}")
    tasks = [("e2e", run)]
    if args.isolate:
        # Before: what a cancelled run with the same id left behind; after: pass or fail.
        tasks = [("clean-up", clean_up), *tasks, ("clean-up", clean_up)]
    reason = run_tasks(tasks, args.env, args.conf_dir, overrides=overrides, always_last=True)
    if reason is not None:
        raise_failure(reason)
    return 0
