"""Hatch hooks: the wheel's dependencies, and lineage baked into the wheel.

Dependencies: the platform's (pyproject.toml) and the model's own (the project-owned
requirements file that pyproject.toml names). Job clusters install the wheel with both;
train pins the model's in every logged model (platform/contract.py).

Lineage: a job cluster runs the installed wheel, with neither the git checkout nor
.copier-answers.yml beside it, so the git commit and the template version a model was
trained from are written into the wheel as `<package>/_build_info.json` at build time
(platform/lineage.py reads it, and is what this hook asks). Editable installs skip it: a
checkout asks git itself.
"""

from __future__ import annotations

import importlib.util
import json
import tempfile
from pathlib import Path
from types import ModuleType

from hatchling.builders.hooks.plugin.interface import BuildHookInterface
from hatchling.metadata.plugin.interface import MetadataHookInterface


def load(path: Path, name: str) -> ModuleType:
    """A module of the package (its rule for requirement lines, its lineage), loaded by
    its path: the build runs before the package is importable."""
    spec = importlib.util.spec_from_file_location(name, path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


class DependenciesMetadataHook(MetadataHookInterface):
    PLUGIN_NAME = "custom"

    def update(self, metadata: dict) -> None:
        root, name = Path(self.root), self.config["model-requirements"]
        model = []
        if (root / name).is_file():  # a project may delete it
            rules = load(root / self.config["requirement-rules"], "requirement_rules")
            lines = (root / name).read_text(encoding="utf-8").splitlines()
            try:
                model = [str(requirement) for _, requirement in rules.parse(lines)]
            except rules.RequirementsError as error:
                raise ValueError(f"{name} {error}") from None
        metadata["dependencies"] = [*self.config["platform-dependencies"], *model]


class LineageBuildHook(BuildHookInterface):
    PLUGIN_NAME = "custom"

    def initialize(self, version: str, build_data: dict) -> None:
        if self.target_name != "wheel" or version == "editable":
            return
        root = Path(self.root)
        lineage = load(root / self.config["lineage"], "lineage")
        info = {
            "git_commit": lineage.checkout_commit(root),
            "template_version": lineage.recorded_template_version(root),
        }
        target = Path(tempfile.mkdtemp(prefix="build-info-")) / "_build_info.json"
        target.write_text(json.dumps(info), encoding="utf-8")
        build_data["force_include"][str(target)] = f"{self.config['package']}/_build_info.json"
