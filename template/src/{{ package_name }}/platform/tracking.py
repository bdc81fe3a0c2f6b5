"""MLflow wiring: URIs and experiment from config, registry aliases, lineage."""

from __future__ import annotations

import importlib.metadata
import inspect
from typing import Any

import mlflow
from mlflow import MlflowClient
from mlflow.entities.model_registry import ModelVersion
from mlflow.exceptions import MlflowException
from mlflow.models.model import ModelInfo

from .config import Config
from .runner import TaskFailed
from .spark import local_dir

CHAMPION, CHALLENGER, PREVIOUS = "champion", "challenger", "previous"


SERIALISERS = ("cloudpickle", "skops")


def model_requirements(estimator: object) -> list[str]:
    """The logged model's pip requirements, found in-process and pinned to what runs now.

    Without them MLflow infers requirements by loading the model in a subprocess (about
    5 s for every logged model, and it picks up whatever the process had imported, such
    as pytest). The distributions here are those providing the estimator's classes and
    every nested step or parameter (a pipeline's steps, a wrapped estimator), plus the
    libraries MLflow serialises models with.
    """
    params = estimator.get_params(deep=True) if hasattr(estimator, "get_params") else {}
    modules = {type(value).__module__ for value in [estimator, *params.values()]}
    # MLflow saves with cloudpickle or, in newer versions, skops: whichever is installed.
    tops = {name.split(".")[0] for name in modules} | {"mlflow", *SERIALISERS}
    provided = importlib.metadata.packages_distributions()
    names = {dist for top in tops for dist in provided.get(top, [])}
    return sorted(f"{name}=={importlib.metadata.version(name)}" for name in names)


def log_model(estimator: object, *, predict_fn: str, **options: Any) -> ModelInfo:
    """The default way to log the project's model: MLflow's scikit-learn flavour.

    `model/` may define its own `log_model` with this signature (another flavour, a
    wrapper); train calls it with the keyword arguments every `mlflow.<flavour>.log_model`
    takes (name, signature, input_example, pip_requirements, metadata, code_paths), and with
    `predict_fn`, the method the model's pyfunc `predict` must call for its problem type.

    Where MLflow saves with skops (newer MLflow, off Databricks), the estimator's own types
    are trusted for loading. Without them skops refuses to load, for example, a
    HistGradientBoostingClassifier. The list comes from the object trained in this
    process, never from a file, so it trusts nothing more than the code that just ran.
    """
    return mlflow.sklearn.log_model(
        estimator, pyfunc_predict_fn=predict_fn, **options, **skops_options(estimator)
    )


def skops_options(estimator: object) -> dict[str, Any]:
    """`skops_trusted_types` for logging or saving `estimator`, where MLflow takes it."""
    if "skops_trusted_types" not in inspect.signature(mlflow.sklearn.log_model).parameters:
        return {}  # an MLflow that never saves with skops (e.g. 3.0 on Runtime 17.3)
    try:
        import skops.io
    except ImportError:  # mlflow-skinny without skops saves with cloudpickle
        return {}
    return {"skops_trusted_types": skops.io.get_untrusted_types(data=skops.io.dumps(estimator))}


def register(uri: str, name: str) -> str:
    """Register the logged model at `uri` as a new version of `name`; the version."""
    return str(mlflow.register_model(uri, name).version)


def _local_uri(uri: str) -> str:
    prefix = "sqlite:///"
    if uri.startswith(prefix) and not uri.startswith(prefix + "/"):
        directory = local_dir()
        directory.mkdir(parents=True, exist_ok=True)
        return prefix + str(directory / uri.removeprefix(prefix))
    return uri


def configure(config: Config) -> MlflowClient:
    """Point MLflow at this environment's tracking server and registry."""
    settings = config.env.mlflow
    local = config.env.platform == "local"
    tracking = _local_uri(settings.tracking_uri) if local else settings.tracking_uri
    registry = _local_uri(settings.registry_uri) if local else settings.registry_uri
    mlflow.set_tracking_uri(tracking)
    mlflow.set_registry_uri(registry)
    if mlflow.get_experiment_by_name(settings.experiment) is None:
        location = (local_dir() / "mlartifacts").as_uri() if local else None
        mlflow.create_experiment(settings.experiment, artifact_location=location)
    mlflow.set_experiment(settings.experiment)
    return MlflowClient(tracking_uri=tracking, registry_uri=registry)


def not_found(error: MlflowException) -> bool:
    """The registry says the model or the alias does not exist: Unity Catalog answers
    RESOURCE_DOES_NOT_EXIST, MLflow's own stores INVALID_PARAMETER_VALUE with "alias ...
    not found". Anything else (a permission, a timeout, a server error) is not "absent"."""
    if error.error_code == "RESOURCE_DOES_NOT_EXIST":
        return True
    message = str(error.message).lower()
    return (
        error.error_code == "INVALID_PARAMETER_VALUE"
        and "alias" in message
        and "not found" in message
    )


def registry_error(what: str, error: MlflowException) -> TaskFailed:
    first = (str(error.message).strip().splitlines() or [""])[0]
    return TaskFailed(f"model registry: {what} failed: {error.error_code}: {first}")


def registered(client: MlflowClient, name: str) -> bool:
    try:
        client.get_registered_model(name)
    except MlflowException as error:
        if not_found(error):
            return False
        raise registry_error(f"reading model {name}", error) from error
    return True


def version_by_alias(client: MlflowClient, name: str, alias: str) -> ModelVersion | None:
    """The version `alias` names; None only when the registry says there is none.

    A registry that cannot answer fails the task: read as "no champion", a transient
    error would let evaluate promote without comparing and infer find nothing to score.
    """
    try:
        return client.get_model_version_by_alias(name, alias)
    except MlflowException as error:
        if not_found(error):
            return None
        raise registry_error(f"reading alias '{alias}' of {name}", error) from error
