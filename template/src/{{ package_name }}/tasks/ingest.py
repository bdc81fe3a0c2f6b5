"""ingest: source data into the Delta feature table, replacing it atomically.

Rerunning with the same config yields the same rows, not twice as many: the table is
overwritten in one Delta commit, so a failed run leaves the previous version intact.
An unchanged source (same sample settings, same Delta version of the source table, same
local files) is not read again: the current version stays, and so does its validation.
"""

from __future__ import annotations

import hashlib
import importlib
import json
import logging
from pathlib import Path
from types import ModuleType
from typing import Any

from delta.tables import DeltaTable
from pyspark.errors import AnalysisException, ParseException
from pyspark.sql import DataFrame, SparkSession

from ..platform import contract
from ..platform.config import Config
from ..platform.runner import TaskContext, TaskFailed
from ..platform.spark import on_databricks
from ..platform.tables import current_version, ensure_schema, resolve

log = logging.getLogger(__name__)


def sample_generator(where: Path) -> ModuleType:
    """The example's data generator, which belongs to the project (`model/sample_data.py`).

    Imported only for `source.type: sample`: a project that reads its own data may
    delete it.
    """
    module = f"{contract.MODEL_PACKAGE}.sample_data"
    try:
        return importlib.import_module(module)
    except ModuleNotFoundError as error:
        if error.name != module:
            raise
        raise TaskFailed(
            f"{where}: source.type: 'sample' needs {contract.MODEL_DIR}sample_data.py "
            "(the example's generator), which is gone; point source at a table or a file"
        ) from None


def read_source(spark: SparkSession, config: Config) -> DataFrame:
    source = config.env.source
    where = config.file_of("source")
    if source.type == "sample":
        sample = config.env.sample
        return sample_generator(where).generate(
            spark, sample.rows, seed=sample.seed, drift=sample.drift, partitions=sample.partitions
        )
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
        reader = reader.option("header", "true")
        if source.schema_ is None:
            reader = reader.option("inferSchema", "true")
        else:
            try:
                reader = reader.schema(source.schema_)
            except (AnalysisException, ParseException) as error:
                first = str(error).strip().splitlines()[0]
                raise TaskFailed(f"{where}: source.schema: not a Spark schema: {first}") from None
    try:
        return reader.load(source.path)
    except AnalysisException as error:
        first = str(error).strip().splitlines()[0]
        raise TaskFailed(f"{where}: source.path: cannot read '{source.path}': {first}") from None


def source_fingerprint(spark: SparkSession, config: Config) -> str | None:
    """What identifies the source's content, or None when that cannot be known cheaply.

    Sample data: its settings (it is generated from them). A Delta table: its name and
    version. Local files: each file's path, size and modification time (and the CSV
    schema they are read with). Anything else is read again every time.
    """
    source = config.env.source
    if source.type == "sample":
        return "sample:" + json.dumps(config.env.sample.model_dump(), sort_keys=True)
    if source.type == "table":
        name = resolve(source.table)
        if not spark.catalog.tableExists(name) or not DeltaTable.isDeltaTable(
            spark, spark.sql(f"DESCRIBE DETAIL {name}").first()["location"]
        ):
            return None
        return f"table:{source.table}@v{current_version(spark, source.table)}"
    path = Path(source.path)
    if on_databricks() or "://" in source.path or not path.exists():
        return None
    files = sorted(p for p in ([path] if path.is_file() else path.rglob("*")) if p.is_file())
    stats = [(str(p), p.stat().st_size, p.stat().st_mtime_ns) for p in files]
    read_as = [source.schema_] if source.schema_ is not None else []  # other types: read again
    digest = hashlib.sha256(json.dumps([*stats, *read_as]).encode()).hexdigest()
    return f"file:{source.format}:{digest}"


def last_fingerprint(spark: SparkSession, name: str) -> str | None:
    """The fingerprint the last ingest wrote into the table's commit, if it was an ingest."""
    if not spark.catalog.tableExists(resolve(name)):
        return None
    (last,) = DeltaTable.forName(spark, resolve(name)).history(1).collect()
    return last["userMetadata"]


def write_table(spark: SparkSession, df: DataFrame, name: str, fingerprint: str | None) -> int:
    """Overwrite the Delta table `name` with `df`; return the new Delta version."""
    ensure_schema(spark, name)
    resolved = resolve(name)
    writer = df.write.format("delta").mode("overwrite").option("overwriteSchema", "true")
    if fingerprint:
        writer = writer.option("userMetadata", fingerprint)  # read back by the next ingest
    writer.saveAsTable(resolved)
    return current_version(spark, name)


def run(context: TaskContext) -> dict[str, Any]:
    config, spark = context.config, context.spark
    table = config.env.tables.features
    fingerprint = source_fingerprint(spark, config)
    if fingerprint is not None and fingerprint == last_fingerprint(spark, table):
        # Same source as the current version: no new version, so its validation and
        # everything downstream of it still hold.
        version = current_version(spark, table)
        return {"table": table, "delta_version": version, "unchanged": True}
    df = read_source(spark, config)
    if not df.columns:
        raise TaskFailed(f"source {config.env.source.type} has no columns")
    source = config.env.source
    at = source.table or source.path or "the example's generator"
    log.info("ingest: writing %s (%d columns) into %s", at, len(df.columns), table)
    version = write_table(spark, df, table, fingerprint)
    detail = spark.sql(f"DESCRIBE DETAIL {resolve(table)}").first()
    return {
        "table": table,
        "rows": spark.read.table(resolve(table)).count(),
        "delta_version": version,
        "location": detail["location"],
    }
