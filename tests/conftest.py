"""Render the template with real Copier from this checkout into temp dirs."""

from __future__ import annotations

import itertools
import os
import shutil
import sys
import tempfile
from pathlib import Path

import copier
import pytest

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "extensions"))

CLOUDS = ("aws", "azure", "gcp")
CI_AUTHS = ("github-oidc", "oauth-m2m")
MONITORING = (True, False)
STAGING_SP = "11111111-aaaa-4bbb-8ccc-000000000001"
PROD_SP = "11111111-aaaa-4bbb-8ccc-000000000002"
MATRIX = [
    {
        "cloud": cloud,
        "ci_auth": auth,
        "include_monitoring": monitoring,
        "sp_staging_client_id": STAGING_SP,
        "sp_prod_client_id": PROD_SP,
    }
    for cloud, auth, monitoring in itertools.product(CLOUDS, CI_AUTHS, MONITORING)
]
# Answers a real team gives: nothing may assume the template's defaults. The generated
# suite runs once, with these, on the runtime stand-in (test_runtime_standin.py: the
# runtime's Python and libraries). Monitoring stays on, so that its code and tests run;
# the project without it is rendered, linted and deployed in the static tier.
OTHER_ANSWERS = {
    "project_name": "Fraud Scoring",
    "project_slug": "fraud-scoring",
    "package_name": "fraudscore",
    "schema_name": "fraud",
    "catalog_dev": "ml_dev",
    "catalog_staging": "ml_staging",
    "catalog_prod": "ml_prod",
    "cloud": "azure",
    "ci_auth": "oauth-m2m",
    "include_monitoring": True,
}


def matrix_id(answers: dict) -> str:
    monitoring = "monitoring" if answers["include_monitoring"] else "no-monitoring"
    return f"{answers['cloud']}-{answers['ci_auth']}-{monitoring}"


def edit(path: Path, old: str, new: str) -> None:
    """Replace the first `old` in `path` with `new`; `old` must be there."""
    text = path.read_text()
    assert old in text, f"{path} lacks {old!r}"
    path.write_text(text.replace(old, new, 1))


def render(dst: Path, **data) -> Path:
    """Copy the template (working tree included) with defaults for unanswered questions."""
    copier.run_copy(
        str(ROOT),
        str(dst),
        data=data,
        defaults=True,
        unsafe=True,
        vcs_ref="HEAD",
        quiet=True,
    )
    return dst


@pytest.fixture(scope="session")
def default_project(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return render(tmp_path_factory.mktemp("default") / "churn-model")


@pytest.fixture(scope="session", params=MATRIX, ids=matrix_id)
def matrix_project(request, tmp_path_factory: pytest.TempPathFactory) -> tuple[dict, Path]:
    answers = request.param
    dst = tmp_path_factory.mktemp(matrix_id(answers)) / "project"
    return answers, render(dst, **answers)


# ---------------------------------------------------------------- the two tiers
# A test that starts a JVM (local Spark, a generated project's suite or pipeline) carries
# the `spark` marker; every other test is in the static tier. Every test without the
# marker runs with a `java` that refuses to start (on PATH and as JAVA_HOME), so a test
# that starts a JVM without the marker fails, in either tier (docs/contributing.md).
SPARK = "spark"
# Asking the real java for its version (the generated Makefile's check-java) is a tool
# check, not a workload: the guard answers it with the real java.
JVM_GUARD = """#!/bin/sh
if [ "$1" = "-version" ] && [ $# -eq 1 ]; then exec "$JVM_GUARD_REAL_JAVA" -version; fi
echo "$PYTEST_CURRENT_TEST" >> "$JVM_GUARD_TRIPWIRE"
echo "error: a JVM was started by a test without the '{marker}' marker (tests/conftest.py)" >&2
exit 97
"""
_GUARD = pytest.StashKey[dict]()  # the guard's folder, tripwire and both environments


def pytest_configure(config: pytest.Config) -> None:
    guard = Path(tempfile.mkdtemp(prefix="jvm-guard-"))
    (guard / "bin").mkdir()
    java = guard / "bin" / "java"
    java.write_text(JVM_GUARD.format(marker=SPARK))
    java.chmod(0o755)
    real_java = shutil.which("java") or "java"
    config.stash[_GUARD] = {
        "tripwire": guard / "tripwire",
        "guarded": {
            "PATH": f"{guard / 'bin'}{os.pathsep}{os.environ.get('PATH', '')}",
            "JAVA_HOME": str(guard),
            "JVM_GUARD_REAL_JAVA": real_java,
            "JVM_GUARD_TRIPWIRE": str(guard / "tripwire"),
        },
        "real": {key: os.environ.get(key) for key in ("PATH", "JAVA_HOME")},
        "folder": guard,
    }


def pytest_unconfigure(config: pytest.Config) -> None:
    if _GUARD in config.stash:
        _set_env(config.stash[_GUARD]["real"])
        shutil.rmtree(config.stash[_GUARD]["folder"], ignore_errors=True)


def _set_env(values: dict[str, str | None]) -> None:
    for key, value in values.items():
        if value is None:
            os.environ.pop(key, None)
        else:
            os.environ[key] = value


# xdist hands out whole files (`--dist loadfile`: each file's session and module fixtures,
# such as the stand-in's project, are built by one worker, once), in this order
# (`--no-loadscope-reorder`). Each worker starts with two files: the stand-in (about 4
# min) and the generated suite (about 16 min), each with a short one behind it; the
# other Spark files (the own-data pipelines, `make run`, the lifecycle benchmark: about
# 10 min together) then go to the stand-in's worker as it frees, then the static tier to
# both. (The own-data file behind the generated suite made that worker's share 21 min.)
FIRST_FILES = (
    "test_runtime_standin.py",
    "test_generated_suite.py",
    "test_tiers.py",
    "test_answers.py",
)


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    def order(item: pytest.Item) -> tuple[int, bool]:
        name = item.path.name
        rank = FIRST_FILES.index(name) if name in FIRST_FILES else len(FIRST_FILES)
        return (rank, not item.get_closest_marker(SPARK))

    items.sort(key=order)  # stable: each file's own order within each class


@pytest.hookimpl(tryfirst=True)
def pytest_runtest_setup(item: pytest.Item) -> None:
    """Before the item's fixtures: the real java for Spark tests, the guard for the rest."""
    state = item.config.stash[_GUARD]
    _set_env(state["real"] if item.get_closest_marker(SPARK) else state["guarded"])


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo):
    report = yield
    tripwire = item.config.stash[_GUARD]["tripwire"]
    if report.when == "teardown" and tripwire.is_file() and tripwire.read_text().strip():
        tripwire.unlink()
        report.outcome = "failed"
        report.longrepr = (
            f"{item.nodeid} started a JVM (local Spark) without the '{SPARK}' marker: "
            f"mark it @pytest.mark.{SPARK} so that it runs in the Spark tier"
        )
    return report
