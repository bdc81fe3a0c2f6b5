"""validate: the Great Expectations suite from conf/expectations/ on the feature table.

It checks the table's current Delta version and appends one row per expectation, with
that version, to the validation-results Delta table: the record every consumer of the
table checks before it reads that version (platform/gate.py). A failed expectation
fails the task, naming each failure, so nothing downstream runs.
"""

from __future__ import annotations

import difflib
import json
import re
import uuid
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import great_expectations as gx
from great_expectations import expectations as gxe
from great_expectations.data_context.types.base import ProgressBarsConfig
from pyspark.sql import DataFrame, SparkSession
from pyspark.sql import types as T

from ..platform.config import ConfigError, read_yaml
from ..platform.runner import TaskContext, TaskFailed
from ..platform.tables import append_rows, current_version, read_version

RESULT_SCHEMA = T.StructType(
    [
        T.StructField("run_id", T.StringType(), False),
        T.StructField("run_time", T.TimestampType(), False),
        T.StructField("suite", T.StringType(), False),
        T.StructField("table_name", T.StringType(), False),
        T.StructField("expectation", T.StringType(), False),
        T.StructField("column_name", T.StringType(), True),
        T.StructField("success", T.BooleanType(), False),
        T.StructField("observed_value", T.StringType(), True),
        T.StructField("delta_version", T.LongType(), True),
    ]
)


def _class_name(expectation_type: str) -> str:
    return "".join(part.capitalize() for part in expectation_type.split("_"))


def load_suite(path: Path) -> gx.ExpectationSuite:
    """Build a GX suite from its YAML declaration; errors name the file and entry."""
    gx.get_context(mode="ephemeral")  # GX objects need an active context
    spec = read_yaml(path)  # a syntax error names the file and the line to fix
    suite = gx.ExpectationSuite(name=spec.get("name", path.stem))
    entries = spec.get("expectations")
    if not isinstance(entries, list) or not entries:
        raise ConfigError(f"{path}: expectations: must be a non-empty list")
    for index, entry in enumerate(entries):
        where = f"{path}: expectations[{index}]"
        kind = entry.get("type", "") if isinstance(entry, dict) else ""
        if not re.fullmatch(r"expect_[a-z_]+", kind):
            raise ConfigError(f"{where}.type: must name an expectation (expect_...)")
        cls = getattr(gxe, _class_name(kind), None)
        if cls is None:
            raise ConfigError(f"{where}.type: unknown expectation '{kind}'")
        kwargs = entry.get("kwargs") or {}
        if not isinstance(kwargs, dict):
            raise ConfigError(f"{where}.kwargs: must be a mapping of argument names to values")
        known = set(getattr(cls, "__fields__", None) or getattr(cls, "model_fields", {}))
        for key in kwargs:
            if known and key not in known:
                close = difflib.get_close_matches(key, sorted(known), n=1)
                hint = f" (did you mean '{close[0]}'?)" if close else ""
                raise ConfigError(f"{where}.kwargs.{key}: not an argument of {kind}{hint}")
        try:
            suite.add_expectation(cls(**kwargs))
        except Exception as error:  # pydantic errors from GX span many lines
            first = str(error).strip().splitlines()
            raise ConfigError(f"{where}.kwargs: {first[-1] if first else error}") from None
    return suite


def run_suite(df: DataFrame, suite: gx.ExpectationSuite) -> list[dict[str, Any]]:
    """Validate `df` (a Spark DataFrame) and return one plain dict per expectation."""
    present = set(df.columns)
    context = gx.get_context(mode="ephemeral")
    # The log a person reads holds results, not "Calculating Metrics" progress bars.
    context.variables.progress_bars = ProgressBarsConfig(globally=False)
    asset = context.data_sources.add_spark(name="spark").add_dataframe_asset(name="features")
    batch = asset.add_batch_definition_whole_dataframe("whole").get_batch(
        batch_parameters={"dataframe": df}
    )
    try:
        outcome = batch.validate(suite)
    finally:
        # GX caches the DataFrame for its many passes and never releases it: on a job
        # cluster the whole version would stay in executor memory for later tasks.
        df.unpersist()
    rows = []
    for result in outcome.results:
        config = result.expectation_config
        column = config.kwargs.get("column")
        observed = result.result.get("observed_value")
        if column is not None and column not in present:
            # GX reports only an empty result (an exception it caught): say what it is.
            observed = f"column {column} is missing from the data"
        elif observed is None and "unexpected_count" in result.result:
            observed = {"unexpected_count": result.result["unexpected_count"]}
            # A few of the offending values, so the failure says what to look for.
            examples = list(dict.fromkeys(result.result.get("partial_unexpected_list") or []))
            if examples:
                observed["examples"] = examples[:3]
        rows.append(
            {
                "expectation": config.type,
                "column_name": column,
                "success": bool(result.success) and (column is None or column in present),
                "observed_value": json.dumps(observed, default=str),
            }
        )
    return rows


def record(
    spark: SparkSession,
    rows: list[dict[str, Any]],
    suite: str,
    source: str,
    table: str,
    version: int,
) -> str:
    run_id, now = uuid.uuid4().hex, datetime.now(UTC).replace(tzinfo=None)
    records = [
        {
            "run_id": run_id,
            "run_time": now,
            "suite": suite,
            "table_name": source,
            "delta_version": int(version),
            **row,
        }
        for row in rows
    ]
    append_rows(spark, records, RESULT_SCHEMA, table)
    return run_id


def run(context: TaskContext) -> dict[str, Any]:
    config = context.config
    suite = load_suite(config.conf_dir / "expectations" / f"{config.env.validation.suite}.yml")
    source = config.env.tables.features
    version = current_version(context.spark, source)
    df = read_version(context.spark, source, version)
    rows = run_suite(df, suite)
    results = config.env.tables.validation_results
    run_id = record(context.spark, rows, suite.name, source, results, version)
    failed = [row for row in rows if not row["success"]]
    if failed:
        details = "; ".join(
            f"{row['expectation']}({row['column_name'] or 'table'}): {row['observed_value']}"
            for row in failed
        )
        raise TaskFailed(
            f"suite '{suite.name}' failed {len(failed)}/{len(rows)} on {source} v{version}: "
            f"{details}"
        )
    return {
        "suite": suite.name,
        "expectations": len(rows),
        "failed": 0,
        "delta_version": version,
        "run_id": run_id,
    }
