"""Default model: a scikit-learn pipeline for the sample churn data."""

from __future__ import annotations

from typing import Any

from sklearn.compose import ColumnTransformer
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import OneHotEncoder, StandardScaler

ID_COLUMN = "customer_id"
LABEL = "churn"
NUMERIC = ["tenure_months", "monthly_charges", "total_charges", "support_calls"]
CATEGORICAL = ["contract", "payment_method", "region"]
FEATURES = NUMERIC + CATEGORICAL
# binary | multiclass | regression: what the platform measures, scores and monitors
# (metrics for each in conf/envs/*.yml, evaluation.metric).
PROBLEM_TYPE = "binary"
# The predictions table's column for the model's score: binary, the probability of
# class 1; multiclass, the predicted class's probability; regression, the value.
SCORE_COLUMN = "churn_probability"

PARAMS: dict[str, Any] = {"C": 1.0, "max_iter": 500}


def build_model(params: dict[str, Any] | None = None) -> Pipeline:
    """An unfitted pipeline; `params` override PARAMS for the classifier."""
    settings = {**PARAMS, **(params or {})}
    preprocess = ColumnTransformer(
        [
            ("numeric", StandardScaler(), NUMERIC),
            ("categorical", OneHotEncoder(handle_unknown="ignore"), CATEGORICAL),
        ]
    )
    return Pipeline([("preprocess", preprocess), ("classifier", LogisticRegression(**settings))])
