"""Scoring a Spark DataFrame with a registered MLflow model.

Two paths, same numbers:

* a linear scikit-learn pipeline (the default model) becomes one Spark SQL expression
  (`platform/linear.py`) evaluated in the JVM: no rows travel to Python. It is used
  only after it reproduced the model's own `predict_proba` on probe rows that touch
  every coefficient;
* any other model is loaded once on the driver and travels to the Python workers in a
  `mapInArrow` closure, so each worker calls the model's own `predict` on whole Arrow
  batches, with no per-batch reload and only the feature columns converted to pandas.

See docs/performance.md in the template for what each path costs.
"""

from __future__ import annotations

import logging
import warnings
from collections.abc import Iterator, Sequence

import mlflow
import numpy as np
import pyarrow as pa
from pyspark.sql import DataFrame
from pyspark.sql import types as T

from .linear import LinearForm, linear_form

PROBABILITY = "churn_probability"
log = logging.getLogger(__name__)


def positive_probability(output: object) -> np.ndarray:
    """Class-1 probability from `predict_proba`-style (n, 2) output or a plain score."""
    values = np.asarray(output, dtype=float)
    return values[:, 1] if values.ndim == 2 else values


def _raw_model(model: mlflow.pyfunc.PyFuncModel) -> object | None:
    try:
        return model.get_raw_model()
    except Exception:  # flavours without a raw model simply have no native path
        return None


def _predicts_probability(model: mlflow.pyfunc.PyFuncModel) -> bool:
    pyfunc_conf = model.metadata.flavors.get("python_function", {})
    return pyfunc_conf.get("predict_fn") == "predict_proba"


def verified_form(model: mlflow.pyfunc.PyFuncModel, features: list[str]) -> LinearForm | None:
    """The model's linear form if it reproduces the model's own probabilities, else None."""
    if not _predicts_probability(model):
        return None
    estimator = _raw_model(model)
    form = linear_form(estimator, features)
    if form is None:
        return None
    probe = form.probe()
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # the probe's unseen categories are on purpose
            expected = positive_probability(estimator.predict_proba(probe))
    except Exception as error:  # e.g. a column the pipeline needs but the form lacks
        log.warning("cannot check the compiled model (%s); scoring in Python", error)
        return None
    if not np.allclose(form.probability(probe), expected, rtol=1e-9, atol=1e-12):
        log.warning("compiled model disagrees with its own predict; scoring in Python")
        return None
    return form


def python_score(
    model: mlflow.pyfunc.PyFuncModel, df: DataFrame, id_column: str, features: list[str]
) -> DataFrame:
    """Score with the model's own `predict` on the Python workers (any model)."""

    def predict(batches: Iterator[pa.RecordBatch]) -> Iterator[pa.RecordBatch]:
        for batch in batches:
            probability = positive_probability(model.predict(batch.select(features).to_pandas()))
            yield pa.RecordBatch.from_arrays(
                [batch.column(id_column), pa.array(probability, type=pa.float64())],
                names=[id_column, PROBABILITY],
            )

    schema = T.StructType([df.schema[id_column], T.StructField(PROBABILITY, T.DoubleType())])
    return df.select(id_column, *features).mapInArrow(predict, schema)


def score(df: DataFrame, model_uri: str, id_column: str, features: Sequence[str]) -> DataFrame:
    """`id_column` plus the model's class-1 probability for every row of `df`."""
    model = mlflow.pyfunc.load_model(model_uri)
    columns = list(features)
    form = verified_form(model, columns)
    if form is not None:
        log.info("scoring %s as a Spark SQL expression (linear model)", model_uri)
        return df.select(id_column, form.column().alias(PROBABILITY))
    log.info("scoring %s with the model's predict on the Python workers", model_uri)
    return python_score(model, df, id_column, columns)
