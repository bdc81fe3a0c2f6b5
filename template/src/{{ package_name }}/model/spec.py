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
# The predictions table's column for the model's score (the positive class's probability).
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
