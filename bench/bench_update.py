"""Update benchmark: `copier update` per project and for a fleet, against real tags.

    .venv/bin/python bench/bench_update.py [--fleet 20]

Builds the throw-away template repo (release tags from releases.yml, the working tree
as v99.0.0), copies projects at the oldest release, commits them, then times the
projects' own update (scripts/template_update.py: checks, `copier update`, conflict
scan, upgrade notes) for one project and for the fleet, one after the other as
scripts/fleet.py runs them. Targets: < 3 s per project, fleet of 20 < 1 min.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

import copier

ROOT = Path(__file__).resolve().parents[1]
NEW = "v99.0.0"


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--fleet", type=int, default=20, help="projects in the fleet")
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
        for i in range(args.fleet):
            dst = Path(tmp) / f"project{i:02d}"
            copier.run_copy(
                str(repo),
                str(dst),
                vcs_ref=oldest,
                defaults=True,
                unsafe=True,
                quiet=True,
                data={"project_name": f"Project {i:02d}"},
            )
            if not (dst / ".git").exists():
                throwaway.git(dst, "init", "--quiet", "--initial-branch=main")
            throwaway.git(dst, "add", "-A")
            throwaway.git(dst, "commit", "--quiet", "-m", "generate")
            projects.append(dst)

        times = []
        started = time.perf_counter()
        for project in projects:
            begin = time.perf_counter()
            result = updater.update(project, NEW)
            times.append(time.perf_counter() - begin)
            if result.status != "updated":
                sys.exit(f"{project.name}: {result.status} {result.conflicts}")
        fleet = time.perf_counter() - started

    print(f"\ncopier update {oldest} -> {NEW} (scripts/template_update.py, sequential)")
    print(f"{'measure':<28} {'wall time':>10}  target")
    print(f"{'one project (first)':<28} {times[0]:>8.2f} s  < 3 s")
    print(f"{'one project (median)':<28} {statistics.median(times):>8.2f} s  < 3 s")
    print(f"{f'fleet of {len(projects)} projects':<28} {fleet:>8.2f} s  < 60 s")


if __name__ == "__main__":
    main()
