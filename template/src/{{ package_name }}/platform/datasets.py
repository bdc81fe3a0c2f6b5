"""Reading the feature table at a pinned Delta version, and the fixed holdout split."""

from __future__ import annotations

from delta.tables import DeltaTable
from pyspark.sql import Column, DataFrame, SparkSession
from pyspark.sql import functions as F

from .tables import resolve


def current_version(spark: SparkSession, table: str) -> int:
    return DeltaTable.forName(spark, resolve(table)).history(1).collect()[0]["version"]


def batch_id(table: str, version: int) -> str:
    """Names one scored input: the table and its Delta version (`cat.schema.t@v3`)."""
    return f"{table}@v{int(version)}"


def read_version(spark: SparkSession, table: str, version: int) -> DataFrame:
    return spark.sql(f"SELECT * FROM {resolve(table)} VERSION AS OF {int(version)}")


def missing_columns(df: DataFrame, columns: list[str]) -> list[str]:
    return [column for column in columns if column not in df.columns]


def is_holdout(id_column: str, percent: int) -> Column:
    """The same rows are held out in every run: a hash of the id, not a random draw."""
    return F.pmod(F.xxhash64(F.col(id_column)), F.lit(100)) < percent
