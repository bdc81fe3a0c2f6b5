"""Mint a short-lived Databricks token for dbx, which only accepts a bearer token.

    .venv-dbx/bin/python scripts/databricks_token.py      (in GitHub Actions)

The Databricks SDK authenticates from the environment: DATABRICKS_HOST,
DATABRICKS_CLIENT_ID and DATABRICKS_AUTH_TYPE, which is `github-oidc` (workload
identity federation: the job's GitHub OIDC token is exchanged, no secret exists) or
`oauth-m2m` (with DATABRICKS_CLIENT_SECRET). The resulting OAuth access token lives
about an hour; it is masked in the log and handed to later steps of the same job via
$GITHUB_ENV, and never written anywhere else.
"""

from __future__ import annotations

import os
import sys


class TokenError(RuntimeError):
    pass


def bearer(headers: dict[str, str]) -> str:
    value = headers.get("Authorization", "")
    token = value.removeprefix("Bearer ").strip()
    if not value.startswith("Bearer ") or not token:
        raise TokenError("Databricks authentication returned no bearer token")
    if any(ch in token for ch in "\r\n"):
        raise TokenError("Databricks returned a token with a line break; refusing to export it")
    return token


def export(token: str, github_env: str | None) -> None:
    """Hand the token to the job's later steps, and to nothing else."""
    if not github_env:
        raise TokenError("GITHUB_ENV is not set: this script hands the token to GitHub Actions")
    with open(github_env, "a", encoding="utf-8") as handle:
        handle.write(f"DATABRICKS_TOKEN={token}\n")


def main() -> int:
    from databricks.sdk.core import Config  # only in dbx's tool environment

    try:
        token = bearer(Config().authenticate())
        # Mask first: nothing may print the token before the runner knows to hide it.
        print(f"::add-mask::{token}", flush=True)
        export(token, os.environ.get("GITHUB_ENV"))
    except TokenError as error:
        print(f"error: {error}", file=sys.stderr)
        return 1
    print("DATABRICKS_TOKEN set for the following steps (masked, expires within the hour)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
