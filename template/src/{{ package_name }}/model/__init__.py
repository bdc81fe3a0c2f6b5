"""The project's model: features, estimator and hyper-parameters.

Project-owned: change anything here; `copier update` never overwrites this package.
The platform code only relies on PROBLEM_TYPE, FEATURES, LABEL, ID_COLUMN, SCORE_COLUMN,
PARAMS and build_model; on an optional `log_model` (see platform/tracking.py: log_model,
the default); on `requirements.txt`, the model's own libraries; and on
`sample_data.generate` for `source.type: sample`.
"""

from .spec import (
    CATEGORICAL,
    FEATURES,
    ID_COLUMN,
    LABEL,
    NUMERIC,
    PARAMS,
    PROBLEM_TYPE,
    SCORE_COLUMN,
    build_model,
)

__all__ = [
    "CATEGORICAL",
    "FEATURES",
    "ID_COLUMN",
    "LABEL",
    "NUMERIC",
    "PARAMS",
    "PROBLEM_TYPE",
    "SCORE_COLUMN",
    "build_model",
]
