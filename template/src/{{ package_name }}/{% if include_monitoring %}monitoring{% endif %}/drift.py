"""Drift of each column of a current DataFrame against a reference profile.

The reference is a profile (platform/profiles.py): the training data's row counts per
bucket, stored with the model version when it was registered. PSI compares the share of
rows per bucket: numeric columns are cut at the reference's deciles (`bins`), other
columns bucket by value. The KS statistic is the largest gap between the two empirical
CDFs of a numeric column, evaluated at the reference's quantiles (`KS_POINTS`), so its
error is at most the probability mass between two neighbouring cut points (about
1 / KS_POINTS). One pass over the current data; only per-bucket counts reach the driver.
"""

from __future__ import annotations

from bisect import bisect_right
from collections.abc import Sequence
from dataclasses import dataclass
from itertools import pairwise

import numpy as np
from pyspark.sql import DataFrame

from ..platform import profiles
from ..platform.profiles import NULL_BUCKET, Profile

EPSILON = 1e-4  # floor for an empty bucket's share, so that PSI stays finite


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
        else _categorical(c, r["counts"], counts[c])
        for c, r in reference.items()
    ]


def compare(
    reference: DataFrame, current: DataFrame, columns: Sequence[str], bins: int = 10
) -> list[ColumnDrift]:
    """`compare_to` the profile of a reference DataFrame."""
    return compare_to(profiles.build(reference, columns, bins), current, columns)
