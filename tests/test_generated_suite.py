"""The generated project's whole suite, once: with a real team's answers
(conftest.OTHER_ANSWERS), on the Python and libraries of each offered runtime.

Its own file, so that xdist runs it beside the stand-in (test_runtime_standin.py), in an
environment of its own (`.venv-runtime/<runtime>-suite`), built like the stand-in's.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import OTHER_ANSWERS, ROOT, render

sys.path.insert(0, str(ROOT / "scripts"))
import runtime_standin as standin
from answers import runtimes


@pytest.mark.spark
@pytest.mark.parametrize("runtime", sorted(runtimes()))
def test_generated_suite_passes_on_the_runtime_python_and_libraries(
    runtime: str, tmp_path: Path
) -> None:
    project = render(tmp_path / OTHER_ANSWERS["project_slug"], **OTHER_ANSWERS, dbr_version=runtime)
    spec = standin.runtime_spec(runtime)
    python = standin.runtime_env(spec, standin.SUITE)
    wheel = standin.build_wheel(project, tmp_path / "dist")
    standin.install_wheel(python, wheel, spec, tmp_path)  # the project's dependencies
    env = {
        **{k: v for k, v in os.environ.items() if not k.startswith(("PYTHON", "MLOPS_"))},
        "PYTHONPATH": "src",
        "MLOPS_LOCAL_DIR": str(tmp_path / "local"),
    }
    command = [str(python), "-m", "pytest", "-q", "-p", "no:cacheprovider"]
    result = subprocess.run(
        command, cwd=project, env=env, capture_output=True, text=True, timeout=2400
    )
    assert result.returncode == 0, result.stdout[-4000:] + result.stderr[-2000:]
    assert " passed" in result.stdout and "skipped" not in result.stdout
