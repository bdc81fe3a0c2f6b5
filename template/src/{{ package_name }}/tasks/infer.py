"""infer: batch scoring with `models:/<name>@champion` on Spark into a Delta table.

Only a version that passed validation is scored (platform/gate.py). The batch id is the
scored table and its Delta version, so rerunning on the same input replaces the same
batch (`replaceWhere`) instead of adding rows. The write is one Delta
commit: if scoring fails, the predictions table stays as it was.
"""

from __future__ import annotations

from typing import Any

from pyspark.sql import DataFrame
from pyspark.sql import functions as F

from .. import model
from ..platform import contract, tracking
from ..platform.gate import require_passed
from ..platform.runner import TaskContext, TaskFailed
from ..platform.scoring import PREDICTION, PROBABILITIES, score
from ..platform.tables import batch_id, current_version, ensure_schema, read_version, resolve


def check_schema(df: DataFrame, required: list[str], source: str) -> None:
    missing = [column for column in required if column not in df.columns]
    if missing:
        raise TaskFailed(f"{source} lacks columns required by the model: {', '.join(missing)}")


def run(context: TaskContext) -> dict[str, Any]:
    config, spark = context.config, context.spark
    name = config.model_name
    client = tracking.configure(config)
    champion = tracking.version_by_alias(client, name, tracking.CHAMPION)
    if champion is None:
        raise TaskFailed(f"{name} has no '{tracking.CHAMPION}' version: train and promote first")
    source = config.env.tables.features
    version = current_version(spark, source)
    validation = require_passed(context, source, version)
    batch = batch_id(source, version)
    df = read_version(spark, source, version)
    check_schema(df, [model.ID_COLUMN, *model.FEATURES], f"{source} v{version}")

    uri = f"models:/{name}@{tracking.CHAMPION}"
    problem, _ = contract.problem_and_metric(model, context.config)
    threshold = config.env.inference.threshold
    scored = score(df, uri, model.ID_COLUMN, model.FEATURES, model.SCORE_COLUMN, problem, threshold)
    # multiclass: also every class's probability (scoring.PROBABILITIES)
    probabilities = [PROBABILITIES] if PROBABILITIES in scored.columns else []
    predictions = scored.select(
        model.ID_COLUMN,
        model.SCORE_COLUMN,
        PREDICTION,
        *probabilities,
        F.lit(name).alias("model_name"),
        F.lit(int(champion.version)).alias("model_version"),
        F.lit(tracking.CHAMPION).alias("model_alias"),
        F.lit(batch).alias("batch_id"),
        # "passed", or "overridden" when scored with --allow-unvalidated.
        F.lit(validation).alias("validation"),
        F.current_timestamp().alias("scored_at"),
    )
    table = config.env.tables.predictions
    ensure_schema(spark, table)
    # Scoring runs here, on the workers: a failed write leaves the table as it was.
    with contract.model_code(f"predict, {uri}", workers_only=True):
        (
            predictions.write.format("delta")
            .mode("overwrite")
            .option("replaceWhere", f"batch_id = '{batch}'")
            .option("mergeSchema", "true")  # tables from before `validation` was recorded
            .saveAsTable(resolve(table))
        )
    rows = spark.read.table(resolve(table)).where(F.col("batch_id") == batch).count()
    return {
        "table": table,
        "batch_id": batch,
        "rows": rows,
        "model_version": champion.version,
        "validation": validation,
    }
