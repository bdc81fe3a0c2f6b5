"""Drift alerts as one JSON POST that Slack, Microsoft Teams and Opsgenie all accept.

Slack and Teams incoming webhooks read `text`; Opsgenie's alert API reads `message`,
`alias`, `description`, `details` and `priority`. Each ignores the others' fields, so
one payload serves all three and the webhook URL alone picks the destination.
"""

from __future__ import annotations

import json
import urllib.error
import urllib.request
from typing import Any
from urllib.parse import urlsplit

TIMEOUT_SECONDS = 10


class AlertFailed(RuntimeError):
    """The webhook did not accept the alert."""


def payload(title: str, lines: list[str], details: dict[str, str]) -> dict[str, Any]:
    text = "\n".join([title, *lines])
    return {
        "text": text,
        "message": title[:130],  # Opsgenie's limit
        "alias": details.get("alias", title)[:512],
        "description": text,
        "details": {key: str(value) for key, value in details.items()},
        "priority": "P3",
        "source": details.get("source", "mlops-monitor"),
    }


def post(url: str, body: dict[str, Any], timeout: float = TIMEOUT_SECONDS) -> int:
    """POST `body` as JSON; the HTTP status, or AlertFailed naming only the host."""
    host = urlsplit(url).netloc  # never log the path: webhook paths carry secrets
    request = urllib.request.Request(
        url,
        data=json.dumps(body).encode("utf-8"),
        headers={"Content-Type": "application/json"},
        method="POST",
    )
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            return response.status
    except urllib.error.HTTPError as error:
        raise AlertFailed(f"webhook at {host} answered HTTP {error.code}") from None
    except (urllib.error.URLError, TimeoutError, OSError) as error:
        reason = getattr(error, "reason", error)
        raise AlertFailed(f"webhook at {host} unreachable: {reason}") from None
