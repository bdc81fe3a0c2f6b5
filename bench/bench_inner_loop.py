"""Inner-loop benchmark: how long a data scientist waits for `make run`.

    make bench            (or: .venv/bin/python bench/bench_inner_loop.py)

Renders a default project and times, one after the other in the same local directory:
the first `make run` (empty tables and registry; Ivy cache warm), a second `make run`
on the unchanged sample (ingest skips the unchanged source; the gate then rejects an
equal model, which is the expected exit 1), and `make run TASKS="train evaluate"` (a
model change tried alone). Not a test: the numbers depend on the machine.
"""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import copier

ROOT = Path(__file__).resolve().parents[1]
TARGET_SECONDS = 60


def make(project: Path, env: dict[str, str], *args: str) -> tuple[float, int]:
    started = time.perf_counter()
    result = subprocess.run(
        ["make", *args, f"PY={sys.executable}"], cwd=project, env=env, capture_output=True
    )
    return time.perf_counter() - started, result.returncode


def main() -> int:
    with tempfile.TemporaryDirectory() as tmp:
        project = Path(tmp) / "project"
        copier.run_copy(
            str(ROOT), str(project), defaults=True, unsafe=True, vcs_ref="HEAD", quiet=True
        )
        env = {**os.environ, "MLOPS_LOCAL_DIR": str(Path(tmp) / "local"), "PYTHONPATH": "src"}
        rows = [
            ("make run, first", *make(project, env, "run")),
            ("make run, unchanged source", *make(project, env, "run")),
            ('make run TASKS="train evaluate"', *make(project, env, "run", "TASKS=train evaluate")),
        ]
    print(f"{'measure':<34} {'seconds':>8} {'exit':>5}  target")
    for name, seconds, code in rows:
        target = f"< {TARGET_SECONDS} s" if name != "make run, first" else "(reported)"
        print(f"{name:<34} {seconds:8.1f} {code:5d}  {target}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
