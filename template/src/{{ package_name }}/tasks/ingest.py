"""ingest: source data into the Delta feature table, replacing it atomically.

Rerunning with the same config yields the same rows, not twice as many: the table is
overwritten in one Delta commit, so a failed run leaves the previous version intact.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from pyspark.errors import AnalysisException
from pyspark.sql import DataFrame, SparkSession

from ..platform import sample_data
from ..platform.config import Config
from ..platform.datasets import current_version
from ..platform.runner import TaskContext, TaskFailed, entry_point
from ..platform.spark import on_databricks
from ..platform.tables import ensure_schema, resolve


def read_source(spark: SparkSession, config: Config) -> DataFrame:
    source = config.env.source
    if source.type == "sample":
        sample = config.env.sample
        return sample_data.generate(
            spark, sample.rows, seed=sample.seed, drift=sample.drift, partitions=sample.partitions
        )
    where = config.conf_dir / "envs" / f"{config.env_name}.yml"
    if source.type == "table":
        if not spark.catalog.tableExists(resolve(source.table)):
            raise TaskFailed(
                f"{where}: source.table: table '{source.table}' does not exist; create it or "
                "point source.table at an existing table"
            )
        return spark.read.table(resolve(source.table))
    if not on_databricks() and "://" not in source.path and not Path(source.path).exists():
        raise TaskFailed(
            f"{where}: source.path: '{source.path}' does not exist (relative paths start at "
            f"{Path.cwd()}); point it at your {source.format} file or folder"
        )
    reader = spark.read.format(source.format)
    if source.format == "csv":
        reader = reader.option("header", "true").option("inferSchema", "true")
    try:
        return reader.load(source.path)
    except AnalysisException as error:
        first = str(error).strip().splitlines()[0]
        raise TaskFailed(f"{where}: source.path: cannot read '{source.path}': {first}") from None


def write_table(spark: SparkSession, df: DataFrame, name: str) -> int:
    """Overwrite the Delta table `name` with `df`; return the new Delta version."""
    ensure_schema(spark, name)
    resolved = resolve(name)
    (
        df.write.format("delta")
        .mode("overwrite")
        .option("overwriteSchema", "true")
        .saveAsTable(resolved)
    )
    return current_version(spark, name)


def run(context: TaskContext) -> dict[str, Any]:
    config = context.config
    df = read_source(context.spark, config)
    if not df.columns:
        raise TaskFailed(f"source {config.env.source.type} has no columns")
    table = config.env.tables.features
    version = write_table(context.spark, df, table)
    detail = context.spark.sql(f"DESCRIBE DETAIL {resolve(table)}").first()
    return {
        "table": table,
        "rows": context.spark.read.table(resolve(table)).count(),
        "delta_version": version,
        "location": detail["location"],
    }


main = entry_point("ingest", run)
