"""Hatch build hook: bake lineage into the wheel.

A job cluster runs the installed wheel, with neither the git checkout nor
.copier-answers.yml beside it, so the git commit and the template version a model was
trained from are written into the wheel as `<package>/_build_info.json` at build time
(platform/lineage.py reads it). Editable installs skip it: a checkout asks git itself.
"""

from __future__ import annotations

import json
import re
import subprocess
import tempfile
from pathlib import Path

from hatchling.builders.hooks.plugin.interface import BuildHookInterface

UNKNOWN = "unknown"


def git_commit(root: Path) -> str:
    try:
        result = subprocess.run(
            ["git", "rev-parse", "HEAD"], cwd=root, capture_output=True, text=True, check=True
        )
    except (OSError, subprocess.CalledProcessError):
        return UNKNOWN
    return result.stdout.strip() or UNKNOWN


def template_version(root: Path) -> str:
    # No YAML parser in the build environment; Copier writes `_commit: <tag>` on one line.
    answers = root / ".copier-answers.yml"
    if not answers.is_file():
        return UNKNOWN
    match = re.search(r"^_commit:\s*['\"]?([^'\"\s]+)", answers.read_text(), re.MULTILINE)
    return match.group(1) if match else UNKNOWN


class LineageBuildHook(BuildHookInterface):
    PLUGIN_NAME = "custom"

    def initialize(self, version: str, build_data: dict) -> None:
        if self.target_name != "wheel" or version == "editable":
            return
        root = Path(self.root)
        info = {"git_commit": git_commit(root), "template_version": template_version(root)}
        target = Path(tempfile.mkdtemp(prefix="build-info-")) / "_build_info.json"
        target.write_text(json.dumps(info), encoding="utf-8")
        build_data["force_include"][str(target)] = f"{self.config['package']}/_build_info.json"
