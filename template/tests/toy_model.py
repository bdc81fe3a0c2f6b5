"""The platform tests' own model and data: a toy in place of the project's `model/`.

Platform-owned, like every test outside tests/model/. tests/conftest.py puts this module
in place of the project's model contract and example generator for every platform test,
and `make_conf` points the config at it (source, suite, gate, threshold). So the
platform's tests never run on, or assert, what the data scientists own: they pass
whatever `model/`, `conf/` or the source become. tests/model/ tests the project's model.
"""

from __future__ import annotations

from typing import Any

from pyspark.sql import DataFrame, SparkSession
from pyspark.sql import functions as F
from sklearn.compose import make_column_transformer
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import Pipeline, make_pipeline
from sklearn.preprocessing import OneHotEncoder, StandardScaler

# The model contract (what model/__init__.py declares in a project).
PROBLEM_TYPE = "binary"
ID_COLUMN = "row_id"
NUMERIC = ["amount", "visits"]  # a double and an integer
CATEGORICAL = ["segment"]
FEATURES = NUMERIC + CATEGORICAL
LABEL = "label"
SCORE_COLUMN = "toy_score"
PARAMS: dict[str, Any] = {"C": 1.0}
CONTRACT = ("PROBLEM_TYPE", "ID_COLUMN", "FEATURES", "LABEL", "SCORE_COLUMN", "PARAMS")

# The example generator's declarations (what model/sample_data.py declares).
DRIFTED = ("amount", "segment")  # what drift=True changes, strongest first
UNCHANGED = ("visits",)

# The config every platform test starts from, whatever the project's conf/envs say:
# the toy's data, its own suite, a gate and a threshold that fit it.
SUITE = "toy"
SUITE_YAML = f"""name: {SUITE}
expectations:
  - type: expect_table_row_count_to_be_between
    kwargs:
      min_value: 1
  - type: expect_table_columns_to_match_set
    kwargs:
      column_set: [{ID_COLUMN}, {", ".join(FEATURES)}, {LABEL}]
  - type: expect_column_values_to_not_be_null
    kwargs:
      column: {ID_COLUMN}
  - type: expect_column_values_to_be_in_set
    kwargs:
      column: {LABEL}
      value_set: [0, 1]
"""
CONF: dict[str, dict[str, Any]] = {
    "source": {"type": "sample"},
    "sample": {"rows": 400, "seed": 42, "drift": False},
    "validation": {"suite": SUITE},
    "evaluation": {"metric": "roc_auc", "min_improvement": 0.0, "floor": 0.6},
    "inference": {"threshold": 0.5},
}
MONITORING = {"psi_threshold": 0.2, "ks_threshold": 0.1, "bins": 10}


def build_model(params: dict[str, Any] | None = None) -> Pipeline:
    scale, encode = StandardScaler(), OneHotEncoder(handle_unknown="ignore")
    preprocess = make_column_transformer((scale, NUMERIC), (encode, CATEGORICAL))
    return make_pipeline(preprocess, LogisticRegression(**{**PARAMS, **(params or {})}))


def generate(
    spark: SparkSession, rows: int, seed: int = 42, drift: bool = False, partitions: int = 2
) -> DataFrame:
    """`rows` seeded rows; the label follows amount, visits and segment, with noise.

    With `drift=True` amount moves up by one standard deviation and segment 'c' takes
    half the rows instead of a fifth; visits keep their distribution.
    """
    shift, shares = (1.0, (0.2, 0.5)) if drift else (0.0, (0.5, 0.8))
    draws = spark.range(0, rows, numPartitions=partitions).select(
        F.col("id").alias(ID_COLUMN),
        (F.randn(seed) + shift).alias("amount"),
        (F.floor(F.rand(seed + 1) * 72) + 1).cast("int").alias("visits"),
        F.rand(seed + 2).alias("_u"),
        F.randn(seed + 3).alias("_noise"),
    )
    segment = F.when(F.col("_u") < shares[0], "a").when(F.col("_u") < shares[1], "b").otherwise("c")
    logit = (
        1.5 * F.col("amount")
        - 0.03 * (F.col("visits") - 36)
        + F.when(segment == "c", 0.8).otherwise(0.0)
        + F.col("_noise")
    )
    return draws.select(
        ID_COLUMN,
        "amount",
        "visits",
        segment.alias("segment"),
        (logit > 0).cast("int").alias(LABEL),
    )
