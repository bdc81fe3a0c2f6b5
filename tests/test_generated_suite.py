"""The generated project's whole suite, once: `make test` of a fresh copy with a real
team's answers (conftest.OTHER_ANSWERS), set up by its own `make setup` at the Python
and library versions of each offered runtime, after the team brought its own data and
model and removed the example (second_week.py, as docs/how-to.md walks it).

The platform's tests run on their own toy model and fixtures, so they pass whatever the
project's data and model are; this run is where that shows. Its own file, so that xdist
runs it beside the stand-in (test_runtime_standin.py); the same second week's `make run`
is test_own_data.py, on a copy of its own, on the other worker.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from second_week import RUNTIMES, bring_own_data_and_model, fresh_copy, make


@pytest.mark.spark
@pytest.mark.parametrize("runtime", RUNTIMES)
def test_generated_suite_passes_on_the_runtime_with_a_teams_own_data_and_model(
    runtime: str, tmp_path: Path
) -> None:
    project, env = fresh_copy(tmp_path, runtime)
    bring_own_data_and_model(project)
    output = make(project, env, "test")
    assert " passed" in output and "skipped" not in output, output[-3000:]
