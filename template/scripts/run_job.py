"""Run a deployed job, wait for it and fail unless it succeeded.

    .venv-dbx/bin/python scripts/run_job.py <workflow> [--record FILE] [-- <python_params>...]
    .venv-dbx/bin/python scripts/run_job.py --cancel-recorded FILE

<workflow> is a workflow of the deployment (training, batch-inference, e2e-test): its job
name, `<slug>-<workflow>`, is read from dbx's variables file (`make deploy-vars`,
src/<package>/admin/deployment.py). A full job name works too.

Replaces `dbx launch --trace`: the Databricks SDK authenticates from the environment
(GitHub OIDC or OAuth M2M) and renews its own token while it waits, so a run longer than
a minted token's hour still ends with its real result. Any result other than SUCCESS
(FAILED, TIMEDOUT, CANCELED, SKIPPED, an internal error) fails this step, and so the
workflow. `python_params`, when given, replace the parameters of the job's wheel tasks.

A cancelled GitHub workflow cancels its Databricks run, or the next run of the job meets
`max_concurrent_runs` and is skipped. GitHub signals only the step's own process
(SIGINT, then SIGTERM 7.5 s later, then it kills the process tree), so the step `exec`s
this script, which cancels the run on either signal. `--record FILE` writes the run's id
as soon as it exists; the workflow's `if: cancelled()` step runs `--cancel-recorded
FILE`, which cancels it again in case this process was killed first (cancelling a
finished run changes nothing).
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import sys
import time
from pathlib import Path

import yaml

TERMINAL = {"TERMINATED", "SKIPPED", "INTERNAL_ERROR"}
# Seconds between two looks at the run; RUN_JOB_POLL_SECONDS overrides (tests poll faster).
POLL_SECONDS = float(os.environ.get("RUN_JOB_POLL_SECONDS") or 30)
# GitHub's cancel signals, in the order it sends them.
CANCEL_SIGNALS = (signal.SIGINT, signal.SIGTERM)


class RunError(RuntimeError):
    pass


def _value(enum_or_none) -> str:
    return getattr(enum_or_none, "value", enum_or_none) or ""


def job_name(workflow: str, vars_file: Path) -> str:
    """The job name of a workflow of the deployment, or `workflow` itself if none matches."""
    if not vars_file.is_file():
        return workflow
    data = yaml.safe_load(vars_file.read_text(encoding="utf-8")) or {}
    for env in (data.get("envs") or {}).values():
        for deployed in env.get("workflows", []):
            if deployed.get("key") == workflow:
                return deployed["name"]
    return workflow


def find_job(client, name: str) -> int:
    jobs = [job for job in client.jobs.list(name=name) if job.settings.name == name]
    if len(jobs) != 1:
        found = "no job" if not jobs else f"{len(jobs)} jobs"
        raise RunError(f"{found} named '{name}' in this workspace; deploy it first")
    return jobs[0].job_id


def outcome(run) -> tuple[bool, str]:
    """(succeeded, one line) for a run in a terminal state."""
    state = run.state
    life, result = _value(state.life_cycle_state), _value(state.result_state)
    message = (state.state_message or "").strip().splitlines()
    detail = f": {message[0]}" if message else ""
    return life == "TERMINATED" and result == "SUCCESS", f"{life}/{result or '-'}{detail}"


def run_and_wait(
    client, name: str, params: list[str], poll: float | None = None, record: Path | None = None
) -> str:
    poll = POLL_SECONDS if poll is None else poll  # read when called, not when defined
    job_id = find_job(client, name)
    started: dict[str, int] = {}
    cancelled: list[int] = []

    def cancel(signum, frame):  # the workflow was cancelled: do not leave the run behind
        cancelled.append(signum)
        if "run_id" in started:  # else run_now is under way: cancelled once it returns
            stop(started["run_id"])

    def stop(run_id: int):
        client.jobs.cancel_run(run_id=run_id)
        raise RunError(f"cancelled: run {run_id} of '{name}' was cancelled with the workflow")

    # Only while starting and waiting: the caller's own handlers are back afterwards.
    previous = {signum: signal.signal(signum, cancel) for signum in CANCEL_SIGNALS}
    try:
        run_id = client.jobs.run_now(job_id=job_id, python_params=params or None).run_id
        started["run_id"] = run_id
        if record is not None:
            record.write_text(json.dumps({"run_id": run_id, "job": name}), encoding="utf-8")
        if cancelled:
            stop(run_id)
        while True:
            run = client.jobs.get_run(run_id=run_id)
            if _value(run.state.life_cycle_state) in TERMINAL:
                break
            print(f"{name}: run {run_id} {_value(run.state.life_cycle_state)}", flush=True)
            time.sleep(poll)
    finally:
        for signum, handler in previous.items():
            signal.signal(signum, handler)
    succeeded, line = outcome(run)
    page = getattr(run, "run_page_url", "") or ""
    if not succeeded:
        raise RunError(f"'{name}' run {run_id} ended {line} {page}".rstrip())
    return f"'{name}' run {run_id} succeeded {page}".rstrip()


def cancel_recorded(client, record: Path) -> str:
    """Cancel the run that `--record` wrote, if any (the workflow's cancelled() step)."""
    if not record.is_file():
        return f"no run was started ({record} does not exist): nothing to cancel"
    started = json.loads(record.read_text(encoding="utf-8"))
    client.jobs.cancel_run(run_id=started["run_id"])
    return f"cancelled run {started['run_id']} of '{started['job']}'"


def main(argv: list[str] | None = None, client=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("workflow", nargs="?", help="training, batch-inference, e2e-test or a job")
    parser.add_argument("--vars", type=Path, default=Path(".dbx/vars.yml"))
    parser.add_argument("--record", type=Path, help="write the started run's id to this file")
    parser.add_argument("--cancel-recorded", type=Path, metavar="FILE", help="cancel that run")
    argv = sys.argv[1:] if argv is None else argv
    # After `--`: the job's python_params, passed on as they are.
    ours, params = (
        (argv[: argv.index("--")], argv[argv.index("--") + 1 :]) if "--" in argv else (argv, [])
    )
    args = parser.parse_args(ours)
    if (args.workflow is None) == (args.cancel_recorded is None):
        parser.error("give a workflow to run, or --cancel-recorded FILE")
    try:
        if client is None:
            # A bearer token minted for dbx expires within the hour; the SDK's own
            # GitHub OIDC / OAuth credentials are renewed while waiting, so use those.
            os.environ.pop("DATABRICKS_TOKEN", None)
            from databricks.sdk import WorkspaceClient  # only in dbx's tool environment

            client = WorkspaceClient()
        if args.cancel_recorded is not None:
            print(cancel_recorded(client, args.cancel_recorded))
        else:
            name = job_name(args.workflow, args.vars)
            print(run_and_wait(client, name, params, record=args.record))
    except RunError as error:
        print(f"error: {error}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
