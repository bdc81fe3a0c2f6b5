"""Where a run's code came from: git commit and template version, on a laptop or a cluster.

An installed wheel answers from `_build_info.json`, written into it at build time
(hatch_build.py, which loads this file by its path and asks `checkout_commit` and
`recorded_template_version`), because a job cluster has no checkout and no
.copier-answers.yml. A source checkout (PYTHONPATH=src, an editable install, tests) asks
git and the answers file. Standard library only: the build has nothing else.
"""

from __future__ import annotations

import json
import re
import subprocess
from importlib import resources
from pathlib import Path

UNKNOWN = "unknown"
ANSWERS = ".copier-answers.yml"
BUILD_INFO = "_build_info.json"


def build_info() -> dict[str, str]:
    """What the wheel was built from, or {} when running from a source checkout."""
    package = __package__.rpartition(".")[0]
    try:
        text = resources.files(package).joinpath(BUILD_INFO).read_text(encoding="utf-8")
    except (FileNotFoundError, OSError):
        return {}
    return {key: str(value) for key, value in json.loads(text).items()}


def git_commit(start: Path) -> str:
    """The commit the code was built from, or the checkout's, or 'unknown'."""
    return build_info().get("git_commit") or checkout_commit(start)


def template_version(conf_dir: Path) -> str:
    """The template tag (or commit) recorded by Copier, or 'unknown'."""
    baked = build_info().get("template_version")
    return baked or recorded_template_version(Path(conf_dir).resolve().parent)


def checkout_commit(start: Path) -> str:
    """HEAD of the git checkout around `start`, or 'unknown'."""
    try:
        result = subprocess.run(
            ["git", "rev-parse", "HEAD"], cwd=start, capture_output=True, text=True, check=True
        )
    except (OSError, subprocess.CalledProcessError):
        return UNKNOWN
    return result.stdout.strip() or UNKNOWN


def recorded_template_version(root: Path) -> str:
    """`_commit` of the project's answers file (Copier writes it on one line), or 'unknown'."""
    answers = Path(root) / ANSWERS
    if not answers.is_file():
        return UNKNOWN
    match = re.search(r"^_commit:\s*['\"]?([^'\"\s]+)", answers.read_text(), re.MULTILINE)
    return match.group(1) if match else UNKNOWN
