"""The lean loads read every column the figures need: a column missing here is a KeyError at scoring time."""

from __future__ import annotations

from analysis.cost import COST_COLUMNS
from analysis.load import LEDGER_ANALYSIS_COLUMNS
from ground.records import LEDGER_SCHEMA


def test_the_lean_ledger_load_reads_every_column_the_cost_needs() -> None:
    assert set(COST_COLUMNS) <= set(LEDGER_ANALYSIS_COLUMNS)


def test_the_lean_ledger_columns_are_ledger_columns() -> None:
    assert set(LEDGER_ANALYSIS_COLUMNS) <= set(LEDGER_SCHEMA.names)
