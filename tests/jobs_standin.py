"""A recording stand-in for the Databricks workspace that CI talks to, over HTTP.

The generated project's CI scripts (scripts/run_job.py and its cancel step) run in
their own processes with the real Databricks SDK (dbx's locked tool environment),
pointed at this server as `DATABRICKS_HOST`. It serves what those calls need, as the
Databricks REST API and GitHub's OIDC token endpoint answer them:

- GitHub OIDC: `ACTIONS_ID_TOKEN_REQUEST_URL` gives a token, which the workspace's
  OAuth endpoint (found through the host's `/.well-known/databricks-config`, as the SDK
  looks it up) exchanges for an access token (the template's default CI auth);
- Jobs API 2.2: `jobs/list`, `jobs/run-now`, `jobs/runs/get`, `jobs/runs/cancel`,
  `jobs/delete`, with runs that stay RUNNING until a test ends or cancels them, and
  `max_concurrent_runs` as the service applies it (a run over the limit is SKIPPED);
- Unity Catalog: deleting a registered model, and a schema (`force` drops what is in it).

Every call is recorded (`calls`), so that a test replays a sequence of events (a push,
a cancelled workflow, a second pull request) and then asks what was run and cancelled.
Not checked here: permissions, real job settings, cluster start-up.
"""

from __future__ import annotations

import json
import threading
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlparse

ID_TOKEN = "eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJyZXBvOmFjbWUvcHJvamVjdCJ9.c2ln"  # not verified
ACCESS_TOKEN = "standin-access-token"


@dataclass
class Run:
    run_id: int
    job_id: int
    params: list[str] | None
    life: str = "RUNNING"
    result: str | None = None
    message: str = ""


@dataclass
class Workspace:
    jobs: dict[int, str] = field(default_factory=dict)  # job_id -> name
    max_concurrent_runs: int = 1
    runs: dict[int, Run] = field(default_factory=dict)
    schemas: set[str] = field(default_factory=set)  # catalog.schema
    models: set[str] = field(default_factory=set)  # catalog.schema.model
    calls: list[tuple[str, dict]] = field(default_factory=list)  # (endpoint, arguments)
    lock: threading.Lock = field(default_factory=threading.Lock)
    url: str = ""  # set by Server

    def add_job(self, name: str) -> int:
        job_id = 100 + len(self.jobs)
        self.jobs[job_id] = name
        return job_id

    def active(self, job_id: int) -> list[Run]:
        return [r for r in self.runs.values() if r.job_id == job_id and r.life == "RUNNING"]

    def finish(self, run_id: int, result: str = "SUCCESS") -> None:
        with self.lock:
            run = self.runs[run_id]
            run.life, run.result = "TERMINATED", result

    def called(self, endpoint: str) -> list[dict]:
        return [arguments for name, arguments in self.calls if name == endpoint]

    # ------------------------------------------------------------------ the API
    def answer(
        self, method: str, path: str, query: dict, body: dict, authorization: str
    ) -> tuple[int, dict]:
        endpoint = path.split("/api/2.2/", 1)[-1] if "/api/2.2/" in path else path
        with self.lock:
            self.calls.append((endpoint, {**query, **body}))
            if path == "/.well-known/databricks-config":  # the SDK's host discovery
                return 200, {"oidc_endpoint": f"{self.url}/oidc", "workspace_id": "7"}
            if path == "/oidc/.well-known/oauth-authorization-server":
                return 200, {
                    "authorization_endpoint": f"{self.url}/oidc/v1/authorize",
                    "token_endpoint": f"{self.url}/oidc/v1/token",
                }
            if path == "/github/id-token":
                return 200, {"value": ID_TOKEN}
            if path == "/oidc/v1/token":
                return 200, {
                    "access_token": ACCESS_TOKEN,
                    "token_type": "Bearer",
                    "expires_in": 3600,
                }
            if not path.startswith("/api/"):
                return 404, {"error_code": "NOT_FOUND", "message": path}
            if authorization != f"Bearer {ACCESS_TOKEN}":
                return 401, {"error_code": "UNAUTHENTICATED", "message": "no valid token"}
            if endpoint == "jobs/list":
                name = query.get("name")
                jobs = [
                    {"job_id": job_id, "settings": {"name": job_name}}
                    for job_id, job_name in self.jobs.items()
                    if name in (None, job_name)
                ]
                return 200, {"jobs": jobs, "has_more": False}
            if endpoint == "jobs/run-now":
                job_id = int(body["job_id"])
                if job_id not in self.jobs:
                    return 400, {"error_code": "INVALID_PARAMETER_VALUE", "message": "no job"}
                params = body.get("python_params")
                run = Run(run_id=1000 + len(self.runs), job_id=job_id, params=params)
                if len(self.active(job_id)) >= self.max_concurrent_runs:
                    run.life, run.message = "SKIPPED", "max concurrent runs reached"
                self.runs[run.run_id] = run
                return 200, {"run_id": run.run_id, "number_in_job": run.run_id}
            if endpoint == "jobs/runs/get":
                run = self.runs[int(query["run_id"])]
                state = {"life_cycle_state": run.life, "state_message": run.message}
                if run.result:
                    state["result_state"] = run.result
                return 200, {
                    "run_id": run.run_id,
                    "job_id": run.job_id,
                    "state": state,
                    "run_page_url": f"{self.url}/jobs/{run.job_id}/runs/{run.run_id}",
                }
            if endpoint == "jobs/delete":
                if self.jobs.pop(int(body["job_id"]), None) is None:
                    return 400, {"error_code": "INVALID_PARAMETER_VALUE", "message": "no job"}
                return 200, {}
            for kind, names in (("models", self.models), ("schemas", self.schemas)):
                prefix = f"/api/2.1/unity-catalog/{kind}/"
                if method == "DELETE" and path.startswith(prefix):
                    name = path[len(prefix) :]
                    if name not in names:
                        return 404, {"error_code": "NOT_FOUND", "message": f"{name} not found"}
                    if kind == "schemas":
                        if str(query.get("force")).lower() != "true" and any(
                            model.startswith(f"{name}.") for model in self.models
                        ):
                            return 400, {"error_code": "INVALID_STATE", "message": "not empty"}
                        self.models -= {m for m in self.models if m.startswith(f"{name}.")}
                    names.discard(name)
                    return 200, {}
            if endpoint == "jobs/runs/cancel":
                run = self.runs[int(body["run_id"])]
                if run.life == "RUNNING":
                    run.life, run.result, run.message = "TERMINATED", "CANCELED", "cancelled"
                return 200, {}
        return 404, {"error_code": "ENDPOINT_NOT_FOUND", "message": f"{method} {path}"}


class _Handler(BaseHTTPRequestHandler):
    workspace: Workspace

    def _serve(self, method: str) -> None:
        parsed = urlparse(self.path)
        query = {key: values[-1] for key, values in parse_qs(parsed.query).items()}
        length = int(self.headers.get("Content-Length") or 0)
        raw = self.rfile.read(length) if length else b""
        try:
            body = json.loads(raw) if raw.strip().startswith(b"{") else {}
        except ValueError:
            body = {}
        authorization = self.headers.get("Authorization", "")
        status, answer = self.workspace.answer(method, parsed.path, query, body, authorization)
        data = json.dumps(answer).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def do_GET(self) -> None:  # http.server's names
        self._serve("GET")

    def do_POST(self) -> None:
        self._serve("POST")

    def do_DELETE(self) -> None:
        self._serve("DELETE")

    def log_message(self, *args) -> None:  # quiet
        pass


class Server:
    """`with Server(service) as url:` serves a Workspace or a GitHubApi on a free port."""

    def __init__(self, workspace: Workspace | GitHubApi) -> None:
        handler = type("Handler", (_Handler,), {"workspace": workspace})
        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), handler)
        workspace.url = f"http://127.0.0.1:{self.httpd.server_port}"
        self.workspace = workspace

    def __enter__(self) -> str:
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()
        return self.workspace.url

    def __exit__(self, *exc) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()


def environment(workspace: Workspace, client_id: str = "standin-sp") -> dict[str, str]:
    """What the deploy job's environment gives the SDK: the host, and GitHub OIDC."""
    return {
        "DATABRICKS_HOST": workspace.url,
        "DATABRICKS_CLIENT_ID": client_id,
        "DATABRICKS_AUTH_TYPE": "github-oidc",
        "ACTIONS_ID_TOKEN_REQUEST_URL": f"{workspace.url}/github/id-token?api-version=2.0",
        "ACTIONS_ID_TOKEN_REQUEST_TOKEN": "standin-request-token",
    }


@dataclass
class GitHubApi:
    """GitHub's REST API as the release gate reads it: the runs of one workflow.

    `runs` holds what happened on main, as (workflow file, commit, conclusion)."""

    repository: str = "acme/churn-model"
    token: str = "standin-github-token"
    runs: list[tuple[str, str, str]] = field(default_factory=list)
    calls: list[tuple[str, dict]] = field(default_factory=list)
    url: str = ""  # set by Server

    def answer(
        self, method: str, path: str, query: dict, body: dict, authorization: str
    ) -> tuple[int, dict]:
        self.calls.append((path, query))
        if authorization != f"Bearer {self.token}":
            return 401, {"message": "Bad credentials"}
        prefix = f"/repos/{self.repository}/actions/workflows/"
        if method != "GET" or not path.startswith(prefix) or not path.endswith("/runs"):
            return 404, {"message": "Not Found"}
        workflow = path[len(prefix) : -len("/runs")]
        runs = [
            {"head_sha": sha, "head_branch": "main", "status": "completed", "conclusion": result}
            for file, sha, result in self.runs
            if file == workflow and query.get("head_sha") in (None, sha)
        ]
        if query.get("branch") not in (None, "main"):
            runs = []
        return 200, {"total_count": len(runs), "workflow_runs": runs}

    def environment(self) -> dict[str, str]:
        """The variables GitHub gives every step."""
        return {
            "GITHUB_API_URL": self.url,
            "GITHUB_REPOSITORY": self.repository,
            "GH_TOKEN": self.token,
        }
