"""Every rendered file is judged: no leftover Jinja, YAML parses, ruff passes."""

from __future__ import annotations

import re
import subprocess
import sys
import tomllib
from pathlib import Path

import pathspec
import yaml
from conftest import ROOT, render

JINJA_MARKERS = ("{{", "{%", "%}")
# GitHub Actions expressions are meant to survive rendering.
GITHUB_EXPRESSION = re.compile(r"\$\{\{.*?\}\}")
# Jinja that dbx renders at deploy time (tests/test_deployment.py reads it with dbx).
DBX_JINJA = Path("conf/deployment.yml")


def text_files(project: Path):
    for path in sorted(project.rglob("*")):
        if path.is_file() and ".git" not in path.parts and path.relative_to(project) != DBX_JINJA:
            try:
                yield path, GITHUB_EXPRESSION.sub("", path.read_text(encoding="utf-8"))
            except UnicodeDecodeError:
                continue


def test_no_unrendered_jinja(matrix_project) -> None:
    _, project = matrix_project
    leftovers = [
        f"{path.relative_to(project)}: {marker}"
        for path, text in text_files(project)
        for marker in JINJA_MARKERS
        if marker in text
    ]
    assert leftovers == []


def test_no_template_suffix_or_directory_left(matrix_project) -> None:
    _, project = matrix_project
    names = [str(path.relative_to(project)) for path in project.rglob("*")]
    assert not [name for name in names if name.endswith(".jinja") or "{" in name]


def test_every_yaml_file_parses(matrix_project) -> None:
    _, project = matrix_project
    files = [
        p
        for p in project.rglob("*")
        if p.suffix in (".yml", ".yaml") and p.relative_to(project) != DBX_JINJA
    ]
    assert len(files) >= 6
    for path in files:
        assert yaml.safe_load(path.read_text()) is not None, path


def test_pyproject_parses_and_declares_one_script(matrix_project) -> None:
    """One console script, `<slug> <task>`: the tasks are the registry's, not scripts."""
    _, project = matrix_project
    pyproject = tomllib.loads((project / "pyproject.toml").read_text())
    assert pyproject["project"]["scripts"] == {"churn-model": "churn_model.cli:main"}
    for task in ("ingest", "validate", "train", "evaluate", "promote", "infer"):
        assert (project / "src" / "churn_model" / "tasks" / f"{task}.py").is_file()
    assert pyproject["tool"]["hatch"]["version"]["source"] == "vcs"


def test_monitoring_answer_switches_the_monitor_task(matrix_project) -> None:
    answers, project = matrix_project
    monitoring = answers["include_monitoring"]
    package = project / "src" / "churn_model"
    assert (package / "tasks" / "monitor.py").is_file() is monitoring
    assert (package / "monitoring" / "drift.py").is_file() is monitoring
    assert (project / "tests" / "unit" / "test_monitor.py").is_file() is monitoring
    # The registry leaves the task out without its module; the CLI imports either way.
    result = subprocess.run(
        [sys.executable, "-c", "from churn_model import cli; print(cli.PIPELINE[-1])"],
        cwd=project,
        env={"PYTHONPATH": "src", "PATH": "/usr/bin:/bin"},
        capture_output=True,
        text=True,
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == ("monitor" if monitoring else "infer")


def test_ruff_passes_on_generated_python(matrix_project) -> None:
    _, project = matrix_project
    for args in (["check", "."], ["format", "--check", "."]):
        result = subprocess.run(
            [sys.executable, "-m", "ruff", *args], cwd=project, capture_output=True, text=True
        )
        assert result.returncode == 0, result.stdout + result.stderr


def test_answers_drive_the_config(matrix_project) -> None:
    answers, project = matrix_project
    recorded = yaml.safe_load((project / ".copier-answers.yml").read_text())
    for key, value in answers.items():
        assert recorded[key] == value
    assert recorded["_src_path"] == str(ROOT)
    dev = yaml.safe_load((project / "conf" / "envs" / "dev.yml").read_text())
    node_types = {"aws": "m5d.xlarge", "azure": "Standard_D4ds_v5", "gcp": "n2-standard-4"}
    assert dev["cluster"]["node_type_id"] == node_types[answers["cloud"]]
    assert dev["cluster"]["spark_version"] == "17.3.x-cpu-ml-scala2.13"
    assert "tables" not in dev  # derived from catalog and schema
    assert ("monitoring" in dev) is answers["include_monitoring"]
    readme = (project / "README.md").read_text()
    if answers["ci_auth"] == "github-oidc":
        assert "GitHub OIDC workload identity federation" in readme
    else:
        assert "OAuth M2M client secret" in readme


def test_the_platform_names_no_part_of_the_example(default_project: Path) -> None:
    """Everything about the churn example lives in the project's own model/ (and its own
    tests, conf and notebooks); the package's platform code is the same for any model."""
    (package,) = (default_project / "src").iterdir()
    named = [
        str(path.relative_to(default_project))
        for path in sorted(package.rglob("*.py"))
        if "model" not in path.relative_to(package).parts
        and "churn" in path.read_text(encoding="utf-8").lower().replace(package.name, "")
    ]
    assert named == []
    assert any("churn" in p.read_text().lower() for p in (package / "model").glob("*.py"))


def test_derived_values_stay_out_of_the_answers_file(default_project: Path) -> None:
    recorded = yaml.safe_load((default_project / ".copier-answers.yml").read_text())
    assert not {"spark_version", "node_type_id", "python_version"} & recorded.keys()


def test_missing_service_principals_become_a_todo(tmp_path: Path, default_project: Path) -> None:
    assert "**To do:**" in (default_project / "README.md").read_text()
    project = render(
        tmp_path / "p",
        sp_staging_client_id="0f3c2b6e-5d7a-4c1b-9e8f-1a2b3c4d5e6f",
        sp_prod_client_id="9a8b7c6d-5e4f-4a3b-8c2d-1e0f9a8b7c6d",
    )
    assert "**To do:**" not in (project / "README.md").read_text()
    conf = yaml.safe_load((project / "conf" / "project.yml").read_text())
    assert conf["service_principals"]["prod"] == "9a8b7c6d-5e4f-4a3b-8c2d-1e0f9a8b7c6d"


def test_every_offered_runtime_has_its_data_file_and_sets_the_cluster(tmp_path: Path) -> None:
    """A runtime is offered only with the facts the stand-in runtime check runs on."""
    from answers import runtimes

    offered = yaml.safe_load((ROOT / "copier.yml").read_text())["dbr_version"]["choices"]
    known = runtimes()
    assert offered and set(offered) == set(known)
    for name in offered:
        project = render(tmp_path / name.replace(" ", "-"), dbr_version=name)
        prod = yaml.safe_load((project / "conf" / "envs" / "prod.yml").read_text())
        assert prod["cluster"]["spark_version"] == known[name]["spark_version"]
        assert (project / ".python-version").read_text().strip() == known[name]["python"]
        assert known[name]["spark_version"].split(".")[0] == name.split(".")[0]


def test_generated_dev_extra_matches_the_shared_environment(default_project: Path) -> None:
    """The template's tests run projects in .venv; both must pin the same stack."""

    def pins(lines) -> dict[str, str]:
        result = {}
        for line in lines:
            line = line.split("#")[0].strip().strip('",')
            if line and line[0].isalpha():
                name, _, spec = line.partition(">=")
                result[name.strip()] = ">=" + spec if spec else ""
        return result

    shared = pins((ROOT / "requirements-dev.txt").read_text().splitlines())
    pyproject = tomllib.loads((default_project / "pyproject.toml").read_text())
    extras = pyproject["project"]["optional-dependencies"]
    platform = pyproject["tool"]["hatch"]["metadata"]["hooks"]["custom"]["platform-dependencies"]
    generated = pins(extras["local"] + extras["dev"][1:] + platform)
    assert generated, "no pins found"
    for name, spec in generated.items():
        assert shared.get(name) == spec, f"{name}: project {spec} vs template {shared.get(name)}"


def test_generated_gitignore_keeps_tool_envs_and_deploy_state_out(default_project: Path) -> None:
    ignored = pathspec.PathSpec.from_lines(
        "gitwildmatch", (default_project / ".gitignore").read_text().splitlines()
    )
    for path in (".venv-dbx/bin/python", ".dbx/project.json", ".dbx/vars.yml", "dist/x.whl"):
        assert ignored.match_file(path), path
    assert not ignored.match_file("conf/deployment.yml")
