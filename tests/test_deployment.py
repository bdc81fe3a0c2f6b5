"""Deployment artifacts judged by the tools that consume them: dbx's own reader and
models for conf/deployment.yml, actionlint and GitHub's workflow schema for the
workflows. Nothing here needs a workspace or GitHub."""

from __future__ import annotations

import json
import os
import re
import shutil
import signal
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


WHEEL = "churn_model-1.2.3-py3-none-any.whl"


def deploy_vars(project: Path, *flags: str, **env: str) -> subprocess.CompletedProcess:
    """`make deploy-vars` for a (stand-in) built wheel in dist/."""
    (project / "dist").mkdir(exist_ok=True)
    (project / "dist" / WHEEL).touch()
    command = [sys.executable, "-m", "churn_model.admin.deployment", *flags]
    return run(command, project, **{"MLOPS_DEV_OWNER": DEV_OWNER, **env})


def dbx_read(project: Path, **env: str) -> dict[str, dict]:
    """conf/deployment.yml as dbx sees it: {env: {workflow name: summary}}."""
    result = run([tool(DBX_PYTHON), "scripts/check_deployment.py"], project, **env)
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
            # The one console script, the task's name first.
            assert task["entry_point"] == "churn-model"
            assert task["parameters"] == [task["key"], "--env", env]
        # The data gate: batch inference validates the version it is about to score.
        inference = workflows["churn-model-batch-inference"]["tasks"]
        keys = ["validate", "infer", "monitor"][: 3 if answers["include_monitoring"] else 2]
        assert [t["key"] for t in inference] == keys
        assert [t["depends_on"] for t in inference] == [[], *[[k] for k in keys[:-1]]]

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
            assert [t["entry_point"] for t in e2e["tasks"]] == ["churn-model"]
            # Isolated unless CI names the run: a manual launch never moves staging's model.
            assert e2e["tasks"][0]["parameters"] == ["e2e", "--env", env, "--isolate", "manual"]


def test_wheels_live_in_the_environment_volume_never_on_the_dbfs_root(matrix_project) -> None:
    """From Runtime 15 on, libraries on the DBFS root are not installed: every task of
    every environment installs the project's wheel from its Unity Catalog volume, and
    dbx keeps its own deployment records in that volume too."""
    _, project = matrix_project
    assert deploy_vars(project).returncode == 0
    dbx_project = json.loads((project / ".dbx" / "project.json").read_text())
    for env, workflows in dbx_read(project).items():
        conf = yaml.safe_load((project / "conf" / "envs" / f"{env}.yml").read_text())
        volume = f"/Volumes/{conf['catalog']}/{conf['schema']}/artifacts"
        location = dbx_project["environments"][env]["properties"]["artifact_location"]
        assert location == f"dbfs:{volume}/dbx"
        for workflow in workflows.values():
            for task in workflow["tasks"]:
                paths = [value for library in task["libraries"] for value in library.values()]
                assert paths == [f"{volume}/wheels/{WHEEL}"], (env, task["key"])
                assert not [p for p in paths if p.startswith(("dbfs:/", "/dbfs/"))]


def test_the_webhook_reaches_clusters_as_a_secret_reference_only(tmp_path: Path) -> None:
    project = render(tmp_path / "p", sp_staging_client_id=STAGING_SP, sp_prod_client_id=PROD_SP)
    staging = project / "conf" / "envs" / "staging.yml"
    staging.write_text(
        staging.read_text().replace('webhook_secret: ""', "webhook_secret: churn-model/hook")
    )
    assert deploy_vars(project).returncode == 0
    read = dbx_read(project)
    (cluster,) = read["staging"]["churn-model-batch-inference"]["clusters"]
    assert cluster["spark_env_vars"]["MLOPS_ALERT_WEBHOOK_URL"] == "{{secrets/churn-model/hook}}"
    (cluster,) = read["prod"]["churn-model-batch-inference"]["clusters"]
    assert "MLOPS_ALERT_WEBHOOK_URL" not in cluster["spark_env_vars"]


def test_deploy_vars_need_a_built_wheel(tmp_path: Path) -> None:
    project = render(tmp_path / "p", sp_staging_client_id=STAGING_SP, sp_prod_client_id=PROD_SP)
    command = [sys.executable, "-m", "churn_model.admin.deployment"]
    result = run(command, project, MLOPS_DEV_OWNER=DEV_OWNER)
    assert result.returncode == 1
    assert result.stderr.strip() == (
        "error: --wheel: no wheel given and none in dist/; build one with `make wheel`"
    )


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


def _how_to_block(project: Path, marker: str) -> str:
    """The code block after `<!-- add-a-task: <marker> -->` in the project's how-to."""
    text = (project / "docs" / "how-to.md").read_text()
    after = text.split(f"<!-- add-a-task: {marker} -->", 1)[1]
    return after.split("```python\n", 1)[1].split("```", 1)[0]


@pytest.mark.spark
def test_adding_a_task_is_a_module_and_one_registry_line(tmp_path: Path) -> None:
    """docs/how-to.md's worked example, done in a rendered project exactly as written
    there: the module and the registry line, nothing else; dbx's reader then sees the
    task in both workflows and the console script runs it."""
    project = render(tmp_path / "p", sp_staging_client_id=STAGING_SP, sp_prod_client_id=PROD_SP)
    run(["git", "add", "-A"], project)
    run(["git", "-c", "user.name=t", "-c", "user.email=t@e.x", "commit", "-qm", "copy"], project)
    tasks = project / "src" / "churn_model" / "tasks"
    (tasks / "report.py").write_text(_how_to_block(project, "module"))
    registry = tasks / "__init__.py"
    line = [line for line in _how_to_block(project, "registry").splitlines() if "Step(" in line][-1]
    end_of_steps = "\n)\n\n# Commands run by name"
    assert registry.read_text().count(end_of_steps) == 1, "the registry's STEPS moved"
    registry.write_text(registry.read_text().replace(end_of_steps, "\n" + line + end_of_steps))
    changed = run(["git", "status", "--porcelain"], project).stdout.split("\n")
    assert sorted(filter(None, changed)) == [
        " M src/churn_model/tasks/__init__.py",
        "?? src/churn_model/tasks/report.py",
    ]
    for check in (["check"], ["format", "--check"]):  # what the project's `make lint` runs
        linted = run([sys.executable, "-m", "ruff", *check, "src/churn_model/tasks"], project)
        assert linted.returncode == 0, linted.stdout + linted.stderr

    assert deploy_vars(project).returncode == 0
    read = dbx_read(project)
    for env, workflows in read.items():
        for name in ("churn-model-training", "churn-model-batch-inference"):
            tasks_read = workflows[name]["tasks"]
            report, before = tasks_read[-1], tasks_read[-2]
            assert report["key"] == "report", (env, name)
            assert report["depends_on"] == [before["key"]]
            assert report["entry_point"] == "churn-model"
            assert report["parameters"] == ["report", "--env", env]
        # The tasks that were there keep their order and wiring.
        training = [t["key"] for t in workflows["churn-model-training"]["tasks"]]
        assert training == [*TRAINING, "report"]

    local = run(
        [sys.executable, "-m", "churn_model", "report", "--env", "local"],
        project,
        MLOPS_LOCAL_DIR=str(tmp_path / "local"),
        PYSPARK_PYTHON=sys.executable,
    )
    assert local.returncode == 0, local.stderr[-2000:]
    assert "report: done" in local.stderr and "features" in local.stderr


def test_ci_writes_the_variables_without_the_dev_owner_and_dbx_fills_it_in(
    default_project: Path, tmp_path: Path
) -> None:
    """CI's build job (no credentials, no GitHub environment) writes dbx's variables
    without dev's owner; dbx fills it in from MLOPS_DEV_OWNER when the deploy job deploys,
    as the environment's service principal. Before, the deploy job (with its OIDC token)
    ran the project's code to write them."""
    project = shutil.copytree(default_project, tmp_path / "p", symlinks=True)
    written = deploy_vars(project, "--env", "dev", "--dev-owner-at-deploy", MLOPS_DEV_OWNER="")
    assert written.returncode == 0, written.stderr
    owner = yaml.safe_load((project / ".dbx" / "vars.yml").read_text())["envs"]["dev"]["owner"]
    assert owner == {"field": "service_principal_name", "id": ""}
    deployer = "5f0c3a5e-0000-4000-8000-00000000dev0"
    for workflow in dbx_read(project, MLOPS_DEV_OWNER=deployer)["dev"].values():
        assert workflow["owners"] == [deployer] and workflow["run_as"] is None, workflow
    # A developer's own deploy still names its owner when it writes the variables.
    assert deploy_vars(project, "--env", "dev", "--dev-owner-at-deploy").returncode == 0
    for workflow in dbx_read(project, MLOPS_DEV_OWNER="")["dev"].values():
        assert workflow["owners"] == [DEV_OWNER], workflow


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
    # Only staging deploys pull requests' own jobs.
    isolated = deploy_vars(project, "--env", "dev", "--isolate", "pr-3")
    assert isolated.returncode == 1
    assert isolated.stderr == "error: --isolate: only staging deploys pull requests' jobs\n"

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


# GitHub added `queue` to `concurrency` in May 2026 (changelog 2026-05-07, "concurrency
# groups now allow larger queues"); actionlint 1.7.12 does not know the key yet. The
# workflow schema below does, and checks its value (`single` or `max`).
ACTIONLINT_IGNORE = r'unexpected key "queue" for "concurrency" section'


def judge(files: list[Path], cwd: Path) -> None:
    """actionlint, then GitHub's workflow JSON schema (vendored by check-jsonschema)."""
    lint = run([tool(ACTIONLINT), "-no-color", "-ignore", ACTIONLINT_IGNORE, *files], cwd)
    assert lint.returncode == 0, lint.stdout + lint.stderr
    schema = ["--builtin-schema", "vendor.github-workflows"]
    checked = run([sys.executable, "-m", "check_jsonschema", *schema, *files], cwd)
    assert checked.returncode == 0, checked.stdout + checked.stderr


def triggers(workflow: dict) -> dict:
    return workflow.get("on", workflow.get(True))  # YAML 1.1 reads a bare `on` as True


def test_actionlint_and_the_workflow_schema_accept_every_workflow(matrix_project) -> None:
    _, project = matrix_project
    files = sorted((project / ".github" / "workflows").glob("*.yml"))
    assert len(files) == 9
    judge(files, project)


def test_the_template_repository_workflows_pass_too() -> None:
    files = sorted((ROOT / ".github" / "workflows").glob("*.yml"))
    judge(files, ROOT)


def test_triggers_chains_environments_and_permissions(matrix_project) -> None:
    _, project = matrix_project
    flows = workflows(project)
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
        "workflow": "e2e-test",
        "isolate": "pr-${{ github.event.pull_request.number }}",
    }

    release = flows["release.yml"]
    assert triggers(release) == {"release": {"types": ["published"]}}
    assert release["jobs"]["deploy"]["needs"] == ["on-main", "checks"]
    # Only a full release whose tag is on main and passed staging there reaches prod
    # (the gate's replays: test_ci_sequences.py).
    assert release["jobs"]["checks"]["needs"] == "on-main"
    assert release["jobs"]["on-main"]["if"] == "${{ !github.event.release.prerelease }}"
    on_main = release["jobs"]["on-main"]["steps"][-1]
    assert "scripts/release_gate.py" in on_main["run"] and on_main["env"]["TAG"]
    assert release["jobs"]["deploy"]["with"]["environment"] == "prod"
    assert release["jobs"]["deploy"]["with"]["ref"] == "${{ needs.on-main.outputs.sha }}"
    main = flows["staging-main.yml"]
    assert triggers(main) == {"push": {"branches": ["main"]}}
    assert main["jobs"]["e2e"]["needs"] == "checks"
    assert list(triggers(flows["deploy-dev.yml"])) == ["workflow_dispatch"]
    assert flows["deploy-dev.yml"]["jobs"]["deploy"]["with"]["environment"] == "dev"

    # A warm checks run spends its time on tests: pip and Ivy downloads are cached.
    checks = flows["_checks.yml"]["jobs"]["checks"]["steps"]
    assert any(s.get("with", {}).get("cache") == "pip" for s in checks)
    assert any(s.get("with", {}).get("path") == "~/.ivy2.5.2" for s in checks)
    build = flows["_deploy.yml"]["jobs"]["build"]
    # The build runs the project's build code: no environment, no token, no Databricks.
    assert "environment" not in build and build["permissions"] == {"contents": "read"}
    assert not [k for k in build.get("env", {}) if k.startswith("DATABRICKS")]
    # It alone runs the project's code: it writes dbx's variables (dev's owner is filled
    # in at deploy) and hands them on with the wheel, dot directory included.
    (write,) = [s for s in build["steps"] if "make deploy-vars" in s.get("run", "")]
    assert "--dev-owner-at-deploy" in write["run"]
    (upload,) = [s for s in build["steps"] if s.get("uses", "").startswith("actions/upload-")]
    assert upload["with"]["include-hidden-files"] is True
    assert set(upload["with"]["path"].split()) == {
        "dist/*.whl",
        ".dbx/vars.yml",
        ".dbx/project.json",
    }
    deploy = flows["_deploy.yml"]["jobs"]["deploy"]
    assert deploy["needs"] == "build"
    # The job that holds the OIDC token (and an oauth-m2m secret's steps) runs dbx and
    # scripts/ only: no project code, no install of the project's wheel.
    for step in deploy["steps"]:
        assert "deploy-vars" not in step.get("run", ""), step["name"]
        assert "pip install" not in step.get("run", ""), step["name"]
    (download,) = [s for s in deploy["steps"] if s.get("uses", "").startswith("actions/download-")]
    assert download["with"] == {"name": upload["with"]["name"], "path": "."}
    (dbx,) = [s for s in deploy["steps"] if s.get("name") == "Deploy"]
    assert dbx["env"] == {"MLOPS_DEV_OWNER": "${{ vars.DATABRICKS_CLIENT_ID }}"}
    assert any(s.get("uses", "").startswith("actions/download-artifact@") for s in deploy["steps"])
    assert not [s for s in deploy["steps"] if "pip wheel" in s.get("run", "")]
    # Deploys to one environment queue across pull requests and releases (none dropped:
    # test_ci_sequences.py replays it).
    assert deploy["concurrency"] == {
        "group": "deploy-${{ inputs.environment }}",
        "cancel-in-progress": False,
        "queue": "max",
    }
    assert deploy["env"]["DATABRICKS_JOBS_API_VERSION"] == "2.1"
    names = [s.get("name", "") for s in deploy["steps"]]
    # The minted token is used by the very next step only; the run is awaited by the SDK.
    assert names[names.index("Deploy") - 1].startswith("Mint a short-lived")
    assert "--no-package" in deploy["steps"][names.index("Deploy")]["run"]
    assert "scripts/run_job.py" in deploy["steps"][-1]["run"]
    assert "dbx launch" not in json.dumps(deploy)
    assert deploy["environment"] == "${{ inputs.environment }}"
    # The auth is the GitHub environment's variable, github-oidc unless it says otherwise;
    # an oauth-m2m secret comes from the environment's secrets, never from a caller.
    assert deploy["permissions"]["id-token"] == "write"
    assert deploy["env"]["DATABRICKS_AUTH_TYPE"] == (
        "${{ vars.DATABRICKS_AUTH_TYPE || 'github-oidc' }}"
    )
    # An oauth-m2m secret is held only by the steps that talk to Databricks with the SDK,
    # not by those that install packages or run the project's code (make deploy-vars).
    secret = "${{ secrets.DATABRICKS_CLIENT_SECRET }}"
    assert "DATABRICKS_CLIENT_SECRET" not in deploy["env"]
    holders = {
        s["run"].split("scripts/")[1].split(".py")[0]
        for s in deploy["steps"]
        if s.get("env", {}).get("DATABRICKS_CLIENT_SECRET") == secret
    }
    assert holders == {"remove_isolated", "upload_wheel", "databricks_token", "run_job"}
    for step in deploy["steps"]:
        if "make" in step.get("run", "") or "pip install" in step.get("run", ""):
            assert "DATABRICKS_CLIENT_SECRET" not in step.get("env", {}), step["name"]
    call = triggers(flows["_deploy.yml"])["workflow_call"]
    assert call["secrets"]["DATABRICKS_CLIENT_SECRET"]["required"] is False

    for name, flow in flows.items():
        assert flow["permissions"] == {"contents": "read"}, name  # top level: read only
        for job_name, job in flow["jobs"].items():
            granted = job.get("permissions", {})
            if "id-token" in granted:
                assert granted["id-token"] == "write", (name, job_name)
                assert "deploy" in job_name or job_name in ("e2e", "remove"), (name, job_name)
            for step in job.get("steps", []):
                if "uses" in step:
                    assert re.fullmatch(r"[\w./-]+@[0-9a-f]{40}", step["uses"]), step["uses"]
                if step.get("uses", "").startswith("actions/checkout@"):
                    assert step["with"]["persist-credentials"] is False
                assert "${{" not in step.get("run", ""), (name, step.get("name"))


def test_workflows_are_plain_yaml_the_same_for_every_answer(matrix_project, default_project):
    """No answer shapes a workflow (the auth is a GitHub environment variable), so every
    workflow file is plain YAML in the template and a copy of it in the project."""
    template = ROOT / "template" / ".github" / "workflows"
    assert sorted(p.name for p in template.iterdir() if not p.name.endswith(".yml")) == []
    _, project = matrix_project
    for path in template.iterdir():
        assert (project / ".github" / "workflows" / path.name).read_text() == path.read_text()


# The first major version of each action that runs on Node 24 (`runs.using: node24` in
# its action.yml at that tag, read from the actions' own repositories): GitHub's runners
# run JavaScript actions on Node 24, and releases made for Node 20 are deprecated.
NODE24_MAJOR = {
    "actions/checkout": 5,
    "actions/setup-python": 6,
    "actions/setup-java": 5,
    "actions/cache": 5,
    "actions/upload-artifact": 6,
    "actions/download-artifact": 7,
}


def test_pinned_actions_carry_their_version_in_a_comment(matrix_project) -> None:
    """Pinned to a full SHA, with its version in a comment; a release made for Node 24."""
    _, project = matrix_project
    folders = (project / ".github" / "workflows", ROOT / ".github" / "workflows")
    for path in [path for folder in folders for path in folder.glob("*.yml")]:
        for line in path.read_text().splitlines():
            if "uses: actions/" in line:
                pinned = re.search(r"uses: ([\w/-]+)@[0-9a-f]{40} # v(\d+)\.\d+\.\d+$", line)
                assert pinned, f"{path.name}: {line}"
                action, major = pinned.group(1), int(pinned.group(2))
                assert action in NODE24_MAJOR, (
                    f"{path.name}: {action} is not known to run on Node 24"
                )
                assert major >= NODE24_MAJOR[action], f"{path.name}: {line} runs on Node 20"


# --------------------------------------------------------------------------- bootstrap


@pytest.mark.parametrize("auth", ["github-oidc", "oauth-m2m"])
def test_bootstrap_plan_prints_what_to_create(tmp_path: Path, auth: str) -> None:
    project = render(tmp_path / "p", ci_auth=auth, sp_staging_client_id=STAGING_SP)
    result = run([sys.executable, "-m", "churn_model.admin.bootstrap"], project)
    assert result.returncode == 0, result.stderr
    plan = result.stdout
    for env in ("dev", "staging", "prod"):
        assert f"gh api --method PUT repos/my-org/churn-model/environments/{env}" in plan
    assert "reviewers[][type]=Team" in plan and "prevent_self_review=true" in plan
    assert f"--env staging --body {STAGING_SP}" in plan
    assert "--env prod --body <PROD_SP_APPLICATION_ID>" in plan
    assert "branches/main/protection" in plan and '"checks / checks"' in plan
    # Only release tags deploy to prod, and they can be neither moved nor deleted.
    assert "-F 'deployment_branch_policy[custom_branch_policies]=true'" in plan
    policy = "repos/my-org/churn-model/environments/prod/deployment-branch-policies"
    assert f"{policy} -f name='v*' -f type=tag" in plan
    ruleset = json.loads(
        plan.split("repos/my-org/churn-model/rulesets --input - <<'JSON'\n")[1].split("\nJSON")[0]
    )
    assert ruleset["target"] == "tag"
    assert ruleset["conditions"]["ref_name"]["include"] == ["refs/tags/v*"]
    assert {rule["type"] for rule in ruleset["rules"]} == {"update", "deletion", "non_fast_forward"}
    assert "databricks account groups create --display-name churn-model-developers" in plan
    assert "databricks grants update schema prod.churn_model" in plan
    assert "databricks experiments set-permissions" in plan
    subject = '"subject": "repo:my-org/churn-model:environment:prod"'
    variable = (
        f"gh variable set DATABRICKS_AUTH_TYPE --repo my-org/churn-model --env prod --body {auth}"
    )
    assert variable in plan  # what the deploy workflow reads
    if auth == "github-oidc":
        assert subject in plan and "token.actions.githubusercontent.com" in plan
        assert "DATABRICKS_CLIENT_SECRET" not in plan
    else:
        assert subject not in plan
        assert "gh secret set DATABRICKS_CLIENT_SECRET --repo my-org/churn-model --env prod" in plan


ORDER_CHECK = """
import json
from churn_model.admin.bootstrap import Plan, plan_for
plan, _ = plan_for()
reversed_plan = Plan(list(reversed(plan.steps)))
print(json.dumps({
    "problems": plan.check_order(),
    "reversed": reversed_plan.check_order(),
    "steps": [[s.title, [str(r) for r in s.creates], [str(r) for r in s.uses]] for s in plan.steps],
}))
"""


def test_bootstrap_plan_is_complete_and_in_a_runnable_order(tmp_path: Path) -> None:
    project = render(tmp_path / "p", sp_staging_client_id=STAGING_SP, sp_prod_client_id=PROD_SP)
    result = run([sys.executable, "-c", ORDER_CHECK], project)
    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout)
    # Nothing is granted, assigned or used before the step that creates it ...
    assert report["problems"] == []
    # ... and the check does see a wrong order.
    assert report["reversed"]
    created = {r for _, creates, _ in report["steps"] for r in creates}
    used = [(title, r) for title, _, uses in report["steps"] for r in uses]
    for env in ("dev", "staging", "prod"):
        sp = {"dev": "<DEV_SP_APPLICATION_ID>", "staging": STAGING_SP, "prod": PROD_SP}[env]
        assert f"workspace member {env}:{sp}" in created
        assert f"workspace member {env}:churn-model-developers" in created
        assert f"schema {env}.churn_model" in created
        assert f"volume {env}.churn_model.artifacts" in created
        assert f"model {env}.churn_model.churn_model" in created
        assert f"experiment /Shared/churn-model/{env}" in created
        grants = {r for title, r in used if title.startswith(f"{env}: grants on")}
        # In dev the developers' group owns the model (owners need no grant).
        securables = ("schema", "volume", "catalog", *(("model",) if env != "dev" else ()))
        for securable in securables:
            assert any(r.startswith(securable + " ") for r in grants), (env, securable)
        assert any(t.startswith(f"{env}: entitlements") for t, _, _ in report["steps"])
    plan = run([sys.executable, "-m", "churn_model.admin.bootstrap"], project).stdout
    assert '"READ_VOLUME", "WRITE_VOLUME"' in plan
    # Only a model's owner registers versions and sets aliases: a developer's own train and
    # promote in dev work because the group owns dev's model and the dev principal is in it.
    assert "group member churn-model-developers:<DEV_SP_APPLICATION_ID>" in created
    owners = dict(
        re.findall(r"registered-models update (\S+) --json '\{\"owner\": \"([^\"]+)\"", plan)
    )
    assert owners == {
        "dev.churn_model.churn_model": "churn-model-developers",
        "staging.churn_model.churn_model": STAGING_SP,
        "prod.churn_model.churn_model": PROD_SP,
    }
    assert "databricks grants update function prod.churn_model.churn_model" in plan
    # Staging's e2e makes a schema per pull request; nowhere else may a job create one.
    catalog_grants = [line for line in plan.splitlines() if "grants update catalog" in line]
    assert [line for line in catalog_grants if "CREATE_SCHEMA" in line] == [
        line for line in catalog_grants if "update catalog staging" in line
    ]
    assert "databricks secrets put-secret churn-model alert-webhook-url" in plan


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


# --------------------------------------------------------------------------- deploy scripts


def _script(project: Path, name: str):
    """A generated script, imported as the deploy job runs it (dbx's tool environment)."""
    import importlib.util

    spec = importlib.util.spec_from_file_location(name, project / "scripts" / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


class _Files:
    def __init__(self) -> None:
        self.uploaded: dict[str, bytes] = {}

    def upload(self, path, contents, overwrite=False) -> None:
        assert overwrite
        self.uploaded[path] = contents.read()


def test_upload_puts_the_wheel_where_every_task_installs_it_from(tmp_path: Path) -> None:
    project = render(tmp_path / "p", sp_staging_client_id=STAGING_SP, sp_prod_client_id=PROD_SP)
    assert deploy_vars(project, "--env", "staging").returncode == 0
    upload = _script(project, "upload_wheel")
    client = type("Client", (), {"files": _Files()})()
    wheel = project / "dist" / WHEEL
    wheel.write_bytes(b"wheel bytes")
    vars_file = project / ".dbx" / "vars.yml"
    assert upload.main([str(wheel), "--vars", str(vars_file)], client=client) == 0
    target = f"/Volumes/staging/churn_model/artifacts/wheels/{WHEEL}"
    assert client.files.uploaded == {target: b"wheel bytes"}
    installed = {
        library["whl"]
        for task in dbx_read(project)["staging"]["churn-model-training"]["tasks"]
        for library in task["libraries"]
    }
    assert installed == {target}
    other = project / "dist" / "churn_model-9.9.9-py3-none-any.whl"
    other.write_bytes(b"x")
    with pytest.raises(upload.UploadError, match=r"does not name churn_model-9\.9\.9"):
        upload.targets(vars_file, other)


class _State:
    def __init__(self, life: str, result: str | None = None, message: str = "") -> None:
        self.life_cycle_state, self.result_state, self.state_message = life, result, message


class _Jobs:
    def __init__(self, states: list[_State], names: list[str]) -> None:
        self.states, self.names, self.cancelled, self.params = states, names, [], None

    def list(self, name):
        settings = [type("S", (), {"name": n})() for n in self.names if n == name]
        return [type("J", (), {"job_id": 7, "settings": s})() for s in settings]

    def run_now(self, job_id, python_params=None):
        self.params = python_params
        return type("Wait", (), {"run_id": 42})()

    def get_run(self, run_id):
        state = self.states.pop(0) if len(self.states) > 1 else self.states[0]
        return type("Run", (), {"state": state, "run_page_url": "https://run/42"})()

    def cancel_run(self, run_id) -> None:
        self.cancelled.append(run_id)


@pytest.mark.parametrize(
    ("final", "passes"),
    [
        (_State("TERMINATED", "SUCCESS"), True),
        (_State("TERMINATED", "FAILED", "Task e2e failed: e2e: 0 predictions"), False),
        (_State("TERMINATED", "CANCELED", "Run cancelled."), False),
        (_State("TERMINATED", "TIMEDOUT"), False),
        (_State("SKIPPED", None, "max concurrent runs reached"), False),
        (_State("INTERNAL_ERROR", None, "cluster could not start"), False),
    ],
)
def test_a_run_passes_the_workflow_only_when_it_succeeded(
    default_project: Path, final: _State, passes: bool, capsys, monkeypatch
) -> None:
    run_job = _script(default_project, "run_job")
    jobs = _Jobs([_State("PENDING"), _State("RUNNING"), final], ["churn-model-e2e-test"])
    client = type("Client", (), {"jobs": jobs})()
    argv = ["churn-model-e2e-test", "--", "e2e", "--env", "staging", "--isolate", "pr-7"]
    monkeypatch.setattr(run_job, "POLL_SECONDS", 0)
    before = signal.getsignal(signal.SIGTERM)
    code = run_job.main(argv, client=client)
    assert jobs.params == ["e2e", "--env", "staging", "--isolate", "pr-7"]
    assert code == (0 if passes else 1)
    assert signal.getsignal(signal.SIGTERM) is before  # not left behind after the run
    err = capsys.readouterr().err
    if not passes:
        assert err.count("\n") == 1 and final.life_cycle_state in err


class _CancelledWhileRunning(_Jobs):
    """The GitHub workflow is cancelled (SIGTERM) while the run is still going."""

    def get_run(self, run_id):
        os.kill(os.getpid(), signal.SIGTERM)
        return super().get_run(run_id)


def test_a_cancelled_workflow_cancels_its_run_and_gives_back_the_signal(
    default_project: Path, capsys, monkeypatch
) -> None:
    run_job = _script(default_project, "run_job")
    jobs = _CancelledWhileRunning([_State("RUNNING")], ["churn-model-e2e-test"])
    client = type("Client", (), {"jobs": jobs})()
    monkeypatch.setattr(run_job, "POLL_SECONDS", 0)
    before = signal.getsignal(signal.SIGTERM)

    assert run_job.main(["churn-model-e2e-test"], client=client) == 1

    assert jobs.cancelled == [42]
    assert "was cancelled with the workflow" in capsys.readouterr().err
    # Whoever called it (a test runner, a longer script) keeps its own SIGTERM handling.
    assert signal.getsignal(signal.SIGTERM) is before


class _CancelledWhileStarting(_Jobs):
    """GitHub's first cancel signal (SIGINT) arrives while run_now is under way."""

    def run_now(self, job_id, python_params=None):
        os.kill(os.getpid(), signal.SIGINT)
        return super().run_now(job_id, python_params)


def test_a_run_started_as_the_workflow_is_cancelled_is_cancelled_too(
    default_project: Path, capsys, monkeypatch, tmp_path: Path
) -> None:
    run_job = _script(default_project, "run_job")
    jobs = _CancelledWhileStarting([_State("RUNNING")], ["churn-model-e2e-test"])
    client = type("Client", (), {"jobs": jobs})()
    monkeypatch.setattr(run_job, "POLL_SECONDS", 0)
    record = tmp_path / "run.json"
    argv = ["churn-model-e2e-test", "--record", str(record)]
    assert run_job.main(argv, client=client) == 1
    assert jobs.cancelled == [42]
    assert json.loads(record.read_text()) == {"run_id": 42, "job": "churn-model-e2e-test"}
    assert "was cancelled with the workflow" in capsys.readouterr().err


def test_run_job_finds_a_workflow_by_its_key_in_the_deployment(tmp_path: Path) -> None:
    """CI names a workflow by its key (`e2e-test`); its job name comes from the variables
    that `make deploy-vars` wrote, the one place it is formed."""
    project = render(tmp_path / "p", sp_staging_client_id=STAGING_SP, sp_prod_client_id=PROD_SP)
    assert deploy_vars(project, "--env", "staging").returncode == 0
    run_job = _script(project, "run_job")
    vars_file = project / ".dbx" / "vars.yml"
    assert run_job.job_name("e2e-test", vars_file) == "churn-model-e2e-test"
    assert run_job.job_name("training", vars_file) == "churn-model-training"
    assert run_job.job_name("churn-model-training", vars_file) == "churn-model-training"
    assert run_job.job_name("e2e-test", tmp_path / "none.yml") == "e2e-test"


def test_run_job_names_a_missing_job_in_one_line(default_project: Path, capsys) -> None:
    run_job = _script(default_project, "run_job")
    client = type("Client", (), {"jobs": _Jobs([_State("RUNNING")], [])})()
    assert run_job.main(["churn-model-e2e-test"], client=client) == 1
    assert capsys.readouterr().err == (
        "error: no job named 'churn-model-e2e-test' in this workspace; deploy it first\n"
    )


def test_deploy_tools_are_hash_pinned(default_project: Path) -> None:
    lock = (default_project / "scripts" / "dbx-requirements.lock").read_text()
    pins = re.findall(r"^([A-Za-z0-9_.-]+)==(\S+) \\$", lock, re.MULTILINE)
    assert {"dbx", "databricks-sdk", "click", "mlflow-skinny"} <= {name for name, _ in pins}
    blocks = re.split(r"\n(?=[A-Za-z0-9_.-]+==)", lock.split("\n\n", 1)[1])
    assert all("--hash=sha256:" in block for block in blocks if block.strip())
    assert "--find-links" not in lock and "--index-url" not in lock
    makefile = (default_project / "Makefile").read_text()
    assert "--require-hashes -r scripts/dbx-requirements.lock" in makefile
