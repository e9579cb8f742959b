"""A plain Locust run (deploy/) is finished like `scrmbench run` ends one: the mock's records exported, the
manifest complete; it stays partial when the export fails or phases of the scenario were left out."""

from __future__ import annotations

from pathlib import Path

import orjson
import pytest

from ground.errors import EXIT_BAD_INPUT, EXIT_HARNESS_ERROR
from ground.records import RunManifest
from harness.results import write_manifest
from harness.run import plain_finish

LEDGER = "not run: the ledger export (ledger.parquet, webhooks.parquet from the mock): ..."
FAULTS = "not run: the scenario's fault schedule (customer-burst at 6 s); no fault was injected"


def _run_dir(tmp_path: Path, *notes: str) -> Path:
    manifest = RunManifest(
        run_id="r", run_tag="abc123", scenario="peak", seed=0, load_model="open", started_at=1.0, notes=list(notes)
    )
    tmp_path.mkdir(parents=True, exist_ok=True)
    write_manifest(tmp_path, manifest)
    return tmp_path


def _manifest(run_dir: Path) -> dict[str, object]:
    return dict(orjson.loads((run_dir / "manifest.json").read_bytes()))


def test_an_exported_ledger_completes_the_run_and_keeps_the_other_notes(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(plain_finish, "export_mock_records_from", lambda url, run_dir: [])
    run_dir = _run_dir(tmp_path, "started with locust -f locustfile.py --quick", FAULTS, LEDGER)
    assert plain_finish.main([str(run_dir), "--mock-url", "http://127.0.0.1:8900/"]) == 0
    manifest = _manifest(run_dir)
    assert manifest["complete"] is True and manifest["ended_at"]
    notes = manifest["notes"]
    assert isinstance(notes, list) and FAULTS in notes and LEDGER not in notes
    assert any("exported from http://127.0.0.1:8900/" in n for n in notes)


def test_a_failed_export_or_a_left_out_phase_keeps_the_run_partial(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(plain_finish, "export_mock_records_from", lambda url, run_dir: ["ledger.parquet not exported"])
    assert plain_finish.main([str(_run_dir(tmp_path / "a", LEDGER)), "--mock-url", "http://127.0.0.1:1"]) == 4
    assert _manifest(tmp_path / "a")["complete"] is False
    monkeypatch.setattr(plain_finish, "export_mock_records_from", lambda url, run_dir: [])
    phases = "not run: phase(s) warm; only phase peak (--phase 1) ran"
    assert plain_finish.main([str(_run_dir(tmp_path / "b", phases, LEDGER)), "--mock-url", "http://127.0.0.1:1"]) == 4
    assert _manifest(tmp_path / "b")["complete"] is False


def test_a_worker_the_master_saw_go_missing_keeps_the_run_partial_and_is_named(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setattr(plain_finish, "export_mock_records_from", lambda url, run_dir: [])
    run_dir = _run_dir(tmp_path, LEDGER)
    workers = {
        "worker-0": {"client_id": "a", "first_seen": 10.0, "missing_since": None},
        "worker-1": {"client_id": "b", "first_seen": 10.0, "missing_since": 14.0},
    }
    (run_dir / "workers.json").write_bytes(orjson.dumps(workers))
    assert plain_finish.main([str(run_dir), "--mock-url", "http://127.0.0.1:8900"]) == 4
    manifest = _manifest(run_dir)
    assert manifest["complete"] is False
    missing = manifest["missing_workers"]
    assert isinstance(missing, list) and [m["worker"] for m in missing] == ["worker-1"]
    assert missing[0]["missing_from"] == 14.0
    assert "worker-1 went missing at 14" in capsys.readouterr().err
    assert plain_finish.main([str(run_dir), "--mock-url", "http://127.0.0.1:8900"]) == 4  # finishing again: one note
    notes = _manifest(run_dir)["notes"]
    assert isinstance(notes, list) and sum("worker-1 went missing" in n for n in notes) == 1


@pytest.fixture
def no_export(monkeypatch: pytest.MonkeyPatch) -> None:
    def never(url: str, run_dir: Path) -> list[str]:
        pytest.fail("the mock's records were asked for although the input was refused")

    monkeypatch.setattr(plain_finish, "export_mock_records_from", never)


def _refused(capsys: pytest.CaptureFixture[str], argv: list[str], code: int, *words: str) -> None:
    assert plain_finish.main(argv) == code
    err = " ".join(capsys.readouterr().err.split())
    assert err.startswith("error: ") and err.count("error: ") == 1  # one line
    assert "Traceback" not in err
    for word in words:
        assert word in err, f"{word!r} not in {err!r}"


def test_a_missing_folder_or_one_without_a_manifest_is_bad_input(
    tmp_path: Path, no_export: None, capsys: pytest.CaptureFixture[str]
) -> None:
    missing = tmp_path / "no-such-run"
    argv = [str(missing), "--mock-url", "http://127.0.0.1:8900"]
    _refused(capsys, argv, EXIT_BAD_INPUT, "field 'run_dir'", str(missing), "does not exist", "Fix:")
    empty = tmp_path / "results"
    empty.mkdir()
    argv = [str(empty), "--mock-url", "http://127.0.0.1:8900"]
    _refused(capsys, argv, EXIT_BAD_INPUT, "field 'run_dir'", str(empty), "no manifest.json", "Fix:", "--results-dir")


@pytest.mark.parametrize(("text", "why"), [(b'{"run_id": ', "not valid JSON"), (b"[]", "not a run manifest")])
def test_a_damaged_manifest_is_a_harness_error_naming_the_file_and_the_fix(
    tmp_path: Path, no_export: None, capsys: pytest.CaptureFixture[str], text: bytes, why: str
) -> None:
    (tmp_path / "manifest.json").write_bytes(text)
    argv = [str(tmp_path), "--mock-url", "http://127.0.0.1:8900"]
    # 3, not 1 (the "SLA not met" code an uncaught exception used to give) and not 2: the folder is right
    _refused(capsys, argv, EXIT_HARNESS_ERROR, str(tmp_path / "manifest.json"), why, f"scrmbench score {tmp_path}")
    assert (tmp_path / "manifest.json").read_bytes() == text  # left as it was


@pytest.mark.parametrize("url", ["https://graph.facebook.com", "http://10.0.0.5:8900", "127.0.0.1:8900"])
def test_a_mock_url_that_is_not_loopback_gets_no_admin_token(
    tmp_path: Path, no_export: None, capsys: pytest.CaptureFixture[str], url: str
) -> None:
    run_dir = _run_dir(tmp_path, LEDGER)
    _refused(capsys, [str(run_dir), "--mock-url", url], EXIT_BAD_INPUT, "field '--mock-url'", repr(url), "loopback")
    assert _manifest(run_dir)["complete"] is False  # untouched
