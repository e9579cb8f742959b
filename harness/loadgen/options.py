"""The Locust command-line options that pick and size a scenario, shared by ``locust -f locustfile.py`` and the
runner (which starts Locust with the same options, so a run is recorded the same way either way).

Custom options reach workers with the master's spawn message (Locust forwards the parsed options), and with them
the master's run spec (``harness.loadgen.spec``), so remote workers need only ``--worker --master-host H``.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

from ground.errors import ScenarioError
from mocks.whatsapp.config import DEV_ADMIN_TOKEN, admin_token_from_env
from scenarios.registry import names

# Locust binds its web UI (``--web-host``, default all interfaces) and a master (``--master-bind-host``, default
# ``*``) to every interface; the web UI starts load with one click. Through this locustfile both default to
# loopback (design.md, Safety): ``--web-host 0.0.0.0`` or ``--master-bind-host ADDRESS`` (or LOCUST_WEB_HOST,
# LOCUST_MASTER_BIND_HOST, a config file) puts them on the network when the user asks.
LOOPBACK_DEFAULTS = {"web_host": "127.0.0.1", "master_bind_host": "127.0.0.1"}


def add_arguments(parser: Any) -> None:
    """Register scrmbench's options on Locust's parser (``events.init_command_line_parser``), and make Locust's
    own listening addresses default to loopback (``LOOPBACK_DEFAULTS``)."""
    parser.set_defaults(**LOOPBACK_DEFAULTS)
    group = parser  # Locust's own add_argument knows include_in_web_ui; argument groups do not
    group.add_argument("--scenario", choices=names(), default="peak", include_in_web_ui=True, help="scenario to run")
    group.add_argument("--vendor", default="", include_in_web_ui=True, help="vendor profile YAML")
    group.add_argument("--vendor-json", default="", help="the vendor profile itself as JSON (instead of --vendor)")
    group.add_argument(
        "--run-spec",
        default="",
        help="run-spec.json written by `scrmbench run` (replaces the scenario, vendor and run options)",
    )
    group.add_argument("--quick", action="store_true", default=False, include_in_web_ui=True, help="quick size")
    group.add_argument(
        "--scenario-params",
        default="{}",
        include_in_web_ui=True,
        help='JSON object of scenario parameters, e.g. {"rate": 20}',
    )
    group.add_argument("--seed", type=int, default=0, include_in_web_ui=True, help="seed for customers and arrivals")
    group.add_argument("--results-dir", default="", help="results folder of this run (default results/<run-id>)")
    group.add_argument("--run-id", default="", help="run id (default: scenario, vendor and time)")
    group.add_argument("--run-tag", default="", help="6 base36 characters in every correlation token")
    group.add_argument("--phase", type=int, default=0, help="phase index of a multi-phase scenario")
    group.add_argument("--mock-url", default="", include_in_web_ui=True, help="the mock WhatsApp API's base URL")
    group.add_argument("--worker-total", type=int, default=0, help="workers sharing the schedule (default: expected)")
    group.add_argument(
        "--i-own-this-target",
        action="store_true",
        default=False,
        help="confirm a non-loopback target on the profile's allowed_targets may be loaded",
    )


@dataclass(frozen=True)
class EngineOptions:
    scenario: str
    vendor: str
    vendor_json: str
    quick: bool
    params: dict[str, Any]
    seed: int
    results_dir: str
    run_id: str
    run_tag: str
    phase: int
    mock_url: str
    mock_admin_token: str = field(repr=False, default=DEV_ADMIN_TOKEN)
    worker_total: int = 0
    owner_confirmed: bool = False

    @classmethod
    def from_parsed(cls, parsed: Any) -> EngineOptions:
        raw = getattr(parsed, "scenario_params", "{}") or "{}"
        try:
            params = json.loads(raw) if isinstance(raw, str) else dict(raw)
        except json.JSONDecodeError as exc:
            raise ScenarioError(
                f"not valid JSON ({exc.msg})", field="--scenario-params", value=raw, fix='write e.g. {"rate": 20}'
            ) from None
        if not isinstance(params, dict):
            raise ScenarioError("must be a JSON object", field="--scenario-params", value=raw, fix='write {"rate": 20}')
        return cls(
            scenario=parsed.scenario,
            vendor=parsed.vendor,
            vendor_json=getattr(parsed, "vendor_json", "") or "",
            quick=bool(parsed.quick),
            params=params,
            seed=int(parsed.seed),
            results_dir=parsed.results_dir,
            run_id=parsed.run_id,
            run_tag=parsed.run_tag,
            phase=int(parsed.phase),
            mock_url=parsed.mock_url.rstrip("/"),
            # The admin token is a secret: from the environment only, never from an option or a file.
            mock_admin_token=admin_token_from_env(),
            worker_total=int(getattr(parsed, "worker_total", 0) or 0),
            owner_confirmed=bool(getattr(parsed, "i_own_this_target", False)),
        )
