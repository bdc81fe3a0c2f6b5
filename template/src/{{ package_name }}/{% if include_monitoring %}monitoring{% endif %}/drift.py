"""Drift of each column of a current DataFrame against a reference profile.

The reference is a profile (platform/profiles.py): the training data's row counts per
bucket, stored with the model version when it was registered. PSI compares the share of
rows per bucket: numeric columns are cut at the reference's deciles (`bins`), other
columns bucket by value. The KS statistic is the largest gap between the two empirical
CDFs of a numeric column, evaluated at the reference's quantiles (`KS_POINTS`), so its
error is at most the probability mass between two neighbouring cut points (about
1 / KS_POINTS). One pass over the current data; only per-bucket counts reach the driver.

A sample of the reference's own distribution has a PSI and a KS above zero, and the
smaller the batch and the more buckets, the larger: 0.2 at 5,000 rows for a 1,000-level
code (ADR 0018). So a column drifted only when its statistic is above both the
configured threshold (is the change large enough to matter?) and what sampling alone
gives in 99 batches of 100 of these row counts (is it a change at all?). For PSI that
level is simulated from the two samples' own counts (a parametric bootstrap under "the
same distribution"); for KS it is the two-sample Kolmogorov bound.
"""

from __future__ import annotations

from bisect import bisect_right
from collections.abc import Sequence
from dataclasses import dataclass
from itertools import pairwise
from math import log, sqrt

import numpy as np
from pyspark.sql import DataFrame

from ..platform import profiles
from ..platform.profiles import NULL_BUCKET, Profile

EPSILON = 1e-4  # floor for an empty bucket's share, so that PSI stays finite
# A batch drawn from the reference's own distribution is called drifted in about ALPHA
# of monitor runs per column (ADR 0018); the PSI level is simulated NOISE_DRAWS times,
# with a fixed seed so that the same counts always give the same verdict.
ALPHA = 0.01
NOISE_DRAWS = 400
NOISE_SEED = 20181


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
    # What sampling alone reaches in 1 - ALPHA of batches of these sizes (ADR 0018).
    psi_noise: float = 0.0
    ks_noise: float = 0.0

    def thresholds(self, psi_threshold: float, ks_threshold: float) -> tuple[float, float]:
        """The thresholds this column is judged by: the configured ones, raised to the
        sampling noise of its row counts where that is higher."""
        return max(psi_threshold, self.psi_noise), max(ks_threshold, self.ks_noise)

    def drifted(self, psi_threshold: float, ks_threshold: float) -> bool:
        psi_limit, ks_limit = self.thresholds(psi_threshold, ks_threshold)
        return self.psi > psi_limit or (self.ks is not None and self.ks > ks_limit)


def psi_noise(reference_counts: Sequence[int], current_counts: Sequence[int]) -> float:
    """The PSI that two samples of these sizes from one distribution exceed with
    probability ALPHA: both samples drawn NOISE_DRAWS times from their pooled shares (the
    best estimate of a distribution they share), the PSI of each pair, its quantile."""
    reference = np.asarray(reference_counts, dtype=np.int64)
    current = np.asarray(current_counts, dtype=np.int64)
    n, m = int(reference.sum()), int(current.sum())
    if len(reference) < 2 or not n or not m:
        return 0.0
    pooled = (reference + current) / (n + m)
    rng = np.random.default_rng(NOISE_SEED)
    return float(np.quantile(_psi(_draw(rng, n, pooled), _draw(rng, m, pooled)), 1 - ALPHA))


def _draw(rng: np.random.Generator, rows: int, shares: np.ndarray) -> np.ndarray:
    """NOISE_DRAWS samples of about `rows` rows, as shares per bucket. Poisson counts per
    bucket: the multinomial's own law given its total, and one vectorised call."""
    counts = rng.poisson(rows * shares, size=(NOISE_DRAWS, len(shares)))
    return counts / np.maximum(counts.sum(axis=1, keepdims=True), 1)


def ks_noise(reference_rows: int, current_rows: int) -> float:
    """The two-sample KS critical value at ALPHA (the asymptotic Kolmogorov bound)."""
    if not reference_rows or not current_rows:
        return 0.0
    n, m = reference_rows, current_rows
    return sqrt(-log(ALPHA / 2) / 2) * sqrt((n + m) / (n * m))


def psi(reference: Sequence[float], current: Sequence[float]) -> float:
    """Population stability index of two bucket-share vectors."""
    return float(_psi(np.asarray(reference, dtype=float), np.asarray(current, dtype=float)))


def _psi(reference: np.ndarray, current: np.ndarray) -> np.ndarray:
    """PSI along the last axis: of two share vectors, or of each row of two matrices."""
    r, c = np.maximum(reference, EPSILON), np.maximum(current, EPSILON)
    return np.sum((c - r) * np.log(c / r), axis=-1)


def ks_statistic(reference_counts: Sequence[int], current_counts: Sequence[int]) -> float:
    """Largest CDF gap, from counts per ordered bucket of the same cut points."""
    r, c = np.cumsum(reference_counts), np.cumsum(current_counts)
    if r[-1] == 0 or c[-1] == 0:
        return 0.0
    return float(np.max(np.abs(r / r[-1] - c / c[-1])))


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
    reference_rows, current_rows = sum(ref_coarse), sum(cur_coarse)
    return ColumnDrift(
        column=column,
        kind="numeric",
        psi=psi(reference, current),
        ks=ks_statistic(ref_fine[:fine], cur_fine[:fine]),
        buckets=tuple(labels),
        reference=reference,
        current=current,
        reference_rows=reference_rows,
        current_rows=current_rows,
        edges=tuple(edges),
        psi_noise=psi_noise(ref_coarse, cur_coarse),
        ks_noise=ks_noise(reference_rows, current_rows),
    )


def categorical_drift(column: str, ref: dict[str, int], cur: dict[str, int]) -> ColumnDrift:
    """PSI of a categorical column from its counts per value: the pure core (no Spark).
    A value the reference never saw is a bucket of its own (a share of 0 there)."""
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
        psi_noise=psi_noise(ref_counts, cur_counts),
    )


def compare_to(profile: Profile, current: DataFrame, columns: Sequence[str]) -> list[ColumnDrift]:
    """PSI for every column and KS for the numeric ones, current against the profile."""
    lacking = [c for c in columns if c not in profile["columns"]]
    if lacking:
        raise ValueError(
            f"the reference profile lacks {', '.join(lacking)} (a model trained without "
            "it): train and promote a new version"
        )
    missing = [c for c in columns if c not in current.columns]
    if missing:
        raise ValueError(f"drift columns missing from the data: {', '.join(missing)}")
    reference = {c: profile["columns"][c] for c in columns}
    splits = {c: r["splits"] for c, r in reference.items() if r["kind"] == profiles.NUMERIC}
    categorical = [c for c in columns if c not in splits]
    counts = profiles.count(current, splits, categorical)
    return [
        _numeric(c, r["edges"], r["splits"], r["counts"], counts[c])
        if c in splits
        else categorical_drift(c, r["counts"], counts[c])
        for c, r in reference.items()
    ]


def compare(
    reference: DataFrame, current: DataFrame, columns: Sequence[str], bins: int = 10
) -> list[ColumnDrift]:
    """`compare_to` the profile of a reference DataFrame."""
    return compare_to(profiles.build(reference, columns, bins), current, columns)
