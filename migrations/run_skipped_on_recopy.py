"""After `copier recopy` (or a copy over an existing project): run the skipped migrations.

`copier recopy` renders the new version over the project like a first copy: it keeps
the owner's project-owned files (`_skip_if_exists`) but runs no migrations, so keys that
a migration would have added to them never arrive, while the answers file already says
the new version. Copier runs this task after every copy; when git's HEAD holds an older
answers file than the one just written, it runs each migration listed in copier.yml for
the versions in between (migrations are idempotent), and says so. A copy also leaves
every file the older version generated that the new one no longer has: the task removes
those the owner left as generated and names those the owner edited (kept, like an
update does). A first copy has no older answers file: nothing to do.
"""

from __future__ import annotations

import shlex
import subprocess
import sys
import tempfile
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


def previous_answers(project: Path) -> dict:
    """The last commit's answers file ({} without one)."""
    shown = subprocess.run(
        ["git", "show", f"HEAD:./{ANSWERS}"], cwd=project, capture_output=True, text=True
    )
    return (yaml.safe_load(shown.stdout) or {}) if shown.returncode == 0 else {}


def previous_version(project: Path) -> Version | None:
    """The template version in the last commit's answers file, if there is one."""
    return version(previous_answers(project).get("_commit"))


def renders(src: str, root: Path):
    """The update's own renderer (template/scripts/template_update.py's Renders: the
    template at a ref for some answers, no tasks, copier's public API), from this
    checkout of the template."""
    import importlib.util

    path = TEMPLATE / "template" / "scripts" / "template_update.py"
    spec = importlib.util.spec_from_file_location("template_update", path)
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # its dataclasses resolve their module by name
    spec.loader.exec_module(module)
    return module.Renders(src, root)


def remove_dropped(project: Path, before: dict, now: dict) -> None:
    """Files the older version generated and the new one does not: removed where the
    owner left them as generated, kept and named where the owner edited them."""
    src = str(now.get("_src_path") or before.get("_src_path") or "")
    if not src:
        return
    with tempfile.TemporaryDirectory() as tmp:
        rendered = renders(src, Path(tmp))
        old, new = rendered(str(before["_commit"]), before), rendered(str(now["_commit"]), now)
        for path in sorted(p for p in old.rglob("*") if p.is_file()):
            name = path.relative_to(old)
            mine = project / name
            if name.as_posix() == ANSWERS or (new / name).exists() or not mine.is_file():
                continue
            if mine.read_bytes() == path.read_bytes():
                mine.unlink()
                print(f"recopy: removed {name} (the new version no longer has it)")
            else:
                print(
                    f"recopy: kept {name}: the new version no longer has it, but you edited "
                    "it; move what you need into your own files, then delete it"
                )


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
    answers_before = previous_answers(project)
    answers_now = yaml.safe_load((project / ANSWERS).read_text()) or {}
    before, now = version(answers_before.get("_commit")), version(answers_now.get("_commit"))
    if before is None or now is None or now <= before:
        return 0
    remove_dropped(project, answers_before, answers_now)
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
