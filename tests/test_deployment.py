"""Deployment artifacts judged by the tools that consume them: dbx's own reader and
models for conf/deployment.yml, actionlint and GitHub's workflow schema for the
workflows. Nothing here needs a workspace or GitHub."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
import yaml
from conftest import PROD_SP, ROOT, STAGING_SP, render

DBX_PYTHON = ROOT / ".venv-dbx" / "bin" / "python"
ACTIONLINT = ROOT / ".tools" / "actionlint"
DEV_OWNER = "alice@example.com"
NODE_TYPES = {"aws": "m5d.xlarge", "azure": "Standard_D4ds_v5", "gcp": "n2-standard-4"}
TRAINING = ["ingest", "validate", "train", "evaluate", "promote"]


def tool(path: Path) -> Path:
    if not path.exists():
        pytest.fail(f"{path.relative_to(ROOT)} is missing: `make setup` installs the tools")
    return path


def run(command: list, cwd: Path, **env: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [str(c) for c in command],
        cwd=cwd,
        env={**os.environ, "PYTHONPATH": "src", **env},
        capture_output=True,
        text=True,
    )


def deploy_vars(project: Path, *flags: str, **env: str) -> subprocess.CompletedProcess:
    command = [sys.executable, "-m", "churn_model.platform.deployment", *flags]
    return run(command, project, **{"MLOPS_DEV_OWNER": DEV_OWNER, **env})


def dbx_read(project: Path) -> dict[str, dict]:
    """conf/deployment.yml as dbx sees it: {env: {workflow name: summary}}."""
    result = run([tool(DBX_PYTHON), "scripts/check_deployment.py"], project)
    assert result.returncode == 0, result.stdout[-2000:] + result.stderr[-2000:]
    documents = [json.loads(line) for line in result.stdout.splitlines() if line.startswith("{")]
    return {d["environment"]: {w["name"]: w for w in d["workflows"]} for d in documents}


def test_dbx_reads_every_environment_of_every_answer_combination(matrix_project) -> None:
    answers, project = matrix_project
    assert deploy_vars(project).returncode == 0
    read = dbx_read(project)
    assert sorted(read) == ["dev", "prod", "staging"]
    template_version = yaml.safe_load((project / ".copier-answers.yml").read_text())["_commit"]
    for env, workflows in read.items():
        expected = {"churn-model-training", "churn-model-batch-inference"}
        if env == "staging":
            expected.add("churn-model-e2e-test")
        assert set(workflows) == expected, env

        training = workflows["churn-model-training"]["tasks"]
        assert [t["key"] for t in training] == TRAINING
        assert [t["depends_on"] for t in training] == [[], *[[k] for k in TRAINING[:-1]]]
        for task in training:
            assert task["package"] == "churn-model"
            assert task["entry_point"] == f"churn-model-{task['key']}"
            assert task["parameters"] == ["--env", env]
        inference = [t["key"] for t in workflows["churn-model-batch-inference"]["tasks"]]
        assert inference == (["infer", "monitor"] if answers["include_monitoring"] else ["infer"])

        owner = {"dev": DEV_OWNER, "staging": STAGING_SP, "prod": PROD_SP}[env]
        for workflow in workflows.values():
            assert workflow["owners"] == [owner], (env, workflow["name"])
            group_level = "CAN_MANAGE" if env == "dev" else "CAN_MANAGE_RUN"
            assert workflow["acl"]["churn-model-developers"] == group_level
            if env == "dev":
                assert workflow["run_as"] is None
            else:
                assert workflow["run_as"] == {"service_principal_name": owner}
            assert workflow["tags"]["template_version"] == template_version
            assert workflow["tags"]["project"] == "churn-model"
            assert workflow["notifications"] == {"on_failure": ["ml-team@example.com"]}
            (cluster,) = workflow["clusters"]
            assert cluster["node_type_id"] == NODE_TYPES[answers["cloud"]]
            assert cluster["spark_version"] == "17.3.x-cpu-ml-scala2.13"
        schedule = workflows["churn-model-training"]["schedule"]
        assert schedule["pause_status"] == ("UNPAUSED" if env == "prod" else "PAUSED")
        e2e = workflows.get("churn-model-e2e-test")
        if e2e:
            assert [t["entry_point"] for t in e2e["tasks"]] == ["churn-model-e2e"]


def test_cluster_sizes_and_hosts_come_from_conf(default_project: Path, tmp_path: Path) -> None:
    project = render(tmp_path / "p", sp_staging_client_id=STAGING_SP, sp_prod_client_id=PROD_SP)
    prod = project / "conf" / "envs" / "prod.yml"
    prod.write_text(prod.read_text().replace("num_workers: 4", "num_workers: 7"))
    dev = project / "conf" / "envs" / "dev.yml"
    dev.write_text(
        dev.read_text() + "\nnotebook_tasks:\n  - task_key: report\n    workflow: training\n"
        "    notebook_path: /Workspace/Shared/report\n    depends_on: validate\n"
        "    base_parameters: {rows: '10'}\n"
    )
    assert deploy_vars(project).returncode == 0
    read = dbx_read(project)
    assert read["prod"]["churn-model-training"]["clusters"][0]["num_workers"] == 7
    report = read["dev"]["churn-model-training"]["tasks"][-1]
    assert report["key"] == "report" and report["notebook"] == "/Workspace/Shared/report"
    assert report["depends_on"] == ["validate"]
    assert "report" not in [t["key"] for t in read["staging"]["churn-model-training"]["tasks"]]


def test_deploy_vars_fail_in_one_line_naming_what_is_missing(tmp_path: Path) -> None:
    project = render(tmp_path / "p")  # no service principals yet
    result = deploy_vars(project)
    assert result.returncode == 1
    assert result.stderr.count("\n") == 1
    assert "project.yml: service_principals.staging is empty" in result.stderr
    skipped = deploy_vars(project, "--skip-unowned")
    assert skipped.returncode == 0
    assert sorted(yaml.safe_load((project / ".dbx" / "vars.yml").read_text())["envs"]) == ["dev"]
    no_owner = deploy_vars(project, "--env", "dev", MLOPS_DEV_OWNER="")
    assert no_owner.returncode == 1 and "MLOPS_DEV_OWNER: dev jobs need an owner" in no_owner.stderr

    dev = project / "conf" / "envs" / "dev.yml"
    dev.write_text(
        dev.read_text() + "\nnotebook_tasks:\n  - task_key: report\n    workflow: training\n"
        "    notebook_path: /Workspace/x\n    depends_on: infer\n"
    )
    bad = deploy_vars(project, "--env", "dev")
    assert bad.returncode == 1
    assert "notebook_tasks[0].depends_on: 'infer' is not a task of the training workflow" in (
        bad.stderr
    )


# --------------------------------------------------------------------------- workflows


def workflows(project: Path) -> dict[str, dict]:
    folder = project / ".github" / "workflows"
    return {p.name: yaml.safe_load(p.read_text()) for p in sorted(folder.glob("*.yml"))}


def judge(files: list[Path], cwd: Path) -> None:
    """actionlint, then GitHub's workflow JSON schema (vendored by check-jsonschema)."""
    lint = run([tool(ACTIONLINT), "-no-color", *files], cwd)
    assert lint.returncode == 0, lint.stdout + lint.stderr
    schema = ["--builtin-schema", "vendor.github-workflows"]
    checked = run([sys.executable, "-m", "check_jsonschema", *schema, *files], cwd)
    assert checked.returncode == 0, checked.stdout + checked.stderr


def triggers(workflow: dict) -> dict:
    return workflow.get("on", workflow.get(True))  # YAML 1.1 reads a bare `on` as True


def test_actionlint_and_the_workflow_schema_accept_every_workflow(matrix_project) -> None:
    _, project = matrix_project
    files = sorted((project / ".github" / "workflows").glob("*.yml"))
    assert len(files) == 7
    judge(files, project)


def test_the_template_repository_workflows_pass_too() -> None:
    files = sorted((ROOT / ".github" / "workflows").glob("*.yml"))
    judge(files, ROOT)


def test_triggers_chains_environments_and_permissions(matrix_project) -> None:
    answers, project = matrix_project
    flows = workflows(project)
    oidc = answers["ci_auth"] == "github-oidc"
    for name in ("_checks.yml", "_deploy.yml"):
        assert list(triggers(flows[name])) == ["workflow_call"]
    assert triggers(flows["dev-tests.yml"]) == {"push": {"branches-ignore": ["main"]}}
    assert flows["dev-tests.yml"]["jobs"]["checks"]["uses"] == "./.github/workflows/_checks.yml"

    staging = flows["staging.yml"]
    assert triggers(staging) == {"pull_request": {"branches": ["main"]}}
    assert "pull_request.number" in staging["concurrency"]["group"]
    assert staging["jobs"]["e2e"]["needs"] == "checks"
    assert staging["jobs"]["e2e"]["with"] == {
        "environment": "staging",
        "workflow": "churn-model-e2e-test",
    }

    release = flows["release.yml"]
    assert triggers(release) == {"release": {"types": ["published"]}}
    assert release["jobs"]["deploy"]["needs"] == "checks"
    assert release["jobs"]["deploy"]["with"]["environment"] == "prod"
    assert release["jobs"]["deploy"]["with"]["ref"] == "${{ github.event.release.tag_name }}"
    assert list(triggers(flows["deploy-dev.yml"])) == ["workflow_dispatch"]
    assert flows["deploy-dev.yml"]["jobs"]["deploy"]["with"]["environment"] == "dev"

    deploy = flows["_deploy.yml"]["jobs"]["deploy"]
    assert deploy["environment"] == "${{ inputs.environment }}"
    assert ("id-token" in deploy["permissions"]) is oidc
    assert deploy["env"]["DATABRICKS_AUTH_TYPE"] == ("github-oidc" if oidc else "oauth-m2m")
    assert ("DATABRICKS_CLIENT_SECRET" in deploy["env"]) is not oidc

    for name, flow in flows.items():
        assert flow["permissions"] == {"contents": "read"}, name  # top level: read only
        for job_name, job in flow["jobs"].items():
            granted = job.get("permissions", {})
            if "id-token" in granted:
                assert oidc and granted["id-token"] == "write", (name, job_name)
                assert "deploy" in job_name or job_name == "e2e", (name, job_name)
            for step in job.get("steps", []):
                if "uses" in step:
                    assert re.fullmatch(r"[\w./-]+@[0-9a-f]{40}", step["uses"]), step["uses"]
                if step.get("uses", "").startswith("actions/checkout@"):
                    assert step["with"]["persist-credentials"] is False
                assert "${{" not in step.get("run", ""), (name, step.get("name"))


def test_pinned_actions_carry_their_version_in_a_comment(matrix_project) -> None:
    _, project = matrix_project
    for path in (project / ".github" / "workflows").glob("*.yml"):
        for line in path.read_text().splitlines():
            if "uses: actions/" in line:
                assert re.search(r"@[0-9a-f]{40} # v\d+\.\d+\.\d+$", line), f"{path.name}: {line}"


# --------------------------------------------------------------------------- bootstrap


@pytest.mark.parametrize("auth", ["github-oidc", "oauth-m2m"])
def test_bootstrap_plan_prints_what_to_create(tmp_path: Path, auth: str) -> None:
    project = render(tmp_path / "p", ci_auth=auth, sp_staging_client_id=STAGING_SP)
    result = run([sys.executable, "-m", "churn_model.platform.bootstrap"], project)
    assert result.returncode == 0, result.stderr
    plan = result.stdout
    for env in ("dev", "staging", "prod"):
        assert f"gh api --method PUT repos/my-org/churn-model/environments/{env}" in plan
    assert "reviewers[][type]=Team" in plan and "prevent_self_review=true" in plan
    assert f"--env staging --body {STAGING_SP}" in plan
    assert "--env prod --body <PROD_SP_APPLICATION_ID>" in plan
    assert "branches/main/protection" in plan and '"checks / checks"' in plan
    assert "databricks account groups create --display-name churn-model-developers" in plan
    assert "databricks grants update schema prod.churn_model" in plan
    assert "databricks experiments set-permissions" in plan
    subject = '"subject": "repo:my-org/churn-model:environment:prod"'
    if auth == "github-oidc":
        assert subject in plan and "token.actions.githubusercontent.com" in plan
        assert "DATABRICKS_CLIENT_SECRET" not in plan
    else:
        assert subject not in plan
        assert "gh secret set DATABRICKS_CLIENT_SECRET --repo my-org/churn-model --env prod" in plan


# --------------------------------------------------------------------------- token


def test_token_script_masks_and_hands_over_only_a_bearer_token(default_project, tmp_path) -> None:
    sys.path.insert(0, str(default_project / "scripts"))
    try:
        import databricks_token
    finally:
        sys.path.pop(0)
    assert databricks_token.bearer({"Authorization": "Bearer abc.def"}) == "abc.def"
    for headers in ({}, {"Authorization": "Basic x"}, {"Authorization": "Bearer a\nB=c"}):
        with pytest.raises(databricks_token.TokenError):
            databricks_token.bearer(headers)
    github_env = tmp_path / "github_env"
    databricks_token.export("abc.def", str(github_env))
    assert github_env.read_text() == "DATABRICKS_TOKEN=abc.def\n"
    with pytest.raises(databricks_token.TokenError, match="GITHUB_ENV is not set"):
        databricks_token.export("abc.def", None)
