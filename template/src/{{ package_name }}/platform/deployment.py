"""Values for conf/deployment.yml, computed from conf/ so nothing is written twice.

dbx renders the deployment file with Jinja and a variables file; this module writes
that file (`python -m <package>.platform.deployment --wheel dist/<wheel>`) from
conf/project.yml and conf/envs/{dev,staging,prod}.yml: hosts, catalogs, clusters,
owners, schedules, notifications and where each environment installs the wheel from.
It also writes dbx's .dbx/project.json, whose artifact location is the same Unity
Catalog volume, so that nothing of the project lands on the DBFS root (libraries there
are not installed from Runtime 15 on). Staging and prod jobs are owned by and run as the
environment's service principal; dev jobs by whoever deploys (MLOPS_DEV_OWNER).
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path
from typing import Any

import yaml

from ..cli import PIPELINE
from .config import DEPLOYED_ENVIRONMENTS, Config, ConfigError, default_conf_dir, load_config
from .lineage import template_version

DEV_OWNER_VARIABLE = "MLOPS_DEV_OWNER"
# Quartz cron, UTC. Paused outside prod: dev and staging runs are started on purpose.
SCHEDULES = {"training": "0 0 3 ? * MON", "batch-inference": "0 0 5 * * ?"}
TRAINING_TASKS = ("ingest", "validate", "train", "evaluate", "promote")
# Batch inference validates the version it is about to score (the data gate), then
# monitors it if the project has the monitor task (cli.PIPELINE follows the code).
INFERENCE_TASKS = ("validate", "infer") + (("monitor",) if "monitor" in PIPELINE else ())
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
    if "monitor" not in INFERENCE_TASKS or not monitoring.webhook_secret:
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
    """An ACL/run_as principal: a user (an e-mail) or a service principal (an app id)."""
    return {"user_name": identity} if "@" in identity else {"service_principal_name": identity}


def owner(config: Config, dev_owner: str | None) -> dict[str, str]:
    if config.env_name == "dev":
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


def notebook_tasks(config: Config) -> dict[str, list[dict[str, Any]]]:
    tasks: dict[str, list[dict[str, Any]]] = {"training": [], "batch-inference": []}
    known = {"training": set(TRAINING_TASKS), "batch-inference": set(INFERENCE_TASKS)}
    for index, task in enumerate(config.env.notebook_tasks):
        if task.depends_on and task.depends_on not in known[task.workflow]:
            raise ConfigError(
                f"{config.conf_dir / 'envs' / (config.env_name + '.yml')}: "
                f"notebook_tasks[{index}].depends_on: '{task.depends_on}' is not a task of "
                f"the {task.workflow} workflow"
            )
        known[task.workflow].add(task.task_key)
        tasks[task.workflow].append(task.model_dump())
    return tasks


def environment(config: Config, dev_owner: str | None, wheel: str) -> dict[str, Any]:
    env = config.env
    if env.cluster is None or env.workspace_host is None:
        raise ConfigError(
            f"{config.conf_dir / 'envs' / (config.env_name + '.yml')}: "
            "cluster and workspace_host are required for a deployed environment"
        )
    identity = owner(config, dev_owner)
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
        "inference_tasks": list(INFERENCE_TASKS),
        "notebook_tasks": notebook_tasks(config),
        "libraries": [{"whl": wheel_path(config, wheel)}],
        "secret_env": secret_env(config),
    }


def load_configs(conf_dir: Path | None, environments: tuple[str, ...]) -> dict[str, Config]:
    conf = Path(conf_dir) if conf_dir else default_conf_dir()
    return {name: load_config(name, conf) for name in environments}


def deployment_vars(
    conf_dir: Path | None = None,
    dev_owner: str | None = None,
    environments: tuple[str, ...] = DEPLOYED_ENVIRONMENTS,
    wheel: str = "",
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
        "schedules": SCHEDULES,
        "training_tasks": list(TRAINING_TASKS),
        "envs": {name: environment(config, dev_owner, wheel) for name, config in configs.items()},
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
            args.conf_dir, os.environ.get(DEV_OWNER_VARIABLE), environments, wheel
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
