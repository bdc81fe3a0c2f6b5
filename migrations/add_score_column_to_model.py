"""Migration to 0.2.0: the model declares its problem type and its score column.

Before 0.2.0 the platform assumed binary classification and wrote every score to
`churn_probability`. Now `model/` (owned by the project, never rewritten by `copier
update`) declares `PROBLEM_TYPE` and `SCORE_COLUMN`, and this migration adds them as
0.1.0 behaved (binary, the old column name), so existing predictions tables keep their
column:

* `model/spec.py` gets the declaration right after its `FEATURES` assignment (the
  template's own lines); without such a file or assignment, `model/__init__.py` gets it;
* `model/__init__.py` is replaced by the template's new one only while it is exactly as
  0.1.0 generated it; an edited one gets an import appended. No line is removed.

A project that declares `SCORE_COLUMN` anywhere in `model/` is left alone; one that
already declares `PROBLEM_TYPE` keeps its own.
"""

from __future__ import annotations

import ast
from pathlib import Path

from _common import MigrationError, run

TEMPLATE_MODEL = Path(__file__).resolve().parents[1] / "template/src/{{ package_name }}/model"

# model/__init__.py as 0.1.0 generated it (it names no project value).
GENERATED_INIT_0_1_0 = '''"""The project's model: features, estimator and hyper-parameters.

Project-owned: change anything here; `copier update` never overwrites this package.
The platform code only relies on FEATURES, LABEL, ID_COLUMN, PARAMS and build_model.
"""

from .spec import CATEGORICAL, FEATURES, ID_COLUMN, LABEL, NUMERIC, PARAMS, build_model

__all__ = ["CATEGORICAL", "FEATURES", "ID_COLUMN", "LABEL", "NUMERIC", "PARAMS", "build_model"]
'''
OLD_NAME = "churn_probability"  # what every 0.1.0 project's predictions table has
CONTRACT = ("PROBLEM_TYPE", "SCORE_COLUMN")  # the names 0.2.0 adds to the model contract


def declaration(with_problem_type: bool = True) -> list[str]:
    """The template's own lines after `FEATURES` (comments and assignments of
    `PROBLEM_TYPE` and `SCORE_COLUMN`), with the old score column name."""
    lines = (TEMPLATE_MODEL / "spec.py").read_text(encoding="utf-8").splitlines(keepends=True)
    start = next(i for i, line in enumerate(lines) if line.startswith("FEATURES =")) + 1
    end = next(i for i, line in enumerate(lines) if line.startswith("SCORE_COLUMN =")) + 1
    block = [*lines[start : end - 1], f'SCORE_COLUMN = "{OLD_NAME}"\n']
    if not with_problem_type:
        problem = next(i for i, line in enumerate(block) if line.startswith("PROBLEM_TYPE ="))
        comments = problem
        while comments > 0 and block[comments - 1].startswith("#"):
            comments -= 1
        block = block[:comments] + block[problem + 1 :]
    return block


def _features_end(path: Path, root: Path) -> int | None:
    """The last line (1-based) of spec.py's top-level `FEATURES = ...`, if it has one."""
    try:
        tree = ast.parse(path.read_text(encoding="utf-8"))
    except SyntaxError as error:
        where = f"{path.relative_to(root)}:{error.lineno}"
        problem = f"not valid Python ({error.msg})"
        raise MigrationError(f"{where}: {problem}") from None
    for node in tree.body:
        targets = node.targets if isinstance(node, ast.Assign) else []
        if isinstance(node, ast.AnnAssign):
            targets = [node.target]
        if any(isinstance(t, ast.Name) and t.id == "FEATURES" for t in targets):
            return node.end_lineno
    return None


def _ended(text: str) -> str:
    return text if not text or text.endswith("\n") else text + "\n"


def migrate(root: Path) -> list[Path]:
    changed: list[Path] = []
    for model in sorted(root.glob("src/*/model")):
        init, spec = model / "__init__.py", model / "spec.py"
        if not init.is_file():
            continue
        sources = [p.read_text(encoding="utf-8") for p in sorted(model.glob("*.py"))]
        if any("SCORE_COLUMN" in text for text in sources):
            continue
        declares_problem = any("PROBLEM_TYPE" in text for text in sources)
        block = declaration(with_problem_type=not declares_problem)
        end = _features_end(spec, root) if spec.is_file() else None
        if end is not None:
            lines = spec.read_text(encoding="utf-8").splitlines(keepends=True)
            spec.write_text("".join(lines[:end] + block + lines[end:]), encoding="utf-8")
            changed.append(spec)
            text = init.read_text(encoding="utf-8")
            if text == GENERATED_INIT_0_1_0:
                new = (TEMPLATE_MODEL / "__init__.py").read_text(encoding="utf-8")
            else:
                # What spec.py declares and __init__.py does not export yet: a problem
                # type declared but not exported would silently be read as binary.
                declared = spec.read_text(encoding="utf-8")
                names = [n for n in CONTRACT if f"{n} =" in declared and n not in text]
                new = _ended(text) + (
                    "\n# Added by the 0.2.0 update: these are part of the model contract.\n"
                    f"from .spec import {', '.join(names)}  # noqa: E402\n"
                )
        else:
            text = init.read_text(encoding="utf-8")
            new = _ended(text) + "\n" + "".join(block)
        init.write_text(new, encoding="utf-8")
        changed.append(init)
    return changed


def report(root: Path) -> None:
    for path in migrate(root):
        print(f"migration 0.2.0: declared the model contract in {path.relative_to(root)}")


if __name__ == "__main__":
    run("add_score_column_to_model", report)
