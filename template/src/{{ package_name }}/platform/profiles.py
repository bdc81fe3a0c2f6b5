"""What a model was trained on, as row counts per bucket: the reference that drift is
measured against, stored with the model version when train registers it.

Numeric columns are cut at the data's own quantiles: `bins` coarse buckets for the PSI
and `KS_POINTS` fine ones for the KS statistic (the coarse cut points are among the fine
ones). Other columns count rows per value. Nulls have a bucket of their own. Only counts
leave Spark, and a profile is plain JSON, so monitoring never re-reads the training data
(which a VACUUM may have removed since) and never re-scores it.

A profile: {"bins": 10, "columns": {name: {"kind": "numeric", "edges": [...],
"splits": [...], "counts": {bucket: rows}} | {"kind": "categorical", "counts": {...}}}}.
Numeric buckets are named by their index among the splits ("0" is below the first).
"""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Sequence
from typing import Any

from pyspark.ml.feature import Bucketizer
from pyspark.sql import DataFrame
from pyspark.sql import functions as F
from pyspark.sql import types as T

from .scoring import PREDICTION

KS_POINTS = 200
RELATIVE_ERROR = 1e-3  # of Spark's approximate quantiles
NULL_BUCKET = "<null>"
NUMERIC, CATEGORICAL = "numeric", "categorical"
# The train run's artifact that holds the registered version's profile: {"features":
# profile, "outputs": profile of SCORE and scoring.PREDICTION on the training rows}.
ARTIFACT = "reference_profile.json"
SCORE = "score"  # the model's score in a profile, whatever the model's SCORE_COLUMN is

Profile = dict[str, Any]


def split_kinds(df: DataFrame, columns: Sequence[str]) -> tuple[list[str], list[str]]:
    """Numeric columns (ints, floats, decimals) and the rest, which count as categories."""
    numeric = [c for c in columns if isinstance(df.schema[c].dataType, T.NumericType)]
    return numeric, [c for c in columns if c not in numeric]


def _prepare(df: DataFrame, numeric: Sequence[str], categorical: Sequence[str]) -> DataFrame:
    return df.select(
        *[F.col(c).cast("double").alias(c) for c in numeric],
        *[F.col(c).cast("string").alias(c) for c in categorical],
    )


def count(
    df: DataFrame, splits: dict[str, list[float]], categorical: Sequence[str]
) -> dict[str, dict[str, int]]:
    """{column: {bucket: rows}} in one pass: numeric columns cut at `splits`, the others
    by value. Only the counts reach the driver."""
    numeric = list(splits)
    prepared = _prepare(df, numeric, categorical)
    if numeric:
        # Bucketizer keeps NaN in an extra last bucket; nulls become NaN to land there too.
        prepared = prepared.select(
            *categorical, *[F.coalesce(F.col(c), F.lit(math.nan)).alias(c) for c in numeric]
        )
        prepared = Bucketizer(
            splitsArray=[[-math.inf, *splits[c], math.inf] for c in numeric],
            inputCols=numeric,
            outputCols=[f"_bucket_{i}" for i in range(len(numeric))],
            handleInvalid="keep",
        ).transform(prepared)
    pairs = [
        F.struct(
            F.lit(c).alias("column"),
            F.col(f"_bucket_{i}").cast("int").cast("string").alias("bucket"),
        )
        for i, c in enumerate(numeric)
    ] + [
        F.struct(F.lit(c).alias("column"), F.coalesce(F.col(c), F.lit(NULL_BUCKET)).alias("bucket"))
        for c in categorical
    ]
    rows = (
        prepared.select(F.explode(F.array(*pairs)).alias("pair"))
        .groupBy("pair.column", "pair.bucket")
        .count()
        .collect()
    )
    counts: dict[str, dict[str, int]] = defaultdict(dict)
    for row in rows:
        counts[row["column"]][row["bucket"]] = row["count"]
    return {c: counts.get(c, {}) for c in [*numeric, *categorical]}


def build(df: DataFrame, columns: Sequence[str], bins: int = 10) -> Profile:
    """The profile of `columns` of `df`: two passes (quantiles, then one grouped count)."""
    missing = [c for c in columns if c not in df.columns]
    if missing:
        raise ValueError(f"columns missing from the data: {', '.join(missing)}")
    numeric, categorical = split_kinds(df, columns)
    coarse = [i / bins for i in range(1, bins)]
    fine = [i / KS_POINTS for i in range(1, KS_POINTS)]
    probabilities = sorted(set(coarse) | set(fine))
    prepared = _prepare(df, numeric, [])
    values = prepared.approxQuantile(numeric, probabilities, RELATIVE_ERROR) if numeric else []
    edges, splits = {}, {}
    for column, quantiles in zip(numeric, values, strict=True):
        if len(quantiles) != len(probabilities):  # an empty or all-null column
            raise ValueError(f"column '{column}' has no values to cut buckets from")
        at = dict(zip(probabilities, quantiles, strict=True))
        edges[column] = sorted({at[p] for p in coarse})
        splits[column] = sorted(set(quantiles))
    counts = count(df, splits, categorical)
    profiled: dict[str, dict[str, Any]] = {}
    for column in columns:
        if column in splits:
            profiled[column] = {
                "kind": NUMERIC,
                "edges": edges[column],
                "splits": splits[column],
                "counts": counts[column],
            }
        else:
            profiled[column] = {"kind": CATEGORICAL, "counts": counts[column]}
    return {"bins": bins, "columns": profiled}


def of_model(rows: DataFrame, features: Sequence[str], scored: DataFrame, bins: int) -> Profile:
    """The profile stored as ARTIFACT: `features` of the training rows, and the model's
    score and prediction on them (`scored`: columns SCORE and scoring.PREDICTION)."""
    return {
        "features": build(rows, features, bins),
        "outputs": build(scored, [SCORE, PREDICTION], bins),
    }
