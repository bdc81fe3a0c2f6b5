"""train: fit the project's model, log it to MLflow and register a new version.

The run and the version carry lineage tags: git commit, package and template version,
source table with its Delta version, and row count. The run also keeps the training
rows' profile, which monitor compares batches with.
"""

from __future__ import annotations

import logging
import tempfile
from pathlib import Path
from typing import Any

import mlflow
import pandas as pd
from mlflow.models import infer_signature
from mlflow.models.model import ModelInfo
from pyspark.sql import DataFrame

from .. import __version__, model
from ..platform import contract, problems, profiles, tracking
from ..platform.gate import require_passed
from ..platform.lineage import git_commit, template_version
from ..platform.runner import TaskContext, TaskFailed
from ..platform.scoring import CLASSES_KEY, PREDICTION, model_input
from ..platform.tables import current_version, is_holdout, missing_columns, read_version

log = logging.getLogger(__name__)


def signature_example(features: pd.DataFrame) -> pd.DataFrame:
    """The input example the signature is inferred from, as every task hands features
    to the model (integer features as doubles, scoring.model_input).

    A batch with a missing value in an integer feature reaches the model as floats (NaN);
    a signature that says `long` would reject that batch at scoring time.
    """
    return model_input(features.head(5))


def check_logged(
    uri: str, example: pd.DataFrame, problem: problems.Problem, classes: list, threshold: float
) -> None:
    """The logged model, loaded as scoring loads it, scores the example as its type says.

    Checked before the version is registered: a `log_model` that wraps the model, or
    drops the metadata it was given, would otherwise fail only when infer runs.
    """
    loaded = mlflow.pyfunc.load_model(uri)
    where = f"{contract.MODEL_DIR} (log_model, PROBLEM_TYPE '{problem.name}')"
    if (loaded.metadata.metadata or {}).get(CLASSES_KEY) != classes:
        raise TaskFailed(f"{where}: the logged model lacks the metadata it was given")
    try:
        problem.outputs(loaded.predict(example), classes, threshold)
    except problems.ProblemError as error:
        raise TaskFailed(f"{where}: the logged model's predict: {error}") from None


def log_fitted(
    estimator: object,
    example: pd.DataFrame,
    predict: Any,
    problem: problems.Problem,
    requirements: list[str],
    classes: list,
) -> ModelInfo:
    """Log the fitted model to the active run: signature, example, pinned requirements,
    metadata, and the project's `model/` code, so that it loads where this package is not
    installed (contract.code_paths). The project's own `model.log_model` is called the
    same way; it gets `code_paths` where it accepts it."""
    # The project's own logging (model/log_model), or MLflow's scikit-learn flavour.
    log_model = getattr(model, "log_model", None) or tracking.log_model
    with tempfile.TemporaryDirectory() as staging:
        options: dict[str, Any] = {}
        if contract.takes(log_model, "code_paths"):
            options["code_paths"] = contract.code_paths(model, Path(staging))
        else:
            log.warning(
                "train: %slog_model takes no code_paths: the logged model carries no code "
                "of model/ and loads only where this package is installed",
                contract.MODEL_DIR,
            )
        with contract.model_code("log_model"):
            return log_model(
                estimator,
                predict_fn=problem.predict_fn,
                name="model",
                signature=infer_signature(example, predict(example)),
                input_example=example,
                pip_requirements=contract.merge(
                    requirements, tracking.model_requirements(estimator)
                ),
                metadata={"problem_type": problem.name, CLASSES_KEY: classes},
                **options,
            )


def reference_profile(
    context: TaskContext, rows: DataFrame, outputs: problems.Outputs
) -> profiles.Profile:
    """What monitor compares batches with: the training rows' features and the model's
    score and prediction on them (profiles.py), kept with the version it registers."""
    scored = pd.DataFrame({profiles.SCORE: outputs.score, PREDICTION: outputs.prediction})
    scored = context.spark.createDataFrame(scored)
    return profiles.of_model(rows, model.FEATURES, scored, context.config.env.monitoring.bins)


def run(context: TaskContext) -> dict[str, Any]:
    config = context.config
    problem, metric = contract.problem_and_metric(model, context.config)
    requirements = contract.requirements(model)
    client = tracking.configure(config)
    table = config.env.tables.features
    delta_version = current_version(context.spark, table)
    validation = require_passed(context, table, delta_version)
    df = read_version(context.spark, table, delta_version)
    missing = missing_columns(df, [model.ID_COLUMN, *model.FEATURES, model.LABEL])
    if missing:
        raise TaskFailed(
            f"{table} v{delta_version} lacks {', '.join(missing)}, which the model "
            f"({contract.MODEL_DIR}) uses: add them to the source, or "
            "change the model's features"
        )
    train = df.where(~is_holdout(model.ID_COLUMN, config.env.evaluation.holdout_percent))
    data = train.select(*model.FEATURES, model.LABEL).toPandas()
    features, label = model_input(data[model.FEATURES]), data[model.LABEL]
    log.info(
        "train: fitting on %s training rows of %s v%s, %d features",
        f"{len(data):,}",
        table,
        delta_version,
        len(model.FEATURES),
    )
    try:
        problem.check_label(label.to_numpy())
    except problems.ProblemError as error:
        where = f"{table} v{delta_version} (training rows)"
        raise TaskFailed(f"{where}: label '{model.LABEL}' {error}") from None

    with contract.model_code("build_model and fit"):
        estimator = model.build_model().fit(features, label)
    classes = problems.classes_of(estimator, problem)
    predict = getattr(estimator, problem.predict_fn, None)
    if predict is None:
        raise TaskFailed(
            f"{contract.MODEL_DIR}: the model has no {problem.predict_fn}(), which a "
            f"{problem.name} model needs: change build_model or PROBLEM_TYPE"
        )
    with contract.model_code("predict on the training rows"):
        predicted = predict(features)
    try:
        outputs = problem.outputs(predicted, classes, config.env.inference.threshold)
    except problems.ProblemError as error:
        raise TaskFailed(f"{contract.MODEL_DIR} (PROBLEM_TYPE '{problem.name}'): {error}") from None
    lineage = {
        "git_commit": git_commit(config.conf_dir),
        "package_version": __version__,
        "template_version": template_version(config.conf_dir),
        "source_table": table,
        "source_delta_version": str(delta_version),
        "row_count": str(len(data)),
        "validation": validation,
    }
    with mlflow.start_run(run_name="train") as active:
        mlflow.set_tags(lineage)
        mlflow.log_params(model.PARAMS)
        rule = config.env.evaluation.metric
        mlflow.log_metric(f"train_{rule}", problems.evaluate(metric, label, outputs))
        mlflow.log_dict(reference_profile(context, train, outputs), profiles.ARTIFACT)
        example = signature_example(features)
        info = log_fitted(estimator, example, predict, problem, requirements, classes)
        check_logged(info.model_uri, example, problem, classes, config.env.inference.threshold)
    version = tracking.register(info.model_uri, config.model_name)
    for key, value in lineage.items():
        client.set_model_version_tag(config.model_name, version, key, value)
    return {
        "model": config.model_name,
        "version": version,
        "rows": len(data),
        "run_id": active.info.run_id,
        "tracking_uri": mlflow.get_tracking_uri(),
    }
