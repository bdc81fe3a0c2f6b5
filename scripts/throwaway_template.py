"""A throw-away git repository of this template with every release tag recreated.

Used by the update tests and the update benchmark. Release tags come from
releases.yml (tags made on one machine may not reach the shared repository); the
working tree, uncommitted changes included, becomes one more release, `new_tag`, with
its "Unreleased" CHANGELOG section named after it, as a real release would be.
"""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[1]


def git(cwd: Path, *args: str) -> str:
    result = subprocess.run(["git", *args], cwd=cwd, capture_output=True, text=True)
    if result.returncode != 0:
        raise RuntimeError(f"git {' '.join(args)} in {cwd}: {result.stderr.strip()}")
    return result.stdout


def releases() -> list[dict]:
    return yaml.safe_load((ROOT / "releases.yml").read_text())


def build(dst: Path, new_tag: str) -> Path:
    git(ROOT.parent, "clone", "--quiet", "--no-hardlinks", str(ROOT), str(dst))
    for release in releases():
        if subprocess.run(["git", "cat-file", "-e", release["commit"]], cwd=dst).returncode:
            raise RuntimeError(
                f"release {release['version']} commit {release['commit']} is not in this "
                "clone's history; a shallow clone needs `git fetch --unshallow`"
            )
        git(dst, "tag", "--force", release["version"], release["commit"])
    files = git(ROOT, "ls-files", "--cached", "--others", "--exclude-standard", "-z")
    names = set(filter(None, files.split("\0")))
    # A file the working tree deleted (or moved) since the last commit goes from NEW too.
    for name in filter(None, git(dst, "ls-files", "-z").split("\0")):
        if name not in names:
            (dst / name).unlink(missing_ok=True)
    git(dst, "rm", "-r", "--quiet", "--cached", ".")
    for name in sorted(names):
        target = dst / name
        if (ROOT / name).is_file():
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(ROOT / name, target)
        elif target.exists():
            target.unlink()
    changelog = dst / "CHANGELOG.md"
    changelog.write_text(
        changelog.read_text().replace("## [Unreleased]", f"## [{new_tag[1:]}] - 2099-01-01", 1)
    )
    git(dst, "add", "-A")
    git(dst, "commit", "--quiet", "--allow-empty", "-m", f"working tree as {new_tag}")
    git(dst, "tag", new_tag)
    return dst


def generate(template: Path | str, dst: Path, ref: str, answers: dict | None = None) -> Path:
    """A project as `copier copy` makes it from `template` at `ref` (defaults for the
    questions `answers` leaves out; the template's tasks run), committed on `main`."""
    import copier  # the template's own environment has it; releases.yml readers need not

    copier.run_copy(
        str(template),
        str(dst),
        data=answers or {},
        vcs_ref=ref,
        defaults=True,
        unsafe=True,
        quiet=True,
    )
    if not (dst / ".git").is_dir():  # releases before the first-copy `git init` task
        git(dst, "init", "--quiet", "--initial-branch=main")
    git(dst, "add", "-A")
    git(dst, "commit", "--quiet", "-m", f"generate at {ref}")
    return dst
