"""Migration to 0.2.0: the predictions' score column is named by the model, not the platform.

Before 0.2.0 the platform wrote every score to `churn_probability`. Now `model/` (owned by
the project, never rewritten by `copier update`) declares `SCORE_COLUMN`, and this
migration adds it with that old name, so existing predictions tables keep their column:

* `model/spec.py` gets the declaration right after its `FEATURES` assignment (the
  template's own lines); without such a file or assignment, `model/__init__.py` gets it;
* `model/__init__.py` is replaced by the template's new one only while it is exactly as
  0.1.0 generated it; an edited one gets an import appended. No line is removed.

A project that declares `SCORE_COLUMN` anywhere in `model/` is left alone.
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


def declaration() -> list[str]:
    """The template's own `SCORE_COLUMN` lines (its comment and assignment), old name."""
    lines = (TEMPLATE_MODEL / "spec.py").read_text(encoding="utf-8").splitlines(keepends=True)
    at = next(i for i, line in enumerate(lines) if line.startswith("SCORE_COLUMN ="))
    return [lines[at - 1], f'SCORE_COLUMN = "{OLD_NAME}"\n']


def _features_end(path: Path, root: Path) -> int | None:
    """The last line (1-based) of spec.py's top-level `FEATURES = ...`, if it has one."""
    try:
        tree = ast.parse(path.read_text(encoding="utf-8"))
    except SyntaxError as error:
        where = f"{path.relative_to(root)}:{error.lineno}"
        problem = f"not valid Python ({error.msg}); fix it and update again"
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
        end = _features_end(spec, root) if spec.is_file() else None
        if end is not None:
            lines = spec.read_text(encoding="utf-8").splitlines(keepends=True)
            spec.write_text("".join(lines[:end] + declaration() + lines[end:]), encoding="utf-8")
            changed.append(spec)
            text = init.read_text(encoding="utf-8")
            if text == GENERATED_INIT_0_1_0:
                new = (TEMPLATE_MODEL / "__init__.py").read_text(encoding="utf-8")
            else:
                new = _ended(text) + (
                    "\n# Added by the 0.2.0 update: the score column is part of the model.\n"
                    "from .spec import SCORE_COLUMN  # noqa: E402\n"
                )
        else:
            text = init.read_text(encoding="utf-8")
            new = _ended(text) + "\n" + "".join(declaration())
        init.write_text(new, encoding="utf-8")
        changed.append(init)
    return changed


def report(root: Path) -> None:
    for path in migrate(root):
        print(f"migration 0.2.0: declared SCORE_COLUMN in {path.relative_to(root)}")


if __name__ == "__main__":
    run("add_score_column_to_model", report)
