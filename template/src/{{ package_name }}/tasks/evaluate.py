"""evaluate: the newest model version against the champion on the same holdout.

Passing means scoring at least `floor` and improving on the champion by more than
`min_improvement` (with no champion, the floor alone decides; an equal score does not
pass). A passing candidate gets the `challenger` alias, which promote makes champion.
A candidate that meets the floor but is not better keeps the champion: a successful
run, with the reason in its result and in the evaluations table, so that a scheduled
retrain on unchanged data is green and a red run means something is wrong. A candidate
below the floor fails the task (the model or its data is broken), and so does any
error. A champion that takes other inputs or is of another problem type (the example's,
after you brought your own model) is not comparable: the floor alone decides, and the
reason says so. Every comparison is logged to MLflow and appended to the evaluations Delta
table, and the evaluate run keeps the candidate's diagnostics on the holdout (every metric,
per class and confusion matrix or residuals, feature importance: platform/diagnostics.py).

The metric is the configured one among those the model's problem type supports
(platform/problems.py); both models are scored through their pyfunc `predict`, as infer
scores them, and a binary model's accuracy and f1 use infer's own threshold.
"""

from __future__ import annotations

import dataclasses
import logging
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

import mlflow
import pandas as pd
from mlflow import MlflowClient
from mlflow.entities.model_registry import ModelVersion

from .. import model
from ..platform import contract, diagnostics, problems, tracking
from ..platform.config import Evaluation
from ..platform.gate import require_passed
from ..platform.runner import TaskContext, TaskFailed
from ..platform.scoring import model_classes, model_input
from ..platform.tables import append_rows, current_version, is_holdout, read_version

# The three verdicts of `decide`.
BETTER = "better"  # the candidate becomes challenger, then champion
NOT_BETTER = "not better"  # the champion stays; the run succeeds
BELOW_FLOOR = "below the floor"  # the task fails
log = logging.getLogger(__name__)


def decide(
    rule: Evaluation, metric: problems.Metric, candidate: float, champion: float | None
) -> tuple[str, str]:
    """Apply the thresholds: a verdict, and its reason as a true sentence for logs and
    the results table.

    A candidate replaces the champion only if it improves on it by more than
    `min_improvement` (strictly: an equal score never passes, so an unchanged rerun
    never becomes a new champion and `previous` keeps a different model to return to).
    """
    lower = metric.lower_is_better
    sign = -1 if lower else 1
    better = "lower is better" if lower else "higher is better"
    if sign * candidate < sign * rule.floor:
        reason = f"{rule.metric} {candidate:.4f} misses the floor {rule.floor} ({better})"
        return BELOW_FLOOR, reason
    if champion is None:
        return BETTER, f"{rule.metric} {candidate:.4f} meets the floor and there is no champion"
    gain = sign * (candidate - champion) + 0.0  # > 0: the candidate is better (no -0.0)
    compared = (
        f"{rule.metric} {candidate:.4f} vs champion {champion:.4f}: "
        f"{'better' if gain > 0 else 'not better'} by {gain:+.4f} "
        f"({better}; needs more than {rule.min_improvement:+.4f})"
    )
    return (BETTER if gain > rule.min_improvement else NOT_BETTER), compared


def incomparable(
    champion_inputs: list[str] | None,
    champion_problem: str | None,
    features: list[str],
    problem: str,
) -> str | None:
    """Why the champion cannot be measured on the candidate's holdout, or None.

    A champion logged for other inputs (the example's columns, after you brought your
    own data and model) or another problem type is not comparable: scoring it on the
    new columns fails ("Model is missing inputs"), and its metric would mean something
    else. What each model declares is read from its logged signature and metadata;
    where a model does not say, it is taken as comparable.
    """
    if champion_problem is not None and champion_problem != problem:
        return f"it is a {champion_problem} model and the candidate a {problem} one"
    missing = sorted(set(champion_inputs or []) - set(features))
    if missing:
        shown = ", ".join(missing[:5]) + (
            f" and {len(missing) - 5} more" if len(missing) > 5 else ""
        )
        return f"it takes inputs the candidate's features lack ({shown})"
    return None


def declared(uri: str) -> tuple[list[str] | None, str | None]:
    """The input columns and the problem type a logged model declares."""
    info = mlflow.models.get_model_info(uri)
    inputs = info.signature.inputs if info.signature is not None else None
    columns = inputs.input_names() if inputs is not None and inputs.has_input_names() else None
    return columns, (info.metadata or {}).get("problem_type")


def scorer(
    uri: str, problem: problems.Problem, threshold: float
) -> Callable[[pd.DataFrame], problems.Outputs]:
    """The model at `uri`, loaded once: its score and prediction on some features, as
    infer computes them."""
    loaded = mlflow.pyfunc.load_model(uri)
    classes = model_classes(loaded)

    def outputs(features: pd.DataFrame) -> problems.Outputs:
        with contract.model_code(f"predict on the holdout rows, {uri}"):
            scored = loaded.predict(model_input(features, loaded))
        return problem.outputs(scored, classes, threshold)

    return outputs


def log_diagnostics(
    outputs: Callable[[pd.DataFrame], problems.Outputs],
    features: pd.DataFrame,
    label: Any,
    problem: problems.Problem,
    metric: problems.Metric,
    scored: problems.Outputs | None = None,
) -> list[str]:
    """The candidate on the holdout, as a data scientist looks at it (platform/
    diagnostics.py), logged to the active run under `diagnostics/`; the names logged.
    `scored`: its outputs on `features`, when the gate already has them (not predicted
    again).

    Never fails the task: the verdict is already taken; what cannot be computed (a
    metric undefined on these rows) is named in the log instead."""
    folder = "diagnostics"
    logged = []
    try:
        scored = outputs(features) if scored is None else scored
        metrics = {}
        for name, each in problem.metrics.items():
            try:
                metrics[name] = problems.evaluate(each, label, scored)
            except ValueError as error:  # e.g. roc_auc with one class in the holdout
                log.warning("evaluate: holdout %s not computed: %s", name, error)
        mlflow.log_metrics({f"holdout_{name}": value for name, value in metrics.items()})
        mlflow.log_dict(metrics, f"{folder}/holdout_metrics.json")
        logged.append("holdout_metrics.json")
        if problem.name == problems.REGRESSION:
            sample, summary = diagnostics.residuals(label, scored.prediction)
            mlflow.log_text(sample.to_csv(index=False), f"{folder}/residuals.csv")
            mlflow.log_dict(summary, f"{folder}/residuals_summary.json")
            logged += ["residuals.csv", "residuals_summary.json"]
        else:
            per_class = diagnostics.per_class(label, scored.prediction)
            mlflow.log_text(per_class.to_csv(index=False), f"{folder}/per_class.csv")
            matrix = diagnostics.confusion(label, scored.prediction)
            mlflow.log_text(matrix.to_csv(), f"{folder}/confusion_matrix.csv")
            logged += ["per_class.csv", "confusion_matrix.csv"]
        ranked = diagnostics.importance(outputs, features, label, metric)
        mlflow.log_text(ranked.to_csv(index=False), f"{folder}/feature_importance.csv")
        logged.append("feature_importance.csv")
    except Exception as error:  # the verdict stands; the log says what is missing and why
        first = (str(error).strip().splitlines() or [""])[0]
        log.warning(
            "evaluate: diagnostics stopped after %s: %s: %s",
            ", ".join(logged) or "none",
            type(error).__name__,
            first,
        )
    return logged


@dataclasses.dataclass(frozen=True)
class Judgement:
    """The gate's answer for a candidate, with its outputs on the holdout rows."""

    candidate_score: float
    champion_score: float | None  # None: no champion, or one not comparable
    verdict: str
    reason: str
    outputs: Callable[[pd.DataFrame], problems.Outputs]  # the candidate, loaded once
    scored: problems.Outputs  # its outputs on the holdout rows


def run(context: TaskContext) -> dict[str, Any]:
    """Judge the newest version against the champion on the holdout rows, log what a data
    scientist looks at, record the verdict, and name the challenger if it is better."""
    config = context.config
    problem, metric = contract.problem_and_metric(model, config)
    client = tracking.configure(config)
    name = config.model_name
    candidate, champion = candidate_and_champion(client, name)
    holdout, delta_version = holdout_rows(context)
    features, label = holdout[model.FEATURES], holdout[model.LABEL].to_numpy()
    judged = judge(context, problem, metric, candidate, champion, features, label)

    rule = config.env.evaluation
    with mlflow.start_run(run_name="evaluate") as active:
        passed = judged.verdict == BETTER
        mlflow.set_tags({"candidate_version": candidate.version, "passed": str(passed)})
        mlflow.log_metric(f"candidate_{rule.metric}", judged.candidate_score)
        if judged.champion_score is not None:
            mlflow.log_metric(f"champion_{rule.metric}", judged.champion_score)
        logged = log_diagnostics(
            judged.outputs, features, label, problem, metric, scored=judged.scored
        )
    record(context, candidate, champion, judged, len(holdout), delta_version)
    # Where the data scientist finds the diagnostics: the evaluate run's artifacts.
    diagnosed = {"run_id": active.info.run_id, "diagnostics": logged}
    if judged.verdict == BELOW_FLOOR:
        raise TaskFailed(f"candidate version {candidate.version} rejected: {judged.reason}")
    if judged.verdict == NOT_BETTER:
        return {
            "challenger": None,
            "champion_kept": champion.version,
            "reason": judged.reason,
            **diagnosed,
        }
    client.set_registered_model_alias(name, tracking.CHALLENGER, candidate.version)
    return {"challenger": candidate.version, "reason": judged.reason, **diagnosed}


def candidate_and_champion(
    client: MlflowClient, name: str
) -> tuple[ModelVersion, ModelVersion | None]:
    """The newest version and the champion (or None); an earlier challenger is unnamed,
    so that only this evaluation's candidate can become one."""
    versions = client.search_model_versions(f"name = '{name}'")
    if not versions:
        raise TaskFailed(f"model {name} has no versions: run train first")
    candidate = max(versions, key=lambda v: int(v.version))
    champion = tracking.version_by_alias(client, name, tracking.CHAMPION)
    if tracking.version_by_alias(client, name, tracking.CHALLENGER):
        client.delete_registered_model_alias(name, tracking.CHALLENGER)
    return candidate, champion


def holdout_rows(context: TaskContext) -> tuple[pd.DataFrame, int]:
    """The holdout rows of the validated features version, and that version."""
    table = context.config.env.tables.features
    delta_version = current_version(context.spark, table)
    require_passed(context, table, delta_version)
    percent = context.config.env.evaluation.holdout_percent
    holdout = (
        read_version(context.spark, table, delta_version)
        .where(is_holdout(model.ID_COLUMN, percent))
        .select(*model.FEATURES, model.LABEL)
        .toPandas()
    )
    return holdout, delta_version


def judge(
    context: TaskContext,
    problem: problems.Problem,
    metric: problems.Metric,
    candidate: ModelVersion,
    champion: ModelVersion | None,
    features: pd.DataFrame,
    label: Any,
) -> Judgement:
    """The candidate's score, the champion's where it is comparable, and the verdict."""
    config = context.config
    rule, name = config.env.evaluation, config.model_name

    def measure(uri: str, outputs: Callable) -> tuple[problems.Outputs, float]:
        try:
            scored = outputs(features)
            return scored, problems.evaluate(metric, label, scored)
        except problems.ProblemError as error:  # e.g. a champion of another problem type
            where = f"{uri} (PROBLEM_TYPE '{problem.name}' in {contract.MODEL_DIR})"
            raise TaskFailed(f"{where}: {error}") from None

    threshold = config.env.inference.threshold
    candidate_outputs = scorer(candidate.source, problem, threshold)
    scored, candidate_score = measure(candidate.source, candidate_outputs)
    champion_uri = f"models:/{name}@{tracking.CHAMPION}"
    apart = (
        incomparable(*declared(champion_uri), model.FEATURES, problem.name) if champion else None
    )
    champion_score = None
    if champion and not apart:
        _, champion_score = measure(champion_uri, scorer(champion_uri, problem, threshold))
    verdict, reason = decide(rule, metric, candidate_score, champion_score)
    if apart:
        if verdict == BETTER:
            reason = f"{rule.metric} {candidate_score:.4f} meets the floor {rule.floor}"
        reason = (
            f"champion version {champion.version} is not comparable ({apart}; the model in "
            f"{contract.MODEL_DIR} changed), so the candidate is judged by the floor alone: "
            f"{reason}"
        )
    return Judgement(candidate_score, champion_score, verdict, reason, candidate_outputs, scored)


def record(
    context: TaskContext,
    candidate: ModelVersion,
    champion: ModelVersion | None,
    judged: Judgement,
    rows: int,
    delta_version: int,
) -> None:
    """The verdict, with what it was taken on, in the evaluations table."""
    rule = context.config.env.evaluation
    row = {
        "evaluated_at": datetime.now(UTC).replace(tzinfo=None),
        "model_name": context.config.model_name,
        "candidate_version": int(candidate.version),
        "champion_version": int(champion.version) if champion else None,
        "metric": rule.metric,
        "candidate_score": judged.candidate_score,
        "champion_score": judged.champion_score,
        "min_improvement": float(rule.min_improvement),
        "floor": float(rule.floor),
        "holdout_rows": rows,
        "source_delta_version": int(delta_version),
        "passed": judged.verdict == BETTER,
        "reason": judged.reason,
    }
    schema = (
        "evaluated_at timestamp, model_name string, candidate_version int, "
        "champion_version int, metric string, candidate_score double, champion_score double, "
        "min_improvement double, floor double, holdout_rows int, source_delta_version int, "
        "passed boolean, reason string"
    )
    append_rows(context.spark, [row], schema, context.config.env.tables.evaluations)
