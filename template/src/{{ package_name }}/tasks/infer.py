"""infer: batch scoring with `models:/<name>@champion` on Spark into a Delta table.

The batch id is the scored table and its Delta version, so rerunning on the same input
replaces the same batch (`replaceWhere`) instead of adding rows. The write is one Delta
commit: if scoring fails, the predictions table stays as it was.
"""

from __future__ import annotations

from typing import Any

import mlflow
from pyspark.sql import DataFrame
from pyspark.sql import functions as F
from pyspark.sql import types as T

from .. import model
from ..platform import tracking
from ..platform.datasets import current_version, read_version
from ..platform.runner import TaskContext, TaskFailed, entry_point
from ..platform.tables import ensure_schema, resolve


def check_schema(df: DataFrame, required: list[str], source: str) -> None:
    missing = [column for column in required if column not in df.columns]
    if missing:
        raise TaskFailed(f"{source} lacks columns required by the model: {', '.join(missing)}")


def score(df: DataFrame, model_uri: str) -> DataFrame:
    """Add `churn_probability` (class-1 probability) with the model as a Spark UDF."""
    udf = mlflow.pyfunc.spark_udf(
        df.sparkSession, model_uri, result_type=T.ArrayType(T.DoubleType()), env_manager="local"
    )
    return df.withColumn("churn_probability", udf(F.struct(*model.FEATURES))[1])


def run(context: TaskContext) -> dict[str, Any]:
    config, spark = context.config, context.spark
    name = config.model_name
    client = tracking.configure(config)
    champion = tracking.version_by_alias(client, name, tracking.CHAMPION)
    if champion is None:
        raise TaskFailed(f"{name} has no '{tracking.CHAMPION}' version: train and promote first")
    source = config.env.tables.features
    version = current_version(spark, source)
    batch_id = f"{source}@v{version}"
    df = read_version(spark, source, version)
    check_schema(df, [model.ID_COLUMN, *model.FEATURES], f"{source} v{version}")

    scored = score(df.select(model.ID_COLUMN, *model.FEATURES), f"models:/{name}@champion")
    predictions = scored.select(
        model.ID_COLUMN,
        "churn_probability",
        (F.col("churn_probability") >= 0.5).cast("int").alias("prediction"),
        F.lit(name).alias("model_name"),
        F.lit(int(champion.version)).alias("model_version"),
        F.lit(tracking.CHAMPION).alias("model_alias"),
        F.lit(batch_id).alias("batch_id"),
        F.current_timestamp().alias("scored_at"),
    )
    table = config.env.tables.predictions
    ensure_schema(spark, table)
    (
        predictions.write.format("delta")
        .mode("overwrite")
        .option("replaceWhere", f"batch_id = '{batch_id}'")
        .saveAsTable(resolve(table))
    )
    rows = spark.read.table(resolve(table)).where(F.col("batch_id") == batch_id).count()
    return {"table": table, "batch_id": batch_id, "rows": rows, "model_version": champion.version}


main = entry_point("infer", run)
