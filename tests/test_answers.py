"""Answer validation: the rules in extensions/answers.py, through real Copier."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

import answers
import pytest
import yaml
from conftest import ROOT, render

QUESTIONS = yaml.safe_load((ROOT / "copier.yml").read_text())

# (answers, question whose validator must reject them, expected message part)
INVALID = [
    ({"project_slug": "churn model"}, "project_slug", "'churn model' is not a valid slug"),
    ({"project_slug": "ChurnModel"}, "project_slug", "'ChurnModel' is not a valid slug"),
    ({"project_slug": "1churn"}, "project_slug", "'1churn' is not a valid slug"),
    ({"project_slug": "ab"}, "project_slug", "'ab' is not a valid slug"),
    ({"package_name": "class"}, "package_name", "'class' is a Python keyword"),
    ({"package_name": "json"}, "package_name", "would shadow the standard-library module 'json'"),
    ({"package_name": "mlflow"}, "package_name", "would shadow the dependency module 'mlflow'"),
    ({"package_name": "churn-model"}, "package_name", "is not a valid Python identifier"),
    ({"author_email": "ml-team.example.com"}, "author_email", "is not an e-mail address"),
    ({"github_org": "-my-org"}, "github_org", "'-my-org' is not a GitHub owner name"),
    (
        {"databricks_host_dev": "http://dev.cloud.databricks.com"},
        "databricks_host_dev",
        "'http://dev.cloud.databricks.com' must start with https://",
    ),
    (
        {"cloud": "azure", "databricks_host_staging": "https://x.cloud.databricks.com"},
        "databricks_host_staging",
        "'x.cloud.databricks.com' is not a Databricks workspace host on azure",
    ),
    (
        {"databricks_host_prod": "https://prod.cloud.databricks.com/jobs"},
        "databricks_host_prod",
        "must be a bare workspace URL",
    ),
    ({"catalog_dev": "Dev-Catalog"}, "catalog_dev", "is not a valid Unity Catalog name"),
    ({"schema_name": "1schema"}, "schema_name", "'1schema' is not a valid Unity Catalog name"),
    ({"project_group": "!devs"}, "project_group", "'!devs' is not a valid group name"),
    ({"sp_staging_client_id": "not-a-uuid"}, "sp_staging_client_id", "is not an application id"),
    (
        {"sp_prod_client_id": "12345678123456781234567812345678"},
        "sp_prod_client_id",
        "is not an application id",
    ),
    (
        {"sp_staging_client_id": "0A1B2C3D-0000-4000-8000-00000000ABCD"},
        "sp_staging_client_id",
        "expected a lower-case UUID",  # conf/ refuses it: every task would fail
    ),
    ({"project_name": "  "}, "project_name", "must not be empty"),
]


@pytest.mark.parametrize(("data", "question", "expected"), INVALID, ids=lambda v: str(v)[:40])
def test_copier_rejects_invalid_answer(tmp_path: Path, data, question, expected) -> None:
    with pytest.raises(ValueError) as caught:
        render(tmp_path / "project", **data)
    message = str(caught.value)
    assert message.startswith(f"Validation error for question '{question}': ")
    assert expected in message
    assert not (tmp_path / "project" / "pyproject.toml").exists(), "nothing is rendered"


def test_enough_distinct_invalid_inputs() -> None:
    assert len({repr(data) for data, _, _ in INVALID}) >= 12


@pytest.mark.parametrize("value", ["churn-model", "abc", "a" + "-b" * 19, "fraud-detection-2"])
def test_valid_slugs(value: str) -> None:
    assert answers.slug_error(value) == ""


@pytest.mark.parametrize(
    ("cloud", "host"),
    [
        ("aws", "https://dbc-a1b2c3d4-e5f6.cloud.databricks.com"),
        ("azure", "https://adb-1234567890123456.7.azuredatabricks.net/"),
        ("gcp", "https://1234567890123456.7.gcp.databricks.com"),
    ],
)
def test_real_workspace_hosts_pass(cloud: str, host: str) -> None:
    assert answers.host_error(host, cloud) == ""


def test_defaults_are_derived_from_the_name(tmp_path: Path) -> None:
    project = render(tmp_path / "p", project_name="Fraud Detection 2")
    recorded = yaml.safe_load((project / ".copier-answers.yml").read_text())
    assert recorded["project_slug"] == "fraud-detection-2"
    assert recorded["package_name"] == "fraud_detection_2"
    assert recorded["schema_name"] == "fraud_detection_2"
    assert recorded["project_group"] == "fraud-detection-2-developers"
    assert (project / "src" / "fraud_detection_2" / "cli.py").is_file()


def test_slug_and_package_can_be_overridden(tmp_path: Path) -> None:
    project = render(tmp_path / "p", project_slug="churn-v2", package_name="churnlib")
    recorded = yaml.safe_load((project / ".copier-answers.yml").read_text())
    assert (recorded["project_slug"], recorded["package_name"]) == ("churn-v2", "churnlib")
    assert (project / "src" / "churnlib").is_dir()


def test_defaults_pass_their_own_validators() -> None:
    assert answers.slug_error(answers.slugify("Churn Model")) == ""
    for cloud in answers.CLOUD_HOST_SUFFIXES:
        assert answers.host_error(answers.example_host(cloud, "churn-model", "dev"), cloud) == ""


def test_no_question_asks_for_a_secret() -> None:
    """Nor for a secret's address (a webhook URL): they go in secret stores, not answers."""
    questions = {key: value for key, value in QUESTIONS.items() if not key.startswith("_")}
    secretive = re.compile(r"token|secret|password|pat\b|api[_-]?key|webhook|_url$", re.IGNORECASE)
    for key, spec in questions.items():
        assert not secretive.search(key), key
        assert not spec.get("secret", False), key


def test_every_asked_question_has_help_and_free_text_has_a_validator() -> None:
    for key, spec in QUESTIONS.items():
        if key.startswith("_") or spec.get("when") is False:
            continue
        assert spec.get("help"), f"{key} has no help"
        if spec["type"] == "str" and "choices" not in spec:
            assert spec.get("validator"), f"{key} is free text without a validator"


def test_derived_values() -> None:
    assert answers.spark_version("17.3 LTS") == "17.3.x-cpu-ml-scala2.13"
    assert answers.node_type("azure") == "Standard_D4ds_v5"
    for key in ("spark_version", "node_type_id"):
        assert QUESTIONS[key]["when"] is False


# Answers near each rule's edges: the answers' check and conf/'s must agree on each.
EDGE_CASES = {
    "slug": ["churn-model", "abc", "ab", "Churn-model", "1churn", "a" * 40, "a" * 41, "a_b"],
    "uc_identifier": ["ml_dev", "m", "ML_dev", "_ml", "9ml", "a" * 255, "a" * 256, "ml-dev"],
    "application_id": [
        "00000000-0000-4000-8000-000000000001",
        "ABCDEF00-0000-4000-8000-000000000001",
        "00000000-0000-4000-8000-00000000001",
        "00000000000040008000000000000001",
    ],
}
CONF_VERDICTS = """
import json, sys
from pydantic import ValidationError
import importlib
config = importlib.import_module(PACKAGE + '.platform.config')

def accepts(check, value):
    try:
        check(value)
    except (ValueError, ValidationError):
        return False
    return True

cases = json.loads(sys.argv[1])
checks = {
    "slug": lambda v: config.ProjectInfo.model_validate({**PROJECT, "slug": v}),
    "uc_identifier": lambda v: config.ModelInfo.model_validate({"name": v}),
    "application_id": lambda v: config.ServicePrincipals.model_validate({"staging": v}),
}
print(json.dumps({rule: [accepts(checks[rule], v) for v in cases[rule]] for rule in cases}))
"""


def test_an_answer_copier_accepts_is_one_conf_accepts(default_project: Path) -> None:
    """The answers land in conf/, which the project checks on every load: both tools
    must give the same verdict, the extension reading conf/'s own patterns."""
    info = yaml.safe_load((default_project / "conf" / "project.yml").read_text())["project"]
    code = CONF_VERDICTS.replace("PROJECT", repr(info)).replace("PACKAGE", repr(info["package"]))
    result = subprocess.run(
        [sys.executable, "-c", code, json.dumps(EDGE_CASES)],
        cwd=default_project,
        env={"PYTHONPATH": str(default_project / "src"), "PATH": "/usr/bin:/bin"},
        capture_output=True,
        text=True,
    )
    assert result.returncode == 0, result.stderr[-2000:]
    conf = json.loads(result.stdout)
    copier = {
        "slug": [answers.slug_error(v) == "" for v in EDGE_CASES["slug"]],
        "uc_identifier": [
            answers.uc_identifier_error(v) == "" for v in EDGE_CASES["uc_identifier"]
        ],
        "application_id": [
            answers.optional_uuid_error(v) == "" for v in EDGE_CASES["application_id"]
        ],
    }
    assert copier == conf
    assert all(any(verdicts) and not all(verdicts) for verdicts in conf.values())


def test_a_conf_pattern_that_is_not_a_literal_is_named(tmp_path: Path) -> None:
    module = tmp_path / "config.py"
    module.write_text(
        'SLUG_PATTERN = r"^[a-z]+$"\nUC_NAME_PATTERN = "^x$"\n'
        'APPLICATION_ID_PATTERN = "^" + "[0-9a-f]{32}$"\n'
    )
    with pytest.raises(RuntimeError) as error:
        answers.conf_patterns(module)
    assert str(error.value) == (
        f"{module}: APPLICATION_ID_PATTERN must be assigned a string literal"
    )
