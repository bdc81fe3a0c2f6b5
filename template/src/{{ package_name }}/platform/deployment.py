"""Values for conf/deployment.yml, computed from conf/ so nothing is written twice.

dbx renders the deployment file with Jinja and a variables file; this module writes
that file (`python -m <package>.platform.deployment --out .dbx/vars.yml`) from
conf/project.yml and conf/envs/{dev,staging,prod}.yml: hosts, catalogs, clusters,
owners, schedules and notifications. Staging and prod jobs are owned by and run as the
environment's service principal; dev jobs by whoever deploys (MLOPS_DEV_OWNER).
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path
from typing import Any

import yaml

from .config import Config, ConfigError, default_conf_dir, load_config, template_version

DEPLOYED_ENVIRONMENTS = ("dev", "staging", "prod")
DEV_OWNER_VARIABLE = "MLOPS_DEV_OWNER"
# Quartz cron, UTC. Paused outside prod: dev and staging runs are started on purpose.
SCHEDULES = {"training": "0 0 3 ? * MON", "batch-inference": "0 0 5 * * ?"}
TRAINING_TASKS = ("ingest", "validate", "train", "evaluate", "promote")


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
    known = {"training": set(TRAINING_TASKS), "batch-inference": {"infer", "monitor"}}
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


def environment(config: Config, dev_owner: str | None) -> dict[str, Any]:
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
        "monitoring": env.monitoring is not None,
        "notebook_tasks": notebook_tasks(config),
    }


def deployment_vars(
    conf_dir: Path | None = None,
    dev_owner: str | None = None,
    environments: tuple[str, ...] = DEPLOYED_ENVIRONMENTS,
) -> dict[str, Any]:
    conf = Path(conf_dir) if conf_dir else default_conf_dir()
    configs = {name: load_config(name, conf) for name in environments}
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
        "envs": {name: environment(config, dev_owner) for name, config in configs.items()},
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Write dbx's Jinja variables from conf/.")
    parser.add_argument("--conf-dir", type=Path, default=None)
    parser.add_argument("--out", type=Path, default=Path(".dbx/vars.yml"))
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
    try:
        data = deployment_vars(args.conf_dir, os.environ.get(DEV_OWNER_VARIABLE), environments)
    except ConfigError as error:
        print(f"error: {error}", file=sys.stderr)
        return 1
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(yaml.safe_dump(data, sort_keys=False), encoding="utf-8")
    print(f"wrote {args.out} for {', '.join(environments)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
