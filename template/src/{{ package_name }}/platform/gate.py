"""The data gate: no task trains on, evaluates, scores or monitors an unvalidated version.

`validate` records one row per expectation, with the feature table's Delta version, in
`tables.validation_results`. Every consumer of the features table asks `require_passed`
for the version it is about to read: the latest validation run of exactly that version
must have passed, or the task stops with one line naming the table, the version and the
failed expectations, before it writes anything. An explicit `--allow-unvalidated` lets a
person go on with intent; the task logs it and records `overridden` with its output.
(ADR 0010.)
"""

from __future__ import annotations

import logging

from pyspark.sql import SparkSession
from pyspark.sql import functions as F

from .runner import TaskContext, TaskFailed
from .tables import resolve

log = logging.getLogger(__name__)

PASSED, OVERRIDDEN = "passed", "overridden"


def status(spark: SparkSession, results: str, table: str, version: int) -> tuple[str, list[str]]:
    """("passed" | "failed" | "missing", failed expectations) of the version's latest run."""
    if not spark.catalog.tableExists(resolve(results)):
        return "missing", []
    rows = spark.read.table(resolve(results))
    if "delta_version" not in rows.columns:  # recorded before versions were
        return "missing", []
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
