"""Configuration from conf/: pydantic models and a loader with one-line errors."""

from __future__ import annotations

import json
import os
import re
from importlib import resources
from pathlib import Path
from typing import Annotated, Any, Literal

import yaml
from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    NonNegativeInt,
    PositiveInt,
    ValidationError,
    model_validator,
)

from .problems import METRICS
from .workflows import WORKFLOWS

ENVIRONMENTS = ("local", "dev", "staging", "prod")
# The ones with a workspace, jobs and a service principal: all but the laptop's.
DEPLOYED_ENVIRONMENTS = ENVIRONMENTS[1:]
CONF_DIR_VARIABLE = "MLOPS_CONF_DIR"
# What every environment shares; conf/envs/<env>.yml holds only what differs.
BASE_FILE = "base.yml"
# A JSON (or YAML) mapping merged into the environment's settings before validation: how
# a stand-in runtime changes a value without copying conf/ (in code: load_config overrides).
OVERRIDES_VARIABLE = "MLOPS_CONFIG_OVERRIDES"

# The rules for names the Copier answers give: written only here. The template's Copier
# extension reads these three string literals from this file to check the answers, so an
# answer Copier accepts always loads. Keep them plain string literals.
SLUG_PATTERN = r"^[a-z][a-z0-9-]{2,39}$"
UC_NAME_PATTERN = r"^[a-z][a-z0-9_]{0,254}$"  # lower case: Unity Catalog folds names
APPLICATION_ID_PATTERN = r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$"
_UC_NAME = re.compile(UC_NAME_PATTERN)
_UUID = re.compile(APPLICATION_ID_PATTERN)


class ConfigError(ValueError):
    """A configuration problem, worded as one line: file, key, rule."""


def _uc_name(value: str) -> str:
    if not _UC_NAME.fullmatch(value):
        raise ValueError("must be lower-case letters, digits or '_', starting with a letter")
    return value


def _table_name(value: str) -> str:
    parts = value.split(".")
    if len(parts) != 3:
        raise ValueError("must be a three-part name catalog.schema.table")
    for part in parts:
        _uc_name(part)
    return value


def _metric(value: str) -> str:
    if value not in METRICS:
        raise ValueError(f"unknown metric '{value}' (expected one of {', '.join(METRICS)})")
    return value


def _optional_uuid(value: str) -> str:
    if value and not _UUID.fullmatch(value):
        raise ValueError("must be a lower-case UUID application id, or empty")
    return value


UcName = Annotated[str, AfterValidator(_uc_name)]
TableName = Annotated[str, AfterValidator(_table_name)]
ApplicationId = Annotated[str, AfterValidator(_optional_uuid)]


class _Strict(BaseModel):
    # A misspelt key is an error, not a silently ignored setting.
    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)


class ProjectInfo(_Strict):
    name: str = Field(min_length=1)
    slug: str = Field(pattern=SLUG_PATTERN)
    package: str = Field(pattern=r"^[a-z_][a-z0-9_]*$")
    description: str = ""


class ModelInfo(_Strict):
    name: UcName


class ServicePrincipals(_Strict):
    staging: ApplicationId = ""
    prod: ApplicationId = ""


class Notifications(_Strict):
    on_failure: list[str] = []  # e-mail addresses told when a deployed job fails


class ProjectConfig(_Strict):
    project: ProjectInfo
    model: ModelInfo
    owner_group: str = Field(min_length=2)
    service_principals: ServicePrincipals = ServicePrincipals()
    notifications: Notifications = Notifications()


class SampleData(_Strict):
    rows: PositiveInt
    seed: int = 42
    drift: bool = False
    partitions: PositiveInt = 4


class Source(_Strict):
    type: Literal["sample", "table", "file"]
    table: TableName | None = None
    path: str | None = None
    format: Literal["csv", "parquet", "delta"] = "parquet"
    # A CSV file's columns and types as Spark DDL ("id BIGINT, hba1c DOUBLE, code
    # STRING"); without it, Spark infers them from the data (a code of digits becomes a
    # number, a column of blanks a string). Parquet and Delta carry their own.
    schema_: str | None = Field(default=None, alias="schema")

    @model_validator(mode="after")
    def _needs_location(self) -> Source:
        if self.type == "table" and not self.table:
            raise ValueError("source.type 'table' needs source.table")
        if self.type == "file" and not self.path:
            raise ValueError("source.type 'file' needs source.path")
        if self.schema_ is not None and (self.type != "file" or self.format != "csv"):
            raise ValueError("source.schema applies to a csv file only (type: file, format: csv)")
        return self


class Tables(_Strict):
    """Full `catalog.schema.table` names, derived from the environment's catalog and
    schema (EnvConfig): a key left out is `<catalog>.<schema>.<key>`, a bare name
    `<catalog>.<schema>.<name>`. `drift_metrics` is read only by `monitor`, so a project
    that switches monitoring on needs no edit."""

    features: TableName
    validation_results: TableName
    evaluations: TableName
    predictions: TableName
    drift_metrics: TableName


class Validation(_Strict):
    suite: str = Field(default="features", pattern=r"^[A-Za-z0-9_-]+$")


class Evaluation(_Strict):
    # Which metrics fit is the model's problem type's business (platform/problems.py).
    metric: Annotated[str, AfterValidator(_metric)] = "roc_auc"
    min_improvement: float = 0.0
    floor: float
    holdout_percent: int = Field(default=20, ge=5, le=50)


class Inference(_Strict):
    # Binary models: the class-1 probability from which a prediction is 1, in infer and
    # in the gate's accuracy and f1 alike.
    threshold: float = Field(default=0.5, gt=0, lt=1)


class Monitoring(_Strict):
    psi_threshold: float = Field(default=0.2, gt=0)
    ks_threshold: float = Field(default=0.1, gt=0, le=1)
    bins: int = Field(default=10, ge=2, le=100)
    # Where the alert webhook URL is kept: "<scope>/<key>" of a Databricks secret scope.
    # The URL itself is a secret and never lives in conf/; deployed clusters get it as
    # MLOPS_ALERT_WEBHOOK_URL through a secret reference, local runs from that variable.
    webhook_secret: str = Field(default="", pattern=r"^([A-Za-z0-9_.-]+/[A-Za-z0-9_.-]+)?$")

    @model_validator(mode="before")
    @classmethod
    def _no_url_in_config(cls, data):
        if isinstance(data, dict) and "webhook_url" in data:
            raise ValueError(
                "webhook_url: a webhook URL is a secret and does not belong in conf/; keep it "
                "in a Databricks secret scope, name it in monitoring.webhook_secret "
                "(scope/key) and set MLOPS_ALERT_WEBHOOK_URL locally"
            )
        return data


class MlflowSettings(_Strict):
    tracking_uri: str = Field(min_length=1)
    registry_uri: str = Field(min_length=1)
    experiment: str = Field(min_length=1)


class NotebookTask(_Strict):
    """One of the project's notebooks as an extra task of a deployed workflow."""

    task_key: str = Field(pattern=r"^[a-z][a-z0-9_-]{0,99}$")
    workflow: Literal[WORKFLOWS]  # the deployed workflows (platform/workflows.py)
    notebook_path: str = Field(pattern=r"^/\S+$")  # a workspace path, e.g. in a Git folder
    depends_on: str | None = None
    base_parameters: dict[str, str] = {}


class Cluster(_Strict):
    node_type_id: str = Field(min_length=1)
    num_workers: NonNegativeInt
    spark_version: str = Field(min_length=1)


class EnvConfig(_Strict):
    platform: Literal["local", "databricks"]
    catalog: UcName
    schema_: UcName = Field(alias="schema")
    workspace_host: str | None = Field(default=None, pattern=r"^https://[^/\s]+/?$")
    # Unity Catalog volume <catalog>.<schema>.<volume> that holds the deployed wheels
    # (libraries on the DBFS root are not installed from Runtime 15 on).
    artifacts_volume: UcName = "artifacts"
    source: Source
    sample: SampleData
    tables: Tables  # by default every name is derived from catalog and schema (Tables)
    mlflow: MlflowSettings
    validation: Validation = Validation()
    evaluation: Evaluation
    inference: Inference = Inference()
    # Always present, with defaults: whether `monitor` runs follows the code (the
    # include_monitoring answer), so switching it on needs no edit here.
    monitoring: Monitoring = Field(default_factory=Monitoring)
    cluster: Cluster | None = None
    notebook_tasks: list[NotebookTask] = []

    @model_validator(mode="before")
    @classmethod
    def _derive_table_names(cls, data):
        if not isinstance(data, dict):
            return data
        catalog, schema = data.get("catalog"), data.get("schema", data.get("schema_"))
        given = data.get("tables") or {}
        if not (isinstance(catalog, str) and isinstance(schema, str) and isinstance(given, dict)):
            return data
        tables = {key: key for key in Tables.model_fields} | given
        return {
            **data,
            "tables": {
                key: f"{catalog}.{schema}.{name}"
                if isinstance(name, str) and "." not in name
                else name
                for key, name in tables.items()
            },
        }

    @model_validator(mode="after")
    def _tables_stay_in_environment(self) -> EnvConfig:
        # A dev config that names a prod table is a mistake that must not run.
        for key, name in self.tables.model_dump(exclude_none=True).items():
            catalog, schema, _ = name.split(".")
            if (catalog, schema) != (self.catalog, self.schema_):
                raise ValueError(
                    f"tables.{key} '{name}' lies outside this environment's "
                    f"schema '{self.catalog}.{self.schema_}'"
                )
        return self


class Config(_Strict):
    env_name: str
    conf_dir: Path
    project: ProjectConfig
    env: EnvConfig
    # Top-level key of the environment's settings -> the file that set it (last).
    sources: dict[str, str] = {}

    @property
    def model_name(self) -> str:
        """Three-level registered model name: catalog.schema.model."""
        return f"{self.env.catalog}.{self.env.schema_}.{self.project.model.name}"

    @property
    def env_file(self) -> Path:
        """The environment's own file, conf/envs/<env>.yml."""
        return self.conf_dir / "envs" / f"{self.env_name}.yml"

    def file_of(self, key: str) -> Path:
        """The file that sets the top-level `key` (conf/base.yml or the environment's own),
        for error messages that name where to fix a value."""
        return Path(self.sources.get(key, self.env_file))


def default_conf_dir() -> Path:
    """conf/ of the checkout (or $MLOPS_CONF_DIR); inside a wheel, the packaged copy."""
    if os.environ.get(CONF_DIR_VARIABLE):
        return Path(os.environ[CONF_DIR_VARIABLE])
    if Path("conf", "project.yml").is_file():
        return Path("conf")
    packaged = resources.files(__package__.rpartition(".")[0]).joinpath("_conf")
    return Path(str(packaged))


def read_yaml(path: Path) -> dict:
    """A YAML mapping from `path`; a missing file, a syntax error (with the line to fix)
    or another top level is one ConfigError naming the file."""
    if not path.is_file():
        raise ConfigError(f"{path}: file not found")
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except yaml.YAMLError as error:
        raise ConfigError(f"{path}: not valid YAML{_yaml_problem(error, path)}") from None
    if not isinstance(data, dict):
        raise ConfigError(f"{path}: top level must be a mapping of keys to values")
    return data


def _yaml_problem(error: yaml.YAMLError, path: Path) -> str:
    """` (line N, column M): problem`, N being the line to fix.

    PyYAML marks where it noticed the problem, which is often a line after the mistake:
    an unclosed bracket is reported where parsing gave up (its context says where it
    opened), and a key without ':' where the next key starts.
    """
    mark = getattr(error, "context_mark", None) or getattr(error, "problem_mark", None)
    problem = getattr(error, "problem", None) or "invalid syntax"
    if mark is None:
        return f": {problem}"
    line, column = mark.line, mark.column
    if problem == "mapping values are not allowed here" and error.context_mark is None:
        lines = path.read_text(encoding="utf-8").splitlines()
        before = next((i for i in range(line - 1, -1, -1) if lines[i].strip()), None)
        if before is not None and ":" not in lines[before].split("#")[0]:
            line, column = before, len(lines[before]) - len(lines[before].lstrip())
            problem = "a key without ':' (the next line's mapping cannot follow it)"
    return f" (line {line + 1}, column {column + 1}): {problem}"


def _holds(data: dict, loc: tuple) -> bool:
    """Whether `data` sets the first key of `loc` (where a problem with that key lies)."""
    return bool(loc) and isinstance(data, dict) and loc[0] in data


def _describe(error: ValidationError, layers: list[tuple[str, dict]], default: str) -> str:
    """One line: each problem after the file that sets its key (`layers`: the files
    merged, last wins); `default` when none does (a missing key)."""
    by_file: dict[str, list[str]] = {}
    for item in error.errors():
        loc = tuple(str(part) for part in item["loc"])
        key = ".".join(loc) or "(top level)"
        message = item["msg"].removeprefix("Value error, ")
        mistake = f"{key}: {message}"
        # Echo scalars only: a whole mapping is long and may hold what must not be logged.
        scalar = isinstance(item.get("input"), str | int | float | bool)
        if item["type"] not in ("missing", "extra_forbidden") and scalar:
            mistake += f" (got {item['input']!r})"
        where = next((name for name, data in reversed(layers) if _holds(data, loc)), None)
        by_file.setdefault(where or default, []).append(mistake)
    return "; ".join(f"{where}: " + "; ".join(mistakes) for where, mistakes in by_file.items())


def merge(base: dict, changes: dict) -> dict:
    """`base` with `changes` merged in, nested mappings key by key."""
    merged = dict(base)
    for key, value in changes.items():
        if isinstance(value, dict) and isinstance(merged.get(key), dict):
            merged[key] = merge(merged[key], value)
        else:
            merged[key] = value
    return merged


def parse_overrides(text: str, source: str) -> dict:
    """A mapping from JSON or YAML text; a one-line ConfigError naming `source` otherwise."""
    if not text.strip():
        return {}
    try:
        changes = yaml.safe_load(text)  # JSON is YAML
    except yaml.YAMLError:
        raise ConfigError(f"{source}: not valid YAML or JSON") from None
    if not isinstance(changes, dict):
        example = json.dumps({"sample": {"rows": 1000}})
        raise ConfigError(f"{source}: must be a mapping, e.g. {example}")
    return changes


def _parse(model: type[BaseModel], layers: list[tuple[str, dict]], default: str = "") -> BaseModel:
    """`model` from the mappings of `layers` ((name, data) pairs) merged in order; errors
    name the file that sets the key, else `default` (by default the last file)."""
    data: dict = {}
    for _, layer in layers:
        data = merge(data, layer)
    try:
        return model.model_validate(data)
    except ValidationError as error:
        raise ConfigError(_describe(error, layers, default or layers[-1][0])) from None


def load_config(
    env: str, conf_dir: Path | str | None = None, overrides: dict | None = None
) -> Config:
    """Load conf/project.yml and the environment's settings into validated models.

    The environment's settings are conf/base.yml (what every environment shares, if the
    file exists), then conf/envs/<env>.yml, then `overrides`, then
    $MLOPS_CONFIG_OVERRIDES, each merged into the one before, key by key.
    """
    conf = Path(conf_dir) if conf_dir is not None else default_conf_dir()
    if env not in ENVIRONMENTS:
        raise ConfigError(
            f"--env: unknown environment '{env}' (expected one of {', '.join(ENVIRONMENTS)})"
        )
    changes = merge(
        overrides or {},
        parse_overrides(os.environ.get(OVERRIDES_VARIABLE, ""), OVERRIDES_VARIABLE),
    )
    project_file = conf / "project.yml"
    project = _parse(ProjectConfig, [(str(project_file), read_yaml(project_file))])
    env_file = conf / "envs" / f"{env}.yml"
    layers = [(str(env_file), read_yaml(env_file))]
    if (conf / BASE_FILE).is_file():
        layers.insert(0, (str(conf / BASE_FILE), read_yaml(conf / BASE_FILE)))
    if changes:
        layers.append((f"{env_file} (with overrides)", changes))
    env_config = _parse(EnvConfig, layers, default=str(env_file))
    sources = {key: name for name, data in layers for key in data}
    return Config(env_name=env, conf_dir=conf, project=project, env=env_config, sources=sources)


# ------------------------------------------------------------- isolated runs
def isolated_schema(schema: str, run: str) -> str:
    """`<schema>_e2e_<run>`, a valid Unity Catalog name for any run id (e.g. 'pr-42')."""
    suffix = re.sub(r"[^a-z0-9_]+", "_", run.lower()).strip("_")
    if not suffix:
        raise ConfigError(f"--isolate: '{run}' has no letters or digits to name a schema with")
    return f"{schema}_e2e_{suffix}"[:255]


def isolation_overrides(config: Config, run: str) -> dict[str, Any]:
    """Config changes that move every table (and so the model) into the run's own schema:
    a pull request's e2e run (tasks/e2e.py) and its deployment (admin/deployment.py)."""
    env = config.env
    schema = isolated_schema(env.schema_, run)
    tables = {
        key: f"{env.catalog}.{schema}.{name.rsplit('.', 1)[1]}"
        for key, name in env.tables.model_dump(exclude_none=True).items()
    }
    return {"schema": schema, "tables": tables}
