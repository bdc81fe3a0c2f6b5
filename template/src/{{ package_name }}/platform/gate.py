"""The data gate: no task trains on, evaluates, scores or monitors an unvalidated version.

`validate` records one row per expectation, with the feature table's Delta version, in
`tables.validation_results`. Every consumer of the features table asks `require_passed`
for the version it is about to read: the latest validation run of exactly that version
must have passed, or the task stops with one line naming the table, the version and the
failed expectations, before it writes anything. An explicit `--allow-unvalidated` lets a
person go on with intent; the task logs it and records `overridden` with its output.
(ADR 0010.)

A version reached from a validated one only through commits that change no row
(OPTIMIZE, VACUUM) holds the validated rows, and counts as validated: Databricks runs
those commits on its own (predictive optimization, auto compaction), between a job's
validate and its later tasks.
"""

from __future__ import annotations

import logging

from delta.tables import DeltaTable
from pyspark.sql import DataFrame, SparkSession
from pyspark.sql import functions as F

from .runner import TaskContext, TaskFailed
from .tables import resolve

log = logging.getLogger(__name__)

PASSED, OVERRIDDEN = "passed", "overridden"
# Delta operations that rewrite files or record maintenance without changing a row, as
# Delta 4.0 names them in a table's history: OPTIMIZE (also with ZORDER BY and liquid
# clustering), REORG ... APPLY (PURGE) (drops rows already deleted), ALTER TABLE ...
# CLUSTER BY and SET TBLPROPERTIES (metadata only), VACUUM. Any other operation starts
# a new set of rows, which must be validated again: an unknown name costs a validate,
# never a wrong verdict.
DATA_NEUTRAL = frozenset(
    {"OPTIMIZE", "REORG", "CLUSTER BY", "SET TBLPROPERTIES", "VACUUM START", "VACUUM END"}
)


def same_rows(spark: SparkSession, table: str, version: int) -> list[int]:
    """`version` and the earlier versions that hold the same rows, newest first: back
    through data-neutral commits to the last commit that changed data."""
    history = (
        DeltaTable.forName(spark, resolve(table))
        .history()
        .where(F.col("version") <= int(version))
        .select("version", "operation")
        .orderBy(F.desc("version"))
        .collect()
    )
    versions = []
    for commit in history:
        versions.append(commit["version"])
        if commit["operation"] not in DATA_NEUTRAL:
            break
    return versions or [int(version)]


def status(spark: SparkSession, results: str, table: str, version: int) -> tuple[str, list[str]]:
    """("passed" | "failed" | "missing", failed expectations) of the latest validation of
    the version's rows: of the version itself, or of the version its rows are from."""
    if not spark.catalog.tableExists(resolve(results)):
        return "missing", []
    rows = spark.read.table(resolve(results))
    if "delta_version" not in rows.columns:  # recorded before versions were
        return "missing", []
    for candidate in same_rows(spark, table, version):
        found, failed = _status_of(rows, table, candidate)
        if found != "missing":
            return found, failed
    return "missing", []


def _status_of(rows: DataFrame, table: str, version: int) -> tuple[str, list[str]]:
    runs = rows.where((F.col("table_name") == table) & (F.col("delta_version") == int(version)))
    latest = runs.orderBy(F.col("run_time").desc()).select("run_id").limit(1).collect()
    if not latest:
        return "missing", []
    outcome = runs.where(F.col("run_id") == latest[0]["run_id"]).collect()
    failed = [
        f"{row['expectation']}({row['column_name'] or 'table'})"
        for row in outcome
        if not row["success"]
    ]
    return ("failed" if failed else "passed"), failed


def require_passed(context: TaskContext, table: str, version: int) -> str:
    """PASSED, or OVERRIDDEN with --allow-unvalidated; otherwise the task fails."""
    results = context.config.env.tables.validation_results
    found, failed = status(context.spark, results, table, version)
    if found == "passed":
        return PASSED
    reason = (
        f"failed validation ({', '.join(failed)})"
        if found == "failed"
        else "has not been validated"
    )
    if context.allow_unvalidated:
        log.warning("%s v%s %s: used anyway (--allow-unvalidated)", table, version, reason)
        return OVERRIDDEN
    raise TaskFailed(
        f"{table} v{version} {reason}: run validate on it, or pass --allow-unvalidated "
        "to use it anyway (recorded)"
    )
