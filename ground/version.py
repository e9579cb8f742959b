"""The scrmbench version, on the ground floor so every floor (the scorecard, the CLI, the manifest) can print it."""

__version__ = "0.1.0"
