"""The default project's pipeline as `make demo` runs it, and its Makefile and CLI.

The generated project's own suite runs once, with a real team's answers and its own
data and model, on the runtime's versions (test_generated_suite.py)."""

from __future__ import annotations

import ast
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import ROOT, render

sys.path.insert(0, str(ROOT / "scripts"))
import runtime_standin as standin
from answers import runtimes


def _run(args: list[str], cwd: Path, tmp_path: Path) -> subprocess.CompletedProcess:
    env = {**os.environ, "MLOPS_LOCAL_DIR": str(tmp_path / "local"), "PYTHONPATH": "src"}
    return subprocess.run(args, cwd=cwd, env=env, capture_output=True, text=True, timeout=1800)


@pytest.mark.spark
def test_make_run_runs_the_local_pipeline(default_project: Path, tmp_path: Path) -> None:
    """`make demo`'s commands: the pipeline, then a drifted second batch."""
    result = _run(["make", "run", "drift-demo", f"PY={sys.executable}"], default_project, tmp_path)
    assert result.returncode == 0, result.stdout[-4000:] + result.stderr[-4000:]
    for task in ("ingest", "validate", "train", "evaluate", "promote", "infer"):
        assert f"{task}: done" in result.stderr
    # The long steps say what they are working on, with sizes, before they do it.
    assert "ingest: writing the example's generator (" in result.stderr
    assert "train: fitting on " in result.stderr and " training rows of " in result.stderr
    # The log a person reads holds what the tasks did, not tool noise.
    for noise in ("Calculating Metrics", "HiveAlterHandler", "Integer columns in Python"):
        assert noise not in result.stdout + result.stderr, noise
    assert "rows=5000" in result.stdout
    assert "champion=1" in result.stdout
    table = tmp_path / "local" / "warehouse" / "local__churn_model.db" / "features"
    assert (table / "_delta_log").is_dir()
    # The demo's second batch drifted, and its report says so in its first line.
    reports = sorted(
        (tmp_path / "local" / "reports").glob("*.html"), key=lambda p: p.stat().st_mtime
    )
    assert len(reports) == 2
    assert "No drift: all" in reports[0].read_text()
    assert "<strong>Drift in " in reports[-1].read_text()


def test_cli_fails_early_on_bad_config(default_project: Path, tmp_path: Path) -> None:
    conf = tmp_path / "conf"
    shutil.copytree(default_project / "conf", conf)
    local = conf / "envs" / "local.yml"
    local.write_text(local.read_text().replace("rows: 5000", "rows: many"))
    command = [sys.executable, "-m", "churn_model", "ingest", "--conf-dir", str(conf)]
    result = _run(command, default_project, tmp_path)
    assert result.returncode == 1
    errors = [line for line in result.stderr.splitlines() if "ERROR" in line]
    assert len(errors) == 1
    assert "local.yml: sample.rows: Input should be a valid integer" in errors[0]


# Stands in for the interpreter in `make setup`: `-m venv DIR` makes DIR/bin/python (this
# script), and `-m pip install -e .[dev]` prints what pip prints while it downloads, then
# exits with $FAKE_PIP_EXIT. The real install (1 GB) is what the stand-in runtime and the
# generated suites already exercise; this checks what the Makefile shows and propagates.
FAKE_PYTHON = """#!/bin/bash
if [ "$1 $2" = "-m venv" ]; then mkdir -p "$3/bin" && cp "$0" "$3/bin/python"; exit 0; fi
case "$*" in
  *"-e .[dev]"*)
    printf 'Collecting pyspark<4.1\\n  Downloading pyspark.tar.gz (434 MB)\\n'
    printf 'Collecting mlflow\\nSuccessfully installed mlflow pyspark\\n'
    exit "${FAKE_PIP_EXIT:-0}";;
esac
"""


def make_setup(project: Path, tmp_path: Path, pip_exit: int = 0) -> subprocess.CompletedProcess:
    """`make setup` in `project` with FAKE_PYTHON as the interpreter, into tmp_path/venv,
    run as a person runs it (not as a sub-make of the template's `make test`)."""
    python = tmp_path / "python"
    python.write_text(FAKE_PYTHON)
    python.chmod(0o755)
    venv = tmp_path / "venv"
    # UV= : the pip path, whatever uv the machine has (the uv path: tests/second_week.py).
    command = ["make", "--no-print-directory", "setup", f"PYTHON={python}", f"VENV={venv}", "UV="]
    env = {k: v for k, v in os.environ.items() if not k.startswith(("MAKE", "MFLAGS"))}
    env["FAKE_PIP_EXIT"] = str(pip_exit)
    return subprocess.run(command, cwd=project, env=env, capture_output=True, text=True, timeout=60)


@pytest.mark.parametrize("pip_exit", [0, 1])
def test_make_setup_shows_progress_and_fails_with_pip(
    default_project: Path, tmp_path: Path, pip_exit: int
) -> None:
    python, venv = tmp_path / "python", tmp_path / "venv"
    result = make_setup(default_project, tmp_path, pip_exit)
    lines = result.stdout.splitlines()
    # Each stage is announced, and each package pip fetches shows as it comes.
    assert f"setup: creating {venv} with {python}" in lines
    assert "  Collecting pyspark<4.1" in lines and "  Collecting mlflow" in lines
    assert not any("Downloading" in line for line in lines)  # the filter keeps it short
    if pip_exit == 0:
        assert result.returncode == 0, result.stderr
        assert "setup: done; next: make test, make run" in lines
        assert (venv / ".installed").is_file()
    else:  # a failed install fails setup, and the next `make setup` tries again
        assert result.returncode != 0
        assert "setup: done" not in result.stdout
        assert not (venv / ".installed").exists()


def test_make_setup_installs_again_when_the_models_requirements_change(
    default_project: Path, tmp_path: Path
) -> None:
    """`make setup` after adding a library to model/requirements.txt (as the how-to says)
    installs it; with nothing changed it does nothing."""
    project = tmp_path / "project"
    shutil.copytree(default_project, project)

    def setup() -> str:
        result = make_setup(project, tmp_path)
        assert result.returncode == 0, result.stderr
        return result.stdout

    assert "setup: done" in setup()
    assert "setup: done" not in setup()  # up to date: nothing installed
    (requirements,) = (project / "src").glob("*/model/requirements.txt")
    stamp = (tmp_path / "venv" / ".installed").stat().st_mtime_ns
    os.utime(requirements, ns=(stamp + 10**9, stamp + 10**9))  # edited after the install
    assert "  Collecting mlflow" in setup().splitlines()


@pytest.mark.parametrize("runtime", sorted(runtimes()))
def test_make_setup_installs_the_clusters_versions(runtime: str, tmp_path: Path) -> None:
    """The project's own environment (and so its CI checks) runs the libraries its
    clusters run: `make setup` installs with the runtime's versions as constraints, from
    the one data file per runtime, and the project's requirements admit them (uv's
    resolver; pip's rules)."""
    project = render(tmp_path / "p", dbr_version=runtime)
    spec = standin.runtime_spec(runtime)
    shipped = (project / "runtime-constraints.txt").read_text().splitlines()
    assert [line for line in shipped if not line.startswith("#")] == standin.pins(spec)
    makefile = (project / "Makefile").read_text()
    assert "$(VENV)/.installed: pyproject.toml runtime-constraints.txt" in makefile
    assert '--constraint runtime-constraints.txt -e ".[dev]"' in makefile
    uv = ROOT / ".tools" / "uv" / "bin" / "uv"  # pinned and installed by `make setup`
    assert uv.is_file(), "uv is missing: `make setup` installs it"
    python = str(spec["python"])
    command = [uv, "pip", "compile", "--quiet", "--python-version", python, "--constraint"]
    command += ["runtime-constraints.txt", "pyproject.toml", "--extra", "dev"]
    # The same resolution from uv's cache alone (which `make setup` filled) when it holds
    # every package's index page: 0.3 s instead of 10 s of index requests; else online.
    for mode in (["--offline"], []):
        resolved = subprocess.run(
            [*command, *mode],
            cwd=project,
            env={**os.environ, "UV_SYSTEM_CERTS": "1"},  # as the Makefile runs uv
            capture_output=True,
            text=True,
        )
        if resolved.returncode == 0:
            break
    assert resolved.returncode == 0, resolved.stderr
    versions = {
        name.lower(): version
        for name, _, version in (
            line.partition("==") for line in resolved.stdout.splitlines() if "==" in line
        )
    }
    for pin in standin.pins(spec):
        name, _, version = pin.partition("==")
        assert versions.get(name.lower()) == version, (pin, versions.get(name.lower()))


def imports_of(path: Path, src: Path) -> set[str]:
    """The modules a file under `src` imports, relative imports resolved (`from . import
    x` counts both the package and `package.x`, which may be a module)."""
    package = path.relative_to(src).with_suffix("").parts[:-1]  # its package's parts
    found = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = list(package[: len(package) - node.level + 1]) if node.level else []
            target = ".".join([*base, *([node.module] if node.module else [])])
            found.add(target)
            found.update(f"{target}.{alias.name}" for alias in node.names)
    return found


def test_nothing_in_the_platform_imports_the_tasks_or_the_admin_tools(
    default_project: Path,
) -> None:
    """The platform is the core the tasks and the admin tools are built on; an import
    the other way (config.py read the task registry's workflows) makes a cycle between
    the packages, and a task or tool of the project's a dependency of the core."""
    package = "churn_model"
    platform = default_project / "src" / package / "platform"
    files = sorted(platform.glob("*.py"))
    assert len(files) > 5, files
    upward = {
        f"{path.name}: {target}"
        for path in files
        for target in imports_of(path, default_project / "src")
        if target.split(".")[:2] in ([package, "tasks"], [package, "admin"], [package, "cli"])
    }
    assert not upward, sorted(upward)


LONGEST_FUNCTION = 80  # lines, decorators and docstring included


def test_no_function_of_the_generated_package_is_longer_than_a_screen(
    default_project: Path,
) -> None:
    """A long function holds several policies at once (bootstrap.build was 285 lines,
    monitor.run 116): each step of its own is read, tested and changed alone."""
    long = []
    for path in sorted((default_project / "src").rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
                start = min([node.lineno, *(d.lineno for d in node.decorator_list)])
                if node.end_lineno - start + 1 > LONGEST_FUNCTION:
                    long.append(f"{path.name}:{node.name} ({node.end_lineno - start + 1} lines)")
    assert not long, long


def test_the_example_generator_goes_with_its_tests(default_project: Path) -> None:
    """The docs let a project that reads its own data delete model/sample_data.py with
    tests/model/test_sample_data.py: then nothing imports it (platform tests use the
    toy's generator; ingest imports the example only for `source.type: sample`). Before,
    the model test's import broke `make test`. The suite without both files runs in
    test_generated_suite.py (the project's `make test`) and test_own_data.py (`make run`)."""
    how_to = (default_project / "docs" / "how-to.md").read_text()
    deleted = ["src/churn_model/model/sample_data.py", "tests/model/test_sample_data.py"]
    for name in deleted:
        assert f"`{name.replace('churn_model', '<package>')}`" in how_to, name
        assert (default_project / name).is_file(), name
    imports = []
    for path in [*default_project.glob("src/**/*.py"), *default_project.glob("tests/**/*.py")]:
        if str(path.relative_to(default_project)) in deleted:
            continue
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.ImportFrom):
                names = [node.module or "", *(f"{node.module}.{a.name}" for a in node.names)]
            elif isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            else:
                continue
            if any(name.endswith("sample_data") for name in names):
                imports.append(str(path.relative_to(default_project)))
    assert imports == []
