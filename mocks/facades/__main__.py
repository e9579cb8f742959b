"""``python -m mocks.facades --dialect twilio --port 8911 --whatsapp-url http://127.0.0.1:8900``.

Binds 127.0.0.1 unless ``--host`` says otherwise (and then warns). ``--whatsapp-url`` must be loopback (the
facade relays every send there, with its Graph token) unless ``--allow-non-loopback``; otherwise it exits 2 before
serving. The key clients must present comes from
``SCRMBENCH_FACADE_API_KEY`` (default: a per-dialect development key, see ``mocks.facades.common.DEV_KEYS``);
the token for the mock from ``SCRMBENCH_FACADE_GRAPH_TOKEN`` (default ``mock-access-token``).
"""

from __future__ import annotations

import argparse
import sys

import uvicorn

from ground.errors import ScrmbenchError
from ground.net import check_target, is_loopback
from mocks.facades.app import create_facade_app
from mocks.facades.common import DEV_TWILIO_ACCOUNT_SID, DIALECTS, FacadeSettings
from mocks.facades.twilio_callbacks import CallbackSettings


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m mocks.facades", description=__doc__.split("\n\n")[0])
    parser.add_argument("--dialect", choices=DIALECTS, required=True)
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--whatsapp-url", required=True, help="base URL of the mock WhatsApp Graph API (loopback)")
    parser.add_argument(
        "--allow-non-loopback",
        action="store_true",
        help="allow a --whatsapp-url that is not loopback (a host you run for this test, never Meta's)",
    )
    parser.add_argument("--phone-number-id", default="100000000000001")
    parser.add_argument(
        "--number",
        action="append",
        default=[],
        metavar="DIGITS=ID",
        help="a business number requests may name and the mock's phone-number id behind it (repeatable)",
    )
    parser.add_argument("--api-version", default="v23.0")
    parser.add_argument("--account-sid", default=DEV_TWILIO_ACCOUNT_SID, help="Twilio only")
    parser.add_argument("--drop-share", type=float, default=0.0, help="Twilio: a dishonest reference drops this share")
    parser.add_argument("--report-dropped-as", choices=("nothing", "delivered"), default="nothing")
    parser.add_argument("--fake-read-share", type=float, default=0.0, help="Twilio: reports read for this share")
    args = parser.parse_args(argv)
    if not args.allow_non_loopback:
        try:
            check_target(
                args.whatsapp_url,
                field="--whatsapp-url",
                fix="point it at the mock on 127.0.0.1, or pass --allow-non-loopback if it is a host you run for "
                "this test",
            )
        except ScrmbenchError as exc:
            print(f"error: {exc}", file=sys.stderr)
            return exc.exit_code
    if not is_loopback(args.host):
        print(f"warning: the facade listens on {args.host}, reachable from other hosts", file=sys.stderr)
    numbers = dict(item.lstrip("+").partition("=")[::2] for item in args.number)
    if not all(digits.isdigit() and number_id.isdigit() for digits, number_id in numbers.items()):
        parser.error("--number takes DIGITS=ID, both digits, e.g. 15550000002=100000000000002")
    settings = FacadeSettings.from_env(
        args.dialect,
        args.whatsapp_url,
        phone_number_id=args.phone_number_id,
        numbers=numbers,
        api_version=args.api_version,
        account_sid=args.account_sid,
    )
    kwargs = {}
    if args.dialect == "twilio":
        behaviour = {"drop_share": args.drop_share, "report_dropped_as": args.report_dropped_as}
        kwargs["callbacks"] = CallbackSettings.from_env(**behaviour, fake_read_share=args.fake_read_share)
    uvicorn.run(
        create_facade_app(settings, **kwargs), host=args.host, port=args.port, log_level="warning", access_log=False
    )
    return 0


if __name__ == "__main__":
    from ground.orphans import exit_with_parent

    exit_with_parent()  # stop when the harness that started us is gone
    sys.exit(main())
