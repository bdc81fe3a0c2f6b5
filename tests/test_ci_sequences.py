"""What a team's events do, replayed against the generated workflows' own steps and a
recording stand-in of the workspace (tests/jobs_standin.py).

A step runs as GitHub's runner runs a `run:` step: its script in a file, under
`bash --noprofile --norc -eo pipefail`, in the job's environment, in a process of its
own. A cancelled workflow is replayed as the runner cancels a step (GitHub docs,
"Canceling a workflow"): SIGINT to the step's process only, SIGTERM 7.5 s later, the
process tree killed 2.5 s after that, then the steps whose `if:` holds on a cancelled
run. The scripts talk to the stand-in with the real Databricks SDK of dbx's locked tool
environment, over HTTP, with GitHub OIDC as the default auth.

What this cannot see: GitHub's scheduler itself (which runs exist, and when a newer push
cancels an older one, follow its documented rules here, not its code), the real Jobs
API's permissions and the clusters.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import signal
import subprocess
import time
from pathlib import Path

import pytest
from conftest import PROD_SP, STAGING_SP, render
from jobs_standin import GitHubApi, Server, Workspace, environment
from test_deployment import DBX_PYTHON, _script, dbx_read, deploy_vars, tool, workflows

E2E_JOB = "churn-model-e2e-test"
# The runner's waits after its first and second cancel signal.
SIGINT_GRACE, SIGTERM_GRACE = 7.5, 2.5


@pytest.fixture(scope="module")
def project(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A staging deployment's working directory, as the deploy job has it."""
    project = render(
        tmp_path_factory.mktemp("ci") / "p",
        sp_staging_client_id=STAGING_SP,
        sp_prod_client_id=PROD_SP,
    )
    assert deploy_vars(project, "--env", "staging").returncode == 0
    (project / ".venv-dbx").symlink_to(tool(DBX_PYTHON).parents[1])
    return project


def deploy_steps(project: Path) -> dict[str, dict]:
    steps = workflows(project)["_deploy.yml"]["jobs"]["deploy"]["steps"]
    return {step["name"]: step for step in steps if "name" in step}


def cancelled_steps(project: Path) -> list[dict]:
    """The steps that run when the workflow is cancelled."""
    steps = [s for s in deploy_steps(project).values() if "cancelled()" in str(s.get("if", ""))]
    assert steps, "no step of the deploy job runs when its workflow is cancelled"
    return steps


def step_named(project: Path, prefix: str) -> dict:
    (step,) = [s for name, s in deploy_steps(project).items() if name.startswith(prefix)]
    return step


class Step:
    """One `run:` step in its own process, as the runner starts it."""

    def __init__(self, project: Path, step: dict, env: dict[str, str], runner_temp: Path):
        runner_temp.mkdir(parents=True, exist_ok=True)
        script = runner_temp / f"step-{time.monotonic_ns()}.sh"
        script.write_text(step["run"])
        self.process = subprocess.Popen(
            ["bash", "--noprofile", "--norc", "-eo", "pipefail", str(script)],
            cwd=project,
            env={**env, "RUNNER_TEMP": str(runner_temp)},
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            start_new_session=True,  # its own process tree, which the runner may kill
        )

    def cancel(self) -> None:
        """The runner's cancel: SIGINT to the step's process, SIGTERM, then the tree."""
        for signum, grace in ((signal.SIGINT, SIGINT_GRACE), (signal.SIGTERM, SIGTERM_GRACE)):
            if self.process.poll() is not None:
                return
            os.kill(self.process.pid, signum)
            try:
                self.process.wait(timeout=grace)
                return
            except subprocess.TimeoutExpired:
                pass
        self.kill_tree()

    def kill_tree(self) -> None:
        os.killpg(self.process.pid, signal.SIGKILL)
        self.process.wait()

    def finish(self, timeout: float = 60) -> tuple[int, str]:
        out, err = self.process.communicate(timeout=timeout)
        return self.process.returncode, out + err


def wait_for(condition, what: str, step: Step, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if step.process.poll() is not None:
            pytest.fail(f"the step ended before {what}: {step.finish()}")
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.05)


@pytest.fixture
def staging(tmp_path: Path):
    """The staging workspace with the e2e job deployed, and the deploy job's environment
    for a pull request's e2e run (the names of `_deploy.yml`'s job env)."""
    workspace = Workspace()
    workspace.add_job(E2E_JOB)
    with Server(workspace):
        env = {
            "PATH": os.environ["PATH"],
            "HOME": str(tmp_path),
            "ENVIRONMENT": "staging",
            "WORKFLOW": "e2e-test",
            "ISOLATE": "",
            "RUN_JOB_POLL_SECONDS": "0.05",
            **environment(workspace),
        }
        yield workspace, env


def test_the_deploy_jobs_environment_names_what_the_replay_sets(project: Path) -> None:
    job_env = workflows(project)["_deploy.yml"]["jobs"]["deploy"]["env"]
    for name in ("ENVIRONMENT", "WORKFLOW", "ISOLATE", "DATABRICKS_HOST", "DATABRICKS_CLIENT_ID"):
        assert name in job_env, name
    assert job_env["DATABRICKS_AUTH_TYPE"].endswith("'github-oidc' }}")


def test_a_pull_request_pushed_twice_cancels_its_first_databricks_run(
    project: Path, staging, tmp_path: Path
) -> None:
    """Push 1 starts the e2e run; push 2 cancels that workflow (cancel-in-progress), and
    its own run must find the job free (max_concurrent_runs: 1), not be skipped."""
    workspace, env = staging
    env = {**env, "ISOLATE": "pr-7"}
    checkout = pull_request_checkout(project, 7, tmp_path)  # its own job, as deployed
    job = workspace.add_job(f"{E2E_JOB}-pr-7")
    run_step = step_named(project, "Run and wait")
    first = Step(checkout, run_step, env, tmp_path / "first")
    wait_for(lambda: workspace.called("jobs/run-now"), "the first push's run to start", first)
    (first_run,) = workspace.runs.values()
    assert first_run.job_id == job
    assert first_run.params == ["e2e", "--env", "staging", "--isolate", "pr-7"]

    first.cancel()  # the second push cancels the first workflow run
    for step in cancelled_steps(project):
        Step(checkout, step, env, tmp_path / "first").finish()
    assert first_run.result == "CANCELED", "the cancelled workflow left its run going"
    code, log = first.finish()
    assert code != 0

    second = Step(checkout, run_step, env, tmp_path / "second")
    wait_for(lambda: len(workspace.runs) == 2, "the second push's run to start", second)
    second_run = workspace.runs[max(workspace.runs)]
    assert second_run.life == "RUNNING", second_run.message  # not skipped
    workspace.finish(second_run.run_id)
    code, log = second.finish()
    assert code == 0, log
    assert f"'{E2E_JOB}-pr-7' run {second_run.run_id} succeeded" in log
    assert {call["run_id"] for call in workspace.called("jobs/runs/cancel")} == {first_run.run_id}


def test_a_step_killed_before_it_could_cancel_is_cleaned_up_by_the_cancelled_step(
    project: Path, staging, tmp_path: Path
) -> None:
    """The runner kills the step's process tree if it does not exit in 10 s (a slow or
    hung cancel call): the run it recorded is cancelled by the `if: cancelled()` step."""
    workspace, env = staging
    runner_temp = tmp_path / "runner"
    step = Step(project, step_named(project, "Run and wait"), env, runner_temp)
    wait_for(lambda: workspace.called("jobs/run-now"), "the run to start", step)
    wait_for(lambda: (runner_temp / "databricks-run.json").is_file(), "the run's record", step)
    step.kill_tree()
    (run,) = workspace.runs.values()
    assert run.life == "RUNNING"

    for cancelled_step in cancelled_steps(project):
        code, log = Step(project, cancelled_step, env, runner_temp).finish()
        assert code == 0, log
    assert run.result == "CANCELED"
    assert json.loads((runner_temp / "databricks-run.json").read_text())["job"] == E2E_JOB


def test_the_cancelled_step_of_a_run_that_never_started_does_nothing(
    project: Path, staging, tmp_path: Path
) -> None:
    workspace, env = staging
    runner_temp = tmp_path / "runner"
    for step in cancelled_steps(project):
        code, log = Step(project, step, env, runner_temp).finish()
        assert code == 0, log
        assert "nothing to cancel" in log
    assert not workspace.called("jobs/runs/cancel")


# ------------------------------------------------------------------ queueing
class Concurrency:
    """GitHub's concurrency rules as documented ("Control the concurrency of workflows
    and jobs"): in a group, one run at a time. A run that enters while another runs
    waits; with `queue: single` (the default) a newer waiting run cancels the older one,
    with `queue: max` up to 100 wait in order. `cancel-in-progress: true` cancels the
    running one instead."""

    def __init__(self) -> None:
        self.running: dict[str, str] = {}
        self.waiting: dict[str, list[str]] = {}
        self.ran: list[str] = []
        self.cancelled: list[str] = []

    def enter(self, run: str, block: dict, context: dict) -> None:
        group = expand(block["group"], context)
        waiting = self.waiting.setdefault(group, [])
        if block.get("cancel-in-progress") is True and group in self.running:
            self.cancelled.append(self.running.pop(group))
        if group not in self.running:
            self.running[group] = run
            self.ran.append(run)
        elif block.get("queue", "single") == "max" and len(waiting) < 100:
            waiting.append(run)
        else:
            self.cancelled.extend(waiting)
            waiting[:] = [run]

    def finish(self, run: str) -> None:
        groups = [g for g, r in self.running.items() if r == run]
        assert groups, f"{run} is not running: {'cancelled' if run in self.cancelled else 'waits'}"
        (group,) = groups
        del self.running[group]
        if self.waiting[group]:
            self.running[group] = self.waiting[group].pop(0)
            self.ran.append(self.running[group])


def expand(expression: str, context: dict) -> str:
    """`${{ a.b }}` lookups, the only expressions the concurrency groups use."""

    def lookup(match: re.Match) -> str:
        value = context
        for key in match.group(1).strip().split("."):
            value = value[key]
        return str(value)

    return re.sub(r"\$\{\{([^}]*)\}\}", lookup, expression)


def test_deploys_that_wait_for_an_environment_all_run_in_order(project: Path) -> None:
    """A merge to main with strict branch protection re-runs every open pull request:
    their staging deploys wait for the one running, and none is dropped."""
    deploy = workflows(project)["_deploy.yml"]["jobs"]["deploy"]["concurrency"]
    github = Concurrency()
    context = {"inputs": {"environment": "staging"}}
    for number in (1, 2, 3, 4):
        github.enter(f"pr-{number}", deploy, context)
    for number in (1, 2, 3, 4):
        github.finish(f"pr-{number}")
    assert github.cancelled == []
    assert github.ran == ["pr-1", "pr-2", "pr-3", "pr-4"]


def test_releases_published_together_all_reach_prod_in_order(project: Path) -> None:
    flows = workflows(project)
    release = flows["release.yml"]["concurrency"]
    deploy = flows["_deploy.yml"]["jobs"]["deploy"]["concurrency"]
    github = Concurrency()
    for tag in ("v1.0.0", "v1.0.1", "v1.1.0"):
        github.enter(tag, release, {})
    for tag in ("v1.0.0", "v1.0.1", "v1.1.0"):
        github.enter(f"deploy {tag}", deploy, {"inputs": {"environment": "prod"}})
        github.finish(f"deploy {tag}")
        github.finish(tag)
    assert github.cancelled == []
    assert github.ran[::2] == ["v1.0.0", "v1.0.1", "v1.1.0"]


def test_a_newer_push_to_a_pull_request_cancels_its_older_run(project: Path) -> None:
    """The other way round: a pull request's superseded run is cancelled, not queued
    (its Databricks run is cancelled with it: the tests above)."""
    staging = workflows(project)["staging.yml"]["concurrency"]
    github = Concurrency()
    context = {"github": {"event": {"pull_request": {"number": 7}}}}
    github.enter("push 1", staging, context)
    github.enter("push 2", staging, context)
    github.enter("other pr", staging, {"github": {"event": {"pull_request": {"number": 8}}}})
    assert github.cancelled == ["push 1"]
    assert github.running == {"staging-7": "push 2", "staging-8": "other pr"}


# ------------------------------------------------------------------ main and releases
def git(cwd: Path, *args: str) -> str:
    result = subprocess.run(["git", *args], cwd=cwd, capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    return result.stdout.strip()


@pytest.fixture
def released(tmp_path: Path):
    """A project's repository after three merges and a branch: main has A (its staging
    run passed) then B (its staging run failed); C is on a branch only. Tags name each."""
    repo = render(tmp_path / "repo", sp_staging_client_id=STAGING_SP, sp_prod_client_id=PROD_SP)
    git(repo, "init", "--quiet", "--initial-branch", "main")
    git(repo, "config", "user.email", "ci@example.com")
    git(repo, "config", "user.name", "CI")
    commits = {}
    for name in ("A", "B"):
        (repo / "CHANGES").write_text(name)
        git(repo, "add", "-A")
        git(repo, "commit", "--quiet", "-m", name)
        commits[name] = git(repo, "rev-parse", "HEAD")
    git(repo, "checkout", "--quiet", "-b", "feature")
    (repo / "CHANGES").write_text("C")
    git(repo, "commit", "--quiet", "-am", "C")
    commits["C"] = git(repo, "rev-parse", "HEAD")
    git(repo, "checkout", "--quiet", "main")
    origin = tmp_path / "origin.git"
    git(tmp_path, "clone", "--quiet", "--bare", str(repo), str(origin))
    git(repo, "remote", "add", "origin", str(origin))
    git(repo, "fetch", "--quiet", "origin")  # as actions/checkout with fetch-depth: 0
    for tag, name in (("v1.0.0", "A"), ("v1.1.0", "B"), ("v2.0.0", "C")):
        git(repo, "tag", tag, commits[name])
    gate = _script(repo, "release_gate")
    github = GitHubApi(
        runs=[
            (gate.STAGING_WORKFLOW, commits["A"], "success"),
            (gate.STAGING_WORKFLOW, commits["B"], "failure"),
        ]
    )
    with Server(github):
        yield repo, commits, github


def release_gate(repo: Path, github: GitHubApi, tag: str, tmp_path: Path) -> tuple[int, str, str]:
    """The release workflow's gate step for a release of `tag`: (exit code, log, outputs)."""
    (step,) = [
        s
        for s in workflows(repo)["release.yml"]["jobs"]["on-main"]["steps"]
        if s.get("id") == "gate"
    ]
    output = tmp_path / f"output-{tag}"
    output.touch()
    env = {
        "PATH": os.environ["PATH"],
        "HOME": str(tmp_path),
        "TAG": tag,
        "GITHUB_OUTPUT": str(output),
    }
    assert set(step["env"]) == {"TAG", "GH_TOKEN"}
    code, log = Step(repo, step, {**env, **github.environment()}, tmp_path / "runner").finish()
    return code, log, output.read_text()


def test_a_release_deploys_only_a_commit_that_passed_staging_on_main(released, tmp_path) -> None:
    repo, commits, github = released
    code, log, outputs = release_gate(repo, github, "v1.0.0", tmp_path)
    assert code == 0, log
    assert outputs == f"sha={commits['A']}\n"

    code, log, outputs = release_gate(repo, github, "v1.1.0", tmp_path)  # staging failed
    assert code == 1 and not outputs
    assert "no successful staging-main.yml run on main for this commit" in log
    assert "(finished runs: failure)" in log

    code, log, outputs = release_gate(repo, github, "v2.0.0", tmp_path)  # not merged
    assert code == 1 and not outputs
    assert "is not on main" in log


def test_a_release_deploys_the_commit_the_gate_passed_even_if_the_tag_moves(released) -> None:
    """The checks and the deploy (after the reviewers' wait) take the gate's commit, not
    the tag looked up again; and the workflow the gate asks about is the one that deploys
    main to staging and runs the e2e job there."""
    repo, _, _ = released
    flows = workflows(repo)
    jobs = flows["release.yml"]["jobs"]
    assert jobs["on-main"]["outputs"] == {"sha": "${{ steps.gate.outputs.sha }}"}
    assert jobs["on-main"]["permissions"] == {"contents": "read", "actions": "read"}
    for job in ("checks", "deploy"):
        assert jobs[job]["with"]["ref"] == "${{ needs.on-main.outputs.sha }}", job
        assert "on-main" in jobs[job]["needs"], job
    gate = _script(repo, "release_gate")
    main = flows[gate.STAGING_WORKFLOW]
    assert main[True] == {"push": {"branches": ["main"]}}  # YAML 1.1 reads `on` as True
    assert main["jobs"]["e2e"]["with"] == {
        "environment": "staging",
        "workflow": "e2e-test",
        "ref": "${{ github.sha }}",
    }
    assert main["concurrency"]["queue"] == "max"  # every merge gets its staging run


# ------------------------------------------------------------------ pull requests' own jobs
def pull_request_checkout(project: Path, number: int, tmp_path: Path) -> Path:
    """The deploy job's working directory for pull request `number`: its variables."""
    checkout = tmp_path / f"pr-{number}"
    shutil.copytree(project, checkout, symlinks=True)
    result = deploy_vars(checkout, "--env", "staging", "--isolate", f"pr-{number}")
    assert result.returncode == 0, result.stderr
    return checkout


def test_two_pull_requests_deploy_and_run_only_jobs_of_their_own(
    project: Path, staging, tmp_path: Path
) -> None:
    """Two pull requests at once: each deploys only its e2e job, under its own name, and
    their runs go side by side; staging's own jobs (deployed from main) are not theirs
    to replace or run."""
    workspace, env = staging
    own = {w["name"] for w in dbx_read(project)["staging"].values()}
    assert own == {f"churn-model-{w}" for w in ("training", "batch-inference", "e2e-test")}
    checkouts, runs = {}, {}
    for number in (7, 8):
        checkout = checkouts[number] = pull_request_checkout(project, number, tmp_path)
        (deployed,) = dbx_read(checkout)["staging"].values()  # what dbx would deploy
        assert deployed["name"] == f"{E2E_JOB}-pr-{number}"
        (task,) = deployed["tasks"]
        assert task["parameters"] == ["e2e", "--env", "staging", "--isolate", f"pr-{number}"]
        workspace.add_job(deployed["name"])
    for name in own - {E2E_JOB}:
        workspace.add_job(name)

    run_step = step_named(project, "Run and wait")
    steps = {
        n: Step(checkouts[n], run_step, {**env, "ISOLATE": f"pr-{n}"}, tmp_path / f"t{n}")
        for n in (7, 8)
    }
    for number, step in steps.items():
        name = f"{E2E_JOB}-pr-{number}"
        wait_for(lambda name=name: _run_of(workspace, name), f"{name} to run", step)
        runs[number] = _run_of(workspace, name)
    assert {run.life for run in runs.values()} == {"RUNNING"}  # neither skipped
    for number, step in steps.items():
        workspace.finish(runs[number].run_id)
        code, log = step.finish()
        assert code == 0, log
    started = {workspace.jobs.get(run.job_id) for run in workspace.runs.values()}
    assert started == {f"{E2E_JOB}-pr-7", f"{E2E_JOB}-pr-8"}  # nothing of staging's own


def _run_of(workspace: Workspace, job: str):
    runs = [r for r in workspace.runs.values() if workspace.jobs.get(r.job_id) == job]
    return runs[-1] if runs else None


def test_a_closed_pull_request_leaves_nothing_in_staging(
    project: Path, staging, tmp_path: Path
) -> None:
    workspace, env = staging
    for number in (7, 8):
        workspace.add_job(f"{E2E_JOB}-pr-{number}")
        workspace.schemas.add(f"staging.churn_model_e2e_pr_{number}")
        workspace.models.add(f"staging.churn_model_e2e_pr_{number}.churn_model")
    workspace.schemas.add("staging.churn_model")
    workspace.models.add("staging.churn_model.churn_model")
    checkout = pull_request_checkout(project, 7, tmp_path)
    remove = step_named(project, "Remove the isolated run")
    assert remove["if"] == "inputs.remove"

    code, log = Step(checkout, remove, env, tmp_path / "runner").finish()  # PR 7 closed
    assert code == 0, log
    assert sorted(workspace.jobs.values()) == [E2E_JOB, f"{E2E_JOB}-pr-8"]
    assert workspace.schemas == {"staging.churn_model", "staging.churn_model_e2e_pr_8"}
    assert workspace.models == {
        "staging.churn_model.churn_model",
        "staging.churn_model_e2e_pr_8.churn_model",
    }
    code, log = Step(checkout, remove, env, tmp_path / "runner").finish()  # again: nothing
    assert code == 0 and "nothing left of pr-7 in staging" in log, log


def test_closing_a_pull_request_removes_its_deployment_and_cancels_its_run(project) -> None:
    flows = workflows(project)
    cleanup = flows["staging-cleanup.yml"]
    assert cleanup[True] == {"pull_request": {"types": ["closed"], "branches": ["main"]}}
    assert cleanup["concurrency"] == flows["staging.yml"]["concurrency"]
    assert cleanup["jobs"]["remove"]["with"] == {
        "environment": "staging",
        "isolate": "pr-${{ github.event.pull_request.number }}",
        "remove": True,
        "ref": "${{ github.event.pull_request.base.ref }}",
    }
    pull_request = flows["staging.yml"]["jobs"]["e2e"]["with"]
    assert pull_request["isolate"] == cleanup["jobs"]["remove"]["with"]["isolate"]
    # Removing deploys and runs nothing.
    for name, step in deploy_steps(project).items():
        if name.startswith(("Upload", "Mint", "Deploy", "Run and wait", "Cancel")):
            assert "!inputs.remove" in step["if"], name
