"""A fitted linear scikit-learn pipeline as one Spark column expression.

Python scoring on Spark pays for moving every row through Arrow to a Python worker and
back, which costs more than a logistic regression's own arithmetic. For the pipelines
whose maths is a weighted sum (scaled numeric columns and one-hot categories into a
binary LogisticRegression), the same probability is a SQL expression that the JVM
evaluates with no Python at all. Any other model gives None and is scored in Python.

Reading sklearn's fitted attributes is the fragile part, so it yields a `LinearForm`
that the scorer first evaluates in numpy against the model's own `predict_proba` on
rows built to touch every coefficient (`platform/scoring.py`); only a form that passes
becomes a Spark expression.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from functools import reduce
from operator import add

import numpy as np
import pandas as pd
from pyspark.sql import Column
from pyspark.sql import functions as F
from sklearn.compose import ColumnTransformer
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import OneHotEncoder, StandardScaler


@dataclass(frozen=True)
class Numeric:
    column: str
    centre: float
    scale: float
    weight: float


@dataclass(frozen=True)
class Categorical:
    column: str
    weights: dict[object, float]  # unseen values weigh 0, as one-hot "ignore" does


@dataclass(frozen=True)
class LinearForm:
    """probability = sigmoid(intercept + sum of numeric and categorical terms)."""

    intercept: float
    numeric: tuple[Numeric, ...]
    categorical: tuple[Categorical, ...]

    def probability(self, frame: pd.DataFrame) -> np.ndarray:
        """The form evaluated in numpy, to check it against the model."""
        logit = np.full(len(frame), self.intercept)
        for n in self.numeric:
            logit += (frame[n.column].to_numpy(dtype=float) - n.centre) / n.scale * n.weight
        for c in self.categorical:
            logit += frame[c.column].map(lambda v, w=c.weights: w.get(v, 0.0)).to_numpy(float)
        return 1.0 / (1.0 + np.exp(-logit))

    def column(self) -> Column:
        """The form as one Spark expression."""
        terms = [F.lit(self.intercept)]
        for n in self.numeric:
            terms.append((_not_null(n.column) - n.centre) / n.scale * n.weight)
        for c in self.categorical:
            case = F.lit(0.0)
            for value, weight in c.weights.items():
                case = F.when(F.col(c.column) == F.lit(value), F.lit(weight)).otherwise(case)
            terms.append(case)
        return F.lit(1.0) / (F.lit(1.0) + F.exp(-reduce(add, terms)))

    def probe(self, rows: int = 64, seed: int = 0) -> pd.DataFrame:
        """Rows that give every category, an unseen value and spread numbers a turn."""
        longest = max((len(c.weights) for c in self.categorical), default=0)
        rows = max(rows, longest + 1)
        rng = np.random.default_rng(seed)
        data: dict[str, object] = {
            n.column: rng.normal(n.centre, n.scale, rows) for n in self.numeric
        }
        for c in self.categorical:
            values = [*c.weights, _unseen(list(c.weights))]
            data[c.column] = [values[i % len(values)] for i in range(rows)]
        return pd.DataFrame(data)


def _not_null(column: str) -> Column:
    # sklearn refuses NaN input; fail the same way instead of writing null scores.
    value = F.col(column)
    message = F.lit(f"column {column} is null in a row: the model cannot score missing values")
    return F.when(value.isNull(), F.raise_error(message)).otherwise(value.cast("double"))


def _unseen(values: list[object]) -> object:
    if all(isinstance(v, str) for v in values):
        return "\x00unseen"
    return max(float(v) for v in values) + 1.0


def _plain(value: object) -> object:
    return value.item() if isinstance(value, np.generic) else value


def _numeric(step: object, columns: list[str], weights: np.ndarray) -> list[Numeric]:
    if step == "passthrough":
        centre, scale = np.zeros(len(columns)), np.ones(len(columns))
    else:
        centre = step.mean_ if step.with_mean else np.zeros(len(columns))
        scale = step.scale_ if step.with_std else np.ones(len(columns))
    return [
        Numeric(col, float(c), float(s), float(w))
        for col, c, s, w in zip(columns, centre, scale, weights, strict=True)
    ]


def _categorical(
    encoder: OneHotEncoder, columns: list[str], weights: np.ndarray
) -> list[Categorical] | None:
    # Only the plain encoding: every category its own column, unknown values all zero.
    if encoder.drop is not None or encoder.handle_unknown not in ("ignore", "warn"):
        return None
    if getattr(encoder, "_infrequent_enabled", False):
        return None
    terms, offset = [], 0
    for column, categories in zip(columns, encoder.categories_, strict=True):
        values = [_plain(v) for v in categories]
        if any(v is None or (isinstance(v, float) and np.isnan(v)) for v in values):
            return None
        chunk = weights[offset : offset + len(values)]
        terms.append(Categorical(column, {v: float(w) for v, w in zip(values, chunk, strict=True)}))
        offset += len(values)
    return terms


def _width(step: object, columns: list[str]) -> int | None:
    if isinstance(step, StandardScaler) or step == "passthrough":
        return len(columns)
    if isinstance(step, OneHotEncoder):
        return sum(len(c) for c in step.categories_)
    return None


def linear_form(estimator: object, features: Sequence[str]) -> LinearForm | None:
    """The weighted sum behind `estimator`'s class-1 probability, or None if unsupported.

    Supported: `Pipeline([ColumnTransformer of StandardScaler / OneHotEncoder /
    passthrough / drop over named `features`, binary LogisticRegression])`.
    """
    if not isinstance(estimator, Pipeline) or len(estimator.steps) != 2:
        return None
    (_, transform), (_, classifier) = estimator.steps
    if not isinstance(transform, ColumnTransformer) or not isinstance(
        classifier, LogisticRegression
    ):
        return None
    if len(classifier.classes_) != 2 or classifier.coef_.shape[0] != 1:
        return None
    coefficients = classifier.coef_[0]
    numeric: list[Numeric] = []
    categorical: list[Categorical] = []
    offset = 0
    for _, step, columns in transform.transformers_:
        if isinstance(step, str) and step == "drop":
            continue
        if isinstance(columns, str) or not isinstance(columns, list | tuple | np.ndarray):
            return None  # a single name, slice or callable selects differently
        columns = list(columns)
        if not columns:
            continue
        if not all(isinstance(c, str) and c in features for c in columns):
            return None
        width = _width(step, columns)
        if width is None:
            return None
        weights = coefficients[offset : offset + width]
        offset += width
        if isinstance(step, OneHotEncoder):
            encoded = _categorical(step, columns, weights)
            if encoded is None:
                return None
            categorical += encoded
        else:
            numeric += _numeric(step, columns, weights)
    if offset != len(coefficients):
        return None
    return LinearForm(float(classifier.intercept_[0]), tuple(numeric), tuple(categorical))
