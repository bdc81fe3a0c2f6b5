"""The benchmarks still run against the template they measure.

A benchmark is run by hand (`make bench`), so nothing else notices when a platform
change breaks it: bench_lifecycle.py called a tracking helper that had been renamed, and
failed before it printed a row. Here it runs on a few thousand rows, which says nothing
about speed (docs/performance.md holds the measurements) but that every row is printed.
"""

from __future__ import annotations

import re
import subprocess
import sys

import pytest
from conftest import ROOT

# Run with the Spark tier, never in the quick loop: a benchmark's run checks the script,
# not the template's behaviour, which the other tests check.
pytestmark = pytest.mark.bench


@pytest.mark.spark
def test_the_lifecycle_benchmark_prints_every_row() -> None:
    tiny = ["--sizes", "2000", "--monitor", "2000", "--runs", "1"]
    result = subprocess.run(
        [sys.executable, "bench/bench_lifecycle.py", *tiny],
        cwd=ROOT,
        capture_output=True,
        text=True,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    cells = r"(\s+[\d,.]+( s|x)?){7}"  # times, ratios and rows/s after the row count
    for model in ("default", "gradient boosting"):
        assert re.search(rf"^{model}\s+2,000{cells}\s*$", result.stdout, re.M), result.stdout
    assert re.search(r"^\s+2,000\s+[\d.]+ s\s+[\d.]+\s+<", result.stdout, re.M), result.stdout


def test_the_update_benchmark_prints_every_row() -> None:
    result = subprocess.run(
        [sys.executable, "bench/bench_update.py", "--single", "1", "--fleet", "1"],
        cwd=ROOT,
        capture_output=True,
        text=True,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    for row in (
        r"one project \(first\)\s+[\d.]+ s",
        r"one project \(median of 1\)\s+[\d.]+ s\s+reported",
        r"one project, own process \(median of 1\)\s+[\d.]+ s",
        r"fleet of 1 \(\d processes\)\s+[\d.]+ s",
    ):
        assert re.search(rf"^{row}", result.stdout, re.M), result.stdout
