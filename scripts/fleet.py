"""Fleet view for the platform team: template version of every project, and updates.

    .venv/bin/python scripts/fleet.py [--update] [--to vX.Y.Z] PROJECT_DIR...

Reads each project's `.copier-answers.yml`, compares it with the newest release tag of
the template it came from and, with --update, runs the same update as the projects' own
scripts/template_update.py (this checkout's copy) on those that are behind, and commits
each update on a branch `template-update/<version>`, ready for its pull request. One
project's failure never stops the others: progress goes to stderr as each finishes, and
the table always prints one row per project: from -> to, and behind / up to date /
updated / conflicts (with the files) / refused / failed (with the one-line reason).
Exit status 1 if any project was refused, conflicted or failed.
"""

from __future__ import annotations

import argparse
import functools
import importlib.util
import multiprocessing
import os
import sys
from concurrent.futures import ProcessPoolExecutor, as_completed
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


@functools.cache
def load_updater():
    path = ROOT / "template" / "scripts" / "template_update.py"
    spec = importlib.util.spec_from_file_location("template_update", path)
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses resolve their module by name
    spec.loader.exec_module(module)
    return module


def commit(project: Path, updater, result) -> str:
    """Commit the update on a branch named after the target version, ready for its PR."""
    branch = f"template-update/{result.to_version}"
    updater.git(project, "checkout", "--quiet", "-B", branch)  # the update's changes come along
    updater.git(project, "add", "--all", "--", ".")
    subject = f"Template update {result.from_version} -> {result.to_version}"
    if result.conflicts:
        subject += f" ({len(result.conflicts)} files with conflicts to resolve)"
    updater.git(project, "commit", "--quiet", "--no-verify", "-m", subject)
    return branch


def survey(project: Path, updater, to: str | None, apply: bool) -> tuple[str, str, str]:
    """(from, to, result) for one project; never raises, so one project cannot stop the rest."""
    try:
        answers = updater.read_answers(project)
        current = str(answers["_commit"])
        if not apply:
            tags = updater.release_tags(str(answers["_src_path"]))
            newest = to or (tags[-1] if tags else "?")
            now, wanted = updater.as_version(current), updater.as_version(newest)
            behind = now is None or wanted is None or now < wanted
            return current, newest, "behind" if behind and current != newest else "up to date"
        result = updater.update(project, to)
        if result.status == "up to date":
            return result.from_version, result.to_version, "up to date"
        branch = commit(project, updater, result)
    except updater.UpdateRefused as error:
        return "?", to or "?", f"refused: {error}"
    except updater.UpdateFailed as error:
        return current, to or "?", f"failed: {error}"
    except Exception as error:  # a bug or an unexpected state: reported, the fleet goes on
        first = (str(error).strip().splitlines() or [""])[0]
        return "?", to or "?", f"failed: {type(error).__name__}: {first}"
    unseen = "".join(f", {name} (deleted by you, changed)" for name in result.deleted_changed)
    if result.conflicts or result.kept:
        files = ", ".join([*result.conflicts, *(f"{name} (removed, kept)" for name in result.kept)])
        return result.from_version, result.to_version, f"conflicts on {branch}: {files}{unseen}"
    return result.from_version, result.to_version, f"updated on {branch}{unseen}"


def survey_one(project: Path, to: str | None, apply: bool) -> tuple[str, str, str]:
    """survey() in a worker process (a module object does not travel between processes)."""
    return survey(project, load_updater(), to, apply)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("projects", nargs="+", type=Path)
    parser.add_argument("--update", action="store_true", help="update projects that are behind")
    parser.add_argument("--to", help="template tag (default: each template's newest)")
    parser.add_argument(
        "--jobs", type=int, default=min(4, os.cpu_count() or 1), help="projects at a time"
    )
    args = parser.parse_args(argv)
    # Projects update in parallel processes (copier changes the working directory, so
    # threads would not do); each finishes on its own, reported as it finishes.
    rows = {}
    spawn = multiprocessing.get_context("spawn")  # no fork of a process that may hold threads
    with ProcessPoolExecutor(max_workers=args.jobs, mp_context=spawn) as pool:
        futures = {pool.submit(survey_one, p, args.to, args.update): p for p in args.projects}
        for number, future in enumerate(as_completed(futures), start=1):
            project = futures[future]
            try:
                rows[project] = future.result()
            except Exception as error:  # the worker itself died: still one row
                rows[project] = ("?", args.to or "?", f"failed: {type(error).__name__}: {error}")
            print(f"[{number}/{len(futures)}] {project}: {rows[project][2]}", file=sys.stderr)
    rows = [(str(p), *rows[p]) for p in args.projects]
    width = max(len("project"), *(len(r[0]) for r in rows))
    print(f"{'project':<{width}}  {'from':>10} -> {'to':<10}  result")
    for name, before, after, outcome in rows:
        print(f"{name:<{width}}  {before:>10} -> {after:<10}  {outcome}")
    failed = any(r[3].startswith(("refused", "conflicts", "failed")) for r in rows)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
