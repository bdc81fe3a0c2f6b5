"""Scoring a Spark DataFrame with a registered MLflow model.

The model is loaded once on the driver and travels to the Python workers inside the
`mapInPandas` closure, so each worker scores whole Arrow batches with the model's own
`predict`, with no per-batch reload and no per-row conversion. That keeps Spark close
to the model's in-process pandas speed (see the inference benchmark).
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence

import mlflow
import numpy as np
import pandas as pd
from pyspark.sql import DataFrame
from pyspark.sql import types as T

PROBABILITY = "churn_probability"


def positive_probability(output: object) -> np.ndarray:
    """Class-1 probability from `predict_proba`-style (n, 2) output or a plain score."""
    values = np.asarray(output, dtype=float)
    return values[:, 1] if values.ndim == 2 else values


def score(df: DataFrame, model_uri: str, id_column: str, features: Sequence[str]) -> DataFrame:
    """`id_column` plus the model's class-1 probability for every row of `df`."""
    model = mlflow.pyfunc.load_model(model_uri)
    columns = list(features)

    def predict(batches: Iterator[pd.DataFrame]) -> Iterator[pd.DataFrame]:
        for batch in batches:
            probability = positive_probability(model.predict(batch[columns]))
            yield pd.DataFrame({id_column: batch[id_column], PROBABILITY: probability})

    schema = T.StructType([df.schema[id_column], T.StructField(PROBABILITY, T.DoubleType())])
    return df.select(id_column, *columns).mapInPandas(predict, schema)
