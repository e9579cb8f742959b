"""Bad input at the edge of a command exits 2 with one line naming the field, the bad value and the fix, never a
traceback or an "internal error" (exit 3, which README keeps for the harness's own failures): a criterion scoped
to an operation, scenario or fault that does not exist (it would silently drop its target), a missing run folder,
an ``--output`` whose folder cannot be made, an unreadable SLA file, a ``--param`` that is not YAML, a fault that
would repeat without bound, clashing ``vendor serve --set`` items and a ``--port`` out of range."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from analysis.synthetic import SyntheticRun
from ground.errors import EXIT_BAD_INPUT
from harness.cli import main

ROOT = Path(__file__).resolve().parents[3]
STEADY = str(ROOT / "vendors" / "reference-steady.yaml")
PASSING = "  - {metric: error_rate, target: 0.5}\n"  # the synthetic run passes this one


def refused(capsys: pytest.CaptureFixture[str], argv: list[str], *words: str) -> str:
    """Run the CLI; it must exit 2 with every one of ``words`` in one line and no traceback."""
    assert main(argv) == EXIT_BAD_INPUT
    captured = capsys.readouterr()
    text = " ".join((captured.out + captured.err).split())
    assert "Traceback" not in text and "internal error" not in text
    for word in words:
        assert word in text, f"{word!r} not in {text!r}"
    return text


@pytest.fixture
def run1(synthetic_run: Callable[..., SyntheticRun]) -> Path:
    return synthetic_run("run1", duration_s=30, fault_at_s=10, fault_s=2).path  # a failover run: process-kill


# --- finding 2: a scope that names nothing is refused, on every path that loads an SLA ----------------------------

SCOPE_TYPOS = [
    ("{operation: send_txt}", "criteria.1.scope.operation", "'send_txt'", "send_text"),
    ("send_txt", "criteria.1.scope.operation", "'send_txt'", "send_text"),  # a bare string is an operation
    ("{scenario: peek}", "criteria.1.scope.scenario", "'peek'", "peak"),
    ("{fault: process-kil}", "criteria.1.scope.fault", "'process-kil'", "process-kill"),
]


def _sla(tmp_path: Path, scope: str, metric: str = "latency_ms") -> Path:
    path = tmp_path / "typo.yaml"
    line = f"  - {{id: typo, metric: {metric}, target: 1, critical: true, scope: {scope}}}\n"
    path.write_text(f"name: typo\ncriteria:\n{PASSING}{line}", encoding="utf-8")
    return path


@pytest.mark.parametrize(
    ("scope", "field", "value", "known"), SCOPE_TYPOS, ids=[s[1] + " " + s[0] for s in SCOPE_TYPOS]
)
def test_score_refuses_a_scope_that_names_nothing_instead_of_passing(
    tmp_path: Path, run1: Path, capsys: pytest.CaptureFixture[str], scope: str, field: str, value: str, known: str
) -> None:
    metric = "sustained_recovery_s" if "fault" in field else "latency_ms"
    sla = _sla(tmp_path, scope, metric)
    refused(capsys, ["score", str(run1), "--sla", str(sla)], str(sla), f"field '{field}'", value, "Fix:", known)
    assert not (run1 / "summary.json").exists()  # nothing scored against a half-read SLA


def test_the_same_scopes_spelt_right_are_scored(tmp_path: Path, run1: Path) -> None:
    sla = tmp_path / "right.yaml"
    sla.write_text(
        f"name: right\ncriteria:\n{PASSING}"
        "  - {metric: latency_ms, target: 60000, scope: send_text}\n"
        "  - {metric: latency_ms, target: 60000, scope: {scenario: failover}}\n"
        "  - {metric: sustained_recovery_s, target: 3600, scope: {fault: process-kill}}\n",
        encoding="utf-8",
    )
    assert main(["score", str(run1), "--sla", str(sla)]) != EXIT_BAD_INPUT
    assert (run1 / "summary.json").exists()


@pytest.mark.parametrize("command", ["report", "compare"])
def test_report_and_compare_refuse_an_unknown_scenario_scope(
    tmp_path: Path, run1: Path, capsys: pytest.CaptureFixture[str], command: str
) -> None:
    sla = _sla(tmp_path, "{scenario: peek}")
    argv = [command, str(run1), *([str(run1)] if command == "compare" else []), "--sla", str(sla)]
    refused(capsys, [*argv, "-o", str(tmp_path / "out" / "x.json")], "criteria.1.scope.scenario", "'peek'", "Fix:")
    assert not (tmp_path / "out" / "x.json").exists()


@pytest.mark.parametrize("scope", ["{scenario: peek}", "{fault: process-kil}", "send_txt"])
def test_run_refuses_a_scope_typo_before_anything_starts(
    tmp_path: Path, nothing_starts: None, capsys: pytest.CaptureFixture[str], scope: str
) -> None:
    sla = _sla(tmp_path, scope)
    argv = ["run", "--vendor", STEADY, "--scenario", "peak", "--quick", "--sla", str(sla), "--no-progress"]
    refused(capsys, [*argv, "--out", str(tmp_path / "results")], str(sla), "criteria.1.scope", "Fix:")


# --- finding 11: a missing run folder is bad input; so is an --output that cannot be written ----------------------


@pytest.mark.parametrize("command", ["score", "report", "compare"])
def test_a_missing_run_folder_is_bad_input_not_a_harness_failure(
    tmp_path: Path, run1: Path, capsys: pytest.CaptureFixture[str], command: str
) -> None:
    missing = tmp_path / "no-such-run"
    argv = [command, str(missing), *([str(run1)] if command == "compare" else [])]
    refused(capsys, argv, "field 'RUN_DIR'", str(missing), "does not exist", "Fix: give one run's results folder")
    assert not missing.exists()  # not created on the way, by a default --output for instance


def test_a_file_given_as_the_run_folder_is_named_as_such(run1: Path, capsys: pytest.CaptureFixture[str]) -> None:
    manifest = run1 / "manifest.json"
    refused(capsys, ["score", str(manifest)], "field 'RUN_DIR'", str(manifest), "is a file, not a folder", "Fix:")


@pytest.mark.parametrize("command", ["report", "compare"])
def test_an_output_under_a_file_is_refused_on_output_before_any_run_is_scored(
    run1: Path, capsys: pytest.CaptureFixture[str], command: str
) -> None:
    output = run1 / "manifest.json" / "card.json"  # its folder would have to be a file that exists
    argv = [command, str(run1), *([str(run1)] if command == "compare" else []), "-o", str(output)]
    refused(capsys, argv, "field '--output'", str(output), f"{run1 / 'manifest.json'} is a file", "Fix:")
    assert not (run1 / "summary.json").exists()


def test_an_output_that_is_a_folder_is_refused(tmp_path: Path, run1: Path, capsys: pytest.CaptureFixture[str]) -> None:
    refused(capsys, ["report", str(run1), "-o", str(tmp_path)], "field '--output'", str(tmp_path), "a folder", "Fix:")


def test_compare_makes_the_folder_of_its_output(tmp_path: Path, synthetic_run: Callable[..., SyntheticRun]) -> None:
    runs = [str(synthetic_run(f"r{i}", duration_s=30, fault_at_s=10, fault_s=2, seed=i).path) for i in range(2)]
    output = tmp_path / "new" / "folder" / "cmp.json"  # was a FileNotFoundError ("internal error", exit 3)
    assert main(["compare", *runs, "--sla", "standard", "-o", str(output)]) == 0
    assert output.is_file()


@pytest.mark.parametrize(
    ("make", "words"),
    [
        (lambda path: path.mkdir(), ("this is a folder, not a file", "Fix: give the YAML file's path")),
        (lambda path: path.write_bytes(b"name: \xff\xfe\n"), ("not UTF-8 text", "Fix: save it as UTF-8 text")),
    ],
    ids=["folder", "not-utf8"],
)
def test_an_unreadable_sla_file_names_the_fix(
    tmp_path: Path, run1: Path, capsys: pytest.CaptureFixture[str], make: Callable[[Path], None], words: tuple[str, ...]
) -> None:
    sla = tmp_path / "sla4.yaml"
    make(sla)
    refused(capsys, ["score", str(run1), "--sla", str(sla)], str(sla), *words)


# --- finding 10: a --param value that is not YAML; clashing vendor serve --set items ------------------------------


@pytest.mark.parametrize("item", ["rate=[1", "text=@a", "text=\tb"], ids=["unclosed", "at-sign", "tab"])
def test_a_param_that_is_not_yaml_is_bad_input_before_anything_starts(
    tmp_path: Path, nothing_starts: None, capsys: pytest.CaptureFixture[str], item: str
) -> None:
    argv = ["run", "--vendor", STEADY, "--scenario", "peak", "--quick", "--param", item, "--no-progress"]
    text = refused(capsys, [*argv, "--out", str(tmp_path / "results")], "field '--param'", "not valid YAML")
    assert repr(item) in text and "Fix: quote the value" in text


@pytest.fixture
def nothing_serves(monkeypatch: pytest.MonkeyPatch) -> None:
    """Fail the test if a vendor command gets as far as serving or launching."""
    import mocks.vendors.launch
    from harness.commands import vendor

    def never(*_: Any, **__: Any) -> None:
        pytest.fail("the command went on past its input checks (a server was about to start)")

    monkeypatch.setattr(vendor, "_serve", never)
    monkeypatch.setattr(mocks.vendors.launch, "launch_ha_pair", never)


@pytest.mark.parametrize(
    ("items", "clash", "earlier"),
    [
        (["workers=2", "workers.x=1"], "workers.x=1", "workers=2"),
        (["workers.x=1", "workers=2"], "workers=2", "workers.x=1"),
    ],
    ids=["value-then-section", "section-then-value"],
)
def test_vendor_serve_set_items_that_clash_are_refused(
    nothing_serves: None, capsys: pytest.CaptureFixture[str], items: list[str], clash: str, earlier: str
) -> None:
    argv = ["vendor", "serve", "reference", *(arg for item in items for arg in ("--set", item))]
    refused(capsys, argv, "field '--set'", repr(clash), "Fix: keep only one of", earlier)


# --- finding 12: vendor serve --port out of range ------------------------------------------------------------------


@pytest.mark.parametrize(
    "argv",
    [
        ["vendor", "serve", "reference", "--port", "99999"],
        [
            "vendor",
            "serve",
            "front",
            "--backend",
            "http://127.0.0.1:1",
            "--backend",
            "http://127.0.0.1:2",
            "--port",
            "65536",
        ],
        ["vendor", "serve", "ha-pair", "--port", "0"],
        ["vendor", "serve", "ha-pair", "--port", "-1"],
    ],
    ids=["reference-99999", "front-65536", "ha-pair-0", "ha-pair-negative"],
)
def test_vendor_serve_refuses_a_port_out_of_range(
    nothing_serves: None, capsys: pytest.CaptureFixture[str], argv: list[str]
) -> None:
    refused(capsys, argv, "'--port'", repr(argv[-1]), "is not a TCP port", "from 1 to 65535")


# --- finding 5: a fault that would repeat without bound ------------------------------------------------------------


def test_a_fault_every_that_repeats_too_often_is_refused_before_anything_starts(
    tmp_path: Path, nothing_starts: None, capsys: pytest.CaptureFixture[str]
) -> None:
    schedule = tmp_path / "faults.yaml"
    schedule.write_text("faults:\n  - {fault: upstream-errors, target: mock, every: 0.000001}\n", encoding="utf-8")
    argv = ["run", "--vendor", STEADY, "--scenario", "peak", "--quick", "--faults", str(schedule), "--no-progress"]
    text = refused(
        capsys, [*argv, "--out", str(tmp_path / "results")], str(schedule), "field 'faults.0.every'", "1e-06"
    )
    assert "at most 1000 times" in text and "Fix: use an 'every' of at least" in text
