"""Migration to 0.2.0: `notifications.on_failure` in conf/project.yml.

conf/project.yml is project-owned, so the key the new deployment file reads arrives
here: appended as text (the project's values and comments stay as they were), with the
author e-mail from the answers file, and only if the key is missing.
"""

from __future__ import annotations

import json
from pathlib import Path

from _common import load_yaml, run


def migrate(project: Path) -> bool:
    path = project / "conf" / "project.yml"
    if not path.is_file():
        return False
    text = path.read_text(encoding="utf-8")
    data = load_yaml(path, project)
    if not isinstance(data, dict) or "notifications" in data:
        return False
    answers_file = project / ".copier-answers.yml"
    answers = load_yaml(answers_file, project) if answers_file.is_file() else {}
    emails = [answers["author_email"]] if (answers or {}).get("author_email") else []
    block = (
        "\n# Since template 0.2.0. Told by e-mail when a deployed job fails.\n"
        f"notifications:\n  on_failure: {json.dumps(emails)}\n"
    )
    path.write_text(text + ("" if text.endswith("\n") else "\n") + block, encoding="utf-8")
    return True


def report(root: Path) -> None:
    if migrate(root):
        print("migration 0.2.0: added notifications.on_failure to conf/project.yml")


if __name__ == "__main__":
    run("add_failure_notifications", report)
