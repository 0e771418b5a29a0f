"""Run the fake LiveAgent API v1 standalone: python -m liveagent_fake --port 8089"""

from __future__ import annotations

import argparse
import json
import logging
import signal
import sys
import time

from .business_hours import BusinessHours
from .clock import Clock
from .dataset import DatasetConfig
from .models import Account
from .realworld import RealWorld
from .server import FakeLiveAgent


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="liveagent-fake", description=__doc__)
    parser.add_argument("--host", default="127.0.0.1", help="interface (default: loopback only)")
    parser.add_argument("--port", type=int, default=8089, help="0 picks a free port")
    parser.add_argument("--conversations", type=int, default=5000)
    parser.add_argument("--messages-per-conversation", type=float, default=5.0)
    parser.add_argument("--days", type=int, default=90, help="days of generated history")
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--timezone", default="GMT", help="account time zone (IANA name)")
    parser.add_argument("--api-key", default="test-api-key", metavar="KEY[,KEY...]",
                        help="the account's API key, or several separated by commas")
    parser.add_argument("--requests-per-minute", type=float, default=None,
                        help="answer 429 above this rate (default: no limit)")
    parser.add_argument("--limit-per-key", action="store_true",
                        help="apply --requests-per-minute to each API key apart, as LiveAgent "
                             "does (default: to all requests together)")
    parser.add_argument("--ip-requests-per-second", type=float, default=None,
                        help="answer 429 above this rate per client address (LiveAgent: 300; "
                             "default: no limit)")
    parser.add_argument("--burst", type=float, default=None,
                        help="token bucket capacity (default: one minute's worth)")
    parser.add_argument("--frozen", action="store_true",
                        help="stop the account's clock at the start (figures that count up to "
                             "now, like an unanswered conversation's SLA, stay put)")
    parser.add_argument("--latency", type=float, default=0.0, help="seconds added per request")
    parser.add_argument("--real-world", type=_real_world, default=RealWorld(),
                        metavar="NAME[,NAME...]",
                        help="behaviours of the real API to switch on: "
                             + ", ".join(RealWorld.names()))
    parser.add_argument("--business-hours", type=_json_object, default=None, metavar="FILE.json",
                        help="business-hours schedule of the *Sla report figures (default: "
                             "calendar time)")
    args = parser.parse_args(argv)
    if not any(key.strip() for key in args.api_key.split(",")):
        parser.error("--api-key: give at least one key")
    if args.business_hours is not None:
        try:  # checked here so that a bad schedule is a usage error, like a bad option
            BusinessHours(args.business_hours, args.timezone)
        except ValueError as error:
            parser.error(f"--business-hours: {error}")
    return args


def _real_world(names: str) -> RealWorld:
    try:
        return RealWorld.from_names(names)
    except ValueError as error:
        raise argparse.ArgumentTypeError(str(error)) from None


def _json_object(path: str) -> dict:
    try:
        with open(path, encoding="utf-8") as file:
            value = json.load(file)
    except (OSError, ValueError) as error:
        raise argparse.ArgumentTypeError(f"cannot read {path}: {error}") from None
    if not isinstance(value, dict):
        raise argparse.ArgumentTypeError(f"{path} holds no JSON object")
    return value


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    # before the address is printed: a caller may stop the fake as soon as it has read it
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    started = time.monotonic()
    keys = [key.strip() for key in args.api_key.split(",") if key.strip()]
    account = Account(
        DatasetConfig(seed=args.seed, conversations=args.conversations, days=args.days,
                      messages_per_conversation=args.messages_per_conversation),
        clock=Clock(time.time() if args.frozen else None), timezone=args.timezone,
        api_key=keys[0], more_api_keys=keys[1:],
        real_world=args.real_world, business_hours=args.business_hours,
    )
    fake = FakeLiveAgent(account, host=args.host, port=args.port,
                         requests_per_minute=args.requests_per_minute, burst=args.burst,
                         latency=args.latency, limit_per_key=args.limit_per_key,
                         ip_requests_per_second=args.ip_requests_per_second)
    fake.start()
    print(f"fake LiveAgent API v1 at {fake.url}/api  ({args.conversations} conversations, "
          f"time zone {args.timezone}, ready in {time.monotonic() - started:.1f}s)", flush=True)
    print(f"api key{'s' if len(keys) > 1 else ''}: {', '.join(keys)}   stop with Ctrl+C",
          flush=True)
    if args.real_world.enabled():
        print(f"real-world behaviours: {', '.join(args.real_world.enabled())}", flush=True)
    try:
        while True:
            time.sleep(3600)
    except (KeyboardInterrupt, SystemExit):
        fake.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
