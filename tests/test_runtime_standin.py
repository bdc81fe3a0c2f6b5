"""Generated projects on the stand-in for each offered Databricks Runtime ML.

The stand-in (scripts/runtime_standin.py) is the runtime's Python with the runtime's
preinstalled libraries; the project's wheel is installed into it as a cluster library
and every wheel task of dbx's rendering of conf/deployment.yml is run as the runtime
runs it. See docs/what-runs-where.md.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
import yaml
from conftest import OTHER_ANSWERS, PROD_SP, ROOT, STAGING_SP, render

sys.path.insert(0, str(ROOT / "scripts"))
import runtime_standin as standin
from answers import runtimes

OFFERED = sorted(runtimes())


def git(cwd: Path, *args: str) -> str:
    return subprocess.run(
        ["git", *args], cwd=cwd, capture_output=True, text=True, check=True
    ).stdout.strip()


# One project per offered runtime serves every test here: rendered with a real team's
# answers (conftest.OTHER_ANSWERS), its wheel built and installed once, its staging tasks
# run (xdist gives a whole file to one worker). The project's own suite runs beside it,
# in test_generated_suite.py.
@pytest.fixture(scope="module", params=OFFERED)
def standin_report(request, tmp_path_factory) -> tuple[str, Path, dict]:
    runtime = request.param
    project = render(
        tmp_path_factory.mktemp("standin") / OTHER_ANSWERS["project_slug"],
        **OTHER_ANSWERS,
        dbr_version=runtime,
        sp_staging_client_id=STAGING_SP,
        sp_prod_client_id=PROD_SP,
    )
    git(project, "add", "-A")
    git(project, "-c", "user.name=t", "-c", "user.email=t@example.com", "commit", "-qm", "init")
    work = tmp_path_factory.mktemp("standin-work")
    try:
        report = standin.check(project, runtime, work)
    except standin.StandInError as error:
        pytest.fail(str(error))
    standin.print_table(report["results"])
    return runtime, project, report


TASKS = ("ingest", "validate", "train", "evaluate", "promote", "infer", "monitor")


@pytest.mark.spark
def test_every_wheel_task_runs_as_the_runtime_runs_it(standin_report) -> None:
    runtime, _, report = standin_report
    assert report["python"] == runtimes()[runtime]["python"]
    results = report["results"]
    broken = [r for r in results if r["verdict"] == "broken"]
    assert broken == [], json.dumps(broken, indent=1)
    # Every wheel task of staging ran, as dbx renders them, the e2e job's included.
    ran = {r["task"] for r in results if r["verdict"] == "ran"}
    assert {r["environment"] for r in results if r["verdict"] == "ran"} == {standin.RUN_ENV}
    assert ran == {*TASKS, "e2e"}
    # A gate no candidate can pass fails its task by raising, so the job run fails.
    gates = [r for r in results if r["expected"] == "failure"]
    assert [r["environment"] for r in gates] == [standin.RUN_ENV]
    assert all(r["verdict"] == "failed-as-expected" for r in gates)
    assert all("rejected" in r["detail"] for r in gates)


@pytest.mark.spark
def test_the_other_environments_run_the_same_entry_points_and_parse(standin_report) -> None:
    """dev and prod run the code staging ran, with their own parameters: each of their
    tasks has staging's shape, and the installed entry point parses its parameters and
    loads that environment's config from the wheel."""
    _, _, report = standin_report
    parsed = [r for r in report["results"] if r["expected"] == "parsed"]
    assert {r["environment"] for r in parsed} == {"dev", "prod"}
    for env in ("dev", "prod"):
        tasks = {r["task"] for r in parsed if r["environment"] == env}
        assert tasks == set(TASKS), env
    for r in parsed:
        assert r["verdict"] == "parsed", r
        assert r["detail"].split()[:2] == [r["environment"], r["task"]], r


@pytest.mark.spark
def test_e2e_runs_isolated_and_leaves_staging_as_it_was(standin_report) -> None:
    _, _, report = standin_report
    staging = report["environments"]["staging"]
    before = staging["champion_before_e2e"]
    after = staging["champions"][staging["model"]]
    assert before is not None and after == before  # the e2e moved no staging alias
    # Its own model (in its own schema) was registered, then dropped with the schema.
    assert staging["models"] == [staging["model"]]


@pytest.mark.spark
def test_lineage_comes_from_the_installed_wheel(standin_report) -> None:
    """Jobs run the installed wheel outside any checkout: lineage was baked in at build."""
    _, project, report = standin_report
    answers = yaml.safe_load((project / ".copier-answers.yml").read_text())
    facts = report["environments"][standin.RUN_ENV]
    tags = facts["champions"][facts["model"]]["tags"]
    assert tags["git_commit"] == git(project, "rev-parse", "HEAD")
    assert tags["template_version"] == str(answers["_commit"])
    assert tags["template_version"] != "unknown"


def test_the_verdict_rule_catches_a_failure_that_returns() -> None:
    assert standin.verdict("success", "returned", "0") == "ran"
    assert standin.verdict("success", "raised", "TaskFailed: x") == "broken"
    # A failed task returning 1 is a green job run on Databricks: broken.
    assert standin.verdict("failure", "returned", "1") == "broken"
    assert standin.verdict("failure", "exited", "1") == "broken"
    assert standin.verdict("failure", "raised", "TaskFailed: rejected") == "failed-as-expected"
