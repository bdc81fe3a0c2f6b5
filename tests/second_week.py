"""A team's second week, as docs/how-to.md "Bring your own data and model" walks it,
shared by the two tests that run it from a fresh copy: `make test`
(test_generated_suite.py) and `make run` (test_own_data.py), each on a copy of its own
so that the two run on both workers at once.

The copy has a real team's answers (conftest.OTHER_ANSWERS) and is set up by its own
`make setup` at the chosen runtime's Python and library versions. The data (this
module's own) has what real data has and the example lacks: int64 columns (pandas'
default, kept by Parquet), a code column of a thousand levels, three classes named by
text, and a model that calls a function of the project's `model/` package.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
from conftest import OTHER_ANSWERS, ROOT, edit, render

sys.path.insert(0, str(ROOT / "scripts"))
import runtime_standin as standin
from answers import runtimes

PACKAGE = OTHER_ANSWERS["package_name"]
UV = ROOT / ".tools" / "uv" / "bin" / "uv"  # pinned and installed by `make setup`
RUNTIMES = sorted(runtimes())  # each offered runtime (runtimes/*.yml)

SPEC = '''"""Visits triage: which care path a patient takes, from their visit history."""

from __future__ import annotations

from typing import Any

import pandas as pd
from sklearn.compose import ColumnTransformer
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import Pipeline, make_pipeline
from sklearn.preprocessing import FunctionTransformer, OneHotEncoder, StandardScaler

ID_COLUMN = "patient_id"
LABEL = "path"
NUMERIC = ["age", "visits", "cost"]
CATEGORICAL = ["diagnosis_code"]
FEATURES = NUMERIC + CATEGORICAL
PROBLEM_TYPE = "multiclass"
SCORE_COLUMN = "path_probability"

PARAMS: dict[str, Any] = {"C": 1.0, "max_iter": 300}


def as_category(frame: pd.DataFrame) -> pd.DataFrame:
    """Codes as text, whatever type the file gave them."""
    return frame.astype(str)


def build_model(params: dict[str, Any] | None = None) -> Pipeline:
    settings = {**PARAMS, **(params or {})}
    codes = make_pipeline(
        FunctionTransformer(as_category),
        OneHotEncoder(handle_unknown="infrequent_if_exist", min_frequency=5),
    )
    preprocess = ColumnTransformer(
        [("numeric", StandardScaler(), NUMERIC), ("codes", codes, CATEGORICAL)]
    )
    return Pipeline([("preprocess", preprocess), ("classifier", LogisticRegression(**settings))])
'''

SUITE = """name: features
expectations:
  - type: expect_table_row_count_to_be_between
    kwargs: {min_value: 1000}
  - type: expect_table_columns_to_match_set
    kwargs:
      column_set: [patient_id, age, visits, cost, diagnosis_code, path]
  - type: expect_column_values_to_be_unique
    kwargs: {column: patient_id}
  - type: expect_column_values_to_not_be_null
    kwargs: {column: path}
  - type: expect_column_values_to_be_between
    kwargs: {column: age, min_value: 0, max_value: 120}
"""


def visits(rows: int, seed: int) -> pd.DataFrame:
    """The team's data: int64 columns, a 1,000-level code with a long tail, three paths."""
    rng = np.random.default_rng(seed)
    codes = np.array([f"D{i:04d}" for i in range(1000)])
    weights = 1 / np.arange(1, 1001) ** 0.8
    code = rng.choice(codes, size=rows, p=weights / weights.sum())
    age = rng.integers(18, 95, size=rows)  # int64
    count = rng.poisson(4, size=rows)  # int64
    signal = (age - 55) / 20 + (count - 4) / 2 + rng.normal(scale=0.5, size=rows)
    path = np.array(["home", "clinic", "ward"])[np.digitize(signal, [-0.5, 0.5])]
    return pd.DataFrame(
        {
            "patient_id": np.arange(rows, dtype=np.int64),
            "age": age,
            "visits": count,
            "cost": np.round(rng.gamma(2.0, 150.0, size=rows) + 20 * count, 2),
            "diagnosis_code": code,
            "path": path,
        }
    )


def make(project: Path, env: dict[str, str], *args: str) -> str:
    """A target of the generated Makefile, as the data scientist types it."""
    run = subprocess.run(["make", *args], cwd=project, env=env, capture_output=True, text=True)
    assert run.returncode == 0, f"make {args}:\n" + run.stdout[-4000:] + run.stderr[-4000:]
    return run.stdout + run.stderr


def fresh_copy(tmp_path: Path, runtime: str) -> tuple[Path, dict[str, str]]:
    """A new project, committed, and its `make setup` with the runtime's Python (uv on
    the PATH, as a team that has it installs: from uv's cache, which the stand-in's
    environments of the same versions filled); the environment its commands run in."""
    project = render(tmp_path / OTHER_ANSWERS["project_slug"], **OTHER_ANSWERS, dbr_version=runtime)
    identity = ["-c", "user.name=team", "-c", "user.email=team@example.invalid"]
    for command in (["init", "-q"], ["add", "-A"], [*identity, "commit", "-qm", "copier copy"]):
        subprocess.run(["git", *command], cwd=project, check=True, capture_output=True)
    # Not this run's Python settings, nor its uv (the Makefile's UV is the one on PATH).
    ours = ("PYTHON", "MLOPS_")
    env = {
        **{k: v for k, v in os.environ.items() if not k.startswith(ours) and k != "UV"},
        "PATH": f"{UV.parent}{os.pathsep}{os.environ['PATH']}",
        "UV_SYSTEM_CERTS": "1",
        "MLOPS_LOCAL_DIR": str(tmp_path / "local"),
    }
    python = standin.find_python(str(standin.runtime_spec(runtime)["python"]))
    make(project, env, "setup", f"PYTHON={python}")
    return project, env


def bring_own_data_and_model(project: Path) -> None:
    """Steps 1 and 2 of the how-to: the team's Parquet data, its source and
    expectations, its multiclass model, and the example's generator gone with its tests."""
    model_dir = project / "src" / PACKAGE / "model"
    data = project / "data" / "visits.parquet"
    data.parent.mkdir()
    visits(6000, seed=3).to_parquet(data)
    edit(
        project / "conf" / "envs" / "local.yml",
        "  type: sample   # sample | table | file",
        "  type: file\n  path: data/visits.parquet\n  format: parquet",
    )
    (project / "conf" / "expectations" / "features.yml").write_text(SUITE)
    base = project / "conf" / "base.yml"
    edit(base, "  metric: roc_auc ", "  metric: f1_macro  # was: ")
    edit(base, "  floor: 0.7 ", "  floor: 0.5  # was: ")
    (model_dir / "spec.py").write_text(SPEC)
    (model_dir / "sample_data.py").unlink()
    (project / "tests" / "model" / "test_sample_data.py").unlink()
