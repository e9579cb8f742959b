"""The effective profile a run writes: its public form in the results folder (no ``dev_default``), the whole
profile only in a private copy outside it, which the run's Locust processes read and which is gone afterwards."""

from __future__ import annotations

from pathlib import Path

import yaml

from harness.adapters.registry import load_profile, parse_profile, read_credentials
from harness.loadgen.spec import RunSpec, read_run_spec, write_run_spec
from harness.stack.services import PUBLIC_PROFILE_FILE, start_services
from scenarios.registry import get as get_scenario

ROOT = Path(__file__).resolve().parents[3]
DEV_DEFAULT = "not-for-results-7c1f"  # a value only the profile file holds; it must not reach the results folder


def a_profile_with_a_dev_default() -> dict[str, object]:
    data = yaml.safe_load((ROOT / "vendors" / "reference-steady.yaml").read_text())
    data["launch"] = {"kind": "none"}  # nothing started: the profile as written, on loopback
    data["auth"]["dev_default"] = DEV_DEFAULT
    return data


def test_the_results_hold_the_public_form_and_the_locust_processes_the_whole_profile(tmp_path: Path) -> None:
    profile = parse_profile(a_profile_with_a_dev_default(), source="test")
    assert profile.auth.dev_default == DEV_DEFAULT
    run_dir = tmp_path / "results" / "run-1"
    run_dir.mkdir(parents=True)
    services = start_services(profile, run_dir)
    private = services.profile_path
    try:
        public_file = run_dir / PUBLIC_PROFILE_FILE
        public = yaml.safe_load(public_file.read_text())
        assert public == profile.public_dict()
        assert "dev_default" not in public["auth"] and public["auth"]["token_env"] == "REFERENCE_API_KEY"
        assert public["base_url"] == profile.base_url  # the effective profile, only its secret-like field gone
        assert DEV_DEFAULT not in public_file.read_text()

        # What the run's Locust processes read (run-spec.json names the private copy): the whole profile.
        assert run_dir.resolve() not in private.resolve().parents and (private.parent.stat().st_mode & 0o077) == 0
        assert load_profile(private).auth.dev_default == DEV_DEFAULT
        params = get_scenario("peak").params({}, quick=True).model_dump(mode="json")
        spec = RunSpec(
            profile=services.profile,
            scenario="peak",
            params=params,
            run_id="run-1",
            run_tag="abc123",
            results_dir=str(run_dir),
            profile_file=str(private),
        )
        spec_file = write_run_spec(run_dir, spec)
        back = read_run_spec(spec_file)
        assert read_credentials(back.profile, environ={}).token == DEV_DEFAULT  # unset variable, loopback target
        texts = [path.read_text() for path in run_dir.rglob("*") if path.is_file()]
        assert texts and not any(DEV_DEFAULT in text for text in texts)
    finally:
        services.stack.close()
    assert not private.exists() and not private.parent.exists()
