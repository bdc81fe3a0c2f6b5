"""Where a run's code came from: git commit and template version, on a laptop or a cluster.

An installed wheel answers from `_build_info.json`, written into it at build time
(hatch_build.py), because a job cluster has no checkout and no .copier-answers.yml. A
source checkout (PYTHONPATH=src, an editable install, tests) asks git and the answers file.
"""

from __future__ import annotations

import json
import subprocess
from importlib import resources
from pathlib import Path

import yaml

UNKNOWN = "unknown"
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
    baked = build_info().get("git_commit")
    if baked:
        return baked
    try:
        result = subprocess.run(
            ["git", "rev-parse", "HEAD"], cwd=start, capture_output=True, text=True, check=True
        )
    except (OSError, subprocess.CalledProcessError):
        return UNKNOWN
    return result.stdout.strip() or UNKNOWN


def template_version(conf_dir: Path) -> str:
    """The template tag (or commit) recorded by Copier, or 'unknown'."""
    baked = build_info().get("template_version")
    if baked:
        return baked
    answers = Path(conf_dir).resolve().parent / ".copier-answers.yml"
    if not answers.is_file():
        return UNKNOWN
    return str((yaml.safe_load(answers.read_text()) or {}).get("_commit", UNKNOWN))
