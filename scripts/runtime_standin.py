"""The offline stand-in for a Databricks Runtime ML job cluster, and the check run on it.

    .venv/bin/python scripts/runtime_standin.py PROJECT [--runtime "17.3 LTS"]
    .venv/bin/python scripts/runtime_standin.py --prepare   # build every runtime's env

What a cluster of the runtime does with a generated project, done here as closely as
this machine allows:

1. An environment on the runtime's Python (3.12 for 17.3 LTS) holding exactly the
   versions of the libraries the runtime preinstalls (runtimes/<runtime>.yml, taken
   from its release notes), Spark and Delta Lake played by pyspark and delta-spark.
2. The project's wheel, built as CI builds it, installed the way a cluster library is:
   with the preinstalled versions as constraints, so a wheel that would replace a
   runtime library (or lacks a dependency the runtime does not have) fails here.
3. Every `python_wheel_task` of one deployed environment's payload (staging, the one
   with the e2e job; `--run-env` picks another), as dbx's own reader renders
   conf/deployment.yml (nothing restated here), run as the runtime runs it: in a fresh
   process outside the repository, the entry point looked up in the installed wheel's
   metadata and called with the task's `parameters` as argv, its return value ignored.
   As on a job cluster, the task processes share one driver JVM and its Spark session
   (made by the project's own platform/spark.py, with Delta Lake and a Derby
   metastore): each attaches to it and finds it as the active session. Local Spark,
   Delta tables and an MLflow SQLite registry stand in for the cluster's services
   (MLOPS_CONFIG_OVERRIDES points the config at them).
4. Tasks that must fail are run too (a model gate no candidate can pass): they must
   raise. A task that returns after failing would leave a green job run.
5. The other environments run the same code with other parameters, so each of their
   wheel tasks is checked at the payload level, without Spark: the same entry points
   and task keys as the environment that ran (its parameters with the environment's
   name in place), the wheel as their library, and the parameters parsed by the
   installed entry point itself, which loads that environment's config from the wheel
   and builds the model where the task trains, then stops before any task body.

It prints one line per task: ran, failed-as-expected, parsed or broken (exit 1 if any
broken).
"""

from __future__ import annotations

import argparse
import contextlib
import hashlib
import json
import os
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from dataclasses import asdict, dataclass
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[1]
RUNTIMES = ROOT / "runtimes"
DBX_PYTHON = ROOT / ".venv-dbx" / "bin" / "python"
# Not the runtime's: what the local MLflow registry that stands in for Unity Catalog
# needs (MLflow 3.0's SQL store predates SQLAlchemy 2.1).
TEST_TOOLS = ["sqlalchemy>=2,<2.1"]
RESULT_MARK = "STANDIN-RESULT "

# Defined in both scripts below, which run inside the runtime environment: call an entry
# point and print, in one marked line, how it ended.
REPORT = f"""
import json as _json


def report(call, returned):
    try:
        value = call()
    except SystemExit as error:
        outcome = {{"outcome": "exited", "detail": repr(error.code)}}
    except BaseException as error:
        lines = str(error).strip().splitlines()
        first = lines[0] if lines else ""
        outcome = {{"outcome": "raised", "detail": type(error).__name__ + ": " + first}}
    else:
        outcome = returned(value)
    print({RESULT_MARK!r} + _json.dumps(outcome), flush=True)
"""

# Runs inside the runtime environment for as long as one environment's tasks run: the
# job cluster's driver. Its JVM and Spark session, made by the project's own
# platform/spark.py, serve every task process in turn, as a cluster's JVM serves every
# task of a job; its stdin closing ends it.
DRIVER = f"""
import importlib, json, sys
from pathlib import Path
spark = importlib.import_module(sys.argv[1] + ".platform.spark").local_spark(Path(sys.argv[2]))
parameters = spark.sparkContext._gateway.gateway_parameters
print({RESULT_MARK!r} + json.dumps([parameters.port, parameters.auth_token]), flush=True)
sys.stdin.read()
"""

# Runs inside the runtime environment: how a python_wheel_task calls its entry point. A
# task process attaches to the cluster's JVM and makes its session the active one, as a
# cluster's Python does: the project's get_spark() then finds it.
RUNNER = """
import importlib, importlib.metadata as metadata, json, os, sys
if "PYSPARK_GATEWAY_PORT" in os.environ:
    os.environ["PYSPARK_PYTHON"] = sys.executable  # the cluster's Python, for UDF workers
    from pyspark import SparkContext
    from pyspark.java_gateway import launch_gateway
    from pyspark.sql import SparkSession
    gateway = launch_gateway()  # the running JVM's, from PYSPARK_GATEWAY_PORT and _SECRET
    jvm = gateway.jvm
    scala_context = jvm.org.apache.spark.SparkContext.getOrCreate()
    context = SparkContext(
        gateway=gateway, jsc=jvm.org.apache.spark.api.java.JavaSparkContext(scala_context)
    )
    session = jvm.org.apache.spark.sql.SparkSession.getDefaultSession().get()
    jvm.org.apache.spark.sql.SparkSession.setActiveSession(session)
    SparkSession(context, session)
package, entry_point, parameters = sys.argv[1], sys.argv[2], json.loads(sys.argv[3])
points = [p for p in metadata.distribution(package).entry_points if p.name == entry_point]
if points:
    function = points[0].load()
else:  # the runtime's fallback: <package>.<entry_point>()
    function = getattr(importlib.import_module(package.replace("-", "_")), entry_point)
sys.argv = [entry_point, *parameters]
report(function, lambda value: {"outcome": "returned", "detail": repr(value)})
"""

# Runs inside the runtime environment, once per environment that is not run: each task's
# entry point called as RUNNER calls it, with the task bodies replaced by loading the
# config they would run on (cli.run_tasks and tasks.e2e.run_tasks are the one path from
# a parsed command line to the tasks). One process for all of an environment's tasks:
# nothing here starts Spark or keeps state between calls but the imports.
PARSER = """
import importlib, importlib.metadata as metadata, json, sys
for task in json.loads(sys.argv[1]):
    seen = []

    def call(task=task, seen=seen):
        package, entry_point = task["package"], task["entry_point"]
        (point,) = [
            p for p in metadata.distribution(package).entry_points if p.name == entry_point
        ]
        root = point.value.split(":")[0].split(".")[0]
        cli = importlib.import_module(root + ".cli")
        e2e = importlib.import_module(root + ".tasks.e2e")
        load_config = importlib.import_module(root + ".platform.config").load_config

        def parsed_only(tasks, env, conf_dir, *args, overrides=None, **kwargs):
            load_config(env, conf_dir, overrides)
            seen.extend([env, *[name for name, _ in tasks]])
            return None

        cli.run_tasks = e2e.run_tasks = parsed_only
        sys.argv = [entry_point, *task["parameters"]]
        return point.load()()

    report(call, lambda value: {"outcome": "returned" if seen else "ran-nothing",
                                "detail": " ".join(seen)})
"""

# Runs inside the runtime environment after the tasks: what the registry then holds.
REGISTRY_PROBE = """
import json, sys
import mlflow
from mlflow import MlflowClient
uri = sys.argv[1]
client = MlflowClient(tracking_uri=uri, registry_uri=uri)
found = {}
for name in json.loads(sys.argv[2]):
    try:
        version = client.get_model_version_by_alias(name, "champion")
    except Exception:
        found[name] = None
        continue
    found[name] = {"version": version.version, "tags": dict(version.tags)}
names = [m.name for m in client.search_registered_models()]
print(json.dumps({"champions": found, "models": names}))
"""


class StandInError(RuntimeError):
    """The stand-in could not be built or run; the message says why, in one line."""


@dataclass
class TaskResult:
    environment: str
    workflow: str
    task: str
    expected: str  # "success" or "failure"
    outcome: str  # returned / raised / exited / crashed
    detail: str
    verdict: str  # ran / failed-as-expected / parsed / broken


def verdict(expected: str, outcome: str, detail: str) -> str:
    """A task that should succeed must return; one that should fail must raise; one
    only parsed must reach its tasks (detail: the environment, then the task names)."""
    if expected == "success":
        return "ran" if outcome == "returned" and detail in ("0", "None") else "broken"
    if expected == "parsed":
        return "parsed" if outcome == "returned" else "broken"
    return "failed-as-expected" if outcome == "raised" else "broken"


def runtime_spec(name: str) -> dict:
    for path in sorted(RUNTIMES.glob("*.yml")):
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
        if str(data["name"]) == name:
            return {**data, "file": path}
    raise StandInError(f"runtimes/: no data file for runtime '{name}'")


def pins(spec: dict) -> list[str]:
    return [f"{n}=={v}" for n, v in {**spec["libraries"], **spec["engine"]}.items()]


def find_python(version: str) -> str:
    """The runtime's Python: on PATH, or one that pyenv installed."""
    candidates = [shutil.which(f"python{version}")]
    pyenv_root = Path(os.environ.get("PYENV_ROOT", Path.home() / ".pyenv"))
    candidates += sorted(map(str, pyenv_root.glob(f"versions/{version}.*/bin/python{version}")))
    for candidate in candidates:
        if candidate and Path(candidate).is_file():
            result = subprocess.run(
                [candidate, "-c", "import sys; print('%d.%d' % sys.version_info[:2])"],
                capture_output=True,
                text=True,
            )
            if result.returncode == 0 and result.stdout.strip() == version:
                return candidate
    raise StandInError(
        f"Python {version} (the runtime's) is not installed: put python{version} on PATH "
        f"(e.g. `pyenv install {version}`)"
    )


def _run(command: list, what: str, **kwargs) -> subprocess.CompletedProcess:
    result = subprocess.run([str(c) for c in command], capture_output=True, text=True, **kwargs)
    if result.returncode != 0:
        tail = (result.stderr or result.stdout).strip().splitlines()[-12:]
        raise StandInError(f"{what} failed: " + " | ".join(tail))
    return result


def installer() -> str | None:
    """uv, as `make setup` installs it (UV), or on PATH; None: pip."""
    uv = os.environ.get("UV") or shutil.which("uv")
    return uv if uv and Path(uv).is_file() else None


def runtime_env(spec: dict, base: Path = ROOT / ".venv-runtime") -> Path:
    """The runtime's Python with its preinstalled libraries; rebuilt when the file changes."""
    stamp_text = spec["file"].read_text() + "\n".join(TEST_TOOLS)
    digest = hashlib.sha256(stamp_text.encode()).hexdigest()[:16]
    env = base / str(spec["name"]).replace(" ", "-")
    python = env / "bin" / "python"
    stamp = env / ".standin-installed"
    if stamp.is_file() and stamp.read_text() == digest and python.is_file():
        return python
    shutil.rmtree(env, ignore_errors=True)
    runtime_python = find_python(str(spec["python"]))
    uv = installer()
    if uv:  # the second environment installs from uv's cache: seconds, not minutes
        # --seed: pip stays in the environment; a cluster installs libraries with it.
        _run([uv, "venv", "--quiet", "--seed", "--python", runtime_python, env], "runtime env")
        command = [uv, "pip", "install", "--quiet", "--python", python]
    else:
        _run([runtime_python, "-m", "venv", env], "creating the runtime env")
        _run([python, "-m", "pip", "install", "--quiet", "--upgrade", "pip"], "upgrading pip")
        command = [python, "-m", "pip", "install", "--quiet"]
    _run([*command, *pins(spec), *TEST_TOOLS], "installing the runtime's libraries")
    stamp.write_text(digest)
    return python


def build_wheel(project: Path, out: Path) -> Path:
    """The wheel CI's build job makes (`make wheel`), lineage hook included."""
    shutil.rmtree(out, ignore_errors=True)
    _run(
        [sys.executable, "-m", "pip", "wheel", "--quiet", "--no-deps", "--wheel-dir", out, project],
        "building the wheel",
    )
    (wheel,) = out.glob("*.whl")
    return wheel


def install_wheel(python: Path, wheel: Path, spec: dict, work: Path) -> None:
    """As a cluster library: the runtime's versions may not move (pip constraints)."""
    constraints = work / "runtime-constraints.txt"
    constraints.write_text("\n".join(pins(spec)) + "\n")
    _run(
        [python, "-m", "pip", "uninstall", "--quiet", "--yes", wheel.name.split("-")[0]],
        "removing an earlier build",
    )
    _run(
        [python, "-m", "pip", "install", "--quiet", "--constraint", constraints, wheel],
        f"installing {wheel.name} without replacing a runtime library",
    )
    _run([python, "-m", "pip", "check"], "pip check of the runtime env")


def payload(project: Path, wheel: Path) -> dict[str, dict[str, list[dict]]]:
    """{env: {workflow: [tasks]}} as dbx's own reader renders conf/deployment.yml."""
    env = {**os.environ, "PYTHONPATH": "src", "MLOPS_DEV_OWNER": "standin@example.com"}
    _run(
        [sys.executable, "-m", package_of(project) + ".admin.deployment", "--wheel", wheel],
        "writing dbx's variables",
        cwd=project,
        env=env,
    )
    if not DBX_PYTHON.is_file():
        raise StandInError(".venv-dbx is missing: `make setup` installs dbx")
    result = _run([DBX_PYTHON, "scripts/check_deployment.py"], "dbx's reader", cwd=project)
    documents = [json.loads(line) for line in result.stdout.splitlines() if line.startswith("{")]
    return {d["environment"]: {w["name"]: w["tasks"] for w in d["workflows"]} for d in documents}


def package_of(project: Path) -> str:
    return yaml.safe_load((project / "conf" / "project.yml").read_text())["project"]["package"]


def stand_in_services(local: Path, spec: dict) -> dict[str, str]:
    """Environment for one task process: the cluster's services played locally."""
    overrides = {
        "platform": "local",
        "mlflow": {"tracking_uri": "sqlite:///mlflow.db", "registry_uri": "sqlite:///mlflow.db"},
        "sample": {"rows": 2000},
    }
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PYTHON", "MLOPS_"))}
    env.update(MLOPS_LOCAL_DIR=str(local), MLOPS_CONFIG_OVERRIDES=json.dumps(overrides))
    env["STANDIN_DELTA_VERSION"] = str(spec["engine"]["delta-spark"])
    return env


def delta_jars(delta_version: str) -> str:
    """Delta's jars from the Ivy cache once the first task resolved them, else "".

    Handed over as MLOPS_SPARK_JARS (the project's own switch, platform/spark.py) so that
    a job cluster skips Ivy's resolution once one has resolved them: the runtime has Delta
    built in.
    """
    jars = Path.home() / ".ivy2.5.2" / "jars"
    names = [
        f"io.delta_delta-spark_2.13-{delta_version}.jar",
        f"io.delta_delta-storage-{delta_version}.jar",
    ]
    found = [jars / name for name in names] + sorted(jars.glob("org.antlr_antlr4-runtime-*.jar"))[
        -1:
    ]
    return ",".join(map(str, found)) if all(p.is_file() for p in found) and len(found) == 3 else ""


def call_entry_point(
    python: Path,
    task: dict,
    cwd: Path,
    env: dict[str, str],
    extra: dict | None = None,
) -> tuple[str, str]:
    if extra:
        merged = {**json.loads(env["MLOPS_CONFIG_OVERRIDES"]), **extra}
        env = {**env, "MLOPS_CONFIG_OVERRIDES": json.dumps(merged)}
    arguments = [task["package"], task["entry_point"], json.dumps(task["parameters"])]
    result = subprocess.run(
        [str(python), "-c", REPORT + RUNNER, *arguments],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
    )
    marks = [line for line in result.stdout.splitlines() if line.startswith(RESULT_MARK)]
    if not marks:
        tail = result.stderr.strip().splitlines()[-1:] or ["no output"]
        return "crashed", f"exit {result.returncode}: {tail[0]}"
    found = json.loads(marks[-1].removeprefix(RESULT_MARK))
    return found["outcome"], found["detail"]


@contextlib.contextmanager
def job_cluster(
    python: Path, package: str, local: Path, cwd: Path, env: dict[str, str]
) -> Iterator[dict[str, str]]:
    """A running DRIVER process; yields what a task process needs to attach to it."""
    jars = delta_jars(env["STANDIN_DELTA_VERSION"])
    cluster_env = {**env, "MLOPS_SPARK_JARS": jars} if jars else env
    driver = subprocess.Popen(
        [str(python), "-c", DRIVER, package, str(local)],
        cwd=cwd,
        env=cluster_env,
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        printed = []  # what Spark and Ivy print on stdout before the driver's line
        for line in driver.stdout or ():
            if line.startswith(RESULT_MARK):
                break
            printed.append(line)
        else:
            driver.kill()
            errors = (driver.stderr.read() if driver.stderr else "").strip().splitlines()
            tail = (errors or printed or ["no output"])[-1].strip()
            raise StandInError(f"the job cluster did not start: {tail}")
        port, secret = json.loads(line.removeprefix(RESULT_MARK))
        yield {"PYSPARK_GATEWAY_PORT": str(port), "PYSPARK_GATEWAY_SECRET": secret}
    finally:
        if driver.stdin:
            driver.stdin.close()  # the driver's end: its JVM follows
        try:
            driver.wait(timeout=60)
        except subprocess.TimeoutExpired:
            driver.kill()
            driver.wait()


def registry(python: Path, local: Path, names: list[str]) -> dict:
    uri = f"sqlite:///{local / 'mlflow.db'}"
    result = _run([python, "-c", REGISTRY_PROBE, uri, json.dumps(names)], "reading the registry")
    return json.loads(result.stdout)


RUN_ENV = "staging"  # the environment whose tasks run: it alone has the e2e job


def parse_tasks(
    python: Path, tasks: list[dict], cwd: Path, env: dict[str, str]
) -> list[tuple[str, str]]:
    """(outcome, detail) for each task, its parameters parsed by PARSER (no Spark)."""
    result = subprocess.run(
        [str(python), "-c", REPORT + PARSER, json.dumps(tasks)],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
    )
    marks = [line for line in result.stdout.splitlines() if line.startswith(RESULT_MARK)]
    found = [json.loads(m.removeprefix(RESULT_MARK)) for m in marks]
    if len(found) != len(tasks):
        tail = result.stderr.strip().splitlines()[-1:] or ["no output"]
        crashed = ("crashed", f"exit {result.returncode}: {tail[0]}")
        return [(f["outcome"], f["detail"]) for f in found] + [crashed] * (len(tasks) - len(found))
    return [(f["outcome"], f["detail"]) for f in found]


def task_shape(task: dict, env_name: str, wheel: str) -> dict:
    """What must be the same in every environment: the parameters with the environment's
    name in its place, the wheel as a library, by file name."""

    def library(entry: dict) -> dict:
        if "whl" in entry:
            return {"whl": Path(str(entry["whl"])).name == wheel}
        return entry

    return {
        "key": task["key"],
        "depends_on": task["depends_on"],
        "package": task["package"],
        "entry_point": task["entry_point"],
        "parameters": ["<env>" if p == env_name else p for p in task["parameters"] or []],
        "libraries": [library(entry) for entry in task["libraries"]],
    }


def check(project: Path, runtime: str, work: Path, run_env: str = RUN_ENV) -> dict:
    """Run every wheel task of `run_env` and parse every other environment's; the
    per-task results and what the registry holds afterwards."""
    spec = runtime_spec(runtime)
    python = runtime_env(spec)
    wheel = build_wheel(project, work / "dist")
    install_wheel(python, wheel, spec, work)
    tasks_by_env = payload(project, wheel)
    if run_env not in tasks_by_env:
        raise StandInError(
            f"conf/deployment.yml: dbx renders no environment '{run_env}' "
            f"(it renders {', '.join(sorted(tasks_by_env))})"
        )
    results: list[TaskResult] = []
    facts: dict = {"wheel": wheel.name, "python": str(spec["python"]), "environments": {}}
    ran = run_environment(python, project, spec, work, run_env, tasks_by_env[run_env], results)
    facts["environments"][run_env] = ran
    shapes = {
        (workflow, task["key"]): task_shape(task, run_env, wheel.name)
        for workflow, tasks in tasks_by_env[run_env].items()
        for task in tasks
    }
    for env_name, workflows in tasks_by_env.items():
        if env_name == run_env:
            continue
        outside = work / "cwd" / env_name  # no checkout here: conf/ comes from the wheel
        outside.mkdir(parents=True, exist_ok=True)
        wheel_tasks = [(w, t) for w, tasks in workflows.items() for t in tasks if t["entry_point"]]
        outcomes = parse_tasks(
            python, [t for _, t in wheel_tasks], outside, stand_in_services(work / env_name, spec)
        )
        for (workflow, task), (outcome, detail) in zip(wheel_tasks, outcomes, strict=True):
            judged = verdict("parsed", outcome, detail)
            expected_shape = shapes.get((workflow, task["key"]))
            if judged == "parsed" and detail.split()[0] != env_name:
                judged, detail = "broken", f"parsed as environment {detail.split()[0]}"
            elif judged == "parsed" and expected_shape is None:
                judged, detail = "broken", f"not a task of {run_env}'s {workflow}: never ran"
            elif judged == "parsed" and task_shape(task, env_name, wheel.name) != expected_shape:
                judged = "broken"
                detail = f"differs from {run_env}'s: {task_shape(task, env_name, wheel.name)}"
            print(f"stand-in: {env_name} {task['key']}: {judged} {detail[:80]}", file=sys.stderr)
            results.append(
                TaskResult(env_name, workflow, task["key"], "parsed", outcome, detail, judged)
            )
    facts["results"] = [asdict(r) for r in results]
    return facts


def run_environment(
    python: Path,
    project: Path,
    spec: dict,
    work: Path,
    env_name: str,
    workflows: dict[str, list[dict]],
    results: list[TaskResult],
) -> dict:
    """Every wheel task of one environment, run as the runtime runs it: each in a process
    of its own, on one job cluster; the registry's champion before the e2e job and what
    it holds at the end."""
    local = work / "cluster" / env_name
    outside = work / "cwd" / env_name  # no checkout here: conf/ comes from the wheel
    outside.mkdir(parents=True, exist_ok=True)
    conf = yaml.safe_load((project / "conf" / "envs" / f"{env_name}.yml").read_text())
    model = (
        f"{conf['catalog']}.{conf['schema']}."
        + yaml.safe_load((project / "conf" / "project.yml").read_text())["model"]["name"]
    )
    services = stand_in_services(local, spec)
    before_e2e = None
    with job_cluster(python, package_of(project), local, outside, services) as gateway:
        env = services | gateway

        def run(workflow, task, expected, extra=None) -> None:
            outcome, detail = call_entry_point(python, task, outside, env, extra)
            print(f"stand-in: {env_name} {task['key']}: {outcome} {detail[:80]}", file=sys.stderr)
            judged = verdict(expected, outcome, detail)
            results.append(
                TaskResult(env_name, workflow, task["key"], expected, outcome, detail, judged)
            )

        for workflow in sorted(workflows, key=lambda w: ("e2e" in w, "inference" in w)):
            wheel_tasks = [t for t in workflows[workflow] if t["entry_point"]]
            if "e2e" in workflow:
                before_e2e = registry(python, local, [model])["champions"][model]
            for task in wheel_tasks:
                run(workflow, task, "success")
            if workflow.endswith("-training"):
                # The gate: a candidate that cannot pass must fail the evaluate task.
                (evaluate,) = [t for t in wheel_tasks if t["key"] == "evaluate"]
                run(workflow, evaluate, "failure", {"evaluation": {"floor": 1.01}})
    return {"model": model, "champion_before_e2e": before_e2e, **registry(python, local, [model])}


def print_table(results: list[dict]) -> None:
    print(f"{'environment':<11} {'workflow':<32} {'task':<9} {'verdict':<19} detail")
    for r in results:
        detail = r["detail"] if r["verdict"] != "ran" else ""
        print(
            f"{r['environment']:<11} {r['workflow']:<32} {r['task']:<9} {r['verdict']:<19} "
            f"{detail[:100]}"
        )


def prepare() -> int:
    """Build the environment of every runtime in runtimes/ (`make setup` runs this); it
    also fills uv's cache with the runtime's versions, from which a generated project's
    `make setup` installs them (tests/second_week.py)."""
    for path in sorted(RUNTIMES.glob("*.yml")):
        name = str(yaml.safe_load(path.read_text(encoding="utf-8"))["name"])
        try:
            print(f"stand-in {name}: {runtime_env(runtime_spec(name))}")
        except StandInError as error:
            print(f"error: {error}", file=sys.stderr)
            return 1
    return 0


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    if argv == ["--prepare"]:
        return prepare()
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("project", type=Path)
    parser.add_argument("--runtime", default="17.3 LTS")
    parser.add_argument("--run-env", default=RUN_ENV, help="the environment whose tasks run")
    parser.add_argument("--json", type=Path, help="also write the full report here")
    args = parser.parse_args(argv)
    work = Path(tempfile.mkdtemp(prefix="standin-"))
    try:
        report = check(args.project.resolve(), args.runtime, work, args.run_env)
    except StandInError as error:
        print(f"error: {error}", file=sys.stderr)
        return 1
    print_table(report["results"])
    if args.json:
        args.json.write_text(json.dumps(report, indent=2))
    broken = [r for r in report["results"] if r["verdict"] == "broken"]
    expected = len(report["results"]) - len(broken)
    print(f"\nstand-in {args.runtime}: {expected} as expected, {len(broken)} broken")
    return 1 if broken else 0


if __name__ == "__main__":
    sys.exit(main())
