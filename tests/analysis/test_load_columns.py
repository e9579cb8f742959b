"""The lean loads read every column the figures need: a column missing here is a KeyError at scoring time."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from analysis import summary as summary_module
from analysis.cost import COST_COLUMNS
from analysis.load import ANALYSIS_COLUMNS, LEDGER_ANALYSIS_COLUMNS, load_run
from analysis.sla import load_preset
from analysis.summary import build_summary
from analysis.synthetic import write_synthetic_run
from ground.records import LEDGER_SCHEMA


def test_the_lean_ledger_load_reads_every_column_the_cost_needs() -> None:
    assert set(COST_COLUMNS) <= set(LEDGER_ANALYSIS_COLUMNS)


def test_the_lean_ledger_columns_are_ledger_columns() -> None:
    assert set(LEDGER_ANALYSIS_COLUMNS) <= set(LEDGER_SCHEMA.names)


def test_the_lean_load_scores_a_run_as_the_full_load_does(tmp_path: Path) -> None:
    """The lean load keeps the ledger small (billable as nullable booleans, the inbound message ids only, as a
    categorical) and the summary is the same as from every column of every record, replies and cost included."""
    run = write_synthetic_run(tmp_path / "run", duration_s=120, rate=10, fault_at_s=40, fault_s=10, inbound=30)
    lean, full = load_run(run.path, columns=ANALYSIS_COLUMNS), load_run(run.path)
    assert lean.ledger["billable"].dtype == "boolean" and full.ledger["billable"].dtype == "boolean"
    inbound = (lean.ledger["direction"] == "inbound").to_numpy(dtype=bool)
    assert isinstance(lean.ledger["wamid"].dtype, pd.CategoricalDtype)
    assert lean.ledger["wamid"][~inbound].isna().all() and lean.ledger["wamid"][inbound].notna().all()
    assert full.ledger["wamid"].notna().all()  # the full load keeps every message id
    summary = build_summary(lean, sla=load_preset("standard"))
    assert summary["reply"] is not None and summary["reply"]["answered"] > 0 and summary["cost"]["measured"]
    assert summary == build_summary(full, sla=load_preset("standard"))


def test_a_big_run_is_scored_in_order_to_the_same_summary(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Past ``SIDE_THREAD_MAX_RECORDS`` the request figures are made before the token join, not beside it: the same
    summary (here forced on a small run); an error in a figure still reaches the caller."""
    written = write_synthetic_run(tmp_path / "run", duration_s=60, rate=10, fault_at_s=20)
    run = load_run(written.path, columns=ANALYSIS_COLUMNS)
    beside = build_summary(run, sla=load_preset("standard"))
    monkeypatch.setattr(summary_module, "SIDE_THREAD_MAX_RECORDS", 0)
    assert build_summary(run, sla=load_preset("standard")) == beside

    def broken(*args: object, **kwargs: object) -> None:
        raise ValueError("broken figure")

    monkeypatch.setattr(summary_module, "degradation", broken)
    with pytest.raises(ValueError, match="broken figure"):
        build_summary(run)
