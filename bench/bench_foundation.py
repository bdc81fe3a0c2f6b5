"""Foundation benchmark: prints a table of wall times against their targets.

    make bench            (or: .venv/bin/python bench/bench_foundation.py [--repeat N])

Measures `copier copy` of this checkout, the generated project's `make test-unit` (the
target) and its integration tests (reported), and the first start of a local Spark
session with Delta (Ivy cache warm). Not a test: the numbers depend on the machine;
the table says what they were here.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import copier

ROOT = Path(__file__).resolve().parents[1]


def timed(func) -> float:
    started = time.perf_counter()
    func()
    return time.perf_counter() - started


def copy_once(dst: Path) -> None:
    copier.run_copy(str(ROOT), str(dst), defaults=True, unsafe=True, vcs_ref="HEAD", quiet=True)


def run(command: list[str], cwd: Path, env: dict[str, str]) -> None:
    result = subprocess.run(command, cwd=cwd, env=env, capture_output=True, text=True)
    if result.returncode != 0:
        sys.exit(f"{' '.join(command)} failed:\n{result.stdout[-2000:]}{result.stderr[-2000:]}")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--repeat", type=int, default=3, help="copies to time (median)")
    args = parser.parse_args()
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        tmp_path = Path(tmp)
        copies = [timed(lambda i=i: copy_once(tmp_path / f"copy{i}")) for i in range(args.repeat)]
        rows.append(("copier copy (median)", statistics.median(copies), "< 2 s"))

        project = tmp_path / "copy0"
        env = {**os.environ, "MLOPS_LOCAL_DIR": str(tmp_path / "local"), "PYTHONPATH": "src"}
        # The unit suite as a data scientist runs it (tests/unit and tests/model).
        unit = ["make", "test-unit", f"PY={sys.executable}"]
        rows.append(("generated make test-unit", timed(lambda: run(unit, project, env)), "< 60 s"))
        integration = [sys.executable, "-m", "pytest", "-q", "tests/integration"]
        suite = timed(lambda: run(integration, project, env))
        rows.append(("generated integration tests (pytest)", suite, "reported"))

        probe = (
            "from churn_model.platform.spark import local_spark\n"
            f"local_spark({str(tmp_path / 'spark')!r}).range(1).count()\n"
        )
        start = timed(lambda: run([sys.executable, "-c", probe], project, env))
        rows.append(("first Spark session with Delta + 1 job", start, "reported"))

    cores = os.cpu_count()
    print(f"\nFoundation benchmark ({cores} cores, Python {sys.version.split()[0]})\n")
    print(f"| {'measure':<40} | {'seconds':>8} | {'target':<8} |")
    print(f"|{'-' * 42}|{'-' * 10}|{'-' * 10}|")
    for name, seconds, target in rows:
        print(f"| {name:<40} | {seconds:>8.2f} | {target:<8} |")


if __name__ == "__main__":
    main()
