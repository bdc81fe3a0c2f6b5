"""Tools people and CI run from a checkout, never jobs: the deployment variables for dbx
(`deployment`) and the one-time setup plan (`bootstrap`). Left out of the wheel
(pyproject.toml), so that clusters install only what jobs run."""
