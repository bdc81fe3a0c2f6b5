"""A data scientist's second week, as docs/how-to.md "Bring your own data and model" walks
it: a fresh copy, their own Parquet data and model, the example removed, then a second
model of another problem type on the same data, each run with the project's own `make
run`. The champion is loaded where the project is not installed.

The data (this test's own) has what real data has and the example lacks: int64 columns
(pandas' default, kept by Parquet), a code column of a thousand levels, three classes
named by text, and a model that calls a function of the project's `model/` package.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from conftest import ROOT, edit, render

pytestmark = pytest.mark.spark

PACKAGE = "churn_model"  # the default answers' package: the test's own fixture
UV = ROOT / ".tools" / "uv" / "bin" / "uv"  # pinned and installed by `make setup`

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
    """A target of the generated Makefile, as the data scientist types it, with the
    template's environment as the project's (`make setup`'s own tests install it)."""
    command = ["make", *args, f"PY={sys.executable}"]
    run = subprocess.run(command, cwd=project, env=env, capture_output=True, text=True)
    assert run.returncode == 0, f"make {args}:\n" + run.stdout[-4000:] + run.stderr[-4000:]
    return run.stdout + run.stderr


def show(project: Path, env: dict[str, str], code: str) -> object:
    """`code`'s last line's value, computed in the project as a notebook cell would."""
    prelude = (
        f"import json; from {PACKAGE}.platform.config import load_config;"
        f"from {PACKAGE}.platform import tracking;"
        f"from {PACKAGE}.platform.spark import get_spark;"
        f"from {PACKAGE}.platform.tables import resolve;"
        "config = load_config('local', 'conf'); client = tracking.configure(config);"
    )
    run = subprocess.run(
        [sys.executable, "-c", prelude + code], cwd=project, env=env, capture_output=True, text=True
    )
    assert run.returncode == 0, run.stderr[-4000:]
    return json.loads(run.stdout.strip().splitlines()[-1])


def load_where_the_project_is_not(model: Path, rows: pd.DataFrame, tmp_path: Path) -> list:
    """The logged model in a fresh environment that has only its logged requirements
    (as Model Serving builds it), outside the project: its predictions."""
    venv = tmp_path / "serving"
    env = {**os.environ, "UV_SYSTEM_CERTS": "1", "VIRTUAL_ENV": str(venv)}
    env.pop("PYTHONPATH", None)
    subprocess.run([UV, "venv", "--quiet", "--python", sys.executable, venv], env=env, check=True)
    requirements = model / "requirements.txt"
    install = [UV, "pip", "install", "--quiet", "--python", venv / "bin" / "python"]
    subprocess.run([*install, "-r", requirements], env=env, check=True)
    python = venv / "bin" / "python"
    absent = subprocess.run([python, "-c", f"import {PACKAGE}"], cwd=tmp_path, capture_output=True)
    assert absent.returncode != 0, f"{PACKAGE} is installed in the serving environment"
    rows.to_json(tmp_path / "rows.json", orient="records")
    code = (
        "import json, sys, mlflow, pandas as pd;"
        "rows = pd.read_json(sys.argv[2], orient='records', dtype=False);"
        "model = mlflow.pyfunc.load_model(sys.argv[1]);"
        "print(json.dumps(model.predict(rows).tolist()))"
    )
    loaded = subprocess.run(
        [python, "-c", code, str(model), str(tmp_path / "rows.json")],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
    )
    assert loaded.returncode == 0, loaded.stderr[-3000:]
    return json.loads(loaded.stdout.strip().splitlines()[-1])


def test_own_data_and_models_from_a_fresh_copy(tmp_path: Path) -> None:
    project = render(tmp_path / "visits")
    env = {**os.environ, "MLOPS_LOCAL_DIR": str(tmp_path / "local"), "PYTHONPATH": "src"}
    model_dir = project / "src" / PACKAGE / "model"

    # 1. The team's data, as the how-to says: a Parquet file, a source, expectations.
    data = project / "data" / "visits.parquet"
    data.parent.mkdir()
    visits(6000, seed=3).to_parquet(data)
    local = project / "conf" / "envs" / "local.yml"
    edit(
        local,
        "  type: sample   # sample | table | file",
        "  type: file\n  path: data/visits.parquet\n  format: parquet",
    )
    (project / "conf" / "expectations" / "features.yml").write_text(SUITE)
    base = project / "conf" / "base.yml"
    edit(base, "  metric: roc_auc ", "  metric: f1_macro  # was: ")
    edit(base, "  floor: 0.7 ", "  floor: 0.5  # was: ")
    # 2. Their model, and the example's generator gone with its tests.
    (model_dir / "spec.py").write_text(SPEC)
    (model_dir / "sample_data.py").unlink()
    (project / "tests" / "model" / "test_sample_data.py").unlink()

    # 3. The suite without the example still collects (its platform tests run on a toy
    # model, whatever model/ holds: test_generated_suite.py runs them), then the pipeline.
    collected = subprocess.run(
        [sys.executable, "-m", "pytest", "--collect-only", "-q", "-p", "no:cacheprovider"],
        cwd=project,
        env=env,
        capture_output=True,
        text=True,
    )
    assert collected.returncode == 0, collected.stdout[-3000:] + collected.stderr[-3000:]
    assert "tests/unit/" in collected.stdout and "test_sample_data" not in collected.stdout
    make(project, env, "run")

    scored = show(
        project,
        env,
        "p = get_spark().read.table(resolve(config.env.tables.predictions)).toPandas();"
        "print(json.dumps([len(p), sorted(p['prediction'].unique()),"
        " sorted(dict(p['class_probabilities'].iloc[0]))]))",
    )
    assert scored == [6000, ["clinic", "home", "ward"], ["clinic", "home", "ward"]]
    # A batch from the training distribution: no drift on the thousand-level code.
    drifted = show(
        project,
        env,
        "d = get_spark().read.table(resolve(config.env.tables.drift_metrics)).toPandas();"
        "print(json.dumps([sorted(d['feature'].unique().tolist()),"
        " sorted(d[d['drifted']]['feature'].unique().tolist())]))",
    )
    monitored, drifted = drifted
    assert "diagnosis_code" in monitored, monitored  # judged, not left out
    assert "diagnosis_code" not in drifted, drifted
    # The champion loads and scores where the project is not installed.
    champion = show(
        project,
        env,
        "import mlflow;"
        "print(json.dumps(mlflow.artifacts.download_artifacts("
        "f'models:/{config.model_name}@champion', dst_path='" + str(tmp_path / "champion") + "')))",
    )
    # A caller sends integer features as doubles, as the logged signature says (train logs
    # them so, so that a missing value can be scored).
    rows = visits(20, seed=11).drop(columns=["path", "patient_id"])
    predicted = load_where_the_project_is_not(
        Path(champion), rows.astype({"age": float, "visits": float}), tmp_path
    )
    assert len(predicted) == 20 and all(len(row) == 3 for row in predicted)

    # 4. A second model on the same data, of another problem type: the multiclass
    # champion is not comparable, so the regression is judged by its floor alone.
    edit(model_dir / "spec.py", 'LABEL = "path"', 'LABEL = "cost"')
    edit(
        model_dir / "spec.py", 'NUMERIC = ["age", "visits", "cost"]', 'NUMERIC = ["age", "visits"]'
    )
    edit(model_dir / "spec.py", 'PROBLEM_TYPE = "multiclass"', 'PROBLEM_TYPE = "regression"')
    edit(model_dir / "spec.py", "LogisticRegression(**settings)", "Ridge()")
    edit(
        model_dir / "spec.py",
        "from sklearn.linear_model import LogisticRegression",
        "from sklearn.linear_model import Ridge",
    )
    edit(model_dir / "spec.py", '"classifier"', '"regressor"')
    edit(base, "  metric: f1_macro ", "  metric: rmse  # was: f1_macro ")
    edit(base, "  floor: 0.5 ", "  floor: 1000.0  # rmse at most; was: 0.5 ")
    # Its prediction is a value, not a class: scores of its own go to a table of its own.
    with local.open("a") as out:
        out.write("\ntables:\n  predictions: cost_predictions\n")
    make(project, env, "run", "TASKS=train evaluate promote infer")

    judged = show(
        project,
        env,
        "e = get_spark().read.table(resolve(config.env.tables.evaluations)).toPandas();"
        "last = e.sort_values('evaluated_at').iloc[-1];"
        "p = get_spark().read.table(resolve(config.env.tables.predictions));"
        "print(json.dumps([bool(last['passed']), last['reason'], dict(p.dtypes)['prediction']]))",
    )
    assert judged[0] is True and judged[2] == "double", judged
    assert "not comparable" in judged[1] and "multiclass" in judged[1], judged
