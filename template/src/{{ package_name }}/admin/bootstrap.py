"""The one-time setup a platform team does for a new project, printed as commands.

    python -m <package>.admin.bootstrap [--repo org/name] [--auth github-oidc|oauth-m2m]

Reads conf/ and .copier-answers.yml and prints, in a runnable order, every step the
deployed jobs and CI need: service principals and the project group (account), their
GitHub OIDC federation policies or OAuth secrets, workspace assignment and entitlements,
the schema, the artifacts volume (where clusters install the wheel from), the experiment
folder and experiment, the registered model, the alert-webhook secret scope, Unity Catalog
grants, then the GitHub environments and branch protection. Each step is built from the
resources it creates and uses, so `Plan.check_order` can prove that nothing is granted,
assigned or used before the step that creates it. Values nobody can know in advance
(account and numeric ids, the reviewers' team id) stay as <PLACEHOLDERS>. Prints only:
nothing here calls a network.
"""

from __future__ import annotations

import argparse
import json
import sys
from dataclasses import dataclass, field
from pathlib import Path

import yaml

from ..platform.config import (
    DEPLOYED_ENVIRONMENTS,
    Config,
    ConfigError,
    default_conf_dir,
    load_config,
)
from ..tasks import PIPELINE

GITHUB_ISSUER = "https://token.actions.githubusercontent.com"
# Checks that must pass before a pull request merges (workflow / job names).
REQUIRED_CHECKS = ["checks / checks", "e2e / deploy"]
# The tags a release may have: the only refs that may deploy to prod.
RELEASE_TAGS = "v*"
WEBHOOK_SECRET_KEY = "alert-webhook-url"
# What a new project finds in place: the account, the workspaces, the catalogs, the repo.
EXISTING_KINDS = ("account", "workspace", "catalog", "repo")


@dataclass(frozen=True)
class Resource:
    kind: str
    name: str

    def __str__(self) -> str:
        return f"{self.kind} {self.name}"


@dataclass
class PlanStep:
    """One step of the plan: who runs it, its commands, what it creates and uses."""

    admin: str
    title: str
    commands: list[str]
    creates: tuple[Resource, ...] = ()
    uses: tuple[Resource, ...] = ()


@dataclass
class Plan:
    steps: list[PlanStep] = field(default_factory=list)

    def add(self, admin, title, commands, creates=(), uses=()) -> tuple[Resource, ...]:
        self.steps.append(PlanStep(admin, title, list(commands), tuple(creates), tuple(uses)))
        return tuple(creates)

    def check_order(self) -> list[str]:
        """The errors: a step that uses what no earlier step created (and did not exist)."""
        available: set[Resource] = set()
        errors = []
        for number, step in enumerate(self.steps, 1):
            for resource in step.uses:
                if resource.kind not in EXISTING_KINDS and resource not in available:
                    errors.append(f"step {number} ({step.title}) uses {resource} first")
            available.update(step.creates)
        return errors

    def render(self, header: list[str]) -> str:
        lines = list(header)
        for number, step in enumerate(self.steps, 1):
            lines += ["", f"# {number}. {step.title} ({step.admin})", *step.commands]
        return "\n".join(lines) + "\n"


def answers(conf_dir: Path) -> dict:
    path = Path(conf_dir).resolve().parent / ".copier-answers.yml"
    return (yaml.safe_load(path.read_text()) or {}) if path.is_file() else {}


def principal_id(config: Config, env: str) -> str:
    if env == "dev":
        return "<DEV_SP_APPLICATION_ID>"
    return getattr(config.project.service_principals, env) or f"<{env.upper()}_SP_APPLICATION_ID>"


def _json(data) -> str:
    return "'" + json.dumps(data) + "'"


def grant(plan: Plan, env: str, securable: Resource, changes: dict[Resource, list[str]]):
    """A Unity Catalog grant; registered models are the `function` securable type."""
    kind = "function" if securable.kind == "model" else securable.kind
    body = {"changes": [{"principal": p.name, "add": add} for p, add in changes.items()]}
    plan.add(
        "workspace admin",
        f"{env}: grants on {securable}",
        [f"databricks grants update {kind} {securable.name} --json {_json(body)}"],
        uses=(securable, *changes),
    )


@dataclass(frozen=True)
class Identities:
    """Who acts: each environment's service principal, the developers' group, and the
    workspaces they are assigned to."""

    principals: dict[str, Resource]
    group: Resource
    workspaces: dict[str, Resource]


def build(configs: dict[str, Config], repo: str, auth: str) -> Plan:
    """Every step, in a runnable order: the account's identities and CI auth, then each
    environment's workspace, storage, experiment, model, secret and grants, then GitHub."""
    project = next(iter(configs.values())).project
    who = Identities(
        principals={
            env: Resource("service principal", principal_id(c, env)) for env, c in configs.items()
        },
        group=Resource("group", project.owner_group),
        workspaces={env: Resource("workspace", f"<{env.upper()}_WORKSPACE_ID>") for env in configs},
    )
    plan = Plan()
    identities(plan, project.project.slug, who)
    ci_auth(plan, who, repo, auth)
    for env, config in configs.items():
        member, group_member = workspace_access(plan, env, who)
        schema, volume = storage(plan, env, config)
        experiment(plan, env, config, who, member, group_member)
        model = registered_model(plan, env, config, who, schema)
        if "monitor" in PIPELINE:
            webhook_secret(plan, env, project.project.slug, who.principals[env], member)
        grants(plan, env, config, who, schema, volume, model)
    for env, config in configs.items():
        github_environment(plan, env, config, who, repo, auth)
    repository_rules(plan, repo)
    return plan


def identities(plan: Plan, slug: str, who: Identities) -> None:
    plan.add(
        "account admin",
        "service principals (skip those that exist)",
        [
            f"databricks account service-principals create --display-name {slug}-{env}"
            "   # note its application id (conf/project.yml) and its numeric id"
            for env in who.principals
        ],
        creates=tuple(who.principals.values()),
    )
    plan.add(
        "account admin",
        "the project group, then add its members",
        [f"databricks account groups create --display-name {who.group.name}"],
        creates=(who.group,),
    )


def ci_auth(plan: Plan, who: Identities, repo: str, auth: str) -> None:
    """What lets CI act as each principal: a federation policy (GitHub OIDC) or a secret."""
    principals = tuple(who.principals.values())
    if auth == "github-oidc":
        commands = []
        for env in who.principals:
            policy = {
                "oidc_policy": {
                    "issuer": GITHUB_ISSUER,
                    "audiences": ["<DATABRICKS_ACCOUNT_ID>"],
                    "subject": f"repo:{repo}:environment:{env}",
                }
            }
            commands.append(
                "databricks account service-principal-federation-policy create "
                f"<{env.upper()}_SP_NUMERIC_ID> --json {_json(policy)}"
            )
        plan.add(
            "account admin",
            "federation policies: only this repo's GitHub environment may act as the principal",
            commands,
            uses=principals,
        )
        return
    plan.add(
        "account admin",
        "OAuth secrets: one per principal, kept only as GitHub environment secrets",
        [
            f"databricks account service-principal-secrets create "
            f"<{env.upper()}_SP_NUMERIC_ID>   # keep the secret for step 'GitHub'"
            for env in who.principals
        ],
        uses=principals,
    )


def workspace_access(plan: Plan, env: str, who: Identities) -> tuple[Resource, Resource]:
    """The principal and the group in the environment's workspace, with what jobs need."""
    sp, workspace = who.principals[env], who.workspaces[env]
    member = Resource("workspace member", f"{env}:{sp.name}")
    group_member = Resource("workspace member", f"{env}:{who.group.name}")
    assignment = _json({"permissions": ["USER"]})
    plan.add(
        "account admin",
        f"{env}: assign the principal and the group to the workspace",
        [
            f"databricks account workspace-assignment update {workspace.name} "
            f"<{env.upper()}_SP_NUMERIC_ID> --json {assignment}",
            f"databricks account workspace-assignment update {workspace.name} "
            f"<GROUP_NUMERIC_ID> --json {assignment}",
        ],
        creates=(member, group_member),
        uses=(workspace, sp, who.group),
    )
    patch = {
        "schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"],
        "Operations": [
            {
                "op": "add",
                "path": "entitlements",
                # Job clusters are created by the job's owner.
                "value": [{"value": "workspace-access"}, {"value": "allow-cluster-create"}],
            }
        ],
    }
    plan.add(
        "workspace admin",
        f"{env}: entitlements the jobs need (run with the {env} workspace's profile)",
        [
            f"databricks service-principals patch <{env.upper()}_SP_WORKSPACE_ID> "
            f"--json {_json(patch)}"
        ],
        uses=(member,),
    )
    return member, group_member


def storage(plan: Plan, env: str, config: Config) -> tuple[Resource, Resource]:
    """The project's schema and its artifacts volume."""
    env_config = config.env
    catalog = Resource("catalog", env_config.catalog)
    schema = Resource("schema", f"{env_config.catalog}.{env_config.schema_}")
    volume = Resource("volume", f"{schema.name}.{env_config.artifacts_volume}")
    plan.add(
        "workspace admin",
        f"{env}: the project's schema (jobs never need CREATE SCHEMA for it)",
        [f"databricks schemas create {env_config.schema_} {env_config.catalog}"],
        creates=(schema,),
        uses=(catalog,),
    )
    plan.add(
        "workspace admin",
        f"{env}: the artifacts volume; clusters install the project's wheel from it",
        [
            f"databricks volumes create {env_config.catalog} {env_config.schema_} "
            f"{env_config.artifacts_volume} MANAGED"
        ],
        creates=(volume,),
        uses=(schema,),
    )
    return schema, volume


def experiment(
    plan: Plan, env: str, config: Config, who: Identities, member: Resource, group_member: Resource
) -> None:
    """The experiment's folder and the experiment: the principal manages both, the group
    manages them in dev and reads them elsewhere."""
    experiment_path = config.env.mlflow.experiment
    folder = Resource("folder", str(Path(experiment_path).parent))
    created = Resource("experiment", experiment_path)
    group_level = "CAN_MANAGE" if env == "dev" else "CAN_READ"
    acl = {
        "access_control_list": [
            {"service_principal_name": who.principals[env].name, "permission_level": "CAN_MANAGE"},
            {"group_name": who.group.name, "permission_level": group_level},
        ]
    }
    plan.add(
        "workspace admin",
        f"{env}: the experiment folder (dbx's deployment records live in it too)",
        [
            f"databricks workspace mkdirs {folder.name}",
            f"FOLDER_ID=$(databricks workspace get-status {folder.name} -o json "
            "| jq -r .object_id)",
            f'databricks workspace set-permissions directories "$FOLDER_ID" --json {_json(acl)}',
        ],
        creates=(folder,),
        uses=(member, group_member),
    )
    plan.add(
        "workspace admin",
        f"{env}: the MLflow experiment: the principal manages, the group "
        f"{'manages' if env == 'dev' else 'reads'}",
        [
            f"EXPERIMENT_ID=$(databricks experiments create-experiment {created.name} "
            "-o json | jq -r .experiment_id)",
            f'databricks experiments set-permissions "$EXPERIMENT_ID" --json {_json(acl)}',
        ],
        creates=(created,),
        uses=(folder, member, group_member),
    )


def registered_model(
    plan: Plan, env: str, config: Config, who: Identities, schema: Resource
) -> Resource:
    """The registered model and its owner, who alone registers versions and sets aliases:
    in staging and prod the principal; in dev the developers' group, with the dev
    principal in it, so that a developer's own train and promote work as the dev jobs'
    do."""
    sp = who.principals[env]
    model = Resource("model", config.model_name)
    model_body = {
        "catalog_name": config.env.catalog,
        "schema_name": config.env.schema_,
        "name": config.project.model.name,
    }
    model_owner, joined = sp, ()
    if env == "dev":
        model_owner = who.group
        joined = (Resource("group member", f"{who.group.name}:{sp.name}"),)
        join = {
            "schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"],
            "Operations": [
                {"op": "add", "path": "members", "value": [{"value": "<DEV_SP_NUMERIC_ID>"}]}
            ],
        }
        plan.add(
            "account admin",
            "dev: the dev principal joins the developers' group, which owns dev's model",
            [f"databricks account groups patch <GROUP_NUMERIC_ID> --json {_json(join)}"],
            creates=joined,
            uses=(who.group, sp),
        )
    plan.add(
        "workspace admin",
        f"{env}: the registered model, owned by "
        f"{'the developers group' if env == 'dev' else 'the principal'}, which registers "
        "versions and sets aliases",
        [
            f"databricks registered-models create --json {_json(model_body)}",
            f"databricks registered-models update {model.name} --json "
            f"{_json({'owner': model_owner.name})}",
        ],
        creates=(model,),
        uses=(schema, model_owner, *joined),
    )
    return model


def webhook_secret(plan: Plan, env: str, slug: str, sp: Resource, member: Resource) -> None:
    scope = Resource("secret scope", slug)
    plan.add(
        "workspace admin",
        f"{env}: the alert webhook URL as a secret (conf: monitoring.webhook_secret: "
        f"{slug}/{WEBHOOK_SECRET_KEY})",
        [
            f"databricks secrets create-scope {slug}",
            f"databricks secrets put-secret {slug} {WEBHOOK_SECRET_KEY}"
            "   # prompts for the URL; never put it on a command line",
            f"databricks secrets put-acl {slug} {sp.name} READ",
        ],
        creates=(scope,),
        uses=(member,),
    )


def grants(
    plan: Plan,
    env: str,
    config: Config,
    who: Identities,
    schema: Resource,
    volume: Resource,
    model: Resource,
) -> None:
    """Unity Catalog grants. Developers own dev; in staging and prod they read, the
    principal writes."""
    sp, group = who.principals[env], who.group
    writer = ["USE_SCHEMA", "CREATE_TABLE", "CREATE_MODEL", "SELECT", "MODIFY", "EXECUTE"]
    reader = ["USE_SCHEMA", "SELECT", "EXECUTE"] if env != "dev" else writer
    # Staging's e2e runs in a schema of its own per pull request (e2e.py --isolate).
    sp_catalog = ["USE_CATALOG", "CREATE_SCHEMA"] if env == "staging" else ["USE_CATALOG"]
    catalog = Resource("catalog", config.env.catalog)
    grant(plan, env, catalog, {sp: sp_catalog, group: ["USE_CATALOG"]})
    grant(plan, env, schema, {sp: writer, group: reader})
    volume_group = ["READ_VOLUME", "WRITE_VOLUME"] if env == "dev" else ["READ_VOLUME"]
    grant(plan, env, volume, {sp: ["READ_VOLUME", "WRITE_VOLUME"], group: volume_group})
    if env != "dev":  # in dev the group owns the model
        grant(plan, env, model, {group: ["EXECUTE"]})


def github_environment(
    plan: Plan, env: str, config: Config, who: Identities, repo: str, auth: str
) -> None:
    """The GitHub environment CI deploys in, with what the deploy job reads from it."""
    commands = [f"gh api --method PUT repos/{repo}/environments/{env}"]
    if env == "prod":
        # Reviewers approve each deploy, and only release tags (v*) may deploy:
        # not a branch, not a workflow run started by hand on one.
        commands += [
            f"gh api --method PUT repos/{repo}/environments/prod "
            "-F 'reviewers[][type]=Team' -F 'reviewers[][id]=<REVIEWERS_TEAM_ID>' "
            "-F prevent_self_review=true "
            "-F 'deployment_branch_policy[protected_branches]=false' "
            "-F 'deployment_branch_policy[custom_branch_policies]=true'",
            f"gh api --method POST repos/{repo}/environments/prod/deployment-branch-policies "
            f"-f name='{RELEASE_TAGS}' -f type=tag",
        ]
    commands += [
        f"gh variable set DATABRICKS_HOST --repo {repo} --env {env} "
        f"--body {config.env.workspace_host}",
        f"gh variable set DATABRICKS_CLIENT_ID --repo {repo} --env {env} "
        f"--body {who.principals[env].name}",
        # The deploy workflow reads its auth from here (github-oidc when unset).
        f"gh variable set DATABRICKS_AUTH_TYPE --repo {repo} --env {env} --body {auth}",
    ]
    if auth == "oauth-m2m":
        commands.append(
            f"gh secret set DATABRICKS_CLIENT_SECRET --repo {repo} --env {env}"
            "   # prompts for the value; never put a secret on a command line"
        )
    plan.add(
        "repository admin",
        f"GitHub: the {env} environment and its variables",
        commands,
        creates=(Resource("github environment", env),),
        uses=(Resource("repo", repo), who.principals[env]),
    )


def repository_rules(plan: Plan, repo: str) -> None:
    """Branch protection on main, and release tags that can be neither moved nor deleted."""
    protection = {
        "required_status_checks": {"strict": True, "contexts": REQUIRED_CHECKS},
        "enforce_admins": True,
        "required_pull_request_reviews": {"required_approving_review_count": 1},
        "restrictions": None,
    }
    plan.add(
        "repository admin",
        "GitHub: branch protection on main; changes arrive through reviewed, tested PRs",
        [
            f"gh api --method PUT repos/{repo}/branches/main/protection --input - <<'JSON'",
            json.dumps(protection, indent=2),
            "JSON",
        ],
        uses=(Resource("repo", repo),),
    )
    # A release deploys the commit its tag names: a tag that could be moved or deleted
    # would let a release deploy a commit that never passed staging on main.
    tags = {
        "name": "release tags",
        "target": "tag",
        "enforcement": "active",
        "conditions": {"ref_name": {"include": [f"refs/tags/{RELEASE_TAGS}"], "exclude": []}},
        "rules": [{"type": "update"}, {"type": "deletion"}, {"type": "non_fast_forward"}],
    }
    plan.add(
        "repository admin",
        f"GitHub: release tags ({RELEASE_TAGS}) can be neither moved nor deleted",
        [
            f"gh api --method POST repos/{repo}/rulesets --input - <<'JSON'",
            json.dumps(tags, indent=2),
            "JSON",
        ],
        uses=(Resource("repo", repo),),
    )


def plan_for(conf_dir: Path | None = None, repo: str | None = None, auth: str | None = None):
    conf = Path(conf_dir) if conf_dir else default_conf_dir()
    recorded = answers(conf)
    configs = {env: load_config(env, conf) for env in DEPLOYED_ENVIRONMENTS}
    slug = configs["dev"].project.project.slug
    repo = repo or f"{recorded.get('github_org', '<GITHUB_ORG>')}/{slug}"
    auth = auth or recorded.get("ci_auth", "github-oidc")
    header = [
        f"# Bootstrap plan for {slug} ({repo}), CI auth: {auth}",
        "# Run the steps in order, each as the admin it names. <PLACEHOLDERS> are values",
        "# only known then. Workspace steps run with that workspace's CLI profile.",
    ]
    return build(configs, repo, auth), header


def plan(conf_dir: Path | None = None, repo: str | None = None, auth: str | None = None) -> str:
    steps, header = plan_for(conf_dir, repo, auth)
    return steps.render(header)


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
