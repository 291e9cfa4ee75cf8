"""``python -m tests.fakes.twilio``: serve the fake Twilio API until interrupted."""

from __future__ import annotations

import argparse
import threading

from tests.fakes.twilio.account import DEFAULT_ACCOUNT_SID, DEFAULT_AUTH_TOKEN
from tests.fakes.twilio.server import FakeTwilio


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description="Serve a fake Twilio Messages API.")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8099)
    parser.add_argument("--account-sid", default=DEFAULT_ACCOUNT_SID)
    parser.add_argument("--auth-token", default=DEFAULT_AUTH_TOKEN)
    parser.add_argument(
        "--auto-deliver",
        action="store_true",
        help="post 'sent' and 'delivered' status callbacks after each message",
    )
    args = parser.parse_args(argv)
    fake = FakeTwilio(
        args.account_sid,
        args.auth_token,
        host=args.host,
        port=args.port,
        auto_deliver=args.auto_deliver,
    )
    with fake:
        print(f"Fake Twilio API on {fake.base_url}", flush=True)
        print(f"  account sid {fake.account_sid}  auth token {fake.auth_token}", flush=True)
        print(f"  MUTUALAID_TWILIO_API_BASE_URL={fake.base_url}", flush=True)
        try:
            threading.Event().wait()
        except KeyboardInterrupt:
            print(f"\n{len(fake.messages)} messages created", flush=True)


if __name__ == "__main__":
    main()
