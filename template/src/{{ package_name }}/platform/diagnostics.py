"""What a data scientist looks at after evaluate: the candidate on the holdout rows.

Evaluate logs these to its MLflow run (under `diagnostics/`), for every problem type:

- `holdout_metrics.json`: every metric of the model's problem type (problems.py), not
  only the one the gate uses;
- classification: `per_class.csv` (precision, recall, f1 and support per class) and
  `confusion_matrix.csv` (rows: the true class, columns: the predicted one; with many
  classes, the most frequent true classes and the rest as one row and column, as the
  drift report groups a high-cardinality column);
- regression: `residuals.csv` (label, prediction, residual; a sample of the rows) and
  `residuals_summary.json`;
- `feature_importance.csv`: permutation importance of each feature the model takes
  (how much the gate's metric gets worse when that column's values are shuffled), for
  any model: it needs only the model's predict, not a `feature_importances_` that only
  some estimators have, and it names the columns the data scientist chose, not the
  encoded ones inside a pipeline.

Pure functions on pandas and numpy: no Spark, no MLflow.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import pandas as pd

from .problems import Metric, Outputs, as_text, evaluate

# Classes shown one by one in the confusion matrix; the rest are one row and column.
TOP_CLASSES = 30
OTHER = "(other)"
# Rows used for permutation importance and kept in residuals.csv: enough for stable
# figures, bounded so that evaluate's time does not grow with the holdout.
SAMPLE_ROWS = 2_000
REPEATS = 3


def per_class(label: np.ndarray, prediction: np.ndarray) -> pd.DataFrame:
    """Precision, recall, f1 and support for each class seen in the label or predicted."""
    from sklearn.metrics import precision_recall_fscore_support

    truth, predicted = as_text(label), as_text(prediction)
    classes = sorted(set(truth) | set(predicted))
    precision, recall, f1, support = precision_recall_fscore_support(
        truth, predicted, labels=classes, zero_division=0
    )
    return pd.DataFrame(
        {"class": classes, "precision": precision, "recall": recall, "f1": f1, "support": support}
    )


def confusion(label: np.ndarray, prediction: np.ndarray, top: int = TOP_CLASSES) -> pd.DataFrame:
    """Counts of (true class, predicted class); beyond `top` true classes by frequency,
    the rest are grouped as OTHER on both axes."""
    truth, predicted = as_text(label), as_text(prediction)
    counts = pd.Series(truth).value_counts(sort=True)
    kept = sorted(counts.index[:top]) if len(counts) > top else sorted(counts.index)
    shown = set(kept)

    def grouped(values: np.ndarray) -> pd.Series:
        return pd.Series([value if value in shown else OTHER for value in values])

    table = pd.crosstab(grouped(truth), grouped(predicted)).rename_axis(
        index="true", columns="predicted"
    )
    order = [*kept, *([OTHER] if OTHER in set(table.index) | set(table.columns) else [])]
    return table.reindex(index=order, columns=order, fill_value=0)


def residuals(
    label: np.ndarray, prediction: np.ndarray, rows: int = SAMPLE_ROWS, seed: int = 0
) -> tuple[pd.DataFrame, dict[str, float]]:
    """A sample of (label, prediction, residual = label - prediction) and a summary of
    all residuals: mean (bias), standard deviation, quantiles and the largest miss."""
    truth = np.asarray(label, dtype=float)
    predicted = np.asarray(prediction, dtype=float)
    error = truth - predicted
    frame = pd.DataFrame({"label": truth, "prediction": predicted, "residual": error})
    if len(frame) > rows:
        frame = frame.sample(n=rows, random_state=seed).sort_index()
    levels = {"p05": 0.05, "p25": 0.25, "p50": 0.5, "p75": 0.75, "p95": 0.95}
    nan = float("nan")
    summary = {
        "rows": int(error.size),
        "mean": float(np.mean(error)) if error.size else nan,
        "std": float(np.std(error)) if error.size else nan,
        **{name: float(np.quantile(error, q)) if error.size else nan for name, q in levels.items()},
        "max_abs": float(np.max(np.abs(error))) if error.size else nan,
    }
    return frame, summary


def importance(
    outputs: Callable[[pd.DataFrame], Outputs],
    features: pd.DataFrame,
    label: np.ndarray,
    metric: Metric,
    rows: int = SAMPLE_ROWS,
    repeats: int = REPEATS,
    seed: int = 0,
) -> pd.DataFrame:
    """Permutation importance per feature column: the metric on the rows as they are,
    minus the metric with that column shuffled (the loss, so that larger is more
    important for every metric), averaged over `repeats` shuffles; sorted, largest first.
    """
    rng = np.random.default_rng(seed)
    label = np.asarray(label)
    if len(features) > rows:
        chosen = np.sort(rng.choice(len(features), size=rows, replace=False))
        features, label = features.iloc[chosen].reset_index(drop=True), label[chosen]
    sign = -1.0 if metric.lower_is_better else 1.0
    base = evaluate(metric, label, outputs(features))
    found = []
    for column in features.columns:
        losses = []
        for _ in range(repeats):
            shuffled = features.copy()
            shuffled[column] = features[column].to_numpy()[rng.permutation(len(features))]
            losses.append(sign * (base - evaluate(metric, label, outputs(shuffled))))
        found.append((column, float(np.mean(losses)), float(np.std(losses))))
    table = pd.DataFrame(found, columns=["feature", "importance", "std"])
    return table.sort_values("importance", ascending=False, kind="stable").reset_index(drop=True)
