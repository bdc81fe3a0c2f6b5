"""`copier update` for real: a throw-away template repo with the released tags (from
releases.yml) and the working tree tagged as a far-future version, projects copied at
an old tag, edited as a user would, then updated by the projects' own update script."""

from __future__ import annotations

import ast
import atexit
import fnmatch
import itertools
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import tomllib
from pathlib import Path

import copier
import pytest
import yaml
from conftest import PROD_SP, ROOT, STAGING_SP, edit

sys.path[:0] = [str(ROOT / "scripts"), str(ROOT / "migrations")]
import add_failure_notifications  # noqa: E402
import add_inference_threshold as migration  # noqa: E402
import add_score_column_to_model as score_column  # noqa: E402
import answers as answer_rules  # noqa: E402 (extensions/, on the path through conftest)
import correct_conf_comments  # noqa: E402
import fleet  # noqa: E402
import move_shared_conf_to_base as shared_conf  # noqa: E402
import throwaway_template as throwaway  # noqa: E402

updater = fleet.load_updater()

NEW = "v99.0.0"
RELEASES = throwaway.releases()
git = throwaway.git
OLDEST = RELEASES[0]["version"]


@pytest.fixture(scope="session", autouse=True)
def git_identity() -> None:
    for role in ("AUTHOR", "COMMITTER"):
        os.environ.setdefault(f"GIT_{role}_NAME", "Template Tests")
        os.environ.setdefault(f"GIT_{role}_EMAIL", "tests@example.invalid")


@pytest.fixture(scope="session")
def template_repo(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A clone of this repo with every release tag, plus the working tree as NEW."""
    try:
        return throwaway.build(tmp_path_factory.mktemp("template") / "repo", NEW)
    except RuntimeError as error:
        pytest.fail(str(error))


# Each (template, ref, answers) is copied by copier once per worker; each test gets its
# own copy of that project, git history included (copier's output for the same inputs
# is the same; a copy takes a few milliseconds, copier about 1.5 s).
_GENERATED: dict[tuple[str, str, str], Path] = {}
_GENERATED_ROOT = Path(tempfile.mkdtemp(prefix="generated-projects-"))
atexit.register(shutil.rmtree, _GENERATED_ROOT, ignore_errors=True)


def generated(template: Path, ref: str, **answers) -> Path:
    """The project copier generates from `template` at `ref`, committed (do not edit)."""
    key = (str(template), ref, json.dumps(answers, sort_keys=True))
    if key not in _GENERATED:
        dst = _GENERATED_ROOT / str(len(_GENERATED)) / "project"
        throwaway.generate(template, dst, ref, answers)
        _GENERATED[key] = dst
    return _GENERATED[key]


def generate(template: Path, dst: Path, ref: str, **answers) -> Path:
    """A project of the test's own at `dst`, as generated at `ref` and committed."""
    shutil.copytree(generated(template, ref, **answers), dst, symlinks=True)
    return dst


def commit_all(project: Path, message: str) -> None:
    git(project, "add", "-A")
    git(project, "commit", "--quiet", "-m", message)


def settings(path: Path) -> dict:
    """An environment file's top-level sections over conf/base.yml's, as the loader merges
    them (section by section is enough for these checks)."""
    base = path.parents[1] / "base.yml"
    shared = yaml.safe_load(base.read_text()) if base.is_file() else {}
    return {**(shared or {}), **yaml.safe_load(path.read_text())}


USER_NOTEBOOK = "# Databricks notebook source\nprint('my analysis')\n"


def make_user_edits(project: Path) -> None:
    edit(project / "src/churn_model/model/spec.py", '"C": 1.0', '"C": 0.5')
    edit(project / "conf/envs/local.yml", "rows: 5000", "rows: 4000")
    edit(project / "conf/expectations/features.yml", "max_value: 120", "max_value: 130")
    (project / "notebooks" / "exploration.py").write_text(USER_NOTEBOOK)
    commit_all(project, "my changes")


@pytest.mark.parametrize("old", [r["version"] for r in RELEASES])
def test_update_keeps_user_work_and_brings_the_platform(template_repo, tmp_path, old) -> None:
    project = generate(template_repo, tmp_path / "project", old)
    assert not (project / "src/churn_model/tasks/monitor.py").exists() or old != "v0.1.0"
    make_user_edits(project)

    result = updater.update(project, NEW)

    assert (result.from_version, result.to_version) == (old, NEW)
    assert result.status == "updated" and result.conflicts == []
    # The user's work, untouched.
    assert '"C": 0.5' in (project / "src/churn_model/model/spec.py").read_text()
    assert "max_value: 130" in (project / "conf/expectations/features.yml").read_text()
    assert (project / "notebooks" / "exploration.py").read_text() == USER_NOTEBOOK
    local = settings(project / "conf/envs/local.yml")
    assert local["sample"]["rows"] == 4000
    # The platform, current; the migration filled in the new config key.
    assert (project / "src/churn_model/tasks/monitor.py").is_file()
    assert (project / ".github/workflows/template-update.yml").is_file()
    assert local["inference"] == {"threshold": 0.5}
    answers = yaml.safe_load((project / ".copier-answers.yml").read_text())
    assert answers["_commit"] == NEW
    # The notes of exactly the releases after `old`: inference.threshold came with 0.2.0.
    assert ("inference.threshold" in result.upgrade_notes) == (old == "v0.1.0")
    # Every platform-owned file is byte for byte a fresh copy's: what runs is what the
    # generated suite (test_generated_suite.py) and the stand-in (test_runtime_standin.py)
    # run, so the pipeline need not run again here; only project-owned files may differ.
    fresh = generate(template_repo, tmp_path / "fresh", NEW)
    updated, copied = _snapshot(project), _snapshot(fresh)
    platform = {name for name in copied if not project_owned(name)}
    assert platform <= set(updated)
    assert {name for name in platform if updated[name] != copied[name]} == set()


def test_platform_edit_that_the_update_changes_is_a_visible_conflict(
    template_repo, tmp_path
) -> None:
    project = generate(template_repo, tmp_path / "project", OLDEST)
    infer = project / "src/churn_model/tasks/infer.py"
    edit(infer, ">= 0.5)", ">= 0.6)")  # the new version reads this from config
    edit(project / "src/churn_model/model/spec.py", '"C": 1.0', '"C": 0.5')
    commit_all(project, "local platform patch")

    result = updater.update(project, NEW)

    assert result.status == "conflicts"
    assert result.conflicts == ["src/churn_model/tasks/infer.py"]
    text = infer.read_text()
    assert "<<<<<<< before updating" in text and ">>>>>>> after updating" in text
    assert ">= 0.6)" in text and "config.env.inference.threshold" in text
    assert '"C": 0.5' in (project / "src/churn_model/model/spec.py").read_text()
    assert (project / "src/churn_model/tasks/monitor.py").is_file()
    body = updater.pull_request_body(result)
    assert f"{OLDEST} → {NEW}" in body and "- `src/churn_model/tasks/infer.py`" in body


def test_a_deleted_file_stays_deleted(template_repo, tmp_path) -> None:
    project = generate(template_repo, tmp_path / "project", OLDEST)
    (project / "notebooks" / "README.md").unlink()
    (project / "tests" / "unit" / "test_tables.py").unlink()
    commit_all(project, "not needed here")

    assert updater.update(project, NEW).status == "updated"
    assert not (project / "notebooks" / "README.md").exists()
    assert not (project / "tests" / "unit" / "test_tables.py").exists()


def test_a_release_that_removes_an_edited_platform_file_keeps_it(
    template_repo, tmp_path, capfd
) -> None:
    """A later release drops two platform-owned files: the one the owner left as
    generated goes, the one the owner edited (notebooks/README.md) stays in place and is
    named, like a conflict. The same for `copier recopy` (a repair), where copier alone
    would leave both files."""
    repo = tmp_path / "template"
    git(tmp_path, "clone", "--quiet", str(template_repo), str(repo))
    git(repo, "checkout", "--quiet", NEW)
    git(repo, "rm", "--quiet", "template/notebooks/README.md")
    git(repo, "rm", "--quiet", "template/tests/unit/test_tables.py.jinja")
    git(repo, "commit", "--quiet", "-m", "drop the notebooks README and a unit test")
    git(repo, "tag", "v99.1.0")
    untouched = Path("tests", "unit", "test_tables.py")
    updated = generate(repo, tmp_path / "updated", NEW)
    recopied = generate(repo, tmp_path / "recopied", NEW)
    for project in (updated, recopied):
        readme = project / "notebooks" / "README.md"
        readme.write_text(readme.read_text() + "\nOur team's notebook conventions.\n")
        commit_all(project, "our conventions")

    result = updater.update(updated, "v99.1.0")
    assert (result.status, result.kept, result.conflicts) == (
        "conflicts",
        ["notebooks/README.md"],
        [],
    )
    assert not (updated / untouched).exists()
    readme = updated / "notebooks" / "README.md"
    assert readme.read_text().endswith("Our team's notebook conventions.\n")
    body = updater.pull_request_body(result)
    assert "## Removed by this release, edited by you" in body
    assert "- `notebooks/README.md`" in body and "test_tables" not in body

    copier.run_recopy(
        str(recopied), vcs_ref="v99.1.0", defaults=True, overwrite=True, unsafe=True, quiet=True
    )
    assert not (recopied / untouched).exists()
    readme = recopied / "notebooks" / "README.md"
    assert readme.read_text().endswith("Our team's notebook conventions.\n")
    out = capfd.readouterr().out
    assert f"recopy: removed {untouched} (the new version no longer has it)" in out
    assert "recopy: kept notebooks/README.md: the new version no longer has it, but you" in out


def test_a_deleted_platform_file_that_the_release_changes_is_named(template_repo, tmp_path):
    """Copier keeps a file the owner deleted deleted, silently, even when the release
    changes it; the update names it (and only it) so the change is not missed."""
    repo = tmp_path / "template"
    git(tmp_path, "clone", "--quiet", str(template_repo), str(repo))
    git(repo, "checkout", "--quiet", NEW)
    readme = repo / "template" / "notebooks" / "README.md"
    readme.write_text(readme.read_text() + "\nA fix the owner should see.\n")
    git(repo, "commit", "--quiet", "-am", "change the notebooks README")
    git(repo, "tag", "v99.1.0")
    project = generate(repo, tmp_path / "project", NEW)
    (project / "notebooks" / "README.md").unlink()
    (project / "tests" / "unit" / "test_tables.py").unlink()  # unchanged by the release
    commit_all(project, "not needed here")

    result = updater.update(project, "v99.1.0")
    assert (result.status, result.deleted_changed, result.conflicts) == (
        "updated",
        ["notebooks/README.md"],
        [],
    )
    assert not (project / "notebooks" / "README.md").exists()  # deleting it was theirs
    body = updater.pull_request_body(result)
    assert "## Deleted by you, changed by this release" in body
    assert "- `notebooks/README.md`" in body
    assert "test_tables" not in body


def test_the_examples_generator_moves_to_the_project_without_losing_an_edit(
    template_repo, tmp_path
) -> None:
    """0.2.0 moves the sample generator from platform/ to the project's model/."""
    untouched = generate(template_repo, tmp_path / "untouched", OLDEST)
    edited = generate(template_repo, tmp_path / "edited", OLDEST)
    old = Path("src", "churn_model", "platform", "sample_data.py")
    new = Path("src", "churn_model", "model", "sample_data.py")
    ours = (edited / old).read_text().replace("seed: int = 42", "seed: int = 2024")
    (edited / old).write_text(ours)
    commit_all(edited, "our own default seed")

    assert updater.update(untouched, NEW).status == "updated"
    assert not (untouched / old).exists() and (untouched / new).is_file()

    result = updater.update(edited, NEW)
    assert (result.status, result.kept, result.conflicts) == ("conflicts", [str(old)], [])
    assert (edited / old).read_text() == ours  # kept in place and named in the PR body
    assert (edited / new).read_text() == (untouched / new).read_text()


def test_recopy_runs_the_migrations_it_would_skip(template_repo, tmp_path, capfd) -> None:
    project = generate(template_repo, tmp_path / "project", OLDEST)
    copier.run_recopy(
        str(project), vcs_ref=NEW, defaults=True, overwrite=True, unsafe=True, quiet=True
    )
    out = capfd.readouterr().out
    assert "running the skipped migration add_inference_threshold add_failure_notifications" in out
    for path in sorted((project / "conf" / "envs").glob("*.yml")):
        text = path.read_text()
        assert settings(path)["inference"] == {"threshold": 0.5}, path.name
        assert "webhook_url" not in text, path.name
    answers = yaml.safe_load((project / ".copier-answers.yml").read_text())
    assert answers["_commit"] == NEW


def _conf(project: Path) -> dict[str, bytes]:
    return {name: text for name, text in _snapshot(project).items() if name.startswith("conf/")}


# copier.yml's own list of project-owned files (`_skip_if_exists`), '!' for exceptions.
SKIP_IF_EXISTS = yaml.safe_load((ROOT / "copier.yml").read_text())["_skip_if_exists"]


def project_owned(name: str) -> bool:
    """Whether the project owns `name` (copier never overwrites it on update)."""
    owned = False
    for pattern in SKIP_IF_EXISTS:
        negated = pattern.startswith("!")
        if fnmatch.fnmatch(name, pattern.removeprefix("!").removeprefix("/")):
            owned = not negated
    return owned


def test_project_owned_reads_copier_yml() -> None:
    assert project_owned("src/churn_model/model/spec.py")
    assert project_owned("notebooks/exploration.py") and project_owned("README.md")
    assert not project_owned("notebooks/README.md")
    assert not project_owned("src/churn_model/tasks/train.py")


def _snapshot(project: Path) -> dict[str, bytes]:
    return {
        str(p.relative_to(project)): p.read_bytes()
        for p in project.rglob("*")
        if p.is_file() and ".git" not in p.relative_to(project).parts
    }


def test_dirty_tree_and_missing_answers_are_refused_untouched(
    template_repo, tmp_path, capsys
) -> None:
    project = generate(template_repo, tmp_path / "dirty", OLDEST)
    edit(project / "src/churn_model/model/spec.py", '"C": 1.0', '"C": 0.5')  # not committed
    before = _snapshot(project)
    assert updater.main([str(project), "--to", NEW]) == 1
    error = capsys.readouterr().err
    assert error.count("\n") == 1 and "uncommitted changes; commit or stash them" in error
    assert _snapshot(project) == before

    bare = generate(template_repo, tmp_path / "bare", OLDEST)
    (bare / ".copier-answers.yml").unlink()
    commit_all(bare, "no answers")
    before = _snapshot(bare)
    with pytest.raises(updater.UpdateRefused, match=r"no \.copier-answers\.yml; only a project"):
        updater.update(bare, NEW)
    assert _snapshot(bare) == before


# Files that legitimately differ between "updated from an old tag" and "fresh copy".
PROJECT_OWNED_DIFFERENCES = {
    "README.md",  # project-owned since 0.2.0: the old copy's README stays the user's
}


def test_update_equals_a_fresh_copy(template_repo, tmp_path) -> None:
    updated = generate(template_repo, tmp_path / "updated", OLDEST)
    assert updater.update(updated, NEW).status == "updated"
    fresh = generate(template_repo, tmp_path / "fresh", NEW)

    old_files, new_files = _snapshot(updated), _snapshot(fresh)
    assert sorted(old_files) == sorted(new_files)
    differing = {name for name in new_files if old_files[name] != new_files[name]}
    assert differing == PROJECT_OWNED_DIFFERENCES


def test_up_to_date_project_is_left_alone(template_repo, tmp_path) -> None:
    project = generate(template_repo, tmp_path / "project", NEW)
    head = git(project, "rev-parse", "HEAD")
    assert updater.update(project, NEW).status == "up to date"
    assert git(project, "status", "--porcelain") == ""
    assert git(project, "rev-parse", "HEAD") == head


def test_a_project_from_a_commit_between_releases_is_placed_by_ancestry(
    template_repo, tmp_path, capsys
) -> None:
    """Copier records a commit between releases as `v0.2.0-N-g<hash>`. Before, the update
    took it for older than every release: it listed the upgrade notes of releases the
    project already had, and a project past the newest release was "updated" back to it."""
    between = git(template_repo, "rev-parse", f"{NEW}~1").strip()
    project = generate(template_repo, tmp_path / "between", between)
    recorded = yaml.safe_load((project / ".copier-answers.yml").read_text())["_commit"]
    assert re.fullmatch(r"v\d+\.\d+\.\d+-\d+-g[0-9a-f]+", recorded)
    base = recorded.rsplit("-", 2)[0]

    result = updater.update(project, NEW)
    assert result.status == "updated"
    sections = re.findall(r"^#### (\S+)", result.upgrade_notes, re.M)
    assert base[1:] not in sections and all(
        updater.as_version(section) > updater.as_version(base) for section in sections
    )

    template = tmp_path / "template"
    git(tmp_path, "clone", "--quiet", str(template_repo), str(template))
    git(template, "commit", "--quiet", "--allow-empty", "-m", "work after the release")
    ahead = generate(template, tmp_path / "ahead", git(template, "rev-parse", "HEAD").strip())
    head = git(ahead, "rev-parse", "HEAD")
    assert updater.update(ahead, NEW).status == "up to date"  # never back to the release
    assert git(ahead, "rev-parse", "HEAD") == head and git(ahead, "status", "--porcelain") == ""
    assert fleet.main([str(ahead), "--to", NEW]) == 0
    assert _table(capsys.readouterr().out)[str(ahead)][3] == "up to date"


def test_newest_release_tag_is_found_by_version_not_by_name(template_repo) -> None:
    tags = updater.release_tags(str(template_repo))
    assert tags[-1] == NEW
    assert tags[: len(RELEASES)] == [r["version"] for r in RELEASES]


def _table(output: str) -> dict[str, list[str]]:
    """project -> [from, "->", to, result] from the fleet table."""
    rows = {}
    for line in output.splitlines()[1:]:
        project, before, arrow, after, result = line.split(maxsplit=4)
        rows[project] = [before, arrow, after, result]
    return rows


def break_yaml(project: Path) -> str:
    """An owner's typo in conf/envs/dev.yml that the 0.2.0 migrations must read; its line."""
    dev = project / "conf" / "envs" / "dev.yml"
    lines = dev.read_text().splitlines(keepends=True)
    lines.insert(3, "catalog: [dev\n")
    dev.write_text("".join(lines))
    commit_all(project, "typo")
    return "conf/envs/dev.yml:"


def test_fleet_reports_and_updates_what_is_behind(template_repo, tmp_path, capsys) -> None:
    current = generate(template_repo, tmp_path / "current", NEW)
    dirty = generate(template_repo, tmp_path / "dirty", OLDEST)
    (dirty / "scratch.txt").write_text("wip")
    broken = generate(template_repo, tmp_path / "broken", OLDEST)
    break_yaml_line = break_yaml(broken)
    # After the failure in the order given: one failure stops no one.
    behind = generate(template_repo, tmp_path / "behind", OLDEST)
    edit(behind / "conf/envs/prod.yml", 'webhook_url: ""', 'webhook_url: "https://hooks.invalid/x"')
    commit_all(behind, "alerts to our channel")
    everyone = [str(p) for p in (current, dirty, broken, behind)]

    assert fleet.main([str(behind), str(current), "--to", NEW]) == 0
    report = _table(capsys.readouterr().out)
    assert report[str(behind)] == [OLDEST, "->", NEW, "behind"]
    assert report[str(current)] == [NEW, "->", NEW, "up to date"]

    assert fleet.main([*everyone, "--update", "--to", NEW]) == 1
    out, err = capsys.readouterr()
    assert out.splitlines()[0].startswith("project ")  # the table, nothing before it
    report = _table(out)
    assert sorted(report) == sorted(everyone)  # the table prints every project
    branch = f"template-update/{NEW}"
    # Updated, with what the owner must do (the migration's "action needed") in its row.
    row = report[str(behind)]
    assert row[:3] == [OLDEST, "->", NEW]
    assert row[3].startswith(f"updated on {branch}; action needed (1): ")
    assert "conf/envs/prod.yml held a webhook URL (a secret)" in row[3]
    # Committed on the branch, ready for the PR; a new survey agrees with the update.
    assert git(behind, "rev-parse", "--abbrev-ref", "HEAD").strip() == branch
    assert git(behind, "status", "--porcelain") == ""
    assert f"{OLDEST} -> {NEW}" in git(behind, "log", "-1", "--format=%s")
    # The commit's body: the action as a checklist, and what the migrations printed
    # (their lines go there, not before the fleet's table); never the secret.
    message = git(behind, "log", "-1", "--format=%B")
    assert "## Action needed\n\n- [ ] conf/envs/prod.yml held a webhook URL" in message
    assert "## What the update printed" in message and "migration 0.2.0: " in message
    assert "https://hooks.invalid" not in out + err + message
    # The documented first update of a 0.1.0 project: afterwards it updates itself.
    assert (behind / "scripts" / "template_update.py").is_file()
    assert "\ntemplate-update:" in (behind / "Makefile").read_text()
    assert report[str(current)] == [NEW, "->", NEW, "up to date"]
    assert report[str(dirty)][3].startswith("refused: ") and "uncommitted" in report[str(dirty)][3]
    assert report[str(broken)][3].startswith("failed: ")
    reason = report[str(broken)][3]  # the step, the file and the line, in the table
    assert f"migration add_inference_threshold: {break_yaml_line}4: not valid YAML" in reason
    assert f"{behind}: updated on {branch}" in err and "[4/4] " in err  # progress

    assert fleet.main([str(behind), "--to", NEW]) == 0
    report = _table(capsys.readouterr().out)
    assert report[str(behind)] == [NEW, "->", NEW, "up to date"]


def _monorepo(template_repo, root: Path, names: list[str]) -> list[Path]:
    """One git repository with a project in each services/<name> folder, at OLDEST."""
    root.mkdir()
    git(root, "init", "--quiet", "--initial-branch=main")
    (root / "README.md").write_text("many projects\n")
    projects = []
    for name in names:
        project = root / "services" / name
        shutil.copytree(
            generated(template_repo, OLDEST), project, ignore=shutil.ignore_patterns(".git")
        )
        projects.append(project)
    commit_all(root, "generate the services")
    return projects


def test_a_fleet_with_conflicts_and_a_monorepo_commits_every_row_it_reports(
    template_repo, tmp_path, capsys
) -> None:
    """A conflicted project is committed on its branch with the markers (the PR shows
    them), projects sharing one repository take turns (one index.lock), nothing is left
    uncommitted on main, and a second run changes nothing."""
    conflicted = generate(template_repo, tmp_path / "conflicted", OLDEST)
    edit(conflicted / "src/churn_model/tasks/infer.py", ">= 0.5)", ">= 0.6)")
    commit_all(conflicted, "local platform patch")
    services = _monorepo(template_repo, tmp_path / "monorepo", ["scoring", "churn"])
    edit(services[1] / "src/churn_model/tasks/infer.py", ">= 0.5)", ">= 0.7)")
    commit_all(services[1], "another local patch")
    everyone = [conflicted, *services]
    mains = {repo: git(repo, "rev-parse", "main") for repo in (conflicted, tmp_path / "monorepo")}

    assert fleet.main([*map(str, everyone), "--update", "--to", NEW, "--jobs", "2"]) == 1
    report = _table(capsys.readouterr().out)
    branch = f"template-update/{NEW}"
    conflict = f"conflicts on {branch}: src/churn_model/tasks/infer.py"
    assert report[str(conflicted)] == [OLDEST, "->", NEW, conflict]
    # A project in a subfolder is told that GitHub never runs its workflows.
    unseen = "; action needed (1): this project is in services/{} of its repository"
    assert report[str(services[1])][:3] == [OLDEST, "->", NEW]
    assert report[str(services[1])][3].startswith(conflict + unseen.format("churn/"))
    assert report[str(services[0])][:3] == [OLDEST, "->", NEW]
    outcome = f"updated on {branch}" + unseen.format("scoring/")
    assert report[str(services[0])][3].startswith(outcome)
    for repo in (conflicted, tmp_path / "monorepo"):
        # What git shows agrees with the table: every update committed on the branch,
        # main as it was, nothing staged or unmerged left behind.
        assert git(repo, "status", "--porcelain", "--untracked-files=all") == ""
        assert git(repo, "rev-parse", "--abbrev-ref", "HEAD").strip() == branch
        assert git(repo, "rev-parse", "main") == mains[repo]  # main as it was
    subjects = git(tmp_path / "monorepo", "log", "--format=%s", f"main..{branch}").splitlines()
    assert len(subjects) == 2  # one commit per service
    assert "<<<<<<< before updating" in (conflicted / "src/churn_model/tasks/infer.py").read_text()

    assert fleet.main([*map(str, everyone), "--to", NEW, "--jobs", "2"]) == 0
    report = _table(capsys.readouterr().out)
    assert {tuple(row) for row in report.values()} == {(NEW, "->", NEW, "up to date")}


def test_what_an_answer_change_asks_reaches_the_summary_and_the_body(
    template_repo, tmp_path, capfd
) -> None:
    """An answer change's consequences belong to their project: in its summary line, its
    pull-request body and $GITHUB_OUTPUT. (A migration's "action needed" in the fleet
    row and the commit: test_fleet_reports_and_updates_what_is_behind.)"""
    switched = generate(template_repo, tmp_path / "switched", NEW)
    body, outputs = tmp_path / "body.md", tmp_path / "github-output"
    os.environ["GITHUB_OUTPUT"] = str(outputs)
    try:
        argv = [str(switched), "--data", "ci_auth=oauth-m2m", "--body-file", str(body)]
        assert updater.main(argv) == 0
    finally:
        del os.environ["GITHUB_OUTPUT"]
    summary = capfd.readouterr().out
    assert "answers changed: ci_auth 'github-oidc' -> 'oauth-m2m'" in summary
    assert "action needed (1): ci_auth is now oauth-m2m" in summary
    assert "DATABRICKS_CLIENT_SECRET" in summary and "DATABRICKS_AUTH_TYPE" in summary
    text = body.read_text()
    assert "## Answers changed\n\n- `ci_auth`: `github-oidc` → `oauth-m2m`" in text
    assert "- [ ] ci_auth is now oauth-m2m" in text
    assert "actions=1\n" in outputs.read_text()


def test_a_failed_migration_leaves_the_project_as_it_was_and_can_be_rerun(
    template_repo, tmp_path, capfd
) -> None:
    project = generate(template_repo, tmp_path / "project", OLDEST)
    where = break_yaml(project)
    head, before = git(project, "rev-parse", "HEAD"), _snapshot(project)

    assert updater.main([str(project), "--to", NEW]) == 1
    err = capfd.readouterr().err
    # Two lines: the migration names the file and line; the update says what to do.
    assert err.count("\n") == 2 and "Traceback" not in err
    assert f"error: migration add_inference_threshold: {where}4: not valid YAML" in err
    assert f"stopped (migration add_inference_threshold: {where}4: not valid YAML" in err
    assert "run the same update again" in err
    assert _snapshot(project) == before and git(project, "status", "--porcelain") == ""
    assert git(project, "rev-parse", "HEAD") == head

    dev = project / "conf" / "envs" / "dev.yml"
    dev.write_text(dev.read_text().replace("catalog: [dev\n", ""))
    commit_all(project, "fix the typo")
    result = updater.update(project, NEW)
    assert result.status == "updated"
    assert settings(dev)["inference"] == {"threshold": 0.5}


def test_a_project_in_a_subfolder_reports_its_conflicts(template_repo, tmp_path) -> None:
    repo = tmp_path / "monorepo"
    repo.mkdir()
    git(repo, "init", "--quiet", "--initial-branch=main")
    (repo / "README.md").write_text("many projects\n")
    project = repo / "services" / "scoring"
    copier.run_copy(
        str(template_repo), str(project), vcs_ref=OLDEST, defaults=True, unsafe=True, quiet=True
    )
    assert not (project / ".git").exists()
    commit_all(repo, "generate in a subfolder")
    edit(project / "src/churn_model/tasks/infer.py", ">= 0.5)", ">= 0.6)")
    commit_all(repo, "local platform patch")
    (repo / "elsewhere.txt").write_text("another team's work in progress")  # not ours

    result = updater.update(project, NEW)

    assert result.status == "conflicts"
    assert result.conflicts == ["src/churn_model/tasks/infer.py"]
    assert "<<<<<<< before updating" in (project / result.conflicts[0]).read_text()
    assert "- `src/churn_model/tasks/infer.py`" in updater.pull_request_body(result)
    # GitHub never runs services/scoring/.github/workflows: the owner is told.
    assert result.actions == [updater.subfolder_actions(project)[0]]
    assert "never services/scoring/.github/workflows" in result.actions[0]


def test_a_first_copy_into_a_subfolder_of_a_repository_is_refused(tmp_path, monkeypatch):
    """GitHub would never run its workflows: refused before anything is written, unless
    the team says it wires them itself; a copy into a repository's root is fine."""
    repo = tmp_path / "monorepo"
    repo.mkdir()
    git(repo, "init", "--quiet", "--initial-branch=main")
    monkeypatch.delenv(answer_rules.ALLOW_SUBFOLDER, raising=False)
    project = repo / "services" / "scoring"
    with pytest.raises(ValueError, match=r"inside the git repository .*never run"):
        copier.run_copy(str(ROOT), str(project), vcs_ref="HEAD", defaults=True, unsafe=True)
    assert not project.exists()
    assert answer_rules.subfolder_error(repo) == ""
    monkeypatch.setenv(answer_rules.ALLOW_SUBFOLDER, "1")
    assert answer_rules.subfolder_error(project) == ""


def test_a_cloud_change_brings_conf_in_line_or_shows_a_conflict(template_repo, tmp_path) -> None:
    """`--data cloud=gcp`: hosts must be given (never silently replaced by examples); the
    owner's conf/ follows the answers where it was as generated, and conflicts where the
    owner changed the same line."""
    principals = {"sp_staging_client_id": STAGING_SP, "sp_prod_client_id": PROD_SP}
    project = generate(template_repo, tmp_path / "project", NEW, cloud="aws", **principals)
    envs = project / "conf" / "envs"
    edit(envs / "prod.yml", "rows: 20000", "rows: 30000")  # the owner's own value
    aws_node = answer_rules.node_type("aws")
    edit(envs / "staging.yml", f"node_type_id: {aws_node}", "node_type_id: i3.8xlarge")
    commit_all(project, "my settings")
    before = _snapshot(project)

    with pytest.raises(updater.UpdateRefused) as refused:
        updater.update(project, NEW, data={"cloud": "gcp"})
    message = str(refused.value)
    assert "no longer valid" in message and "--data" in message and "\n" not in message
    assert "databricks_host_dev 'https://" in message  # names each answer and its values
    assert _snapshot(project) == before and git(project, "status", "--porcelain") == ""

    hosts = {f"databricks_host_{e}": f"https://ml-{e}.gcp.databricks.com" for e in ENVS}
    result = updater.update(project, NEW, data={"cloud": "gcp", **hosts})

    assert result.status == "conflicts" and result.conflicts == ["conf/envs/staging.yml"]
    gcp_node = answer_rules.node_type("gcp")
    for env in ENVS:
        text = (envs / f"{env}.yml").read_text()
        assert f"workspace_host: {hosts[f'databricks_host_{env}']}\n" in text, env
        if env != "staging":
            assert yaml.safe_load(text)["cluster"]["node_type_id"] == gcp_node, env
    staging = (envs / "staging.yml").read_text()
    assert "i3.8xlarge" in staging and gcp_node in staging and "<<<<<<< before updating" in staging
    assert "rows: 30000" in (envs / "prod.yml").read_text()
    answers = yaml.safe_load((project / ".copier-answers.yml").read_text())
    assert answers["cloud"] == "gcp" and answers["_commit"] == NEW


def test_an_answer_the_new_version_dropped_is_never_silently_replaced(template_repo, tmp_path):
    """0.1.0 offered "16.4 LTS"; the update refuses to swap it for the default unasked,
    and with the answer given on purpose, says that conf/ needs a hand edit."""
    project = generate(template_repo, tmp_path / "project", OLDEST, dbr_version="16.4 LTS")
    before = _snapshot(project)
    with pytest.raises(
        updater.UpdateRefused, match=re.escape("dbr_version '16.4 LTS' -> '17.3 LTS'")
    ):
        updater.update(project, NEW)
    assert _snapshot(project) == before

    result = updater.update(project, NEW, data={"dbr_version": "17.3 LTS"})
    assert result.status == "updated"
    assert result.actions[0].startswith("Edit by hand: conf/ was not brought in line")
    assert result.answers_changed == {"dbr_version": ("16.4 LTS", "17.3 LTS")}
    body = updater.pull_request_body(result)
    assert "## Answers changed" in body and "- [ ] Edit by hand: conf/" in body
    assert "answers changed: dbr_version '16.4 LTS' -> '17.3 LTS'" in updater.summary(result)
    dev = yaml.safe_load((project / "conf" / "envs" / "dev.yml").read_text())
    assert dev["cluster"]["spark_version"].startswith("16.4")  # the owner's file, untouched


def test_unknown_invalid_and_missing_answers_are_refused_naming_each(
    template_repo, tmp_path, capsys
) -> None:
    """A typo in --data, a value its question does not take and an answers file with a
    line deleted or mistyped are refused, each named, nothing changed; before, the typo
    was ignored, `maybe` became true and a deleted answer became its default."""
    project = generate(template_repo, tmp_path / "project", OLDEST)
    before = _snapshot(project)
    given = ["include_monitorin=false", "include_monitoring=maybe", "cloud=mars"]
    assert updater.main([str(project), "--to", NEW, *(f"--data={d}" for d in given)]) == 1
    error = capsys.readouterr().err
    assert error.count("\n") == 1 and "nothing was changed" in error
    assert (
        f"--data include_monitorin: not a question of the template at {NEW} "
        "(did you mean include_monitoring?)"
    ) in error
    assert "--data include_monitoring=maybe: not a yes/no answer" in error
    assert "--data cloud=mars: not one of aws, azure, gcp" in error
    assert _snapshot(project) == before

    answers_file = project / ".copier-answers.yml"
    recorded = yaml.safe_load(answers_file.read_text())
    for key, value, expected in (
        ("include_monitoring", None, "no answer for include_monitoring"),
        ("include_monitoring", "maybe", "include_monitoring: 'maybe': not a yes/no answer"),
        ("cloud", "mars", "cloud: 'mars': not one of aws, azure, gcp"),
    ):
        answers = {k: v for k, v in recorded.items() if k != key}
        if value is not None:
            answers[key] = value
        answers_file.write_text(yaml.safe_dump(answers))
        commit_all(project, f"answers file with {key} {value}")
        before = _snapshot(project)
        with pytest.raises(updater.UpdateRefused, match=re.escape(expected)):
            updater.update(project, NEW)
        assert _snapshot(project) == before

    current = generate(template_repo, tmp_path / "current", NEW)  # text read by its type
    result = updater.update(current, NEW, data=updater.parse_data(["include_monitoring=no"]))
    assert result.status == "updated"
    recorded = yaml.safe_load((current / ".copier-answers.yml").read_text())
    assert recorded["include_monitoring"] is False


def test_the_update_runs_the_update_logic_of_the_release_it_brings(template_repo, tmp_path):
    """A fix to the updater helps the update that brings it: the project's copy (here
    NEW's) hands over to the target release's scripts/template_update.py."""
    template = tmp_path / "template"
    git(tmp_path, "clone", "--quiet", str(template_repo), str(template))
    project = generate(template, tmp_path / "project", NEW)
    script = template / "template" / "scripts" / "template_update.py"
    main = "def main(argv: list[str] | None = None) -> int:\n"
    mark = '    Path(os.environ["UPDATER_PROBE"]).write_text(__file__)\n'
    edit(script, main, main + mark)  # the next release's updater leaves a mark
    commit_all(template, "a fix to the updater")
    git(template, "tag", "v99.1.0")
    probe = tmp_path / "probe"

    ran = subprocess.run(
        [sys.executable, "scripts/template_update.py", "--to", "v99.1.0"],
        cwd=project,
        env={**os.environ, "UPDATER_PROBE": str(probe)},
        capture_output=True,
        text=True,
    )

    assert ran.returncode == 0, ran.stderr
    assert "running the update logic of v99.1.0" in ran.stderr
    assert probe.is_file() and probe.read_text() != str(project / "scripts/template_update.py")
    assert (project / "scripts" / "template_update.py").read_text() == script.read_text()
    assert yaml.safe_load((project / ".copier-answers.yml").read_text())["_commit"] == "v99.1.0"


UPDATE_CODE = [
    ROOT / "template" / "scripts" / "template_update.py",
    ROOT / "scripts" / "fleet.py",
    ROOT / "bench" / "bench_update.py",
    *sorted((ROOT / "migrations").glob("*.py")),
]


@pytest.mark.parametrize("path", UPDATE_CODE, ids=lambda p: p.name)
def test_the_update_uses_only_copiers_public_api(path: Path) -> None:
    """No private module or name of copier (`copier._main`, `copier._template`, ...): one
    copier release that moves one would break every project's update at once."""
    used = []
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            used += [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module:
            used += [f"{node.module}.{alias.name}" for alias in node.names]
        elif isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name):
            used.append(f"{node.value.id}.{node.attr}")
    copier_names = [name for name in used if name.split(".")[0] == "copier"]
    private = [name for name in copier_names if any(p.startswith("_") for p in name.split("."))]
    assert private == []


def test_the_lowest_copier_allowed_copies_and_updates(template_repo, tmp_path) -> None:
    """`_min_copier_version` is true: that copier (in an environment of its own, with the
    plugin the projects pin) renders the template and runs an update."""
    lowest = yaml.safe_load((ROOT / "copier.yml").read_text())["_min_copier_version"]
    pins = (ROOT / "template" / "scripts" / "update-requirements.txt").read_text()
    plugin = re.search(r"^copier-template-extensions==\S+", pins, re.M).group(0)
    venv, uv = tmp_path / "copier", str(ROOT / ".tools" / "uv" / "bin" / "uv")
    environ = {**os.environ, "UV_SYSTEM_CERTS": "1"}
    for command in (
        [uv, "venv", "--quiet", "--python", sys.executable, str(venv)],
        [
            uv,
            "pip",
            "install",
            "--quiet",
            "--python",
            str(venv / "bin" / "python"),
            f"copier=={lowest}",
            plugin,
        ],
    ):
        subprocess.run(command, check=True, env=environ)
    python = str(venv / "bin" / "python")
    version = subprocess.run(
        [python, "-c", "import copier; print(copier.__version__)"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout.strip()
    assert version == lowest

    fresh = tmp_path / "fresh"
    copy = [python, "-m", "copier", "copy", "--trust", "--defaults", "--quiet"]
    subprocess.run([*copy, "--vcs-ref", NEW, str(template_repo), str(fresh)], check=True)
    assert (fresh / "scripts" / "template_update.py").is_file()

    project = generate(template_repo, tmp_path / "project", OLDEST)
    make_user_edits(project)
    script = ROOT / "template" / "scripts" / "template_update.py"
    ran = subprocess.run(
        [python, str(script), str(project), "--to", NEW], capture_output=True, text=True
    )
    assert ran.returncode == 0, ran.stderr
    assert f"{OLDEST} -> {NEW} updated" in ran.stdout
    assert '"C": 0.5' in (project / "src/churn_model/model/spec.py").read_text()


def test_renaming_through_an_update_is_refused(template_repo, tmp_path) -> None:
    project = generate(template_repo, tmp_path / "project", NEW)
    before = _snapshot(project)
    with pytest.raises(updater.UpdateRefused, match="--data package_name: renaming is not"):
        updater.update(project, NEW, data={"package_name": "other_name"})
    assert _snapshot(project) == before


ENVS = ("dev", "staging", "prod")


@pytest.mark.parametrize("monitoring", [False, True], ids=["switch-off", "switch-on"])
def test_switching_monitoring_leaves_a_consistent_project(
    template_repo, tmp_path, monitoring
) -> None:
    """`--data include_monitoring=...` on a project: code, entry points, deployment and
    config agree afterwards."""
    from test_deployment import dbx_read, deploy_vars

    principals = {"sp_staging_client_id": STAGING_SP, "sp_prod_client_id": PROD_SP}
    project = generate(
        template_repo, tmp_path / "project", NEW, include_monitoring=not monitoring, **principals
    )

    result = updater.update(project, NEW, data={"include_monitoring": monitoring})

    assert (result.status, result.to_version, result.conflicts) == ("updated", NEW, [])
    # The owner's conf/ (untouched since the copy) followed the answer: it reads exactly as
    # a fresh copy with the new answer.
    fresh = generate(
        template_repo, tmp_path / "fresh", NEW, include_monitoring=monitoring, **principals
    )
    assert _conf(project) == _conf(fresh)
    # And the whole project reads as that copy: the monitor that arrived is the one the
    # generated suite and the stand-in run (test_generated_suite.py,
    # test_runtime_standin.py), on the same conf/.
    assert _snapshot(project) == _snapshot(fresh)
    package = project / "src" / "churn_model"
    assert (package / "tasks" / "monitor.py").is_file() is monitoring
    scripts = tomllib.loads((project / "pyproject.toml").read_text())["project"]["scripts"]
    assert deploy_vars(project).returncode == 0
    for env, workflows in dbx_read(project).items():
        inference = [t["key"] for t in workflows["churn-model-batch-inference"]["tasks"]]
        assert inference == ["validate", "infer", "monitor"][: 3 if monitoring else 2], env
        for workflow in workflows.values():  # no task calls an entry point that is gone
            assert {t["entry_point"] for t in workflow["tasks"]} <= set(scripts), env


def test_inference_migration_appends_only_where_missing(tmp_path) -> None:
    envs = tmp_path / "conf" / "envs"
    envs.mkdir(parents=True)
    (envs / "dev.yml").write_text("# my comment\ncatalog: dev\n")
    (envs / "prod.yml").write_text("catalog: prod\ninference:\n  threshold: 0.7\n")
    assert migration.migrate(tmp_path) == [envs / "dev.yml"]
    dev = (envs / "dev.yml").read_text()
    assert dev.startswith("# my comment\ncatalog: dev\n")
    assert yaml.safe_load(dev)["inference"] == {"threshold": 0.5}
    assert yaml.safe_load((envs / "prod.yml").read_text())["inference"]["threshold"] == 0.7
    assert migration.migrate(tmp_path) == []  # idempotent


def test_untrue_conf_comments_are_corrected_only_where_generated(tmp_path) -> None:
    envs = tmp_path / "conf" / "envs"
    envs.mkdir(parents=True)
    corrections = correct_conf_comments.CORRECTIONS
    (old_gain, new_gain), (old_metric, new_metric) = (
        corrections["min_improvement:"],
        corrections["metric:"],
    )
    (envs / "dev.yml").write_text(
        f"evaluation:\n  metric: rmse   {old_metric}\n  min_improvement: 0.02   {old_gain}\n"
        f"# {old_gain}\n"
    )
    (envs / "prod.yml").write_text("evaluation:\n  min_improvement: 0.0   # my own note\n")
    assert correct_conf_comments.migrate(tmp_path) == [envs / "dev.yml"]
    dev = (envs / "dev.yml").read_text()
    assert dev.startswith(
        f"evaluation:\n  metric: rmse   {new_metric}\n  min_improvement: 0.02   {new_gain}\n"
    )
    assert dev.endswith(f"# {old_gain}\n")  # only the key's own line
    assert (envs / "prod.yml").read_text().endswith("# my own note\n")
    assert correct_conf_comments.migrate(tmp_path) == []  # idempotent


def test_the_corrected_comments_are_those_a_fresh_copy_has(default_project: Path) -> None:
    """An updated project's conf equals a fresh copy's: the new comments are the template's."""
    conf = default_project / "conf"
    text = (conf / "base.yml").read_text() + (conf / "envs" / "dev.yml").read_text()
    for key, (old, new) in correct_conf_comments.CORRECTIONS.items():
        (line,) = [line for line in text.splitlines() if line.lstrip().startswith(key)]
        assert line.endswith(new) and old not in text, key


TEMPLATE_MODEL = ROOT / "template" / "src" / "{{ package_name }}" / "model"


def _model_package(root: Path, init: str, spec: str) -> Path:
    model = root / "src" / "pkg" / "model"
    model.mkdir(parents=True)
    (model.parent / "__init__.py").write_text("")
    (model / "__init__.py").write_text(init)
    (model / "spec.py").write_text(spec)
    return model


def _score_column(root: Path) -> str:
    """The migrated model's contract as the platform reads it: problem type, score column."""
    show = "from pkg import model; print(model.PROBLEM_TYPE, model.SCORE_COLUMN)"
    command = [sys.executable, "-c", show]
    env = {**os.environ, "PYTHONPATH": str(root / "src")}
    return subprocess.run(command, env=env, capture_output=True, text=True, check=True).stdout


def test_score_column_migration_turns_a_generated_model_into_the_new_one(tmp_path) -> None:
    releases = {r["version"]: r["commit"] for r in RELEASES}
    path = f"{TEMPLATE_MODEL.relative_to(ROOT)}/spec.py"
    spec_0_1_0 = git(ROOT, "show", f"{releases['v0.1.0']}:{path}")
    model = _model_package(tmp_path, score_column.GENERATED_INIT_0_1_0, spec_0_1_0)
    assert score_column.migrate(tmp_path) == [model / "spec.py", model / "__init__.py"]
    for name in ("spec.py", "__init__.py"):
        assert (model / name).read_text() == (TEMPLATE_MODEL / name).read_text(), name
    assert _score_column(tmp_path) == "binary churn_probability\n"
    assert score_column.migrate(tmp_path) == []  # idempotent


def test_score_column_migration_keeps_every_line_of_an_edited_model(tmp_path) -> None:
    init = "from .spec import FEATURES, LABEL  # my own exports\n"
    spec = 'LABEL = "y"\nFEATURES = [\n    "a",\n    "b",\n]\nPARAMS = {"max_iter": 9}\n'
    model = _model_package(tmp_path, init, spec)
    assert score_column.migrate(tmp_path) == [model / "spec.py", model / "__init__.py"]
    new_spec = (model / "spec.py").read_text()
    assert new_spec.startswith(spec[: spec.index("PARAMS")])  # after the whole list
    assert new_spec.endswith('SCORE_COLUMN = "churn_probability"\nPARAMS = {"max_iter": 9}\n')
    assert (model / "__init__.py").read_text().startswith(init)
    assert _score_column(tmp_path) == "binary churn_probability\n"

    # A problem type of the project's own is kept; only the score column is added.
    mine = tmp_path / "mine"
    model = _model_package(
        mine, init, spec.replace("PARAMS", 'PROBLEM_TYPE = "regression"\nPARAMS')
    )
    score_column.migrate(mine)
    assert (model / "spec.py").read_text().count("PROBLEM_TYPE =") == 1
    assert _score_column(mine) == "regression churn_probability\n"

    # FEATURES defined elsewhere: the declaration goes into __init__.py itself.
    other = tmp_path / "other"
    model = _model_package(other, init, 'LABEL = "y"\n')
    assert score_column.migrate(other) == [model / "__init__.py"]
    assert 'SCORE_COLUMN = "churn_probability"' in (model / "__init__.py").read_text()
    assert (model / "spec.py").read_text() == 'LABEL = "y"\n'


def test_score_column_migration_names_a_broken_model_file(tmp_path) -> None:
    _model_package(tmp_path, "", "FEATURES = [\n")
    broken = r"^src/pkg/model/spec\.py:\d+: not valid Python"
    with pytest.raises(score_column.MigrationError, match=broken):
        score_column.migrate(tmp_path)


def test_notifications_migration_takes_the_author_email_once(tmp_path) -> None:
    (tmp_path / "conf").mkdir()
    project_yml = tmp_path / "conf" / "project.yml"
    project_yml.write_text("# mine\nowner_group: team\n")
    (tmp_path / ".copier-answers.yml").write_text("author_email: ds@example.com\n")
    assert add_failure_notifications.migrate(tmp_path) is True
    text = project_yml.read_text()
    assert text.startswith("# mine\nowner_group: team\n")
    assert yaml.safe_load(text)["notifications"] == {"on_failure": ["ds@example.com"]}
    assert add_failure_notifications.migrate(tmp_path) is False  # idempotent
    assert add_failure_notifications.migrate(tmp_path / "elsewhere") is False


def test_upgrade_notes_cover_exactly_the_skipped_versions() -> None:
    changelog = (
        "## [Unreleased]\n\n## [0.3.0]\n### Upgrade notes\n- three\n"
        "## [0.2.0]\n### Upgrade notes (0.1.0 projects)\n- two-a\n### Added\n- x\n"
        "### Upgrade notes\n- two\n\n## [0.1.0]\n### Upgrade notes\n- one\n"
    )
    notes = updater.upgrade_notes(changelog, "v0.1.0", "v0.3.0")
    assert "- three" in notes and "- two" in notes and "- one" not in notes
    assert "- two-a" in notes and "- x" not in notes
    assert updater.upgrade_notes(changelog, "v0.2.0", "v0.2.0") == ""


def test_every_upgrade_note_of_a_release_reaches_its_update() -> None:
    """Read line by line, not by the update script's pattern: every bullet under an
    "### Upgrade notes..." heading of each released section is in the update's notes."""
    changelog = (ROOT / "CHANGELOG.md").read_text()
    versions = [r["version"] for r in RELEASES]
    checked = 0
    for before, release in itertools.pairwise(versions):
        notes = updater.upgrade_notes(changelog, before, release)
        section = changelog.split(f"## [{release[1:]}]", 1)[1].split("\n## [", 1)[0]
        bullets, inside = [], False
        for line in section.splitlines():
            if line.startswith("#"):
                inside = line.startswith("### Upgrade notes")
            elif inside and line.startswith("- "):
                bullets.append(line)
        missing = [b for b in bullets if b not in notes]
        assert missing == [], (release, missing)
        checked += len(bullets)
    # A release may have no upgrade notes; the releases together must have some to check.
    assert checked, "no released CHANGELOG section has an upgrade note to check"


def test_webhook_migration_moves_the_url_out_of_conf_without_printing_it(tmp_path) -> None:
    import move_webhook_url_to_secret as webhook

    envs = tmp_path / "conf" / "envs"
    envs.mkdir(parents=True)
    secret = "https://hooks.example.com/T000/B000/XXXX"
    (envs / "dev.yml").write_text(
        f'monitoring:\n  bins: 10   # keep me\n  webhook_url: "{secret}"\nmlflow:\n  a: 1\n'
    )
    (envs / "local.yml").write_text('monitoring:\n  webhook_url: ""\n')
    (envs / "prod.yml").write_text("catalog: prod\n")
    result = subprocess.run(
        [sys.executable, str(ROOT / "migrations" / "move_webhook_url_to_secret.py"), tmp_path],
        capture_output=True,
        text=True,
    )
    assert result.returncode == 0, result.stderr
    assert secret not in result.stdout + result.stderr
    assert "conf/envs/dev.yml held a webhook URL" in result.stdout
    assert "local.yml held" not in result.stdout
    dev = (envs / "dev.yml").read_text()
    assert secret not in dev and "bins: 10   # keep me" in dev and "mlflow:\n  a: 1\n" in dev
    assert yaml.safe_load(dev)["monitoring"] == {"bins": 10, "webhook_secret": ""}
    local = (envs / "local.yml").read_text()
    assert "MLOPS_ALERT_WEBHOOK_URL" in local and yaml.safe_load(local)["monitoring"] is None
    assert (envs / "prod.yml").read_text() == "catalog: prod\n"
    assert webhook.migrate(tmp_path) == []  # idempotent


# The 0.2.0 migrations that run before move_shared_conf_to_base, in copier.yml's order.
CONF_MIGRATIONS = [
    "add_inference_threshold",
    "add_failure_notifications",
    "move_webhook_url_to_secret",
    "correct_conf_comments",
]
LOAD_EVERY_ENVIRONMENT = """
import json, sys
from churn_model.platform.config import ENVIRONMENTS, load_config
settings = {e: load_config(e, sys.argv[1]).env.model_dump(mode="json") for e in ENVIRONMENTS}
print(json.dumps(settings))
"""


def _loaded(conf: Path, package_src: Path) -> dict:
    """Every environment's settings, as the new platform's loader reads them."""
    result = subprocess.run(
        [sys.executable, "-c", LOAD_EVERY_ENVIRONMENT, str(conf)],
        env={**os.environ, "PYTHONPATH": str(package_src)},
        capture_output=True,
        text=True,
    )
    assert result.returncode == 0, result.stderr[-2000:]
    return json.loads(result.stdout)


def test_shared_conf_moves_to_the_base_file_and_no_setting_changes(
    template_repo, tmp_path, default_project: Path
) -> None:
    """An old project's four environment files, as the earlier migrations leave them and
    with edits of its own, after `copier update` wrote the release's conf/base.yml: every
    environment's loaded settings are the same before and after the migration."""
    project = generate(template_repo, tmp_path / "old", OLDEST)
    for name in CONF_MIGRATIONS:
        script = ROOT / "migrations" / f"{name}.py"
        subprocess.run([sys.executable, str(script), str(project)], check=True, capture_output=True)
    envs = project / "conf" / "envs"
    edit(envs / "prod.yml", "floor: 0.7 ", "floor: 0.8 ")  # prod's gate is stricter
    edit(
        envs / "dev.yml",
        "predictions: dev.churn_model.predictions",
        "predictions: dev.churn_model.scores",
    )
    shutil.copy(default_project / "conf" / "base.yml", project / "conf" / "base.yml")
    before = tmp_path / "before"
    shutil.copytree(project / "conf", before)
    src = default_project / "src"

    changed = shared_conf.migrate(project)
    assert envs / "prod.yml" in changed
    assert _loaded(project / "conf", src) == _loaded(before, src)
    loaded = _loaded(project / "conf", src)
    assert loaded["prod"]["evaluation"]["floor"] == 0.8
    assert loaded["dev"]["tables"]["predictions"] == "dev.churn_model.scores"
    base = yaml.safe_load((project / "conf" / "base.yml").read_text())
    for path in envs.glob("*.yml"):
        data = yaml.safe_load(path.read_text())
        assert "validation" not in data and "inference" not in data, path  # shared: moved
        assert "evaluation" in data, path  # prod's differs: every file keeps its own
        assert ("tables" in data) is (path.name == "dev.yml"), path  # derived names: dropped
    assert set(base) >= {"validation", "inference"}
    assert shared_conf.migrate(project) == []  # a second run changes nothing


def test_shared_conf_migration_refuses_a_move_that_would_change_a_setting(tmp_path) -> None:
    envs = tmp_path / "conf" / "envs"
    envs.mkdir(parents=True)
    for env in ("dev", "prod"):
        (envs / f"{env}.yml").write_text(
            f"catalog: {env}\nschema: s\ntables:\n  predictions: {env}.s.predictions\n"
        )
    # The owner's base.yml renames a table: the environments' full names were what kept it.
    (tmp_path / "conf" / "base.yml").write_text("tables:\n  predictions: scores\n")
    before = {p: p.read_text() for p in envs.glob("*.yml")}
    with pytest.raises(shared_conf.MigrationError, match=r"conf/envs/dev.yml: its settings"):
        shared_conf.migrate(tmp_path)
    assert {p: p.read_text() for p in envs.glob("*.yml")} == before


def test_a_migration_that_breaks_unexpectedly_is_still_named(tmp_path, monkeypatch, capsys):
    """Not only a MigrationError: any failure of a step names the step in the update's
    one line (before, "a migration failed, named above", or a bare ParserError)."""
    import _common

    error_file = tmp_path / "error"
    monkeypatch.setenv(_common.ERROR_FILE, str(error_file))

    def broken(root: Path) -> None:
        yaml.safe_load("tables: [features")

    with pytest.raises(SystemExit):
        _common.run("add_something", broken, tmp_path)
    line = error_file.read_text()
    assert line.startswith("migration add_something: ParserError: ")
    assert f"error: {line}\n" in capsys.readouterr().err


def test_a_broken_answers_file_is_named_with_its_line(template_repo, tmp_path) -> None:
    """Before, a fleet row said `failed: ParserError: ...` without the file."""
    project = generate(template_repo, tmp_path / "project", OLDEST)
    answers = project / ".copier-answers.yml"
    answers.write_text(answers.read_text() + "cloud: [aws\n")
    commit_all(project, "a typo")
    with pytest.raises(updater.UpdateRefused, match=r"\.copier-answers\.yml:\d+: not valid YAML"):
        updater.update(project, NEW)
