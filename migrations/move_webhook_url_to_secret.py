"""Migration to 0.2.0: the alert webhook URL leaves conf/ for a Databricks secret.

A webhook URL is a secret: it must not sit in conf/envs/*.yml (which is packaged into
the wheel) or in .copier-answers.yml. This replaces each `monitoring.webhook_url` line,
keeping every other line and comment as it was, with what a fresh copy has there (so an
updated project reads like a new one; tests/test_update.py compares them):
`webhook_secret: ""` in the remote environments, a comment in local.yml. A non-empty URL
is not printed (it is a secret); the message names the file and says where the URL goes
now: a secret scope (see `make bootstrap-plan`) named in `monitoring.webhook_secret`, and
MLOPS_ALERT_WEBHOOK_URL locally. Idempotent.
"""

from __future__ import annotations

import re
from pathlib import Path

from _common import action_needed, run

LINE = re.compile(r"^(?P<indent>[ \t]+)webhook_url:[ \t]*(?P<value>[^#\n]*?)[ \t]*(#.*)?$")

# What template/conf/envs/*.yml.jinja has in place of the old line. Locally the URL comes
# from the environment (there is no secret scope); remote environments name a secret.
LOCAL = ["# Drift alerts locally: export MLOPS_ALERT_WEBHOOK_URL=<the webhook URL>"]
REMOTE = [
    '# Drift alerts: "<scope>/<key>" of the Databricks secret holding the webhook URL',
    "# (make bootstrap-plan shows how to create it); empty: no alerts.",
    'webhook_secret: ""',
]


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
            block = LOCAL if path.stem == "local" else REMOTE
            out.extend(f"{match.group('indent')}{text}\n" for text in block)
        if touched:
            path.write_text("".join(out), encoding="utf-8")
            changed.append((path, had_url))
    return changed


def report(root: Path) -> None:
    for path, had_url in migrate(root):
        name = path.relative_to(root)
        print(f"migration 0.2.0: {name}: monitoring.webhook_url replaced by webhook_secret")
        if had_url:
            action_needed(
                f"{name} held a webhook URL (a secret). Store it in a Databricks "
                "secret scope (make bootstrap-plan), set monitoring.webhook_secret to "
                "<scope>/<key>, export MLOPS_ALERT_WEBHOOK_URL locally, and rotate the URL: "
                "it is in your git history."
            )


if __name__ == "__main__":
    run("move_webhook_url_to_secret", report)
