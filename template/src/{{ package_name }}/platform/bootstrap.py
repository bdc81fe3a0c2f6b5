"""The one-time setup a platform team does for a new project, printed as commands.

    python -m <package>.platform.bootstrap [--repo org/name] [--auth github-oidc|oauth-m2m]

Reads conf/ and .copier-answers.yml and prints, in order: GitHub environments with
their variables (and reviewers on prod), branch protection on main, the Databricks
service principals, their GitHub OIDC federation policies, the project group, Unity
Catalog grants and MLflow experiment permissions. Values nobody can know in advance
(account id, numeric ids, the reviewers' team id) stay as <PLACEHOLDERS>. Prints only:
nothing here calls a network.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import yaml

from .config import Config, ConfigError, default_conf_dir, load_config

GITHUB_ISSUER = "https://token.actions.githubusercontent.com"
ENVIRONMENTS = ("dev", "staging", "prod")
# Checks that must pass before a pull request merges (workflow / job names).
REQUIRED_CHECKS = ["checks / checks", "e2e / deploy"]


def answers(conf_dir: Path) -> dict:
    path = Path(conf_dir).resolve().parent / ".copier-answers.yml"
    return (yaml.safe_load(path.read_text()) or {}) if path.is_file() else {}


def principal_id(config: Config, env: str) -> str:
    if env == "dev":
        return "<DEV_SP_APPLICATION_ID>"
    return getattr(config.project.service_principals, env) or f"<{env.upper()}_SP_APPLICATION_ID>"


def github_section(repo: str, configs: dict[str, Config], auth: str) -> list[str]:
    lines = ["# 1. GitHub environments and their variables (gh CLI, repository admin)"]
    for env, config in configs.items():
        lines.append(f"gh api --method PUT repos/{repo}/environments/{env}")
        if env == "prod":
            lines.append(
                f"gh api --method PUT repos/{repo}/environments/prod "
                "-F 'reviewers[][type]=Team' -F 'reviewers[][id]=<REVIEWERS_TEAM_ID>' "
                "-F prevent_self_review=true"
            )
        host = config.env.workspace_host
        lines.append(f"gh variable set DATABRICKS_HOST --repo {repo} --env {env} --body {host}")
        lines.append(
            f"gh variable set DATABRICKS_CLIENT_ID --repo {repo} --env {env} "
            f"--body {principal_id(config, env)}"
        )
        if auth == "oauth-m2m":
            lines.append(
                f"gh secret set DATABRICKS_CLIENT_SECRET --repo {repo} --env {env}"
                "   # prompts for the value; never put a secret on a command line"
            )
    protection = {
        "required_status_checks": {"strict": True, "contexts": REQUIRED_CHECKS},
        "enforce_admins": True,
        "required_pull_request_reviews": {"required_approving_review_count": 1},
        "restrictions": None,
    }
    lines += [
        "",
        "# 2. Branch protection on main: changes arrive through reviewed, tested PRs",
        f"gh api --method PUT repos/{repo}/branches/main/protection --input - <<'JSON'",
        json.dumps(protection, indent=2),
        "JSON",
    ]
    return lines


def databricks_section(repo: str, configs: dict[str, Config], auth: str) -> list[str]:
    project = next(iter(configs.values())).project
    slug, group = project.project.slug, project.owner_group
    lines = [
        "# 3. Service principals (Databricks account admin; skip those that exist)",
    ]
    for env in ENVIRONMENTS:
        lines.append(
            f"databricks account service-principals create --display-name {slug}-{env}"
            "   # note its application id for conf/project.yml and its numeric id"
        )
    lines.append("")
    if auth == "github-oidc":
        lines.append("# 4. Federation policies: only this repo's GitHub environment may act")
        for env in ENVIRONMENTS:
            policy = {
                "oidc_policy": {
                    "issuer": GITHUB_ISSUER,
                    "audiences": ["<DATABRICKS_ACCOUNT_ID>"],
                    "subject": f"repo:{repo}:environment:{env}",
                }
            }
            lines.append(
                "databricks account service-principal-federation-policy create "
                f"<{env.upper()}_SP_NUMERIC_ID> --json '{json.dumps(policy)}'"
            )
    else:
        lines.append("# 4. OAuth secrets: one per principal, stored only as GitHub secrets")
        for env in ENVIRONMENTS:
            lines.append(
                f"databricks account service-principal-secrets create <{env.upper()}_SP_NUMERIC_ID>"
                f"   # then: gh secret set DATABRICKS_CLIENT_SECRET --env {env}"
            )
    lines += [
        "",
        "# 5. The project group (account level), then add its members",
        f"databricks account groups create --display-name {group}",
        "",
        "# 6. Unity Catalog grants, per workspace (run with that workspace's profile)",
    ]
    for env, config in configs.items():
        catalog, schema = config.env.catalog, config.env.schema_
        sp = principal_id(config, env)
        writer = ["USE_SCHEMA", "CREATE_TABLE", "CREATE_MODEL", "SELECT", "MODIFY", "EXECUTE"]
        # Developers own dev; in staging and prod they read, the principal writes.
        reader = ["USE_SCHEMA", "SELECT", "EXECUTE"] if env != "dev" else writer
        changes = {"changes": [{"principal": p, "add": ["USE_CATALOG"]} for p in (sp, group)]}
        lines.append(f"databricks grants update catalog {catalog} --json '{json.dumps(changes)}'")
        changes = {
            "changes": [{"principal": sp, "add": writer}, {"principal": group, "add": reader}]
        }
        lines.append(
            f"databricks grants update schema {catalog}.{schema} --json '{json.dumps(changes)}'"
        )
    lines += ["", "# 7. MLflow experiments: the principal manages, the group reads"]
    for env, config in configs.items():
        experiment = config.env.mlflow.experiment
        group_level = "CAN_READ" if env != "dev" else "CAN_MANAGE"
        acl = {
            "access_control_list": [
                {
                    "service_principal_name": principal_id(config, env),
                    "permission_level": "CAN_MANAGE",
                },
                {"group_name": group, "permission_level": group_level},
            ]
        }
        lines.append(
            f"EXPERIMENT_ID=$(databricks experiments create-experiment {experiment} "
            "-o json | jq -r .experiment_id)"
        )
        lines.append(
            f"databricks experiments set-permissions \"$EXPERIMENT_ID\" --json '{json.dumps(acl)}'"
        )
    return lines


def plan(conf_dir: Path | None = None, repo: str | None = None, auth: str | None = None) -> str:
    conf = Path(conf_dir) if conf_dir else default_conf_dir()
    recorded = answers(conf)
    configs = {env: load_config(env, conf) for env in ENVIRONMENTS}
    slug = configs["dev"].project.project.slug
    repo = repo or f"{recorded.get('github_org', '<GITHUB_ORG>')}/{slug}"
    auth = auth or recorded.get("ci_auth", "github-oidc")
    header = [
        f"# Bootstrap plan for {slug} ({repo}), CI auth: {auth}",
        "# Run each block as the admin it names. <PLACEHOLDERS> are values only known then.",
        "",
    ]
    sections = [*github_section(repo, configs, auth), "", *databricks_section(repo, configs, auth)]
    return "\n".join(header + sections) + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--conf-dir", type=Path, default=None)
    parser.add_argument("--repo", help="GitHub org/name (default: from the answers)")
    parser.add_argument("--auth", choices=("github-oidc", "oauth-m2m"))
    args = parser.parse_args(argv)
    try:
        print(plan(args.conf_dir, args.repo, args.auth), end="")
    except ConfigError as error:
        print(f"error: {error}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
