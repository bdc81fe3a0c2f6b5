"""Render the template with real Copier from this checkout into temp dirs."""

from __future__ import annotations

import itertools
import sys
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
# suite runs once with the defaults (test_generated_project.py, the template's Python)
# and once with these (test_runtime_standin.py, the runtime's Python and libraries).
OTHER_ANSWERS = {
    "project_name": "Fraud Scoring",
    "project_slug": "fraud-scoring",
    "package_name": "fraudscore",
    "schema_name": "fraud",
    "catalog_dev": "ml_dev",
    "catalog_staging": "ml_staging",
    "catalog_prod": "ml_prod",
    "include_monitoring": False,
}


def matrix_id(answers: dict) -> str:
    monitoring = "monitoring" if answers["include_monitoring"] else "no-monitoring"
    return f"{answers['cloud']}-{answers['ci_auth']}-{monitoring}"


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
