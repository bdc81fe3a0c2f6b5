"""Update benchmark: `copier update` per project and for a fleet, against real tags.

    .venv/bin/python bench/bench_update.py [--fleet 50] [--single 5]

Builds the throw-away template repo (release tags from releases.yml, the working tree
as v99.0.0) and copies projects at the oldest release, committed. Then times the
projects' own update (scripts/template_update.py: checks, `copier update`, migrations,
conflict scan, upgrade notes; copier's public API only, ADR 0020) one project at a
time; then as `make template-update` runs it, in a Python process of its own (starting
Python and importing copier included); then `scripts/fleet.py --update` over a fleet of
other such projects (parallel processes, each update committed on its branch). Targets:
a fleet of 50 well under 5 minutes (issue 29; issue 14's 2 s per project needed
copier's private internals, ADR 0020).
"""

from __future__ import annotations

import argparse
import contextlib
import io
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
NEW = "v99.0.0"


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--fleet", type=int, default=50, help="projects in the fleet")
    parser.add_argument("--single", type=int, default=5, help="projects updated one by one")
    args = parser.parse_args()
    sys.path.insert(0, str(ROOT / "scripts"))
    import fleet
    import throwaway_template as throwaway

    updater = fleet.load_updater()
    for role in ("AUTHOR", "COMMITTER"):
        os.environ.setdefault(f"GIT_{role}_NAME", "bench")
        os.environ.setdefault(f"GIT_{role}_EMAIL", "bench@example.invalid")
    oldest = throwaway.releases()[0]["version"]

    with tempfile.TemporaryDirectory() as tmp:
        repo = throwaway.build(Path(tmp) / "template", NEW)
        projects = []
        for i in range(2 * args.single + args.fleet):
            dst = Path(tmp) / f"project{i:02d}"
            throwaway.generate(repo, dst, oldest, {"project_name": f"Project {i:02d}"})
            projects.append(dst)

        times: dict[str, list[float]] = {"inside": [], "process": []}
        for project in projects[: args.single]:
            begin = time.perf_counter()
            result = updater.update(project, NEW)
            times["inside"].append(time.perf_counter() - begin)
            if result.status != "updated":
                sys.exit(f"{project.name}: {result.status} {result.conflicts}")
        script = ROOT / "template" / "scripts" / "template_update.py"
        for project in projects[args.single : 2 * args.single]:
            begin = time.perf_counter()
            run = [sys.executable, str(script), "--to", NEW, str(project)]
            result = subprocess.run(run, capture_output=True, text=True)
            times["process"].append(time.perf_counter() - begin)
            if result.returncode != 0:
                sys.exit(f"{project.name}: {result.stderr}")
        started = time.perf_counter()
        argv = ["--update", "--to", NEW, *map(str, projects[2 * args.single :])]
        with contextlib.redirect_stdout(io.StringIO()) as table:
            failed = fleet.main(argv)
        wall = time.perf_counter() - started
        if failed:
            sys.exit(table.getvalue())

    jobs = min(4, os.cpu_count() or 1)
    print(f"\ncopier update {oldest} -> {NEW} ({os.cpu_count()} cores)")
    inside = statistics.median(times["inside"])
    print(f"{'measure':<40} {'wall time':>10}  target")
    print(f"{'one project (first)':<40} {times['inside'][0]:>8.2f} s")
    print(f"{f'one project (median of {args.single})':<40} {inside:>8.2f} s  reported")
    label = f"one project, own process (median of {args.single})"
    print(f"{label:<40} {statistics.median(times['process']):>8.2f} s")
    fleet_label = f"fleet of {args.fleet} ({jobs} processes)"
    print(f"{fleet_label:<40} {wall:>8.2f} s  < 300 s for 50")


if __name__ == "__main__":
    main()
