"""Scoring a Spark DataFrame with a registered MLflow model: one path for every model.

The model's files are downloaded once on the driver and handed to the executors by
MLflow's own `SparkModelCache`, the mechanism behind `mlflow.pyfunc.spark_udf` (a
shared NFS folder on Databricks, `SparkContext.addFile` elsewhere). Each Python worker
process loads the model once and keeps it for every batch and every later task it runs:
the model is never pickled, so models that cannot be pickled score too. Workers call
the model's own pyfunc `predict` on the feature columns only.

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
import numpy as np
import pyarrow as pa
from pyspark.sql import DataFrame
from pyspark.sql import types as T

BATCH_ROWS = 100_000
log = logging.getLogger(__name__)


def positive_probability(output: object) -> np.ndarray:
    """Class-1 probability from `predict_proba`-style (n, 2) output or a plain score."""
    values = np.asarray(output, dtype=float)
    return values[:, 1] if values.ndim == 2 else values


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


def _scorer(
    archive: str, id_column: str, features: list[str], output: str, batch_rows: int
) -> Callable[[Iterator[pa.RecordBatch]], Iterator[pa.RecordBatch]]:
    """The function Spark sends to the workers: it holds only names, never the model."""

    def predict(batches: Iterator[pa.RecordBatch]) -> Iterator[pa.RecordBatch]:
        # Imported here: the cache's per-process state must live in the worker's module.
        from mlflow.pyfunc.spark_model_cache import SparkModelCache

        model, _ = SparkModelCache.get_or_load(archive)
        for table in chunks(batches, batch_rows):
            scores = positive_probability(model.predict(table.select(features).to_pandas()))
            result = pa.Table.from_arrays(
                [table.column(id_column), pa.array(scores, type=pa.float64())],
                names=[id_column, output],
            )
            yield from result.to_batches()

    return predict


def score(
    df: DataFrame,
    model_uri: str,
    id_column: str,
    features: Sequence[str],
    output: str,
    batch_rows: int = BATCH_ROWS,
) -> DataFrame:
    """`id_column` plus the model's score (class-1 probability) as `output`, every row."""
    from mlflow.pyfunc.spark_model_cache import SparkModelCache

    columns = list(features)
    with tempfile.TemporaryDirectory(prefix="model-") as download:
        local = mlflow.artifacts.download_artifacts(artifact_uri=model_uri, dst_path=download)
        # Zipped (and, on Databricks, copied to the shared folder) right away: the
        # download itself is no longer needed once this returns.
        archive = SparkModelCache.add_local_model(df.sparkSession, local)
    log.info("scoring %s with its own predict, loaded once per Python worker", model_uri)
    schema = T.StructType([df.schema[id_column], T.StructField(output, T.DoubleType())])
    scorer = _scorer(archive, id_column, columns, output, batch_rows)
    return df.select(id_column, *columns).mapInArrow(scorer, schema)
