"""The lifecycle tasks and the registry: the one place that names tasks, their order and
the deployed workflows that run them.

A task is a module in this package with `run(context) -> dict` (platform/runner.py);
it needs no entry point of its own. `<slug> <task> --env <env>` (cli.py) runs it, the
deployment (admin/deployment.py) wires it into the workflows it names, one after the
other in the order below, and the dev executor notebook lists it. Adding a task is a
module plus one `Step` line (docs/how-to.md, "Add a task").
"""

from __future__ import annotations

import importlib
import importlib.util
from collections.abc import Callable
from dataclasses import dataclass

# The deployed workflows (one Databricks job each, per environment) are the platform's.
from ..platform.workflows import INFERENCE, TRAINING


@dataclass(frozen=True)
class Step:
    """A task: its module in tasks/, and the workflows that run it."""

    name: str
    workflows: tuple[str, ...]
    # Left out where its module is not generated (monitor, without monitoring).
    optional: bool = False


# The lifecycle in order: `<slug> pipeline` runs every step; each workflow runs its
# steps in this order. Batch inference validates the version it is about to score first
# (the data gate), so `validate` is in both.
STEPS = (
    Step("ingest", (TRAINING,)),
    Step("validate", (TRAINING, INFERENCE)),
    Step("train", (TRAINING,)),
    Step("evaluate", (TRAINING,)),
    Step("promote", (TRAINING,)),
    Step("infer", (INFERENCE,)),
    Step("monitor", (INFERENCE,), optional=True),
)

# Commands run by name, never as part of the pipeline: name -> (module, function).
# `e2e` (the staging end-to-end test) has arguments of its own: see tasks/e2e.py.
COMMANDS = {"rollback": ("promote", "rollback")}


def _present(step: Step) -> bool:
    return not step.optional or importlib.util.find_spec(f"{__name__}.{step.name}") is not None


PIPELINE = tuple(step.name for step in STEPS if _present(step))


def workflow_tasks(workflow: str) -> tuple[str, ...]:
    """The tasks `workflow` runs, in pipeline order."""
    return tuple(s.name for s in STEPS if workflow in s.workflows and s.name in PIPELINE)


def load(name: str) -> Callable:
    """The function that runs the task or command `name`: `run` of its module."""
    module, function = COMMANDS.get(name, (name, "run"))
    return getattr(importlib.import_module(f"{__name__}.{module}"), function)
