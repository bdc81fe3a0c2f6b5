"""The Delta tables: their names, their versions, and the rows tasks read from them.

Names are `catalog.schema.table` in config, whatever the engine calls them. On
Databricks the three-level Unity Catalog name is used as is. Locally the session catalog
has only databases, so `catalog.schema` folds into one database name:
`dev.sales.features` becomes `dev__sales.features`.
"""

from __future__ import annotations

from typing import Any

from delta.tables import DeltaTable
from pyspark.sql import Column, DataFrame, SparkSession
from pyspark.sql import functions as F

from .spark import on_databricks


def split_name(name: str) -> tuple[str, str, str]:
    parts = name.split(".")
    if len(parts) != 3 or not all(parts):
        raise ValueError(f"table name '{name}' must be catalog.schema.table")
    return parts[0], parts[1], parts[2]


def resolve(name: str, local: bool | None = None) -> str:
    """The name to hand to Spark for a configured table name."""
    catalog, schema, table = split_name(name)
    if local is None:
        local = not on_databricks()
    if not local:
        return f"{catalog}.{schema}.{table}"
    return f"{catalog}__{schema}.{table}"


def schema_exists(spark: SparkSession, schema: str) -> bool:
    """Whether `schema` (`catalog.schema` on Unity Catalog, a database locally) exists.

    Needs only USE CATALOG: listing schemas is allowed where creating one is not.
    """
    catalog, _, name = schema.rpartition(".")
    scope = f" IN {catalog}" if catalog else ""
    return spark.sql(f"SHOW SCHEMAS{scope} LIKE '{name}'").count() > 0


def ensure_schema(spark: SparkSession, name: str, local: bool | None = None) -> None:
    """Create the schema (database) that will hold `name` if it does not exist.

    `CREATE SCHEMA IF NOT EXISTS` on an existing Unity Catalog schema still needs CREATE
    SCHEMA on the catalog, which a job's service principal does not hold: look first.
    """
    schema = resolve(name, local).rpartition(".")[0]
    if not schema_exists(spark, schema):
        spark.sql(f"CREATE SCHEMA IF NOT EXISTS {schema}")  # a concurrent run may win


def append_rows(spark: SparkSession, rows: list[dict[str, Any]], schema: str, name: str) -> None:
    """Append result rows (one Delta commit), creating the schema and table if needed.

    New columns are added to an existing table (a newer platform records more).
    """
    ensure_schema(spark, name)
    (
        spark.createDataFrame(rows, schema)
        .write.format("delta")
        .mode("append")
        .option("mergeSchema", "true")
        .saveAsTable(resolve(name))
    )


# Versions: every task pins the version it reads, and names its output after it.


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
