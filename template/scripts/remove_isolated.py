"""Remove what a pull request deployed to staging, when the pull request closes.

    .venv-dbx/bin/python scripts/remove_isolated.py [--vars .dbx/vars.yml]

`make deploy-vars DEPLOY_VARS_FLAGS="--env staging --isolate pr-42"` writes what the pull
request's deployment is made of (its `isolation`: its e2e job, its schema and its
registered model; src/<package>/admin/deployment.py forms the names). This deletes
exactly those, as the staging service principal, so that closed pull requests leave no
jobs, tables or models behind (the e2e run drops its schema and model itself, but not
if it was cancelled). Staging's own jobs and other pull requests' are never touched.
What is already gone is skipped, so it can run again.
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

import yaml


def isolation(vars_file: Path) -> dict:
    data = yaml.safe_load(vars_file.read_text(encoding="utf-8")) or {}
    found = [env["isolation"] for env in (data.get("envs") or {}).values() if "isolation" in env]
    if len(found) != 1:
        raise SystemExit(f"error: {vars_file}: no isolated deployment (deploy-vars --isolate)")
    return found[0]


def remove(client, isolated: dict) -> list[str]:
    """Delete the isolated jobs, model and schema; what was removed, one line each."""
    from databricks.sdk.errors import NotFound  # dbx's tool environment

    removed = []
    for name in isolated["jobs"]:
        for job in client.jobs.list(name=name):
            if job.settings.name == name:  # the API's name filter is exact; stay safe
                client.jobs.delete(job_id=job.job_id)
                removed.append(f"job {name} ({job.job_id})")
    try:
        client.registered_models.delete(full_name=isolated["model"])
        removed.append(f"model {isolated['model']}")
    except NotFound:
        pass
    try:
        client.schemas.delete(full_name=isolated["schema"], force=True)  # with its tables
        removed.append(f"schema {isolated['schema']}")
    except NotFound:
        pass
    return removed


def main(argv: list[str] | None = None, client=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--vars", type=Path, default=Path(".dbx/vars.yml"))
    args = parser.parse_args(argv)
    isolated = isolation(args.vars)
    if client is None:
        os.environ.pop("DATABRICKS_TOKEN", None)  # the SDK's own OIDC / OAuth credentials
        from databricks.sdk import WorkspaceClient

        client = WorkspaceClient()
    removed = remove(client, isolated)
    for line in removed:
        print(f"removed {line}")
    if not removed:
        print(f"nothing left of {isolated['run']} in staging")
    return 0


if __name__ == "__main__":
    sys.exit(main())
