"""Values for conf/deployment.yml, computed from conf/ so nothing is written twice.

dbx renders the deployment file with Jinja and a variables file; this module writes
that file (`python -m <package>.admin.deployment --wheel dist/<wheel>`) from
conf/project.yml and conf/envs/{dev,staging,prod}.yml: hosts, catalogs, clusters,
owners, schedules, notifications and where each environment installs the wheel from.
It also writes dbx's .dbx/project.json, whose artifact location is the same Unity
Catalog volume, so that nothing of the project lands on the DBFS root (libraries there
are not installed from Runtime 15 on). Staging and prod jobs are owned by and run as the
environment's service principal; dev jobs by whoever deploys (MLOPS_DEV_OWNER). CI writes
the file in its build job, which holds no credentials and no GitHub environment's
settings: with `--dev-owner-at-deploy`, dev's owner is the service principal whose
application id dbx reads from MLOPS_DEV_OWNER when the deploy job deploys.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path
from typing import Any

import yaml

from ..platform.config import (
    DEPLOYED_ENVIRONMENTS,
    Config,
    ConfigError,
    default_conf_dir,
    isolation_overrides,
    load_config,
)
from ..platform.lineage import template_version
from ..platform.workflows import INFERENCE, TRAINING, WORKFLOWS
from ..tasks import workflow_tasks

DEV_OWNER_VARIABLE = "MLOPS_DEV_OWNER"
# Quartz cron, UTC. Paused outside prod: dev and staging runs are started on purpose.
SCHEDULES = {TRAINING: "0 0 3 ? * MON", INFERENCE: "0 0 5 * * ?"}
# Staging only: the end-to-end test (tasks/e2e.py). A merge to main runs staging's own;
# a pull request deploys one of its own (`--isolate pr-<number>`), which runs in a schema
# and model of its own and is removed when the pull request closes.
E2E_WORKFLOW = "e2e-test"
ISOLATED_ENVIRONMENT = "staging"
# The cluster environment variable that carries the alert webhook URL (tasks/monitor.py).
WEBHOOK_VARIABLE = "MLOPS_ALERT_WEBHOOK_URL"


def volume_path(config: Config) -> str:
    """The environment's artifacts volume as a path: /Volumes/<catalog>/<schema>/<volume>."""
    env = config.env
    return f"/Volumes/{env.catalog}/{env.schema_}/{env.artifacts_volume}"


def wheel_path(config: Config, wheel: str) -> str:
    """Where the deploy job uploads the wheel and where clusters install it from."""
    return f"{volume_path(config)}/wheels/{Path(wheel).name}"


def secret_env(config: Config) -> dict[str, str]:
    """Cluster environment variables filled from Databricks secrets (references only)."""
    monitoring = config.env.monitoring
    if "monitor" not in workflow_tasks(INFERENCE) or not monitoring.webhook_secret:
        return {}
    # Databricks' secret reference syntax (secrets/<scope>/<key> in double braces), spelt without
    # literal double braces so no Jinja engine on the way mistakes it for its own.
    opening, closing = "{" * 2, "}" * 2
    return {WEBHOOK_VARIABLE: f"{opening}secrets/{monitoring.webhook_secret}{closing}"}


def dbx_project(configs: dict[str, Config]) -> dict[str, Any]:
    """.dbx/project.json: dbx keeps its deployment records in the environment's volume.

    dbx stores them through MLflow, whose artifact store writes `dbfs:/Volumes/...`
    URIs to the Unity Catalog volume through the Files API (MLflow 2.15 and later).
    """
    environments = {}
    for name, config in configs.items():
        slug = config.project.project.slug
        environments[name] = {
            "profile": name,
            "storage_type": "mlflow",
            "properties": {
                "workspace_directory": f"/Shared/{slug}/dbx-{name}",
                "artifact_location": f"dbfs:{volume_path(config)}/dbx",
            },
        }
    return {"environments": environments, "inplace_jinja_support": True}


def principal(identity: str) -> dict[str, str]:
    """An ACL/run_as principal, as its field and value: a user (an e-mail) or a service
    principal (an application id)."""
    field = "user_name" if "@" in identity else "service_principal_name"
    return {"field": field, "id": identity}


def owner(config: Config, dev_owner: str | None, at_deploy: bool = False) -> dict[str, str]:
    if config.env_name == "dev":
        if at_deploy and not dev_owner:
            # conf/deployment.yml fills the id in from MLOPS_DEV_OWNER as dbx renders it.
            return {"field": "service_principal_name", "id": ""}
        if not dev_owner:
            raise ConfigError(
                f"{DEV_OWNER_VARIABLE}: dev jobs need an owner: your user name (e-mail) or the "
                "application id of the service principal that deploys"
            )
        return principal(dev_owner)
    application_id = getattr(config.project.service_principals, config.env_name)
    if not application_id:
        raise ConfigError(
            f"{config.conf_dir / 'project.yml'}: service_principals.{config.env_name} is empty; "
            f"fill in the {config.env_name} service principal's application id before deploying"
        )
    return principal(application_id)


def chain(tasks: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Each task after the one before it."""
    previous = None
    for task in tasks:
        task.setdefault("depends_on", previous)
        previous = task["key"]
    return tasks


def wheel_task(key: str, *parameters: str) -> dict[str, Any]:
    """A task that runs the console script: `<slug> <parameters...>`."""
    return {"key": key, "parameters": list(parameters)}


def workflows(config: Config) -> list[dict[str, Any]]:
    """The environment's jobs, each with its tasks in order and wired: the registry's
    tasks (tasks/__init__.py), then the project's notebook tasks (conf/envs/<env>.yml)."""
    name = config.env_name
    jobs = []
    for workflow in WORKFLOWS:
        tasks = chain([wheel_task(task, task, "--env", name) for task in workflow_tasks(workflow)])
        known = {task["key"] for task in tasks}
        for index, notebook in enumerate(config.env.notebook_tasks):
            if notebook.workflow != workflow:
                continue
            if notebook.depends_on and notebook.depends_on not in known:
                raise ConfigError(
                    f"{config.file_of('notebook_tasks')}: "
                    f"notebook_tasks[{index}].depends_on: '{notebook.depends_on}' is not a "
                    f"task of the {workflow} workflow"
                )
            known.add(notebook.task_key)
            tasks.append(
                {
                    "key": notebook.task_key,
                    "depends_on": notebook.depends_on,
                    "notebook_path": notebook.notebook_path,
                    # The notebook's environment widget, unless the task sets its own.
                    "base_parameters": {
                        **notebook.base_parameters,
                        "env": notebook.base_parameters.get("env") or name,
                    },
                }
            )
        jobs.append({"name": workflow, "schedule": SCHEDULES.get(workflow), "tasks": tasks})
    if name == "staging":
        e2e = wheel_task("e2e", "e2e", "--env", name, "--isolate", "manual")
        jobs.append({"name": E2E_WORKFLOW, "schedule": None, "tasks": chain([e2e])})
    # `key` is what CI names a workflow by (scripts/run_job.py); `name`, the job's name.
    slug = config.project.project.slug
    return [{"key": job["name"], **job, "name": f"{slug}-{job['name']}"} for job in jobs]


def isolated(config: Config, jobs: list[dict[str, Any]], run: str) -> dict[str, Any]:
    """A pull request's own deployment in staging: the e2e job only, named after the run,
    running in the run's schema and model (tasks/e2e.py); and those names, so that the
    pull request's clean-up removes exactly them (scripts/remove_isolated.py)."""
    if config.env_name != ISOLATED_ENVIRONMENT:
        raise ConfigError(f"--isolate: only {ISOLATED_ENVIRONMENT} deploys pull requests' jobs")
    overrides = isolation_overrides(config, run)
    schema = f"{config.env.catalog}.{overrides['schema']}"
    (e2e,) = [job for job in jobs if job["key"] == E2E_WORKFLOW]
    suffix = schema.rpartition("_e2e_")[2].replace("_", "-")
    task = wheel_task("e2e", "e2e", "--env", config.env_name, "--isolate", run)
    job = {**e2e, "name": f"{e2e['name']}-{suffix}", "tasks": chain([task])}
    return {
        "workflows": [job],
        "isolation": {
            "run": run,
            "jobs": [job["name"]],
            "schema": schema,
            "model": f"{schema}.{config.project.model.name}",
        },
    }


def environment(
    config: Config, dev_owner: str | None, wheel: str, isolate: str = "", at_deploy: bool = False
) -> dict[str, Any]:
    env = config.env
    if env.cluster is None or env.workspace_host is None:
        raise ConfigError(
            f"{config.env_file}: cluster and workspace_host are required for a deployed environment"
        )
    identity = owner(config, dev_owner, at_deploy)
    jobs = workflows(config)
    own = isolated(config, jobs, isolate) if isolate else {"workflows": jobs}
    return {
        "host": env.workspace_host,
        "catalog": env.catalog,
        "schema": env.schema_,
        "cluster": env.cluster.model_dump(),
        "owner": identity,
        # Staging and prod run as their service principal; dev as the deployer.
        "run_as": identity if config.env_name != "dev" else None,
        "group_permission": "CAN_MANAGE" if config.env_name == "dev" else "CAN_MANAGE_RUN",
        "pause_status": "UNPAUSED" if config.env_name == "prod" else "PAUSED",
        "libraries": [{"whl": wheel_path(config, wheel)}],
        "secret_env": secret_env(config),
        **own,
    }


def load_configs(conf_dir: Path | None, environments: tuple[str, ...]) -> dict[str, Config]:
    conf = Path(conf_dir) if conf_dir else default_conf_dir()
    return {name: load_config(name, conf) for name in environments}


def deployment_vars(
    conf_dir: Path | None = None,
    dev_owner: str | None = None,
    environments: tuple[str, ...] = DEPLOYED_ENVIRONMENTS,
    wheel: str = "",
    isolate: str = "",
    dev_owner_at_deploy: bool = False,
) -> dict[str, Any]:
    if not wheel.endswith(".whl"):
        given = f"'{wheel}' is not a wheel file" if wheel else "no wheel given and none in dist/"
        raise ConfigError(f"--wheel: {given}; build one with `make wheel`")
    conf = Path(conf_dir) if conf_dir else default_conf_dir()
    configs = load_configs(conf, environments)
    project = next(iter(configs.values())).project
    return {
        "project": {
            "slug": project.project.slug,
            "package": project.project.package,
            "group": project.owner_group,
            "notify_on_failure": list(project.notifications.on_failure),
        },
        "template_version": template_version(conf),
        "envs": {
            name: environment(config, dev_owner, wheel, isolate, dev_owner_at_deploy)
            for name, config in configs.items()
        },
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Write dbx's Jinja variables from conf/.")
    parser.add_argument("--conf-dir", type=Path, default=None)
    parser.add_argument("--out", type=Path, default=Path(".dbx/vars.yml"))
    parser.add_argument(
        "--wheel", default="", help="the built wheel to deploy (default: the newest in dist/)"
    )
    parser.add_argument(
        "--env", action="append", choices=DEPLOYED_ENVIRONMENTS, help="default: all three"
    )
    parser.add_argument(
        "--isolate",
        default="",
        metavar="RUN",
        help=f"a pull request's own e2e job only (with --env {ISOLATED_ENVIRONMENT}), e.g. pr-42",
    )
    parser.add_argument(
        "--dev-owner-at-deploy",
        action="store_true",
        help=f"dev's owner is the service principal in {DEV_OWNER_VARIABLE} when dbx deploys "
        "(CI's credential-free build job writes the variables)",
    )
    parser.add_argument(
        "--skip-unowned",
        action="store_true",
        help="leave out staging/prod while their service principal is not filled in",
    )
    args = parser.parse_args(argv)
    environments = tuple(args.env or DEPLOYED_ENVIRONMENTS)
    if args.skip_unowned:
        conf = args.conf_dir or default_conf_dir()
        principals = load_config("dev", conf).project.service_principals
        skipped = [e for e in environments if e != "dev" and not getattr(principals, e)]
        for name in skipped:
            print(f"warning: {name} left out: service_principals.{name} is empty", file=sys.stderr)
        environments = tuple(e for e in environments if e not in skipped)
    wheel = args.wheel or newest_wheel(Path("dist"))
    try:
        data = deployment_vars(
            args.conf_dir,
            os.environ.get(DEV_OWNER_VARIABLE),
            environments,
            wheel,
            args.isolate,
            args.dev_owner_at_deploy,
        )
        project = dbx_project(load_configs(args.conf_dir, environments))
    except ConfigError as error:
        print(f"error: {error}", file=sys.stderr)
        return 1
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(yaml.safe_dump(data, sort_keys=False), encoding="utf-8")
    project_file = args.out.parent / "project.json"
    project_file.write_text(json.dumps(project, indent=2) + "\n", encoding="utf-8")
    names = ", ".join(environments)
    print(f"wrote {args.out} and {project_file} for {names} ({Path(wheel).name})")
    return 0


def newest_wheel(dist: Path) -> str:
    wheels = sorted(dist.glob("*.whl"), key=lambda p: p.stat().st_mtime)
    return str(wheels[-1]) if wheels else ""


if __name__ == "__main__":
    sys.exit(main())
