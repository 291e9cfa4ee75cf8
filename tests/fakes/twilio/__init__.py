"""A fake of Twilio's Messages REST API, served over real HTTP on 127.0.0.1.

The real ``twilio`` client talks to it through :class:`sms.transport.TwilioSender`
with ``api_base_url=fake.base_url``. It records what was sent, checks basic auth and
the required parameters, answers with Twilio's JSON shapes (messages, pages, errors),
honours Twilio's magic test numbers, can be told to fail, stall or drop the connection,
and sends signed status callbacks and inbound webhooks.

Three rooms: ``account`` (what the fake account holds and how Twilio's API answers
on it), ``faults`` (the failures a test asks for, in order) and ``server`` (the HTTP
server, the webhooks it signs, and :class:`FakeTwilio`, which ties them together).
Run standalone with ``python -m tests.fakes.twilio --port 8099``.
"""

from tests.fakes.twilio.account import (
    DEFAULT_ACCOUNT_SID,
    DEFAULT_AUTH_TOKEN,
    MAGIC_TO_NUMBERS,
    SERVICE_NUMBER,
    RecordedRequest,
)
from tests.fakes.twilio.server import FakeTwilio, Webhook, post_webhook

__all__ = [
    "DEFAULT_ACCOUNT_SID",
    "DEFAULT_AUTH_TOKEN",
    "MAGIC_TO_NUMBERS",
    "SERVICE_NUMBER",
    "FakeTwilio",
    "RecordedRequest",
    "Webhook",
    "post_webhook",
]
