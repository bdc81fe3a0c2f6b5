"""Answer rules and derived values for copier.yml.

copier.yml stays declarative: every validator there is a one-line call to a filter
defined here, and every derived value is a one-line lookup. The functions return an
error message (empty string when the answer is fine) so that the template tests can
call them directly as well as through Copier.
"""

from __future__ import annotations

import ast
import keyword
import os
import re
import subprocess
import sys
from pathlib import Path
from urllib.parse import urlparse

import yaml
from jinja2.ext import Extension

# The generated project checks the slug, Unity Catalog names and application ids again
# whenever it loads conf/, where the answers land. Those patterns are written once, in
# its platform/config.py; they are read from there (Copier runs this file in its own
# environment, which cannot import the generated package).
CONF_MODULE = (
    Path(__file__).resolve().parents[1] / "template/src/{{ package_name }}/platform/config.py"
)


def conf_patterns(path: Path = CONF_MODULE) -> dict[str, str]:
    """{name: pattern} of the module-level `*_PATTERN = r"..."` string literals."""
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    found = {
        node.targets[0].id: node.value.value
        for node in tree.body
        if isinstance(node, ast.Assign)
        and len(node.targets) == 1
        and isinstance(node.targets[0], ast.Name)
        and node.targets[0].id.endswith("_PATTERN")
        and isinstance(node.value, ast.Constant)
        and isinstance(node.value.value, str)
    }
    wanted = {"SLUG_PATTERN", "UC_NAME_PATTERN", "APPLICATION_ID_PATTERN"}
    if not wanted <= set(found):
        missing = ", ".join(sorted(wanted - set(found)))
        raise RuntimeError(f"{path}: {missing} must be assigned a string literal")
    return found


_CONF = conf_patterns()

# Answers checked against a pattern: {rule: (pattern, the rule as the docs state it,
# what the error says after the quoted answer)}.
PATTERN_RULES = {
    "slug": (
        _CONF["SLUG_PATTERN"],
        "3-40 characters: lower-case letters, digits and `-`, starting with a letter.",
        "is not a valid slug: use 3-40 characters, lower-case letters, digits and '-', "
        "starting with a letter",
    ),
    "email": (
        r"^[^@\s]+@[^@\s]+\.[A-Za-z]{2,}$",
        "An e-mail address (`name@domain.tld`).",
        "is not an e-mail address (expected name@domain.tld)",
    ),
    "github_owner": (
        r"^[A-Za-z0-9](?:[A-Za-z0-9]|-(?=[A-Za-z0-9])){0,38}$",
        "A GitHub user or organisation name: letters, digits and single `-`, up to 39 characters.",
        "is not a GitHub owner name: 1-39 letters, digits or single hyphens, not starting "
        "or ending with a hyphen",
    ),
    # Lower case only: Unity Catalog folds names to lower case, and unquoted names
    # keep SQL, dbx and the local resolver free of backtick quoting.
    "uc_identifier": (
        _CONF["UC_NAME_PATTERN"],
        "A Unity Catalog name: lower-case letters, digits and `_`, starting with a letter.",
        "is not a valid Unity Catalog name: use lower-case letters, digits and '_', "
        "starting with a letter, at most 255 characters",
    ),
    "group": (
        r"^[A-Za-z0-9][A-Za-z0-9 ._-]{1,99}$",
        "2-100 characters: letters, digits, spaces and `._-`.",
        "is not a valid group name: 2-100 letters, digits, spaces, '.', '_' or '-', "
        "starting with a letter or digit",
    ),
}


# A service principal's application id as conf/ stores it: a lower-case UUID.
APPLICATION_ID = _CONF["APPLICATION_ID_PATTERN"]


def _pattern_rule(rule: str):
    """The validator for one PATTERN_RULES row, named `<rule>_error` for copier.yml."""
    pattern, doc, message = PATTERN_RULES[rule]
    compiled = re.compile(pattern)

    def check(value: str) -> str:
        return "" if compiled.fullmatch(str(value)) else f"'{value}' {message}"

    check.__name__ = check.__qualname__ = f"{rule}_error"
    check.__doc__ = doc
    return check


# Import names the generated package must not shadow: anything it or its tools import.
DEPENDENCY_MODULES = frozenset(
    {
        "conf",
        "copier",
        "databricks",
        "dbx",
        "delta",
        "great_expectations",
        "jinja2",
        "mlflow",
        "notebooks",
        "numpy",
        "pandas",
        "py4j",
        "pydantic",
        "pyspark",
        "pytest",
        "requests",
        "ruff",
        "scipy",
        "skops",
        "sklearn",
        "src",
        "tests",
        "yaml",
    }
)

# Hostname suffixes of Databricks workspaces per cloud.
CLOUD_HOST_SUFFIXES = {
    "aws": (".cloud.databricks.com", ".cloud.databricks.us", ".cloud.databricks.mil"),
    "azure": (".azuredatabricks.net", ".databricks.azure.us", ".databricks.azure.cn"),
    "gcp": (".gcp.databricks.com",),
}

# The offered Databricks Runtimes (ML flavour), one data file each under runtimes/: the
# cluster `spark_version`, the runtime's Python and its preinstalled libraries.
RUNTIMES_DIR = Path(__file__).resolve().parents[1] / "runtimes"


def runtimes() -> dict[str, dict]:
    """{'17.3 LTS': {...}} from runtimes/*.yml."""
    found = {}
    for path in sorted(RUNTIMES_DIR.glob("*.yml")):
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
        found[str(data["name"])] = data
    return found


# A general-purpose 4-core / 16 GiB class node per cloud, with local SSD where the
# cloud offers it so that Delta caching works.
NODE_TYPES = {
    "aws": "m5d.xlarge",
    "azure": "Standard_D4ds_v5",
    "gcp": "n2-standard-4",
}


def slugify(name: str) -> str:
    slug = re.sub(r"[^a-z0-9]+", "-", str(name).lower()).strip("-")
    return slug[:40].rstrip("-")


def to_package(slug: str) -> str:
    return str(slug).replace("-", "_")


def nonempty_error(value: str) -> str:
    """Not empty."""
    return "" if str(value).strip() else "must not be empty"


slug_error = _pattern_rule("slug")
email_error = _pattern_rule("email")
github_owner_error = _pattern_rule("github_owner")
uc_identifier_error = _pattern_rule("uc_identifier")
group_error = _pattern_rule("group")


def package_error(value: str) -> str:
    """A Python identifier; not a keyword, nor a standard-library or dependency module."""
    value = str(value)
    if not value.isidentifier() or not value.isascii():
        return f"'{value}' is not a valid Python identifier"
    if value != value.lower():
        return f"'{value}' must be lower case (PEP 8 package names)"
    if keyword.iskeyword(value) or keyword.issoftkeyword(value):
        return f"'{value}' is a Python keyword"
    if value in sys.stdlib_module_names:
        return f"'{value}' would shadow the standard-library module '{value}'"
    if value in DEPENDENCY_MODULES:
        return f"'{value}' would shadow the dependency module '{value}'"
    return ""


def host_error(value: str, cloud: str) -> str:
    """`https://` and a Databricks workspace host of the chosen cloud, no path."""
    value = str(value)
    parsed = urlparse(value)
    if parsed.scheme != "https":
        return f"'{value}' must start with https://"
    host = parsed.hostname or ""
    if not host or parsed.path not in ("", "/") or parsed.query or parsed.port:
        return f"'{value}' must be a bare workspace URL such as https://<workspace-host>"
    suffixes = CLOUD_HOST_SUFFIXES.get(str(cloud), ())
    if not host.endswith(suffixes):
        return (
            f"'{host}' is not a Databricks workspace host on {cloud}: expected a host "
            f"ending in {' or '.join(suffixes)}"
        )
    return ""


def optional_uuid_error(value: str) -> str:
    """Empty, or a service principal application id (a lower-case UUID)."""
    # Checked as conf/ checks it: an upper-case id used to pass here, and then every
    # task of the project failed on loading conf/project.yml.
    value = str(value)
    if not value or re.fullmatch(APPLICATION_ID, value):
        return ""
    return (
        f"'{value}' is not an application id: expected a lower-case UUID such as "
        "00000000-0000-0000-0000-000000000000, or leave it empty for now"
    )


def example_host(cloud: str, slug: str, env: str) -> str:
    """A placeholder that passes validation; the generated docs say to replace it."""
    return f"https://{slug}-{env}{CLOUD_HOST_SUFFIXES[str(cloud)][0]}"


def spark_version(dbr_version: str) -> str:
    return str(runtimes()[str(dbr_version)]["spark_version"])


def runtime_python(dbr_version: str) -> str:
    return str(runtimes()[str(dbr_version)]["python"])


def runtime_constraints(dbr_version: str) -> str:
    """The runtime's versions of the libraries a project touches, as pip constraints:
    its preinstalled libraries and its engine (scripts/runtime_standin.py pins the same)."""
    data = runtimes()[str(dbr_version)]
    pinned = {**data["libraries"], **data["engine"]}
    return "\n".join(f"{name}=={version}" for name, version in pinned.items())


def node_type(cloud: str) -> str:
    return NODE_TYPES[str(cloud)]


# A first copy into a subfolder of a git repository only with this set (the team then
# wires the workflows at the repository's root itself: docs/getting-started.md).
ALLOW_SUBFOLDER = "MLOPS_ALLOW_SUBFOLDER"


def subfolder_error(dst_path: object) -> str:
    """Refuse a first copy into a subfolder of a git repository: GitHub runs only the
    workflows in the repository root's .github/workflows, so the project's CI, deploys
    and weekly update would silently never run. An existing project (an update, a
    recopy: its answers file is there) is left to the update, which says so."""
    dst = Path(str(dst_path)).resolve()
    if (dst / ".copier-answers.yml").exists() or os.environ.get(ALLOW_SUBFOLDER):
        return ""
    parent = next((p for p in (dst, *dst.parents) if p.is_dir()), None)
    found = subprocess.run(
        ["git", "rev-parse", "--show-toplevel"], cwd=parent, capture_output=True, text=True
    )
    top = Path(found.stdout.strip()).resolve() if found.returncode == 0 else None
    if top is None or top == dst:
        return ""
    return (
        f"{dst} is inside the git repository {top}: GitHub runs only the workflows in "
        f"{top / '.github/workflows'}, so this project's CI, deploys and weekly update "
        "would never run. Generate it in a repository of its own, or set "
        f"{ALLOW_SUBFOLDER}=1 and wire the workflows at the root yourself "
        "(docs/getting-started.md, Monorepos)"
    )


FILTERS = {
    func.__name__: func
    for func in (
        subfolder_error,
        slugify,
        to_package,
        runtime_constraints,
        nonempty_error,
        slug_error,
        package_error,
        email_error,
        github_owner_error,
        host_error,
        uc_identifier_error,
        group_error,
        optional_uuid_error,
        example_host,
        spark_version,
        runtime_python,
        node_type,
    )
}


class AnswerRules(Extension):
    """Registers the functions above as Jinja filters for copier.yml."""

    def __init__(self, environment):
        super().__init__(environment)
        environment.filters.update(FILTERS)
