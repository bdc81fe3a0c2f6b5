"""Migration to 0.2.0: the alert webhook URL leaves conf/ for a Databricks secret.

A webhook URL is a secret: it must not sit in conf/envs/*.yml (which is packaged into
the wheel) or in .copier-answers.yml. This removes each `monitoring.webhook_url` line,
keeping every other line and comment as it was, and adds `webhook_secret: ""` in its
place. A non-empty URL is not printed (it is a secret); the message names the file and
says where the URL goes now: a secret scope (see `make bootstrap-plan`) named in
`monitoring.webhook_secret`, and MLOPS_ALERT_WEBHOOK_URL locally. Idempotent.
"""

from __future__ import annotations

import re
import sys
from pathlib import Path

LINE = re.compile(r"^(?P<indent>[ \t]+)webhook_url:[ \t]*(?P<value>[^#\n]*?)[ \t]*(#.*)?$")


def migrate(project: Path) -> list[tuple[Path, bool]]:
    """[(file, had a URL)] for every file changed."""
    changed = []
    for path in sorted((project / "conf" / "envs").glob("*.yml")):
        lines = path.read_text(encoding="utf-8").splitlines(keepends=True)
        had_url, out, touched = False, [], False
        for line in lines:
            match = LINE.match(line.rstrip("\n"))
            if match is None:
                out.append(line)
                continue
            touched = True
            value = match.group("value").strip().strip("'\"")
            had_url = had_url or bool(value)
            out.append(f'{match.group("indent")}webhook_secret: ""   # <scope>/<key> of the URL\n')
        if touched:
            path.write_text("".join(out), encoding="utf-8")
            changed.append((path, had_url))
    return changed


if __name__ == "__main__":
    root = Path(sys.argv[1]) if len(sys.argv) > 1 else Path.cwd()
    for path, had_url in migrate(root):
        name = path.relative_to(root)
        print(f"migration 0.2.0: {name}: monitoring.webhook_url replaced by webhook_secret")
        if had_url:
            print(
                f"  action needed: {name} held a webhook URL (a secret). Store it in a Databricks "
                "secret scope (make bootstrap-plan), set monitoring.webhook_secret to "
                "<scope>/<key>, export MLOPS_ALERT_WEBHOOK_URL locally, and rotate the URL: "
                "it is in your git history."
            )
