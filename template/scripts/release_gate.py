"""Which commit a release deploys to prod: the tag's commit, if it is on main and its
staging run on main passed. Run by the release workflow's first job.

    python3 scripts/release_gate.py <tag>

A merge to main deploys staging and runs the end-to-end job there (workflow
`STAGING_WORKFLOW`); a release may deploy only a commit whose run of it succeeded. The
commit is resolved here once and handed to the later jobs as the output `sha`, so the
checks and the deploy (after the prod reviewers' wait) use exactly that commit, even if
the tag is moved meanwhile. Standard library only: it runs on the runner's python3,
before any set-up. Reads GITHUB_REPOSITORY, GITHUB_API_URL, GITHUB_OUTPUT and GH_TOKEN
(the job's read-only token; `actions: read` lists workflow runs).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import urllib.error
import urllib.parse
import urllib.request

# The workflow that deploys main to staging and runs the e2e job there.
STAGING_WORKFLOW = "staging-main.yml"


class GateError(RuntimeError):
    pass


def git(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run(["git", *args], capture_output=True, text=True)


def commit_of(tag: str) -> str:
    resolved = git("rev-parse", "--verify", f"refs/tags/{tag}" + "^{commit}")  # the commit
    if resolved.returncode != 0:
        raise GateError(f"release {tag}: no such tag in this checkout")
    return resolved.stdout.strip()


def require_on_main(tag: str, sha: str) -> None:
    if git("merge-base", "--is-ancestor", sha, "origin/main").returncode != 0:
        raise GateError(f"release {tag} ({sha[:12]}) is not on main; prod deploys only main")


def staging_runs(sha: str) -> list[dict]:
    """The completed runs of STAGING_WORKFLOW for `sha` on main (GitHub REST API)."""
    api = os.environ.get("GITHUB_API_URL", "https://api.github.com")
    repo = os.environ["GITHUB_REPOSITORY"]
    query = urllib.parse.urlencode({"head_sha": sha, "branch": "main", "status": "completed"})
    url = f"{api}/repos/{repo}/actions/workflows/{STAGING_WORKFLOW}/runs?{query}"
    request = urllib.request.Request(
        url,
        headers={
            "Accept": "application/vnd.github+json",
            "Authorization": f"Bearer {os.environ['GH_TOKEN']}",
            "X-GitHub-Api-Version": "2022-11-28",
        },
    )
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            return json.load(response).get("workflow_runs", [])
    except (urllib.error.URLError, ValueError) as error:
        raise GateError(
            f"could not list the {STAGING_WORKFLOW} runs of {sha[:12]}: {error}"
        ) from None


def require_staging_passed(tag: str, sha: str) -> None:
    runs = staging_runs(sha)
    if not any(run.get("conclusion") == "success" for run in runs):
        seen = ", ".join(sorted({str(run.get("conclusion")) for run in runs})) or "none"
        raise GateError(
            f"release {tag} ({sha[:12]}): no successful {STAGING_WORKFLOW} run on main for "
            f"this commit (finished runs: {seen}); merge it and let staging pass first"
        )


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    if len(args) != 1:
        print("usage: release_gate.py <tag>", file=sys.stderr)
        return 2
    tag = args[0]
    try:
        sha = commit_of(tag)
        require_on_main(tag, sha)
        require_staging_passed(tag, sha)
    except GateError as error:
        print(f"::error::{error}")
        return 1
    with open(os.environ["GITHUB_OUTPUT"], "a", encoding="utf-8") as output:
        output.write(f"sha={sha}\n")
    print(f"release {tag}: deploying {sha}, which passed staging on main")
    return 0


if __name__ == "__main__":
    sys.exit(main())
