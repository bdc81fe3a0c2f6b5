"""What a problem type means to the platform: labels, model output, decisions, metrics.

The project's model declares its type in `model/` (`PROBLEM_TYPE`: binary, multiclass
or regression). Train, evaluate, infer and monitor read a model's output only through
here, so they agree on what a score and a prediction are:

- binary: the model returns class probabilities (`predict_proba`); the score is the
  probability of class 1, the prediction is 1 from `inference.threshold` on, and the
  gate's accuracy and f1 use that same threshold.
- multiclass: class probabilities; the score is the predicted class's probability, the
  prediction is that class (as text: classes can be numbers or names), and infer keeps
  every class's probability too (scoring.py: PROBABILITIES).
- regression: the model returns the value (`predict`); score and prediction are it.

Pure functions on numpy arrays: no Spark, no MLflow, so each rule is tested on its own.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np

BINARY, MULTICLASS, REGRESSION = "binary", "multiclass", "regression"


class ProblemError(ValueError):
    """A model's output or label does not fit its declared problem type (one line)."""


@dataclass(frozen=True)
class Outputs:
    score: np.ndarray  # float per row (monitored for drift)
    prediction: np.ndarray  # the decision per row
    # multiclass: every class's probability per row, (rows, classes) in `classes` order
    probabilities: np.ndarray | None = None


@dataclass(frozen=True)
class Metric:
    lower_is_better: bool
    compute: Callable[[np.ndarray, Outputs], float]


@dataclass(frozen=True)
class Problem:
    name: str
    # The estimator method that the logged model's pyfunc `predict` calls.
    predict_fn: str
    # Spark SQL type of the predictions table's `prediction` column.
    prediction_type: str
    metrics: dict[str, Metric]
    check_label: Callable[[np.ndarray], None]
    outputs: Callable[[object, Sequence[str], float], Outputs]
    # Monitor the drift of the prediction (class shares) rather than of the score.
    drift_on_prediction: bool = False

    def metric(self, name: str) -> Metric:
        if name not in self.metrics:
            raise ProblemError(
                f"evaluation.metric '{name}' does not fit problem type '{self.name}': "
                f"use one of {', '.join(self.metrics)}"
            )
        return self.metrics[name]


def _numeric(output: object, what: str) -> np.ndarray:
    try:
        return np.asarray(output, dtype=float)
    except (TypeError, ValueError):
        raise ProblemError(f"the model returned non-numeric values, not {what}") from None


def _one_per_row(values: np.ndarray, column: int, width: int, rule: str) -> np.ndarray:
    """Column `column` of a (rows, `width`) output, or the output if it is already flat."""
    if values.ndim == 2 and values.shape[1] == width:
        values = values[:, column]
    if values.ndim != 1:
        raise ProblemError(f"the model returned {values.shape[1:]} values per row: {rule}")
    return values


def _binary_outputs(output: object, classes: Sequence[str], threshold: float) -> Outputs:
    rule = "a binary model returns two class probabilities (predict_proba) or one"
    values = _one_per_row(_numeric(output, "probabilities"), 1, 2, rule)
    if values.size and (np.nanmin(values) < 0 or np.nanmax(values) > 1):
        raise ProblemError(
            "the model returned values outside [0, 1], not probabilities: "
            "is PROBLEM_TYPE 'regression'?"
        )
    return Outputs(values, (values >= threshold).astype(np.int32))


def _multiclass_outputs(output: object, classes: Sequence[str], threshold: float) -> Outputs:
    values = _numeric(output, "class probabilities")
    if values.ndim != 2 or values.shape[1] != len(classes) or len(classes) < 2:
        raise ProblemError(
            f"the model returned {values.shape[1:]} values per row for {len(classes)} "
            "classes: a multiclass model returns one probability per class (predict_proba)"
        )
    best = values.argmax(axis=1)
    return Outputs(values.max(axis=1), np.asarray(classes, dtype=object)[best], values)


def _regression_outputs(output: object, classes: Sequence[str], threshold: float) -> Outputs:
    rule = "a regression model returns one value per row"
    values = _one_per_row(_numeric(output, "a value per row"), 0, 1, rule)
    return Outputs(values, values)


def _distinct(label: np.ndarray) -> list:
    return sorted({str(value) for value in label})


def _binary_label(label: np.ndarray) -> None:
    found = _distinct(label)
    if len(found) < 2:
        raise ProblemError(f"has one class ({', '.join(found) or 'no rows'}): binary needs two")
    try:
        numeric = set(np.asarray(label, dtype=float).tolist())
    except (TypeError, ValueError):
        numeric = set()
    if not numeric or not numeric <= {0.0, 1.0}:
        raise ProblemError(
            f"has classes {', '.join(found[:5])}: binary labels are 0 and 1 "
            "(more classes: PROBLEM_TYPE 'multiclass')"
        )


def _multiclass_label(label: np.ndarray) -> None:
    found = _distinct(label)
    if len(found) < 2:
        raise ProblemError(
            f"has one class ({', '.join(found) or 'no rows'}): multiclass needs two or more"
        )


def _regression_label(label: np.ndarray) -> None:
    values = _numeric(label, "a number to predict")
    if values.size == 0 or np.nanmin(values) == np.nanmax(values):
        raise ProblemError("has one value in every row: there is nothing to learn")


def as_text(values: np.ndarray) -> np.ndarray:
    """Class labels as text (labels may be numbers or names): how classes compare."""
    return np.asarray([str(value) for value in values], dtype=object)


def _sklearn_metric(function: str, on: str, **options: object) -> Callable:
    """`sklearn.metrics.<function>(label, outputs.<on>)`, imported only when computed."""

    def compute(label: np.ndarray, outputs: Outputs) -> float:
        from sklearn import metrics  # config imports this module: keep that light

        values = getattr(outputs, on)
        if values.dtype == object:  # class names: compare as text
            label = as_text(label)
        return getattr(metrics, function)(label, values, **options)

    return compute


BINARY_METRICS = {
    "roc_auc": Metric(False, _sklearn_metric("roc_auc_score", "score")),
    "log_loss": Metric(True, _sklearn_metric("log_loss", "score", labels=[0, 1])),
    "accuracy": Metric(False, _sklearn_metric("accuracy_score", "prediction")),
    "f1": Metric(False, _sklearn_metric("f1_score", "prediction")),
}
MULTICLASS_METRICS = {
    "f1_macro": Metric(False, _sklearn_metric("f1_score", "prediction", average="macro")),
    "accuracy": Metric(False, _sklearn_metric("accuracy_score", "prediction")),
}
REGRESSION_METRICS = {
    "rmse": Metric(True, _sklearn_metric("root_mean_squared_error", "prediction")),
    "mae": Metric(True, _sklearn_metric("mean_absolute_error", "prediction")),
    "r2": Metric(False, _sklearn_metric("r2_score", "prediction")),
}


PROBLEMS: dict[str, Problem] = {
    problem.name: problem
    for problem in (
        Problem(BINARY, "predict_proba", "int", BINARY_METRICS, _binary_label, _binary_outputs),
        Problem(
            MULTICLASS,
            "predict_proba",
            "string",
            MULTICLASS_METRICS,
            _multiclass_label,
            _multiclass_outputs,
            drift_on_prediction=True,
        ),
        Problem(
            REGRESSION,
            "predict",
            "double",
            REGRESSION_METRICS,
            _regression_label,
            _regression_outputs,
        ),
    )
}
# Every metric some problem type supports: what conf/ may name.
METRICS = sorted({name for problem in PROBLEMS.values() for name in problem.metrics})


def of_model(model: object) -> Problem:
    """The problem type the project's model package declares (binary when it does not).

    Projects generated before problem types existed declare none: they are binary.
    """
    name = getattr(model, "PROBLEM_TYPE", BINARY)
    if name not in PROBLEMS:
        raise ProblemError(
            f"PROBLEM_TYPE '{name}' is not a problem type: use one of {', '.join(PROBLEMS)}"
        )
    return PROBLEMS[name]


def classes_of(estimator: object, problem: Problem) -> list[str]:
    """The class names in the order of the estimator's probabilities (multiclass only)."""
    if problem.name != MULTICLASS:
        return []
    return [str(value) for value in getattr(estimator, "classes_", [])]


def evaluate(metric: Metric, label: np.ndarray, outputs: Outputs) -> float:
    return float(metric.compute(np.asarray(label), outputs))
