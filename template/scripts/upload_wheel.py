"""Upload the built wheel to the environment's Unity Catalog volume, for dbx's jobs.

    .venv-dbx/bin/python scripts/upload_wheel.py dist/<wheel> [--vars .dbx/vars.yml]

Runs in the deploy job, after `make deploy-vars` and before `dbx deploy --no-package`:
the deployment file names the wheel at /Volumes/<catalog>/<schema>/<volume>/wheels/,
where clusters of Runtime 15 and later install libraries from (not the DBFS root).
Authenticates like every Databricks SDK call here: DATABRICKS_HOST plus GitHub OIDC or
an OAuth client secret from the environment. A file of the same name is replaced: the
wheel's version (from git) changes with every commit.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import yaml


class UploadError(RuntimeError):
    pass


def targets(vars_file: Path, wheel: Path) -> dict[str, str]:
    """{environment: volume path of this wheel}, from the variables dbx renders with."""
    data = yaml.safe_load(vars_file.read_text(encoding="utf-8")) or {}
    found = {}
    for env, values in (data.get("envs") or {}).items():
        paths = [lib["whl"] for lib in values.get("libraries", []) if "whl" in lib]
        matching = [p for p in paths if p.rsplit("/", 1)[-1] == wheel.name]
        if not matching:
            raise UploadError(
                f"{vars_file}: envs.{env}.libraries does not name {wheel.name}; "
                "run `make deploy-vars` with this wheel"
            )
        if not matching[0].startswith("/Volumes/"):
            raise UploadError(f"{vars_file}: envs.{env}: {matching[0]} is not a volume path")
        found[env] = matching[0]
    if not found:
        raise UploadError(f"{vars_file}: no environment to upload for")
    return found


def upload(client, wheel: Path, target: str) -> None:
    with wheel.open("rb") as contents:
        client.files.upload(target, contents, overwrite=True)


def main(argv: list[str] | None = None, client=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("wheel", type=Path)
    parser.add_argument("--vars", type=Path, default=Path(".dbx/vars.yml"))
    args = parser.parse_args(argv)
    try:
        if not args.wheel.is_file():
            raise UploadError(f"{args.wheel}: no such wheel; build it with `make wheel`")
        paths = targets(args.vars, args.wheel)
        if client is None:
            from databricks.sdk import WorkspaceClient  # only in dbx's tool environment

            client = WorkspaceClient()
        for env, target in paths.items():
            upload(client, args.wheel, target)
            print(f"{env}: uploaded {args.wheel.name} to {target}")
    except (UploadError, OSError) as error:
        print(f"error: {error}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
