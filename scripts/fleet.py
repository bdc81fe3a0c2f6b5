"""Fleet view for the platform team: template version of every project, and updates.

    .venv/bin/python scripts/fleet.py [--update] [--to vX.Y.Z] PROJECT_DIR...

Reads each project's `.copier-answers.yml`, compares it with the newest release tag of
the template it came from and, with --update, runs the same update as the projects' own
scripts/template_update.py (this checkout's copy) on those that are behind, and commits
each update on a branch `template-update/<version>`, ready for its pull request
(conflicts included, with their markers; projects of one repository, a monorepo, update
in turn and commit on one branch). One project's failure never stops the others:
progress goes to stderr as each finishes, and the table always prints one row per
project: from -> to, and behind / up to date / updated / conflicts (with the files) /
refused / failed (with the one-line reason).
Exit status 1 if any project was refused, conflicted or failed.
"""

from __future__ import annotations

import argparse
import contextlib
import functools
import importlib.util
import multiprocessing
import os
import subprocess
import sys
import tempfile
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


@contextlib.contextmanager
def captured():
    """Within the block, this process's standard output (file descriptor 1, which the
    migrations copier starts inherit) goes into the list it yields, as one text at the
    end: a fleet prints its table, and each project's lines go to its own commit."""
    sys.stdout.flush()
    saved, text = os.dup(1), []
    with tempfile.TemporaryFile(mode="w+", encoding="utf-8") as sink:
        os.dup2(sink.fileno(), 1)
        try:
            yield text
        finally:
            sys.stdout.flush()
            os.dup2(saved, 1)
            os.close(saved)
            sink.seek(0)
            text.append(sink.read())


def commit(project: Path, updater, result, output: str = "") -> str:
    """Commit the update on a branch named after the target version, ready for its PR.

    Staged first: copier leaves a conflicted file unmerged in the index, and git will not
    switch branches over an unmerged index. Staging it (markers and all) marks it
    resolved, so the conflict travels to the branch and the pull request shows it. If the
    commit cannot be made, the project is put back as it was (nothing is left
    uncommitted on the branch it was on) and the error is raised. The message's body is
    the pull request's, then what the update printed (the migrations' lines).
    """
    branch = f"template-update/{result.to_version}"
    start = updater.git(project, "rev-parse", "--abbrev-ref", "HEAD").strip()
    subject = f"Template update {result.from_version} -> {result.to_version}"
    if result.conflicts:
        subject += f" ({len(result.conflicts)} files with conflicts to resolve)"
    try:
        updater.git(project, "add", "--all", "--", ".")
        updater.git(project, "checkout", "--quiet", "-B", branch)  # the staged update comes along
        body = updater.pull_request_body(result)
        if output.strip():
            body += "\n## What the update printed\n\n" + output.strip() + "\n"
        updater.git(project, "commit", "--quiet", "--no-verify", "-m", subject, "-m", body)
    except updater.UpdateRefused as error:
        updater.restore(project)
        if updater.git(project, "rev-parse", "--abbrev-ref", "HEAD").strip() != start:
            updater.git(project, "checkout", "--quiet", start)
        raise updater.UpdateFailed(f"{project}: could not commit the update: {error}") from None
    return branch


def survey(project: Path, updater, to: str | None, apply: bool) -> tuple[str, str, str]:
    """(from, to, result) for one project; never raises, so one project cannot stop the rest."""
    current, target = "?", to or "?"  # as far as known when something stops
    try:
        answers = updater.read_answers(project)
        current = str(answers["_commit"])
        target = updater.versions(answers, to)[2]
        if not apply:
            with tempfile.TemporaryDirectory() as tmp:
                source = updater.TemplateSource(str(answers["_src_path"]), Path(tmp))
                holds = source.holds(current, target)  # by ancestry for a commit
            return current, target, "up to date" if holds else "behind"
        with captured() as output:
            result = updater.update(project, to)
        if result.status == "up to date":
            return result.from_version, result.to_version, "up to date"
        branch = commit(project, updater, result, "".join(output))
    except updater.UpdateRefused as error:
        return current, target, f"refused: {error}"
    except updater.UpdateFailed as error:
        return current, target, f"failed: {error}"
    except Exception as error:  # a bug or an unexpected state: reported, the fleet goes on
        first = (str(error).strip().splitlines() or [""])[0]
        return current, target, f"failed: {type(error).__name__}: {first}"
    unseen = "".join(f", {name} (deleted by you, changed)" for name in result.deleted_changed)
    if result.conflicts or result.kept:
        files = ", ".join([*result.conflicts, *(f"{name} (removed, kept)" for name in result.kept)])
        outcome = f"conflicts on {branch}: {files}{unseen}"
    else:
        outcome = f"updated on {branch}{unseen}"
    if result.answers_changed:
        outcome += "; answers changed: " + ", ".join(
            f"{key} {old!r} -> {new!r}"
            for key, (old, new) in sorted(result.answers_changed.items())
        )
    if result.actions:
        outcome += f"; action needed ({len(result.actions)}): " + " | ".join(result.actions)
    return result.from_version, result.to_version, outcome


def repository(project: Path) -> str:
    """The top folder of the git repository that holds the project (or the project)."""
    try:
        found = subprocess.run(
            ["git", "rev-parse", "--show-toplevel"], cwd=project, capture_output=True, text=True
        )
    except OSError:  # no such folder: survey() reports it
        return str(project)
    return found.stdout.strip() if found.returncode == 0 else str(project)


def survey_repository(projects: list[Path], to: str | None, apply: bool) -> list[tuple]:
    """survey() of each project of one repository, one after the other, in a worker
    process (a module object does not travel between processes). Projects of one
    repository share its index and branch: updated at once, they would collide on
    `.git/index.lock` and on the update branch."""
    updater = load_updater()
    return [survey(project, updater, to, apply) for project in projects]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("projects", nargs="+", type=Path)
    parser.add_argument("--update", action="store_true", help="update projects that are behind")
    parser.add_argument("--to", help="template tag (default: each template's newest)")
    parser.add_argument(
        "--jobs", type=int, default=min(4, os.cpu_count() or 1), help="projects at a time"
    )
    args = parser.parse_args(argv)
    # Repositories update in parallel processes (copier changes the working directory,
    # so threads would not do), the projects of one repository in turn; each is
    # reported as its repository finishes.
    repositories: dict[str, list[Path]] = {}
    for project in args.projects:
        repositories.setdefault(repository(project), []).append(project)
    rows, done = {}, 0
    spawn = multiprocessing.get_context("spawn")  # no fork of a process that may hold threads
    with ProcessPoolExecutor(max_workers=args.jobs, mp_context=spawn) as pool:
        futures = {
            pool.submit(survey_repository, projects, args.to, args.update): projects
            for projects in repositories.values()
        }
        for future in as_completed(futures):
            projects = futures[future]
            try:
                rows.update(zip(projects, future.result(), strict=True))
            except Exception as error:  # the worker itself died: still one row each
                reason = f"failed: {type(error).__name__}: {error}"
                rows.update((project, ("?", args.to or "?", reason)) for project in projects)
            for project in projects:
                done += 1
                print(
                    f"[{done}/{len(args.projects)}] {project}: {rows[project][2]}", file=sys.stderr
                )
    rows = [(str(p), *rows[p]) for p in args.projects]
    width = max(len("project"), *(len(r[0]) for r in rows))
    print(f"{'project':<{width}}  {'from':>10} -> {'to':<10}  result")
    for name, before, after, outcome in rows:
        print(f"{name:<{width}}  {before:>10} -> {after:<10}  {outcome}")
    failed = any(r[3].startswith(("refused", "conflicts", "failed")) for r in rows)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
