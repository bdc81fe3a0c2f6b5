"""Drift of each column between a reference and a current DataFrame, computed in Spark.

PSI compares the share of rows per bucket: numeric columns are cut at the reference's
quantiles, categorical columns bucket by value. The KS statistic is the largest gap
between the two empirical CDFs of a numeric column, evaluated at the quantiles of both
samples (`KS_POINTS` per side), so its error is at most the probability mass between two
neighbouring cut points (about 1 / KS_POINTS). Three passes over the data (quantiles of
each side, then one grouped count) and only per-bucket counts reach the driver.
"""

from __future__ import annotations

import math
from bisect import bisect_right
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from itertools import pairwise

import numpy as np
from pyspark.ml.feature import Bucketizer
from pyspark.sql import DataFrame
from pyspark.sql import functions as F
from pyspark.sql import types as T

EPSILON = 1e-4  # floor for an empty bucket's share, so that PSI stays finite
KS_POINTS = 200
RELATIVE_ERROR = 1e-3  # of Spark's approximate quantiles
NULL_BUCKET = "<null>"
_SIDE = "_drift_side"


@dataclass(frozen=True)
class ColumnDrift:
    column: str
    kind: str  # numeric | categorical
    psi: float
    ks: float | None
    buckets: tuple[str, ...]
    reference: tuple[float, ...]  # share of reference rows per bucket
    current: tuple[float, ...]
    reference_rows: int
    current_rows: int
    edges: tuple[float, ...] = ()  # numeric: the reference quantiles that cut the buckets

    def drifted(self, psi_threshold: float, ks_threshold: float) -> bool:
        return self.psi > psi_threshold or (self.ks is not None and self.ks > ks_threshold)


def psi(reference: Sequence[float], current: Sequence[float]) -> float:
    """Population stability index of two bucket-share vectors."""
    r = np.maximum(np.asarray(reference, dtype=float), EPSILON)
    c = np.maximum(np.asarray(current, dtype=float), EPSILON)
    return float(np.sum((c - r) * np.log(c / r)))


def ks_statistic(reference_counts: Sequence[int], current_counts: Sequence[int]) -> float:
    """Largest CDF gap, from counts per ordered bucket of the same cut points."""
    r, c = np.cumsum(reference_counts), np.cumsum(current_counts)
    if r[-1] == 0 or c[-1] == 0:
        return 0.0
    return float(np.max(np.abs(r / r[-1] - c / c[-1])))


def split_kinds(df: DataFrame, columns: Sequence[str]) -> tuple[list[str], list[str]]:
    """Numeric columns (ints, floats, decimals) and the rest, which count as categories."""
    numeric = [c for c in columns if isinstance(df.schema[c].dataType, T.NumericType)]
    return numeric, [c for c in columns if c not in numeric]


def _prepare(df: DataFrame, numeric: list[str], categorical: list[str]) -> DataFrame:
    return df.select(
        *[F.col(c).cast("double").alias(c) for c in numeric],
        *[F.col(c).cast("string").alias(c) for c in categorical],
    )


def _quantiles(df: DataFrame, numeric: list[str], probabilities: list[float]):
    if not numeric:
        return {}
    values = df.approxQuantile(numeric, probabilities, RELATIVE_ERROR)
    # An empty (or all-null) column has no quantiles: an empty mapping.
    return {
        column: dict(zip(probabilities, v, strict=True)) if len(v) == len(probabilities) else {}
        for column, v in zip(numeric, values, strict=True)
    }


def _bucket_counts(
    both: DataFrame, splits: dict[str, list[float]], categorical: list[str]
) -> dict[tuple[int, str], dict[str, int]]:
    """{(side, column): {bucket: rows}}; numeric buckets are indexes into the splits."""
    numeric = list(splits)
    bucketed = both
    if numeric:
        # Bucketizer keeps NaN in an extra last bucket; nulls become NaN to land there too.
        bucketed = both.select(
            _SIDE,
            *categorical,
            *[F.coalesce(F.col(c), F.lit(math.nan)).alias(c) for c in numeric],
        )
        bucketed = Bucketizer(
            splitsArray=[[-math.inf, *splits[c], math.inf] for c in numeric],
            inputCols=numeric,
            outputCols=[f"_bucket_{i}" for i in range(len(numeric))],
            handleInvalid="keep",
        ).transform(bucketed)
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
        bucketed.select(_SIDE, F.explode(F.array(*pairs)).alias("pair"))
        .groupBy(_SIDE, "pair.column", "pair.bucket")
        .count()
        .collect()
    )
    counts: dict[tuple[int, str], dict[str, int]] = defaultdict(dict)
    for row in rows:
        counts[(row[_SIDE], row["column"])][row["bucket"]] = row["count"]
    return counts


def _shares(counts: list[int]) -> tuple[float, ...]:
    total = sum(counts)
    return tuple(n / total if total else 0.0 for n in counts)


def _numeric(column: str, edges: list[float], splits: list[float], ref: dict, cur: dict):
    fine = len(splits) + 1  # buckets of the fine cut, the NaN/null bucket is index `fine`
    ref_fine = [ref.get(str(i), 0) for i in range(fine)]
    cur_fine = [cur.get(str(i), 0) for i in range(fine)]
    # The reference edges are among the fine splits, so every fine bucket lies in one
    # coarse bucket: the one its lower split falls into.
    coarse_of = [0] + [bisect_right(edges, split) for split in splits]
    ref_coarse, cur_coarse = [0] * (len(edges) + 1), [0] * (len(edges) + 1)
    for i, coarse in enumerate(coarse_of):
        ref_coarse[coarse] += ref_fine[i]
        cur_coarse[coarse] += cur_fine[i]
    labels = [f"< {edges[0]:.4g}"] if edges else ["all"]
    labels += [f"[{a:.4g}, {b:.4g})" for a, b in pairwise(edges)]
    labels += [f">= {edges[-1]:.4g}"] if edges else []
    ref_null, cur_null = ref.get(str(fine), 0), cur.get(str(fine), 0)
    if ref_null or cur_null:
        ref_coarse.append(ref_null)
        cur_coarse.append(cur_null)
        labels.append(NULL_BUCKET)
    reference, current = _shares(ref_coarse), _shares(cur_coarse)
    return ColumnDrift(
        column=column,
        kind="numeric",
        psi=psi(reference, current),
        ks=ks_statistic(ref_fine[:fine], cur_fine[:fine]),
        buckets=tuple(labels),
        reference=reference,
        current=current,
        reference_rows=sum(ref_coarse),
        current_rows=sum(cur_coarse),
        edges=tuple(edges),
    )


def _categorical(column: str, ref: dict, cur: dict) -> ColumnDrift:
    labels = sorted(set(ref) | set(cur))
    ref_counts = [ref.get(label, 0) for label in labels]
    cur_counts = [cur.get(label, 0) for label in labels]
    reference, current = _shares(ref_counts), _shares(cur_counts)
    return ColumnDrift(
        column=column,
        kind="categorical",
        psi=psi(reference, current),
        ks=None,
        buckets=tuple(labels),
        reference=reference,
        current=current,
        reference_rows=sum(ref_counts),
        current_rows=sum(cur_counts),
    )


def compare(
    reference: DataFrame, current: DataFrame, columns: Sequence[str], bins: int = 10
) -> list[ColumnDrift]:
    """PSI for every column and KS for the numeric ones, current against reference."""
    missing = [c for c in columns if c not in reference.columns or c not in current.columns]
    if missing:
        raise ValueError(f"drift columns missing from the data: {', '.join(missing)}")
    numeric, categorical = split_kinds(reference, columns)
    ref, cur = _prepare(reference, numeric, categorical), _prepare(current, numeric, categorical)
    coarse = [i / bins for i in range(1, bins)]
    fine = [i / KS_POINTS for i in range(1, KS_POINTS)]
    probabilities = sorted(set(coarse) | set(fine))
    ref_quantiles = _quantiles(ref, numeric, probabilities)
    cur_quantiles = _quantiles(cur, numeric, probabilities)
    edges, splits = {}, {}
    for c in numeric:
        if not ref_quantiles[c]:
            raise ValueError(f"reference column '{c}' has no values to cut buckets from")
        edges[c] = sorted({ref_quantiles[c][p] for p in coarse})
        splits[c] = sorted({*ref_quantiles[c].values(), *cur_quantiles[c].values()})
    both = ref.withColumn(_SIDE, F.lit(0)).unionByName(cur.withColumn(_SIDE, F.lit(1)))
    counts = _bucket_counts(both, splits, categorical)
    results = []
    for c in columns:
        ref_counts, cur_counts = counts.get((0, c), {}), counts.get((1, c), {})
        if c in splits:
            results.append(_numeric(c, edges[c], splits[c], ref_counts, cur_counts))
        else:
            results.append(_categorical(c, ref_counts, cur_counts))
    return results
