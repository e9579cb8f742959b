"""scrmbench harness: vendor profiles, adapters, faults, recorder, runner and the CLI."""

from ground.version import __version__

__all__ = ["__version__"]
