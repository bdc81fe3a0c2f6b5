"""Migration to 0.2.0: `inference.threshold` in every conf/envs/*.yml.

Environment files are project-owned, so `copier update` never rewrites them; keys that
a new platform version reads arrive through a migration instead. The block is appended
as text, so the project's own values and comments stay exactly as they were, and only
files that lack the key are touched. Copier runs this in the project directory after
the update.
"""

from __future__ import annotations

from pathlib import Path

from _common import load_yaml, run

BLOCK = """
# Since template 0.2.0.
inference:
  threshold: 0.5           # class-1 probability from which a prediction is 1
"""


def migrate(project: Path) -> list[Path]:
    changed = []
    for path in sorted((project / "conf" / "envs").glob("*.yml")):
        text = path.read_text(encoding="utf-8")
        data = load_yaml(path, project)
        if not isinstance(data, dict) or "inference" in data:
            continue
        path.write_text(text + ("" if text.endswith("\n") else "\n") + BLOCK, encoding="utf-8")
        changed.append(path)
    return changed


def report(root: Path) -> None:
    for path in migrate(root):
        print(f"migration 0.2.0: added inference.threshold to {path.relative_to(root)}")


if __name__ == "__main__":
    run("add_inference_threshold", report)
