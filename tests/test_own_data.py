"""A data scientist's second week, as docs/how-to.md "Bring your own data and model"
walks it, through the project's own `make run`: from a fresh copy set up by its `make
setup` at the runtime's versions, their own Parquet data and model, the example removed
(second_week.py; `make test` of the same recipe is test_generated_suite.py), then a second
model of another problem type on the same data. The champion is loaded where the project
is not installed.
"""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path

import pandas as pd
import pytest
from conftest import edit
from second_week import (
    PACKAGE,
    RUNTIMES,
    UV,
    bring_own_data_and_model,
    fresh_copy,
    make,
    visits,
)

pytestmark = pytest.mark.spark


def show(project: Path, env: dict[str, str], code: str) -> object:
    """`code`'s last line's value, computed in the project's environment as a notebook
    cell would."""
    prelude = (
        f"import json; from {PACKAGE}.platform.config import load_config;"
        f"from {PACKAGE}.platform import tracking;"
        f"from {PACKAGE}.platform.spark import get_spark;"
        f"from {PACKAGE}.platform.tables import resolve;"
        "config = load_config('local', 'conf'); client = tracking.configure(config);"
    )
    run = subprocess.run(
        [project / ".venv" / "bin" / "python", "-c", prelude + code],
        cwd=project,
        env=env,
        capture_output=True,
        text=True,
    )
    assert run.returncode == 0, run.stderr[-4000:]
    return json.loads(run.stdout.strip().splitlines()[-1])


def load_where_the_project_is_not(
    model: Path, rows: pd.DataFrame, base: Path, tmp_path: Path
) -> list:
    """The logged model in a fresh environment of `base`'s Python that has only its
    logged requirements (as Model Serving builds it), outside the project: its
    predictions."""
    venv = tmp_path / "serving"
    env = {**os.environ, "UV_SYSTEM_CERTS": "1", "VIRTUAL_ENV": str(venv)}
    env.pop("PYTHONPATH", None)
    subprocess.run([UV, "venv", "--quiet", "--python", base, venv], env=env, check=True)
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


@pytest.mark.parametrize("runtime", RUNTIMES)
def test_own_data_and_models_from_a_fresh_copy(runtime: str, tmp_path: Path) -> None:
    project, env = fresh_copy(tmp_path, runtime)
    python = project / ".venv" / "bin" / "python"
    # The example's own tests pass (on the runtime's versions) before the team removes it.
    example = subprocess.run(
        [python, "-m", "pytest", "-q", "-p", "no:cacheprovider", "tests/model"],
        cwd=project,
        env=env,
        capture_output=True,
        text=True,
    )
    assert example.returncode == 0 and " passed" in example.stdout, example.stdout[-3000:]

    # 1 and 2: the team's data, expectations and model; the example gone with its tests.
    bring_own_data_and_model(project)
    model_dir = project / "src" / PACKAGE / "model"
    local = project / "conf" / "envs" / "local.yml"
    base = project / "conf" / "base.yml"
    # 3. The pipeline (`make test` of the same recipe: test_generated_suite.py).
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
        Path(champion), rows.astype({"age": float, "visits": float}), python, tmp_path
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
