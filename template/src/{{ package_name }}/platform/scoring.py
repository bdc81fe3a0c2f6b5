"""Scoring a Spark DataFrame with a registered MLflow model: one path for every model.

The model's files are downloaded once on the driver and handed to the executors by
MLflow's own `SparkModelCache`, the mechanism behind `mlflow.pyfunc.spark_udf` (a
shared NFS folder on Databricks, `SparkContext.addFile` elsewhere). Each Python worker
process loads the model once and keeps it for every batch and every later task it runs:
the model is never pickled, so models that cannot be pickled score too. Workers call
the model's own pyfunc `predict` on the feature columns only, and turn its output into
a score and a prediction the way the model's problem type says (platform/problems.py).

Spark hands a worker Arrow batches of `spark.sql.execution.arrow.maxRecordsPerBatch`
rows (10,000 by default). The worker joins them into chunks of `batch_rows` before
calling `predict`, so the per-call cost is paid rarely, for this query only: the
session's settings stay the user's. See docs/performance.md in the template.
"""

from __future__ import annotations

import logging
import tempfile
from collections.abc import Callable, Iterable, Iterator, Sequence

import mlflow
import pandas as pd
import pyarrow as pa
from pyspark.sql import DataFrame
from pyspark.sql import types as T

from .problems import MULTICLASS, PROBLEMS, Problem

BATCH_ROWS = 100_000
PREDICTION = "prediction"
# multiclass: every class's probability, {class label: probability}, one map per row. A
# map, not a column per class: class labels are data (numbers, names with spaces, a
# thousand of them) rather than column names, and a new model version with another
# set of classes writes the same table without a schema change. In SQL:
# `class_probabilities['gold']`, or `explode(class_probabilities)` for one row per class.
PROBABILITIES = "class_probabilities"
PROBABILITIES_TYPE = (pa.map_(pa.string(), pa.float64()), T.MapType(T.StringType(), T.DoubleType()))
# The logged model's metadata key for a multiclass model's classes, in output order.
CLASSES_KEY = "classes"
# A problem type's prediction type (problems.py) in Arrow, for the workers, and in Spark.
TYPES = {
    "int": (pa.int32(), T.IntegerType()),
    "string": (pa.string(), T.StringType()),
    "double": (pa.float64(), T.DoubleType()),
}
log = logging.getLogger(__name__)


def chunks(batches: Iterable[pa.RecordBatch], rows: int) -> Iterator[pa.Table]:
    """Consecutive batches joined into tables of at least `rows` rows (the last: fewer)."""
    pending: list[pa.RecordBatch] = []
    count = 0
    for batch in batches:
        pending.append(batch)
        count += batch.num_rows
        if count >= rows:
            yield pa.Table.from_batches(pending)
            pending, count = [], 0
    if pending:
        yield pa.Table.from_batches(pending)


def model_input(features: pd.DataFrame, model: object | None = None) -> pd.DataFrame:
    """The features as every task hands them to a model: integer columns as doubles
    where the model's signature says double (all of them for the signature train logs,
    or without a model), as 64-bit integers where it says long.

    A batch with a missing value in an integer feature reaches the model as floats, so
    train logs double for integer features; MLflow then refuses int64 for a double
    column ("Can not safely convert int64 to float64"), while Parquet files and pandas
    hold int64. Train, evaluate and infer all go through here, so a model sees one set
    of types; a model logged with other types (an older release, your own log_model)
    gets what its signature asks for.
    """
    integers = [c for c in features.columns if pd.api.types.is_integer_dtype(features[c])]
    if not integers:
        return features
    wanted = dict.fromkeys(integers, "float64")
    metadata = getattr(model, "metadata", None)
    schema = metadata.get_input_schema() if metadata is not None else None
    if schema is not None and schema.has_input_names():
        # A column's MLflow type by name (DataType.double -> "double"); a tensor or
        # object column has none and is left as it is.
        kinds = {
            spec.name: getattr(getattr(spec, "type", None), "name", "") for spec in schema.inputs
        }
        casts = {"double": "float64", "float": "float64", "long": "int64"}
        wanted = {c: casts[kinds[c]] for c in integers if kinds.get(c) in casts}
    return features.astype(wanted) if wanted else features


def model_classes(model: object) -> list[str]:
    """The class names a multiclass model was logged with (train.py), else none."""
    metadata = getattr(getattr(model, "metadata", None), "metadata", None) or {}
    return [str(name) for name in metadata.get(CLASSES_KEY, [])]


def probability_maps(classes: Sequence[str], probabilities) -> pa.Array:
    """One {class: probability} map per row, from a (rows, classes) array."""
    rows = [list(zip(classes, map(float, row), strict=True)) for row in probabilities]
    return pa.array(rows, type=PROBABILITIES_TYPE[0])


def _scorer(
    archive: str,
    columns: tuple[str, list[str], str],
    problem: str,
    threshold: float,
    batch_rows: int,
) -> Callable[[Iterator[pa.RecordBatch]], Iterator[pa.RecordBatch]]:
    """The function Spark sends to the workers: it holds only names, never the model."""
    id_column, features, output = columns

    def predict(batches: Iterator[pa.RecordBatch]) -> Iterator[pa.RecordBatch]:
        # Imported here: the cache's per-process state must live in the worker's module.
        from mlflow.pyfunc.spark_model_cache import SparkModelCache

        model, _ = SparkModelCache.get_or_load(archive)
        rules, classes = PROBLEMS[problem], model_classes(model)
        for table in chunks(batches, batch_rows):
            raw = model.predict(model_input(table.select(features).to_pandas(), model))
            outputs = rules.outputs(raw, classes, threshold)
            arrays = [
                table.column(id_column),
                pa.array(outputs.score, type=pa.float64()),
                pa.array(outputs.prediction, type=TYPES[rules.prediction_type][0]),
            ]
            names = [id_column, output, PREDICTION]
            if rules.name == MULTICLASS:  # every class's probability, as a map
                arrays.append(probability_maps(classes, outputs.probabilities))
                names.append(PROBABILITIES)
            yield from pa.Table.from_arrays(arrays, names=names).to_batches()

    return predict


def score(
    df: DataFrame,
    model_uri: str,
    id_column: str,
    features: Sequence[str],
    output: str,
    problem: Problem,
    threshold: float,
    batch_rows: int = BATCH_ROWS,
) -> DataFrame:
    """`id_column`, the model's score as `output` and its `prediction`, for every row; for
    a multiclass model also every class's probability (PROBABILITIES).

    What score and prediction are follows `problem`; `threshold` is the binary decision's
    (no defaults: the caller passes the model's type and the configured threshold).
    """
    from mlflow.pyfunc.spark_model_cache import SparkModelCache

    columns = list(features)
    with tempfile.TemporaryDirectory(prefix="model-") as download:
        local = mlflow.artifacts.download_artifacts(artifact_uri=model_uri, dst_path=download)
        # Zipped (and, on Databricks, copied to the shared folder) right away: the
        # download itself is no longer needed once this returns.
        archive = SparkModelCache.add_local_model(df.sparkSession, local)
    log.info("scoring %s with its own predict, loaded once per Python worker", model_uri)
    schema = T.StructType(
        [
            df.schema[id_column],
            T.StructField(output, T.DoubleType()),
            T.StructField(PREDICTION, TYPES[problem.prediction_type][1]),
        ]
        + (
            [T.StructField(PROBABILITIES, PROBABILITIES_TYPE[1])]
            if problem.name == MULTICLASS
            else []
        )
    )
    scorer = _scorer(archive, (id_column, columns, output), problem.name, threshold, batch_rows)
    return df.select(id_column, *columns).mapInArrow(scorer, schema)
