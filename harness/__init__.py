"""scrmbench harness: vendor profiles, adapters, faults, recorder, runner and the CLI."""

__version__ = "0.1.0"
