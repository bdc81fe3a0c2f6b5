"""The two tiers hold: a test that starts a JVM without the `spark` marker fails.

tests/conftest.py is copied, as it is, beside a few tests of its own and run by a pytest
of its own, with a stand-in for the real `java` that only records its calls (so that
nothing here starts a JVM either).
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

from conftest import ROOT

PROBES = """
import os, subprocess
from pathlib import Path
import pytest

def test_unmarked_java_on_path():
    subprocess.run(["java", "-cp", ".", "Main"])

def test_unmarked_java_home():
    subprocess.run([str(Path(os.environ["JAVA_HOME"]) / "bin" / "java"), "-jar", "a.jar"])

def test_unmarked_java_version_is_a_tool_check():
    assert subprocess.run(["java", "-version"]).returncode == 0

def test_unmarked_without_java():
    assert 1 + 1 == 2

@pytest.mark.spark
def test_marked_gets_the_real_java():
    assert subprocess.run(["java", "-cp", ".", "Main"]).returncode == 0
"""

REAL_JAVA = """#!/bin/sh
echo "$*" >> "$(dirname "$0")/calls"
"""


def test_a_test_that_starts_a_jvm_without_the_marker_fails(tmp_path: Path) -> None:
    suite = tmp_path / "suite"
    (suite / "tests").mkdir(parents=True)
    shutil.copy(ROOT / "tests" / "conftest.py", suite / "tests" / "conftest.py")
    (suite / "tests" / "test_probes.py").write_text(PROBES)
    (suite / "pytest.ini").write_text("[pytest]\nmarkers =\n    spark: starts a JVM\n")
    real = tmp_path / "jdk"
    (real / "bin").mkdir(parents=True)
    (real / "bin" / "java").write_text(REAL_JAVA)
    (real / "bin" / "java").chmod(0o755)
    env = {
        **{k: v for k, v in os.environ.items() if k != "PYTEST_ADDOPTS"},  # this run's own
        "PATH": f"{real / 'bin'}{os.pathsep}/usr/bin{os.pathsep}/bin",
        "JAVA_HOME": str(real),
    }
    command = [sys.executable, "-m", "pytest", "-p", "no:cacheprovider", "-rA", "tests"]
    result = subprocess.run(command, cwd=suite, env=env, capture_output=True, text=True)

    outcomes: dict[str, set[str]] = {}  # -rA: a line per phase that passed or erred
    for line in result.stdout.splitlines():
        word, _, rest = line.partition(" tests/test_probes.py::")
        if rest:
            outcomes.setdefault(rest.split()[0], set()).add(word)
    assert result.returncode == 1, result.stdout[-3000:]
    # Both ways a JVM starts (java on PATH, $JAVA_HOME/bin/java) fail the unmarked test.
    assert "ERROR" in outcomes["test_unmarked_java_on_path"], result.stdout[-3000:]
    assert "ERROR" in outcomes["test_unmarked_java_home"], result.stdout[-3000:]
    message = "started a JVM (local Spark) without the 'spark' marker"
    assert result.stdout.count(message) >= 2, result.stdout[-3000:]
    # A version check, a test without java and a marked test pass; only the marked test
    # and the version check reached the real java.
    for name in (
        "test_unmarked_java_version_is_a_tool_check",
        "test_unmarked_without_java",
        "test_marked_gets_the_real_java",
    ):
        assert outcomes[name] == {"PASSED"}, (name, result.stdout[-3000:])
    calls = sorted((real / "bin" / "calls").read_text().splitlines())
    assert calls == ["-cp . Main", "-version"]
