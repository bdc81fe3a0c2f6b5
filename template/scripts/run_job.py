"""Run a deployed job, wait for it and fail unless it succeeded.

    .venv-dbx/bin/python scripts/run_job.py <workflow> [-- <python_params>...]

<workflow> is a workflow of the deployment (training, batch-inference, e2e-test): its job
name, `<slug>-<workflow>`, is read from dbx's variables file (`make deploy-vars`,
src/<package>/admin/deployment.py). A full job name works too.

Replaces `dbx launch --trace`: the Databricks SDK authenticates from the environment
(GitHub OIDC or OAuth M2M) and renews its own token while it waits, so a run longer than
a minted token's hour still ends with its real result. Any result other than SUCCESS
(FAILED, TIMEDOUT, CANCELED, SKIPPED, an internal error) fails this step, and so the
workflow; if the workflow is cancelled (SIGTERM), the run is cancelled too.
`python_params`, when given, replace the parameters of the job's wheel tasks.
"""

from __future__ import annotations

import argparse
import os
import signal
import sys
import time
from pathlib import Path

import yaml

TERMINAL = {"TERMINATED", "SKIPPED", "INTERNAL_ERROR"}
POLL_SECONDS = 30


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


def run_and_wait(client, name: str, params: list[str], poll: float | None = None) -> str:
    poll = POLL_SECONDS if poll is None else poll  # read when called, not when defined
    job_id = find_job(client, name)
    waiter = client.jobs.run_now(job_id=job_id, python_params=params or None)
    run_id = waiter.run_id

    def cancel(signum, frame):  # the workflow was cancelled: do not leave the run behind
        client.jobs.cancel_run(run_id=run_id)
        raise RunError(f"cancelled: run {run_id} of '{name}' was cancelled with the workflow")

    # Only while waiting: the caller's own handler (or none) is back once the run ends.
    previous = signal.signal(signal.SIGTERM, cancel)
    try:
        while True:
            run = client.jobs.get_run(run_id=run_id)
            if _value(run.state.life_cycle_state) in TERMINAL:
                break
            print(f"{name}: run {run_id} {_value(run.state.life_cycle_state)}", flush=True)
            time.sleep(poll)
    finally:
        signal.signal(signal.SIGTERM, previous)
    succeeded, line = outcome(run)
    page = getattr(run, "run_page_url", "") or ""
    if not succeeded:
        raise RunError(f"'{name}' run {run_id} ended {line} {page}".rstrip())
    return f"'{name}' run {run_id} succeeded {page}".rstrip()


def main(argv: list[str] | None = None, client=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("workflow", help="training, batch-inference, e2e-test or a job name")
    parser.add_argument("--vars", type=Path, default=Path(".dbx/vars.yml"))
    parser.add_argument("params", nargs=argparse.REMAINDER)
    args = parser.parse_args(argv)
    params = args.params[1:] if args.params[:1] == ["--"] else args.params
    name = job_name(args.workflow, args.vars)
    try:
        if client is None:
            # A bearer token minted for dbx expires within the hour; the SDK's own
            # GitHub OIDC / OAuth credentials are renewed while waiting, so use those.
            os.environ.pop("DATABRICKS_TOKEN", None)
            from databricks.sdk import WorkspaceClient  # only in dbx's tool environment

            client = WorkspaceClient()
        print(run_and_wait(client, name, params))
    except RunError as error:
        print(f"error: {error}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
