"""Project package: lifecycle tasks on top of a small platform layer."""

from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version(__name__)
except PackageNotFoundError:  # running from a source checkout that was not installed
    __version__ = "0.0.0+local"
