"""The deployed workflows (one Databricks job each, per environment), by name.

The platform's: conf/ checks a notebook task's workflow against them (platform/config.py)
and the task registry (tasks/__init__.py) says which tasks each one runs. Here, not in
the registry, so that nothing in platform/ imports from tasks/.
"""

TRAINING = "training"
INFERENCE = "batch-inference"
WORKFLOWS = (TRAINING, INFERENCE)
