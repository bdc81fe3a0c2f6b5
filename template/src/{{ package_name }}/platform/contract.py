"""The model contract as the platform reads it: where the project's model lives, its
problem type and metric, and the libraries it needs.

The project's `model/` package is the contract (project-owned). Tasks read it through
here, so a mistake in it stops the task with one line naming the file to change, before
anything is registered or written. The model package is passed in, not imported here:
the CLI imports this module before it builds the model, to report a broken model as
one line.
"""

from __future__ import annotations

import contextlib
import importlib.metadata
import inspect
import logging
import os
import re
import shutil
import sys
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path
from types import ModuleType

from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

from . import problems
from .config import Config
from .requirements import RequirementsError, parse
from .runner import TaskFailed

PACKAGE = __package__.split(".")[0]
MODEL_PACKAGE = f"{PACKAGE}.model"
MODEL_DIR = f"src/{PACKAGE}/model/"
# Set to see the traceback of an error raised by the model's code (model_code).
TRACEBACK = "MLOPS_TRACEBACK"
log = logging.getLogger(__name__)


class ModelError(TaskFailed):
    """The project's model code (or a library it calls) raised: the data scientist's
    error, not a platform bug."""


def model_error(step: str, error: BaseException) -> ModelError:
    """One line naming model/, the step and the exception. A Spark worker's error
    (PythonException) is its Python traceback in text: its last line is the error."""
    text = str(error).strip()
    if type(error).__name__ == "PythonException":
        raised = [
            line.strip()
            for line in text.splitlines()
            if re.match(r"\s*[\w.]+(Error|Exception)\b", line)
        ]
        text = raised[-1] if raised else text
        kind = "on the Spark workers"
    else:
        text = f"{type(error).__name__}: {(text.splitlines() or [''])[0]}"
        kind = ""
    where = f"{MODEL_DIR} ({step}{', ' + kind if kind else ''})"
    hint = "" if os.environ.get(TRACEBACK) else f" ({TRACEBACK}=1 shows the traceback)"
    return ModelError(f"{where}: {text}{hint}")


@contextlib.contextmanager
def model_code(step: str, workers_only: bool = False) -> Iterator[None]:
    """Around every call into the project's model (build, fit, predict, its own
    log_model): what it raises stops the task with one line naming model/, the step and
    the exception, instead of "an unexpected error (a bug)" and a long traceback; the
    traceback is logged with MLOPS_TRACEBACK=1. `workers_only`: around a Spark action,
    only a Spark worker's error (where the model predicts) is the model's."""
    try:
        yield
    except TaskFailed:
        raise
    except Exception as error:
        if workers_only and type(error).__name__ != "PythonException":
            raise
        if os.environ.get(TRACEBACK):
            log.error("traceback of the model's error (%s)", step, exc_info=True)
        raise model_error(step, error) from error


# The model's own libraries, one per line as pip reads them. hatch_build.py declares
# them in the wheel (so job clusters install them); train pins them in the logged model.
REQUIREMENTS = "requirements.txt"


def problem_and_metric(
    model: ModuleType, config: Config
) -> tuple[problems.Problem, problems.Metric]:
    """The model's problem type and the configured metric, or one line on what to change."""
    try:
        problem = problems.of_model(model)
    except problems.ProblemError as error:
        raise TaskFailed(f"{MODEL_DIR}: {error}") from None
    try:
        return problem, problem.metric(config.env.evaluation.metric)
    except problems.ProblemError as error:
        raise TaskFailed(f"{config.file_of('evaluation')}: {error}") from None


def installed_version(name: str) -> str | None:
    try:
        return importlib.metadata.version(name)
    except importlib.metadata.PackageNotFoundError:
        return None


def pin(
    lines: Iterable[str], installed: Callable[[str], str | None] = installed_version
) -> list[str]:
    """Each requirement pinned to the version this process runs, as `name==version`.

    The logged model must be rebuilt with the libraries it was trained with, so a
    requirement that is not installed here, or installed at a version outside its
    specifier, is refused: the file and the environment disagree. Requirements whose
    environment marker does not apply here are left out.
    """
    pinned = []
    for number, requirement in parse(lines):
        if requirement.marker is not None and not requirement.marker.evaluate():
            continue
        version = installed(requirement.name)
        if version is None:
            raise RequirementsError(
                f"line {number}: {requirement.name} is not installed here: "
                "run `make setup` so that the model is trained with it"
            )
        if not requirement.specifier.contains(version, prereleases=True):
            raise RequirementsError(
                f"line {number}: {requirement.name} {version} is installed, outside "
                f"'{requirement.specifier}': run `make setup`, or change the line"
            )
        pinned.append(f"{requirement.name}=={version}")
    return pinned


def requirements(model: ModuleType) -> list[str]:
    """The model's requirements file, pinned; none if the project deleted the file."""
    path = Path(model.__file__).with_name(REQUIREMENTS)
    if not path.is_file():
        return []
    try:
        return pin(path.read_text(encoding="utf-8").splitlines())
    except RequirementsError as error:
        raise TaskFailed(f"{MODEL_DIR}{REQUIREMENTS} {error}") from None


def merge(*groups: Iterable[str]) -> list[str]:
    """Pinned requirements, one per distribution (the first group's pin wins)."""
    merged: dict[str, str] = {}
    for group in groups:
        for line in group:
            merged.setdefault(canonicalize_name(Requirement(line).name), line)
    return sorted(merged.values())


def code_paths(model: ModuleType, staging: Path) -> list[str]:
    """`code_paths` for the logged model: the project's `model/` package, under a copy of
    the package's `__init__.py`, so that `<package>.model...` imports wherever the logged
    model is loaded without this wheel (Model Serving, another workspace, a laptop).

    A model that holds a function or class of `model/` (a FunctionTransformer calling a
    helper in spec.py) is pickled by reference to it; without its code, loading fails
    with "No module named ...". MLflow copies these folders into the model's `code/` and
    puts that first on `sys.path` when it loads the model. Only `model/` goes: the
    platform's code is not the model's, and conf/ stays out of the registry.
    """
    target = staging / PACKAGE
    skip = shutil.ignore_patterns("__pycache__", "*.pyc")
    shutil.copytree(Path(model.__file__).parent, target / "model", ignore=skip)
    package = sys.modules[PACKAGE].__file__
    if package:
        shutil.copyfile(package, target / "__init__.py")
    return [str(target)]


def takes(function: Callable, keyword: str) -> bool:
    """Whether `function` accepts `keyword` (by name or through **options)."""
    parameters = inspect.signature(function).parameters.values()
    return any(p.name == keyword or p.kind is p.VAR_KEYWORD for p in parameters)
