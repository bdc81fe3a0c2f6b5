"""promote: `challenger` becomes `champion`; the former champion stays as `previous`.

With no `challenger` (evaluate found the candidate not better) the champion stays and
the task succeeds; with neither alias there is nothing evaluated, which fails.
`rollback` (in this module too) puts `previous` back as champion in one step.
An alias names one version at a time, so there is never more than one champion.
"""

from __future__ import annotations

from typing import Any

from ..platform import tracking
from ..platform.runner import TaskContext, TaskFailed


def run(context: TaskContext) -> dict[str, Any]:
    name = context.config.model_name
    client = tracking.configure(context.config)
    challenger = tracking.version_by_alias(client, name, tracking.CHALLENGER)
    champion = tracking.version_by_alias(client, name, tracking.CHAMPION)
    if challenger is None and champion is None:
        raise TaskFailed(f"{name} has no '{tracking.CHALLENGER}' version: run evaluate first")
    if challenger is None:  # evaluate kept the champion: nothing to promote
        return {"champion": champion.version, "promoted": False}
    if champion is not None and champion.version != challenger.version:
        client.set_registered_model_alias(name, tracking.PREVIOUS, champion.version)
    client.set_registered_model_alias(name, tracking.CHAMPION, challenger.version)
    client.delete_registered_model_alias(name, tracking.CHALLENGER)
    return {
        "champion": challenger.version,
        "previous": champion.version if champion else None,
        "promoted": True,
    }


def rollback(context: TaskContext) -> dict[str, Any]:
    name = context.config.model_name
    client = tracking.configure(context.config)
    previous = tracking.version_by_alias(client, name, tracking.PREVIOUS)
    if previous is None:
        raise TaskFailed(f"{name} has no '{tracking.PREVIOUS}' version to roll back to")
    champion = tracking.version_by_alias(client, name, tracking.CHAMPION)
    client.set_registered_model_alias(name, tracking.CHAMPION, previous.version)
    if champion is not None:
        # Rolling back twice undoes the rollback.
        client.set_registered_model_alias(name, tracking.PREVIOUS, champion.version)
    return {"champion": previous.version, "previous": champion.version if champion else None}
