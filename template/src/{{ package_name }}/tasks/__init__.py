"""Lifecycle tasks: one module each, each with `run(context)` and a console script `main`."""
