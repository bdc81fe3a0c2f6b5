"""Read conf/deployment.yml with dbx's own reader and models, offline; print a summary.

    .venv-dbx/bin/python scripts/check_deployment.py [--vars .dbx/vars.yml]

Runs in dbx's tool environment (dbx needs pydantic v1, so it cannot share the project's
environment) from the project root, where dbx finds .dbx/project.json. A file dbx
rejects fails here with dbx's own message; otherwise one JSON document per line says,
for every environment and workflow, its tasks, entry points, owner and principals.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from dbx.api.config_reader import ConfigReader


def principal(entry) -> str:
    data = entry.dict(exclude_none=True) if hasattr(entry, "dict") else dict(entry)
    data.pop("permission_level", None)
    return next(iter(data.values()), "")


def describe(workflow) -> dict:
    tasks = []
    for task in workflow.tasks or []:
        wheel = task.python_wheel_task
        notebook = task.notebook_task
        tasks.append(
            {
                "key": task.task_key,
                "depends_on": [d.task_key for d in task.depends_on or []],
                "entry_point": wheel.entry_point if wheel else None,
                "package": wheel.package_name if wheel else None,
                "parameters": list(wheel.parameters or []) if wheel else None,
                "notebook": notebook.notebook_path if notebook else None,
                "libraries": [
                    library.dict(exclude_none=True) if hasattr(library, "dict") else library
                    for library in task.libraries or []
                ],
            }
        )
    acl = workflow.access_control_list or []
    extra = workflow.dict(exclude_none=True)
    clusters = [c.new_cluster.dict(exclude_none=True) for c in workflow.job_clusters or []]
    return {
        "name": workflow.name,
        "tasks": tasks,
        "owners": [principal(a) for a in acl if a.permission_level.value == "IS_OWNER"],
        "acl": {principal(a): a.permission_level.value for a in acl},
        "run_as": extra.get("run_as"),
        "schedule": extra.get("schedule"),
        "tags": extra.get("tags"),
        "notifications": extra.get("email_notifications"),
        "clusters": clusters,
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--deployment", type=Path, default=Path("conf/deployment.yml"))
    parser.add_argument("--vars", type=Path, default=Path(".dbx/vars.yml"))
    args = parser.parse_args(argv)
    reader = ConfigReader(args.deployment, args.vars)
    for name in reader.get_all_environment_names():
        environment = reader.get_environment(name)
        workflows = [describe(w) for w in environment.payload.workflows]
        print(json.dumps({"environment": name, "workflows": workflows}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
