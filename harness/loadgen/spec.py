"""The run's one frozen description, shared by the runner and every Locust process: :class:`RunSpec`.

``scrmbench run`` writes it to the run folder (``run-spec.json``) before each phase and starts Locust with
``--run-spec PATH``; the local runner and local workers read that file, the master forwards the spec to every
worker inside Locust's spawn message (the parsed option ``run_spec_json``), so workers on other machines need only
``--worker --master-host H``. A plain ``locust -f locustfile.py --scenario ... --vendor ...`` run builds it from its
options once (:func:`spec_from_options`). Each process parses it once and keeps it on its context
(``harness.loadgen.context``).

Secrets are never in it: the file holds the profile's public dict (env-var names, no dev default) and the path of
the profile file it was read from; the profile itself is re-read from that file (the run's private copy of the
effective profile, outside the results folder: ``harness.stack.services``), whose loopback-only dev default a
local process needs; the results folder's ``vendor-profile.yaml`` is only its public form. The spawn message
carries the whole profile, as ``--vendor-json`` did.

No Locust import here: the runner writes the file outside Locust.
"""

from __future__ import annotations

import json
import os
import time
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path
from types import MappingProxyType
from typing import Any

from ground.errors import ScenarioError
from harness.adapters.registry import load_profile, parse_profile
from harness.config.profiles import VendorProfile
from harness.loadgen.options import EngineOptions
from scenarios.registry import get as get_scenario

RUN_SPEC_FILE = "run-spec.json"
WIRE_OPTION = "run_spec_json"  # the parsed option the master sets; Locust's spawn message carries it to workers
SPEC_VERSION = 1


@dataclass(frozen=True)
class RunSpec:
    profile: VendorProfile = field(repr=False)  # the effective profile (a proxy in front: its address)
    scenario: str
    params: Mapping[str, Any]  # the full validated scenario parameters (quick size and overrides applied)
    run_id: str
    run_tag: str
    results_dir: str
    seed: int = 0
    quick: bool = False
    phase: int = 0
    mock_url: str = ""
    owner_confirmed: bool = False
    profile_file: str = ""  # the profile file this spec's profile was read from ("" when sent whole)
    # A sharded mock as the target (--mock-shards): phone number id → the URL of the shard that owns it.
    routes: Mapping[str, str] = field(default_factory=dict)
    # A sharded mock behind a reference vendor: the numbers simulated customers write to (by their own hash).
    customer_numbers: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        object.__setattr__(self, "params", MappingProxyType(dict(self.params)))
        object.__setattr__(self, "routes", MappingProxyType(dict(self.routes)))

    def _fields(self) -> dict[str, Any]:
        return {
            "version": SPEC_VERSION,
            "scenario": self.scenario,
            "params": dict(self.params),
            "run_id": self.run_id,
            "run_tag": self.run_tag,
            "results_dir": self.results_dir,
            "seed": self.seed,
            "quick": self.quick,
            "phase": self.phase,
            "mock_url": self.mock_url,
            "owner_confirmed": self.owner_confirmed,
            "profile_file": self.profile_file,
            "routes": dict(self.routes),
            "customer_numbers": list(self.customer_numbers),
        }

    def public_dict(self) -> dict[str, Any]:
        """``run-spec.json``: the profile's public dict (env-var names only), as the manifest has it."""
        return {**self._fields(), "vendor": self.profile.public_dict()}

    def wire_json(self) -> str:
        """What the master sends its workers: the whole profile (workers elsewhere cannot read its file)."""
        return json.dumps({**self._fields(), "profile_file": "", "vendor": self.profile.model_dump(mode="json")})

    def for_phase(self, phase: int) -> RunSpec:
        return replace(self, phase=phase)


def spec_from_dict(data: Any, *, source: str) -> RunSpec:
    """Parse a spec (the file or the spawn message's copy); the profile is validated here, once."""
    if not isinstance(data, dict) or data.get("version") != SPEC_VERSION:
        raise ScenarioError(
            f"not a version {SPEC_VERSION} run spec", source=source, fix="write it with this scrmbench's runner"
        )
    profile_file = str(data.get("profile_file") or "")
    if profile_file and Path(profile_file).is_file():
        profile = load_profile(profile_file)
    else:
        profile, profile_file = parse_profile(data["vendor"], source=source), ""
    return RunSpec(
        profile=profile,
        scenario=str(data["scenario"]),
        params=dict(data["params"]),
        run_id=str(data["run_id"]),
        run_tag=str(data["run_tag"]),
        results_dir=str(data["results_dir"]),
        seed=int(data["seed"]),
        quick=bool(data["quick"]),
        phase=int(data["phase"]),
        mock_url=str(data["mock_url"]),
        owner_confirmed=bool(data["owner_confirmed"]),
        profile_file=profile_file,
        routes={str(k): str(v) for k, v in dict(data.get("routes") or {}).items()},
        customer_numbers=tuple(str(number) for number in data.get("customer_numbers") or ()),
    )


def write_run_spec(run_dir: Path, spec: RunSpec) -> Path:
    """Atomically write ``run-spec.json`` (a reader never sees half a file)."""
    path = run_dir / RUN_SPEC_FILE
    temporary = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    temporary.write_text(json.dumps(spec.public_dict(), indent=2) + "\n", encoding="utf-8")
    os.replace(temporary, path)
    return path


def read_run_spec(path: Path | str) -> RunSpec:
    try:
        data = json.loads(Path(path).read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError) as exc:
        raise ScenarioError(
            f"cannot read the run spec ({type(exc).__name__})", field="--run-spec", value=str(path),
            fix="pass the run-spec.json that `scrmbench run` wrote, or the scenario options instead",
        ) from None  # fmt: skip
    return spec_from_dict(data, source=str(path))


def spec_from_options(options: EngineOptions) -> RunSpec:
    """A plain ``locust -f`` run's spec, from its options (``--vendor-json`` still carries a profile whole)."""
    if options.vendor_json:
        profile = parse_profile(json.loads(options.vendor_json), source="--vendor-json")
    elif options.vendor:
        profile = load_profile(options.vendor)
    else:
        raise ScenarioError(
            "no vendor profile given", field="--vendor", value="", fix="pass --vendor vendors/FILE.yaml"
        )
    params = get_scenario(options.scenario).params(options.params, quick=options.quick)
    run_tag = options.run_tag or "000000"
    vendor = Path(options.vendor).stem or "vendor"
    run_id = options.run_id or f"{options.scenario}-{vendor}-{time.strftime('%Y%m%dT%H%M%S')}"
    return RunSpec(
        profile=profile,
        scenario=options.scenario,
        params=params.model_dump(mode="json"),
        run_id=run_id,
        run_tag=run_tag,
        results_dir=options.results_dir or str(Path("results") / run_id),
        seed=options.seed,
        quick=options.quick,
        phase=options.phase,
        mock_url=options.mock_url,
        owner_confirmed=options.owner_confirmed,
        profile_file=options.vendor if not options.vendor_json else "",
    )
