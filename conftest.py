"""Fixtures shared by all tests. Each concern keeps its fixtures in a module under tests/fixtures/."""

pytest_plugins = [
    "tests.fixtures.vendors",
    "tests.fixtures.runs",
    "tests.fixtures.scorecard",
    "tests.fixtures.webhook_receiver",
    "tests.fixtures.mock_server",
    "tests.fixtures.common",
    "tests.fixtures.facades",
    "tests.fixtures.faults",
    "tests.fixtures.proxy",
    "tests.fixtures.docker",
]
