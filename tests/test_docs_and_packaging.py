"""The docs site builds strictly; the generated project builds a deployable wheel."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
import tomllib
import zipfile
from pathlib import Path

import pathspec
import yaml
from conftest import ROOT
from packaging.requirements import Requirement


def build_docs(project: Path, site: Path) -> None:
    result = subprocess.run(
        [sys.executable, "-m", "mkdocs", "build", "--strict", "--site-dir", str(site)],
        cwd=project,
        env={**os.environ, "NO_MKDOCS_2_WARNING": "1"},
        capture_output=True,
        text=True,
    )
    assert result.returncode == 0, result.stderr


def test_template_docs_build_strict(tmp_path: Path) -> None:
    build_docs(ROOT, tmp_path)
    page = (tmp_path / "index.html").read_text()
    assert "fonts.googleapis.com" not in page
    # The questions reference is generated from copier.yml: every asked question is in
    # it with its rule, and no derived value is.
    reference = (tmp_path / "getting-started" / "index.html").read_text()
    questions = yaml.safe_load((ROOT / "copier.yml").read_text())
    for key, question in questions.items():
        if key.startswith("_"):
            continue
        listed = f"<td><code>{key}</code></td>" in reference
        assert listed is (question.get("when") is not False), key
    assert "An e-mail address (<code>name@domain.tld</code>)." in reference


def test_generated_project_docs_build_strict(default_project: Path, tmp_path: Path) -> None:
    build_docs(default_project, tmp_path)
    reference = (tmp_path / "configuration" / "index.html").read_text()
    # Generated from the config models: every key, nested ones included.
    keys = ("sample.rows", "evaluation.floor", "inference.threshold", "notebook_tasks[].task_key")
    for key in keys:
        assert f"<td><code>{key}</code></td>" in reference, key
    assert "fonts.googleapis.com" not in (tmp_path / "index.html").read_text()


def _build_wheel(project: Path, out: Path) -> subprocess.CompletedProcess:
    return subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "wheel",
            "--no-deps",
            "--no-build-isolation",
            "--wheel-dir",
            str(out),
            str(project),
        ],
        capture_output=True,
        text=True,
    )


def _requires(wheel: Path) -> list[str]:
    """The wheel's own dependencies (not its extras), as its METADATA lists them."""
    archive = zipfile.ZipFile(wheel)
    (metadata,) = [n for n in archive.namelist() if n.endswith(".dist-info/METADATA")]
    return [
        line.split(":", 1)[1].strip()
        for line in archive.read(metadata).decode().splitlines()
        if line.startswith("Requires-Dist:") and "extra ==" not in line
    ]


def test_generated_wheel_carries_package_conf_and_entry_points(
    default_project: Path, tmp_path: Path
) -> None:
    result = _build_wheel(default_project, tmp_path)
    assert result.returncode == 0, result.stdout + result.stderr
    (wheel,) = tmp_path.glob("churn_model-*.whl")
    names = set(zipfile.ZipFile(wheel).namelist())
    assert "churn_model/tasks/ingest.py" in names
    # Only what jobs run: the admin and CI tools stay in the checkout.
    assert (default_project / "src" / "churn_model" / "admin" / "deployment.py").is_file()
    assert [n for n in names if n.startswith("churn_model/admin")] == []
    assert "churn_model/_conf/project.yml" in names
    assert {f"churn_model/_conf/envs/{env}.yml" for env in ("dev", "staging", "prod")} <= names
    (entry_points,) = [n for n in names if n.endswith("entry_points.txt")]
    text = zipfile.ZipFile(wheel).read(entry_points).decode()
    assert "churn-model = churn_model.cli:main" in text

    # A job on Databricks has no conf/ in its working directory: it reads the packaged one.
    target = tmp_path / "site"
    subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "install",
            "--quiet",
            "--no-deps",
            "--target",
            str(target),
            str(wheel),
        ],
        check=True,
    )
    probe = (
        "from churn_model.platform.config import load_config\n"
        "for env in ('dev', 'staging', 'prod'):\n"
        "    print(load_config(env).model_name)\n"
    )
    workdir = tmp_path / "job"
    workdir.mkdir()
    loaded = subprocess.run(
        [sys.executable, "-c", probe],
        cwd=workdir,
        env={**os.environ, "PYTHONPATH": str(target)},
        capture_output=True,
        text=True,
    )
    assert loaded.returncode == 0, loaded.stderr
    assert loaded.stdout.split() == [
        "dev.churn_model.churn_model",
        "staging.churn_model.churn_model",
        "prod.churn_model.churn_model",
    ]
    # Lineage is baked in at build time: a cluster has no checkout to ask.
    baked = json.loads(zipfile.ZipFile(wheel).read("churn_model/_build_info.json"))
    answers = yaml.safe_load((default_project / ".copier-answers.yml").read_text())
    assert baked["template_version"] == str(answers["_commit"])
    assert set(baked) == {"git_commit", "template_version"}
    # One parser of the answers' `_commit`: platform/lineage.py's, which the hook loads.
    assert "_commit:" not in (default_project / "hatch_build.py").read_text()
    # The runtime lacks Great Expectations: the wheel must bring it.
    assert any(r.startswith("great-expectations") for r in _requires(wheel))


def _normalised(requirements: list[str]) -> list[str]:
    return sorted(str(Requirement(line)) for line in requirements)


def test_the_models_requirements_file_is_declared_by_the_wheel(
    default_project: Path, tmp_path: Path
) -> None:
    """Job clusters install the wheel: the model's own libraries come with it."""
    project = tmp_path / "project"
    shutil.copytree(default_project, project, ignore=shutil.ignore_patterns(".git"))
    requirements = project / "src" / "churn_model" / "model" / "requirements.txt"
    requirements.write_text("# the model's\nlightgbm>=4  # boosting\nxgboost; python_version<'3'\n")

    result = _build_wheel(project, tmp_path / "dist")
    assert result.returncode == 0, result.stdout + result.stderr
    (wheel,) = (tmp_path / "dist").glob("churn_model-*.whl")
    platform = tomllib.loads((project / "pyproject.toml").read_text())["tool"]["hatch"]
    platform = platform["metadata"]["hooks"]["custom"]["platform-dependencies"]
    expected = [*platform, "lightgbm>=4", "xgboost; python_version<'3'"]
    assert _normalised(_requires(wheel)) == _normalised(expected)
    # Train reads the file beside the model on the cluster, from the installed wheel.
    assert "churn_model/model/requirements.txt" in zipfile.ZipFile(wheel).namelist()

    requirements.write_text("lightgbm>=4\n--index-url https://example.com\n")
    result = _build_wheel(project, tmp_path / "broken")
    assert result.returncode != 0
    assert (
        "src/churn_model/model/requirements.txt line 2: '--index-url https://example.com': "
        "pip options cannot be declared in a wheel"
    ) in result.stdout + result.stderr


def _tree(markdown: str) -> dict[str, str]:
    """Path -> owner for every file in the first `my-project/` tree of a page."""
    block = markdown.split("```text\nmy-project/\n", 1)[1].split("```", 1)[0]
    entries: dict[str, str] = {}
    parents: list[str] = []
    for line in block.splitlines():
        match = re.match(r"^((?:│   |    )*)(?:├── |└── )(\S+)\s*(\S*)", line)
        assert match, f"not a tree line: {line!r}"
        depth, name, owner = len(match.group(1)) // 4, match.group(2), match.group(3)
        parents[depth:] = [name]
        if not name.endswith("/"):
            entries["".join(parents)] = owner
    return entries


def test_generated_project_tree_lists_every_file_and_its_owner(default_project: Path) -> None:
    listed = {
        path.replace("<package>", "churn_model"): owner
        for path, owner in _tree((ROOT / "docs" / "generated-project.md").read_text()).items()
    }
    files = subprocess.run(
        ["git", "ls-files", "--others", "--exclude-standard"],
        cwd=default_project,
        capture_output=True,
        text=True,
        check=True,
    ).stdout.split()
    assert set(listed) == set(files)
    # The owner column is what copier.yml enforces: project files are skipped if present.
    rules = yaml.safe_load((ROOT / "copier.yml").read_text())["_skip_if_exists"]
    project_owned = pathspec.PathSpec.from_lines("gitignore", rules)
    for path, owner in listed.items():
        assert owner == ("project" if project_owned.match_file(path) else "platform"), path


def test_each_room_says_who_owns_its_files() -> None:
    """The rooms table agrees with the tree (and so with copier.yml): a room "you" change
    holds project files, any other room platform files, but for the files it names."""
    text = (ROOT / "docs" / "generated-project.md").read_text()
    listed = _tree(text)
    section = text.split("## Rooms", 1)[1].split("## Every file", 1)[0]
    rows = [line.strip("|").split(" | ") for line in section.splitlines() if line[:3] == "| `"]
    assert len(rows) >= 8
    for room_cell, _, who in rows:
        mine = who.strip().split(";")[0] == "you"
        named = set(re.findall(r"`([^`]+)`", who))
        for room in re.findall(r"`([^`]+)`", room_cell):
            files = [p for p in listed if p == room or (room.endswith("/") and p.startswith(room))]
            assert files, f"room {room} is not in the tree"
            for path in files:
                project = mine != (path.rsplit("/", 1)[-1] in named)
                assert listed[path] == ("project" if project else "platform"), (room, path)


def test_what_runs_where_is_the_generated_deployment_page(default_project, tmp_path) -> None:
    """One text for the template's page and the project's docs/deployment.md."""
    build_docs(ROOT, tmp_path / "template")
    build_docs(default_project, tmp_path / "project")
    template = (tmp_path / "template" / "what-runs-where" / "index.html").read_text()
    project = (tmp_path / "project" / "deployment" / "index.html").read_text()
    for text in ("Which identity needs which grant", "/Volumes/", "READ_VOLUME", "run_as"):
        assert text in template and text in project, text


def test_docs_name_only_the_console_scripts_the_wheel_has(default_project: Path) -> None:
    """A command in the docs (a code span that starts with it and goes on with its
    arguments) is one the project installs: `<slug> rollback`, not a `<slug>-rollback`
    that no wheel provides. (Job and group names, `<slug>-training`, stand alone.)"""
    pyproject = tomllib.loads((default_project / "pyproject.toml").read_text())
    scripts = set(pyproject["project"]["scripts"])
    (slug,) = scripts  # one console script for every task (the tasks' registry)
    pages = [*sorted((default_project / "docs").rglob("*.md")), default_project / "README.md"]
    pages += sorted((ROOT / "docs").rglob("*.md"))
    named = {
        (page.name, command)
        for page in pages
        for command in re.findall(
            rf"`({re.escape(slug)}[\w-]*) ", page.read_text().replace("<slug>", slug)
        )
    }
    assert {(page, command) for page, command in named if command not in scripts} == set()
    assert any(command == slug for _, command in named)  # the check reads the commands


def test_the_dev_executor_installs_the_project_before_it_imports_it(default_project) -> None:
    """On a dev cluster the runtime lacks the project's own libraries: the executor's
    first code cells install the project from the Git folder (`..` of notebooks/, where a
    notebook runs) and restart Python, before any cell imports the package. Off
    Databricks the magic is a comment and the restart is skipped (its local runs: the
    generated suite's test_notebook.py)."""
    notebook = default_project / "notebooks" / "dev_workflow_executor.py"
    text = notebook.read_text().removeprefix("# Databricks notebook source\n")
    cells = [c.strip() for c in text.split("# COMMAND ----------")]
    code = [c for c in cells if not c.startswith("# MAGIC %md")]
    assert code[0] == "# MAGIC %pip install --quiet .."
    assert "dbutils.library.restartPython()" in code[1]
    assert 'if "dbutils" in globals():' in code[1]
    first_import = next(i for i, c in enumerate(code) if "from churn_model" in c)
    assert first_import == 2
    assert (default_project / "notebooks" / ".." / "pyproject.toml").is_file()


def test_every_decision_record_has_one_format() -> None:
    """Each ADR: `# N. Title`, its date and status, then Context, Decision and
    Consequences, in that order (amendments below them, one level down)."""
    records = sorted((ROOT / "docs" / "adr").glob("[0-9][0-9][0-9][0-9]-*.md"))
    assert len(records) > 20, records
    for number, path in enumerate(records, 1):
        lines = path.read_text().splitlines()
        assert int(path.name[:4]) == number, f"{path.name}: numbers have a gap"
        assert re.fullmatch(rf"# {number}\. \S.*", lines[0]), f"{path.name}: {lines[0]}"
        assert re.fullmatch(r"- Date: \d{4}-\d{2}-\d{2}", lines[2]), f"{path.name}: {lines[2]}"
        assert re.fullmatch(r"- Status: \S.*", lines[3]), f"{path.name}: {lines[3]}"
        sections = [line[3:] for line in lines if line.startswith("## ")]
        assert sections[:3] == ["Context", "Decision", "Consequences"], (path.name, sections)
