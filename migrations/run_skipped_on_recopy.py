"""After `copier recopy` (or a copy over an existing project): run the skipped migrations.

`copier recopy` renders the new version over the project like a first copy: it keeps
the owner's project-owned files (`_skip_if_exists`) but runs no migrations, so keys that
a migration would have added to them never arrive, while the answers file already says
the new version. Copier runs this task after every copy; when git's HEAD holds an older
answers file than the one just written, it runs each migration listed in copier.yml for
the versions in between (migrations are idempotent), and says so. A first copy has no
older answers file: nothing to do.
"""

from __future__ import annotations

import shlex
import subprocess
import sys
from pathlib import Path

import yaml
from packaging.version import InvalidVersion, Version

TEMPLATE = Path(__file__).resolve().parents[1]
ANSWERS = ".copier-answers.yml"


def version(ref: object) -> Version | None:
    try:
        return Version(str(ref))
    except InvalidVersion:
        return None


def previous_version(project: Path) -> Version | None:
    """The template version in the last commit's answers file, if there is one."""
    shown = subprocess.run(
        ["git", "show", f"HEAD:./{ANSWERS}"], cwd=project, capture_output=True, text=True
    )
    if shown.returncode != 0:
        return None
    return version((yaml.safe_load(shown.stdout) or {}).get("_commit"))


def skipped(before: Version, now: Version) -> list[list[str]]:
    """The migrations for the versions in (before, now], in copier.yml's order: each a
    script under migrations/ and its arguments."""
    config = yaml.safe_load((TEMPLATE / "copier.yml").read_text(encoding="utf-8"))
    commands = []
    for migration in config.get("_migrations", []):
        at = version(migration["version"])
        if at is not None and before < at <= now:
            commands.append(shlex.split(migration["command"].split("/migrations/", 1)[1]))
    return commands


def main(project: Path) -> int:
    before = previous_version(project)
    now = version((yaml.safe_load((project / ANSWERS).read_text()) or {}).get("_commit"))
    if before is None or now is None or now <= before:
        return 0
    for script, *steps in skipped(before, now):
        print(
            f"recopy {before} -> {now}: running the skipped migration {' '.join(steps) or script}"
        )
        result = subprocess.run([sys.executable, str(TEMPLATE / "migrations" / script), *steps])
        if result.returncode != 0:
            return result.returncode
    return 0


if __name__ == "__main__":
    sys.exit(main(Path.cwd()))
