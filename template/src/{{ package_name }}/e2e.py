"""The end-to-end test a staging job runs: the whole pipeline, then checks its outcome.

`<slug>-e2e --env staging` runs every lifecycle task in order on the environment's
(small, sample or staging) data as the staging service principal, then checks that a
champion is served and that the latest batch was scored completely. Any failure exits
non-zero, which fails the job run and so the pull request that launched it.
"""

from __future__ import annotations

from typing import Any

from pyspark.sql import functions as F

from .cli import PIPELINE, load_task
from .platform import tracking
from .platform.datasets import batch_id, current_version, read_version
from .platform.runner import TaskContext, TaskFailed, entry_point, run_task
from .platform.tables import resolve


def run(context: TaskContext) -> dict[str, Any]:
    for name in PIPELINE:
        run_task(name, load_task(name), context)
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
    return {"champion": champion.version, "predictions": scored}


main = entry_point("e2e", run)
