"""What a line of the model's requirements file may be: the one rule for the wheel's
build hook (hatch_build.py), which declares the lines, and for train, which pins them.

The build hook loads this file by its path, outside the package: it imports nothing
from the package, only `packaging` (in both the build environment and the runtime).
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator

from packaging.requirements import InvalidRequirement, Requirement


class RequirementsError(ValueError):
    """A line that is not a requirement a wheel can declare (one line, with its number)."""


def parse(lines: Iterable[str]) -> Iterator[tuple[int, Requirement]]:
    """(line number, requirement) for each line that holds one; comments are skipped."""
    for number, line in enumerate(lines, 1):
        text = line.split("#", 1)[0].strip()
        if not text:
            continue
        if text.startswith("-"):
            raise RequirementsError(
                f"line {number}: '{text}': pip options cannot be declared in a wheel; "
                "list requirements only"
            )
        try:
            yield number, Requirement(text)
        except InvalidRequirement as error:
            raise RequirementsError(
                f"line {number}: '{text}' is not a requirement: {error}"
            ) from None
