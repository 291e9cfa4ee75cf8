"""Sending through the real twilio client against the local fake API, and the other senders."""

from __future__ import annotations

import io
import socket
import subprocess
import sys
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime
from pathlib import Path

import pytest
import requests
from urllib3.exceptions import MaxRetryError, NewConnectionError, ProtocolError

from sms.transport import (
    ConsoleSender,
    FakeSender,
    Sender,
    SendError,
    SendResult,
    TwilioSender,
    _network_error,
    _parse_retry_after,
    make_sender,
)
from sms.twilio_http import rewrite_twilio_url
from tests.fakes.twilio import FakeTwilio

SERVICE_FROM = "+15005550006"  # the senders from conftest send from this number
MESSAGING_SERVICE_SID = "MG" + "1" * 32
ROOT = Path(__file__).resolve().parents[2]
TO = "+17185550101"
CALLBACK = "https://aid.example.org/sms/status?message=42&k=a%2Bb"


def send_error(sender: Sender, to: str = TO, body: str = "hello") -> SendError:
    with pytest.raises(SendError) as caught:
        sender.send(to, body)
    return caught.value


def creates(fake: FakeTwilio) -> list[int | None]:
    """HTTP statuses of the message-creation requests the fake saw (None: dropped)."""
    return [r.status for r in fake.requests if r.method == "POST"]


# -- sending ---------------------------------------------------------------------------


def test_message_is_sent_once_with_its_parameters(
    fake_twilio: FakeTwilio, twilio_sender: TwilioSender
) -> None:
    result = twilio_sender.send(TO, "Your request G-4821 is open.", status_callback=CALLBACK)

    [message] = fake_twilio.messages
    assert result == SendResult(provider_id=message["sid"], status="queued")
    assert result.provider_id.startswith("SM")
    assert message["to"] == TO
    assert message["from"] == SERVICE_FROM
    assert message["body"] == "Your request G-4821 is open."
    assert message["status_callback"] == CALLBACK
    assert message["messaging_service_sid"] is None
    [request] = fake_twilio.requests
    assert request.method == "POST"
    assert request.path == f"/2010-04-01/Accounts/{fake_twilio.account_sid}/Messages.json"
    assert request.params == {
        "To": TO,
        "From": SERVICE_FROM,
        "Body": "Your request G-4821 is open.",
        "StatusCallback": CALLBACK,
    }


def test_no_status_callback_is_sent_when_none_given(
    fake_twilio: FakeTwilio, twilio_sender: TwilioSender
) -> None:
    twilio_sender.send(TO, "hi")
    assert "StatusCallback" not in fake_twilio.requests[0].params
    assert fake_twilio.messages[0]["status_callback"] is None


def test_messaging_service_instead_of_a_from_number(
    fake_twilio: FakeTwilio, make_twilio_sender: Callable[..., TwilioSender]
) -> None:
    sender = make_twilio_sender(messaging_service_sid=MESSAGING_SERVICE_SID)
    result = sender.send(TO, "hola")
    assert result.status == "accepted"
    [message] = fake_twilio.messages
    assert message["messaging_service_sid"] == MESSAGING_SERVICE_SID
    assert message["from"] is None
    assert "From" not in fake_twilio.requests[0].params


def test_unicode_body_arrives_intact(fake_twilio: FakeTwilio, twilio_sender: TwilioSender) -> None:
    body = "¿Necesitas ayuda? Responde SÍ 4821 🙏 — מה"
    twilio_sender.send(TO, body)
    assert fake_twilio.messages[0]["body"] == body


@pytest.mark.parametrize(
    ("from_number", "messaging_service_sid"),
    [(None, None), (SERVICE_FROM, MESSAGING_SERVICE_SID), ("", None)],
    ids=["neither", "both", "empty"],
)
def test_exactly_one_sender_identity_is_required(
    from_number: str | None, messaging_service_sid: str | None
) -> None:
    with pytest.raises(ValueError, match="exactly one"):
        TwilioSender(
            "AC" + "0" * 32,
            "token",
            from_number=from_number,
            messaging_service_sid=messaging_service_sid,
        )


def test_credentials_are_required() -> None:
    with pytest.raises(ValueError, match="required"):
        TwilioSender("", "token", from_number=SERVICE_FROM)


# -- failures the provider reports -------------------------------------------------------


@pytest.mark.parametrize(
    ("code", "permanent", "opted_out", "retryable"),
    [
        (21610, True, True, False),  # unsubscribed: treat as STOP
        (21211, True, False, False),  # invalid number
        (21614, True, False, False),  # not a mobile number
        (21612, True, False, False),  # unroutable
        (21408, True, False, False),  # region not enabled
        (30003, False, False, True),  # handset unreachable: try later
        (21602, False, False, False),  # our bug (no body): retrying won't help
    ],
)
def test_provider_errors_are_classified(
    fake_twilio: FakeTwilio,
    twilio_sender: TwilioSender,
    code: int,
    permanent: bool,
    opted_out: bool,
    retryable: bool,
) -> None:
    fake_twilio.fail_next(code)
    error = send_error(twilio_sender)
    assert error.code == code
    assert error.http_status == 400
    assert (error.permanent, error.opted_out, error.retryable) == (permanent, opted_out, retryable)
    assert error.maybe_sent is False
    assert fake_twilio.messages == []


@pytest.mark.parametrize(
    ("to", "code"),
    [
        ("+15005550001", 21211),
        ("+15005550002", 21612),
        ("+15005550003", 21408),
        ("+15005550004", 21610),
        ("+15005550009", 21614),
        ("not a number", 21211),
    ],
)
def test_magic_test_numbers_fail_like_twilio(
    twilio_sender: TwilioSender, to: str, code: int
) -> None:
    error = send_error(twilio_sender, to=to)
    assert error.code == code
    assert error.permanent


def test_number_that_texted_stop_is_refused_with_21610(
    fake_twilio: FakeTwilio, twilio_sender: TwilioSender
) -> None:
    fake_twilio.add_inbound(TO, SERVICE_FROM, "Stop")
    error = send_error(twilio_sender)
    assert (error.code, error.opted_out, error.permanent) == (21610, True, True)
    fake_twilio.add_inbound(TO, SERVICE_FROM, "START")
    assert twilio_sender.send(TO, "welcome back").status == "queued"


def test_rate_limited_is_retryable_after_the_given_delay(
    fake_twilio: FakeTwilio, twilio_sender: TwilioSender
) -> None:
    fake_twilio.fail_next(429, retry_after=2)
    error = send_error(twilio_sender)
    assert (error.code, error.http_status) == (20429, 429)
    assert error.retryable and not error.permanent and not error.maybe_sent
    assert error.retry_after == 2.0

    twilio_sender.send(TO, "hello")  # the retry goes through, once
    assert len(fake_twilio.messages) == 1
    assert creates(fake_twilio) == [429, 201]


@pytest.mark.parametrize(("status", "maybe_sent"), [(503, False), (500, True)])
def test_server_errors_are_retryable(
    fake_twilio: FakeTwilio, twilio_sender: TwilioSender, status: int, maybe_sent: bool
) -> None:
    fake_twilio.fail_next(status)
    error = send_error(twilio_sender)
    assert error.http_status == status
    assert error.retryable and not error.permanent
    assert error.maybe_sent is maybe_sent
    assert error.retry_after is None


def test_wrong_credentials_are_rejected_and_nothing_is_sent(
    fake_twilio: FakeTwilio, make_twilio_sender: Callable[..., TwilioSender]
) -> None:
    sender = make_twilio_sender(auth_token="not-the-token")
    error = send_error(sender)
    assert (error.code, error.http_status) == (20003, 401)
    assert not error.permanent and not error.maybe_sent
    assert fake_twilio.messages == []
    assert creates(fake_twilio) == [401]


def test_too_long_body_is_refused(twilio_sender: TwilioSender) -> None:
    error = send_error(twilio_sender, body="x" * 1601)
    assert error.code == 21617
    assert not error.retryable and not error.permanent


# -- failures below HTTP: may it have been sent? ---------------------------------------


def test_read_timeout_after_create_means_maybe_sent(
    fake_twilio: FakeTwilio, twilio_sender: TwilioSender
) -> None:
    fake_twilio.timeout_next(3)
    started = datetime.now(UTC)
    error = send_error(twilio_sender, body="your volunteer is on the way")
    assert error.maybe_sent and error.retryable
    assert error.code is None
    assert "ReadTimeout" in error.message

    # It WAS created: a blind resend would be a duplicate. Look it up instead.
    [message] = fake_twilio.messages
    assert message["body"] == "your volunteer is on the way"
    [found] = twilio_sender.find_messages(TO, created_after=started)
    assert found.sid == message["sid"]
    assert found.body == "your volunteer is on the way"


def test_read_timeout_before_create_is_also_maybe_sent(
    fake_twilio: FakeTwilio, twilio_sender: TwilioSender
) -> None:
    fake_twilio.timeout_next(3, after_create=False)
    error = send_error(twilio_sender)
    assert error.maybe_sent  # the client cannot tell the two apart
    assert fake_twilio.messages == []
    assert twilio_sender.find_messages(TO) == []


def test_connection_dropped_after_the_request_means_maybe_sent(
    fake_twilio: FakeTwilio, twilio_sender: TwilioSender
) -> None:
    fake_twilio.drop_next()
    error = send_error(twilio_sender)
    assert error.maybe_sent and error.retryable
    assert len(fake_twilio.messages) == 1
    assert creates(fake_twilio) == [None]


def test_connection_refused_means_not_sent() -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    # nothing listens on that port now
    with TwilioSender(
        "AC" + "0" * 32,
        "token",
        from_number=SERVICE_FROM,
        api_base_url=f"http://127.0.0.1:{port}",
        connect_timeout=0.5,
        read_timeout=0.5,
    ) as sender:
        error = send_error(sender)
    assert error.maybe_sent is False
    assert error.retryable
    assert error.code is None


def test_proxy_environment_is_ignored_for_the_local_api(
    fake_twilio: FakeTwilio,
    make_twilio_sender: Callable[..., TwilioSender],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    for name in ("NO_PROXY", "no_proxy"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("HTTP_PROXY", "http://127.0.0.1:9")
    monkeypatch.setenv("http_proxy", "http://127.0.0.1:9")
    make_twilio_sender().send(TO, "hi")
    assert len(fake_twilio.messages) == 1


def test_region_and_edge_hostnames_are_redirected_too(
    fake_twilio: FakeTwilio, twilio_sender: TwilioSender
) -> None:
    twilio_sender.client.region = "ie1"
    twilio_sender.client.edge = "dublin"
    twilio_sender.send(TO, "hi")
    assert len(fake_twilio.messages) == 1


@pytest.mark.parametrize(
    ("url", "base", "expected"),
    [
        (
            "https://api.twilio.com/2010-04-01/Accounts/AC1/Messages.json",
            "http://127.0.0.1:8099",
            "http://127.0.0.1:8099/2010-04-01/Accounts/AC1/Messages.json",
        ),
        (
            "https://api.dublin.ie1.twilio.com/2010-04-01/x.json?Page=1",
            "http://127.0.0.1:8099/",
            "http://127.0.0.1:8099/2010-04-01/x.json?Page=1",
        ),
        (
            "https://api.twilio.com/2010-04-01/x.json",
            "https://gateway.example.org/twilio",
            "https://gateway.example.org/twilio/2010-04-01/x.json",
        ),
        ("https://example.org/x", "http://127.0.0.1:8099", "https://example.org/x"),
        ("https://nottwilio.com/x", "http://127.0.0.1:8099", "https://nottwilio.com/x"),
        ("https://api.twilio.com/x", None, "https://api.twilio.com/x"),
    ],
)
def test_rewrite_twilio_url(url: str, base: str | None, expected: str) -> None:
    assert rewrite_twilio_url(url, base) == expected


def test_timeouts_are_explicit(twilio_sender: TwilioSender) -> None:
    assert twilio_sender.http_client.timeout == (0.5, 0.5)
    with pytest.raises(ValueError, match="positive"):
        TwilioSender("AC1", "t", from_number=SERVICE_FROM, read_timeout=0)


@pytest.mark.parametrize(
    ("exc", "maybe_sent"),
    [
        (requests.ConnectTimeout("connect timed out"), False),
        (requests.exceptions.SSLError("handshake failed"), False),
        (requests.exceptions.ProxyError("proxy refused"), False),
        (
            requests.ConnectionError(
                MaxRetryError(None, "/", NewConnectionError(None, "refused"))  # type: ignore[arg-type]
            ),
            False,
        ),
        (requests.ReadTimeout("read timed out"), True),
        (requests.ConnectionError(ProtocolError("Connection aborted.")), True),
        (requests.ConnectionError("something else"), True),
    ],
    ids=["connect-timeout", "ssl", "proxy", "refused", "read-timeout", "aborted", "unknown"],
)
def test_network_failures_say_whether_the_message_may_exist(
    exc: requests.RequestException, maybe_sent: bool
) -> None:
    error = _network_error(exc)
    assert error.maybe_sent is maybe_sent
    assert error.retryable and not error.permanent


@pytest.mark.parametrize(
    ("header", "expected"),
    [
        ({"Retry-After": "7"}, 7.0),
        ({"retry-after": "0.5"}, 0.5),
        ({"Retry-After": "-3"}, 0.0),
        ({"Retry-After": "soon"}, None),
        ({}, None),
    ],
)
def test_retry_after_in_seconds(header: dict[str, str], expected: float | None) -> None:
    assert _parse_retry_after(header) == expected


def test_retry_after_as_an_http_date() -> None:
    later = format_datetime(datetime.now(UTC) + timedelta(seconds=30), usegmt=True)
    delay = _parse_retry_after({"Retry-After": later})
    assert delay is not None and 25 <= delay <= 30


# -- the error table on its own (status callbacks carry the same codes) -------------------


@pytest.mark.parametrize(
    ("code", "permanent", "opted_out", "retryable"),
    [
        (21610, True, True, False),
        (30005, True, False, False),
        (30006, True, False, False),
        (30003, False, False, True),
        (20429, False, False, True),
        (30007, False, False, False),
    ],
)
def test_send_error_from_code(code: int, permanent: bool, opted_out: bool, retryable: bool) -> None:
    error = SendError.from_code(code)
    assert (error.permanent, error.opted_out, error.retryable) == (permanent, opted_out, retryable)
    assert error.maybe_sent is False


# -- console and fake senders ------------------------------------------------------------


def test_console_sender_prints_a_block_per_message() -> None:
    out = io.StringIO()
    sender = ConsoleSender(stream=out)
    first = sender.send(TO, "Need received.\nReply CANCEL to cancel.")
    second = sender.send("+17185550102", "¿Puedes ayudar? SÍ 4821", status_callback=CALLBACK)

    assert (first.provider_id, second.provider_id) == ("CONSOLE-1", "CONSOLE-2")
    text = out.getvalue()
    assert "--- SMS to •••••••••01 (CONSOLE-1, 38 chars) ---" in text
    assert TO not in text  # console output ends up in logs: the number is masked
    assert "Need received.\nReply CANCEL to cancel.\n" in text
    assert "¿Puedes ayudar? SÍ 4821" in text
    assert [m.body for m in sender.sent] == [
        "Need received.\nReply CANCEL to cancel.",
        "¿Puedes ayudar? SÍ 4821",
    ]
    assert sender.sent[1].status_callback == CALLBACK


def test_console_sender_survives_a_non_utf8_console() -> None:
    raw = io.BytesIO()
    stream = io.TextIOWrapper(raw, encoding="cp1252")
    ConsoleSender(stream=stream).send(TO, "hola 🙏")
    assert "hola \\U0001f64f" in raw.getvalue().decode("cp1252")


def test_console_sender_defaults_to_stdout(capsys: pytest.CaptureFixture[str]) -> None:
    ConsoleSender().send(TO, "hello there")
    assert "hello there" in capsys.readouterr().out


def test_fake_sender_records_and_fails_when_told() -> None:
    sender = FakeSender()
    sender.fail_next(SendError.from_code(20429, http_status=429), times=2)
    for _ in range(2):
        assert send_error(sender).retryable
    result = sender.send(TO, "third time", status_callback=CALLBACK)
    assert result == SendResult("FAKE-1", "queued")
    assert sender.attempts == 3
    assert [(m.to, m.body, m.status_callback) for m in sender.sent] == [
        (TO, "third time", CALLBACK)
    ]

    sender.fail_for("+17185550199", SendError.from_code(21610))
    assert send_error(sender, to="+17185550199").opted_out
    assert sender.messages_to("+17185550199") == []


def test_fake_sender_rejects_zero_times() -> None:
    with pytest.raises(ValueError, match="times"):
        FakeSender().fail_next(SendError("x"), times=0)


@pytest.mark.parametrize(
    ("backend", "kind"), [("console", ConsoleSender), ("fake", FakeSender), (" Fake ", FakeSender)]
)
def test_make_sender_ignores_twilio_settings_outside_twilio(backend: str, kind: type) -> None:
    sender = make_sender(backend, account_sid="AC1", auth_token=None, from_number=None)
    assert isinstance(sender, kind)
    assert isinstance(sender, Sender)


def test_make_sender_builds_a_twilio_sender(fake_twilio: FakeTwilio) -> None:
    sender = make_sender(
        "twilio",
        account_sid=fake_twilio.account_sid,
        auth_token=fake_twilio.auth_token,
        from_number=SERVICE_FROM,
        messaging_service_sid=None,
        api_base_url=fake_twilio.base_url,
    )
    try:
        assert isinstance(sender, TwilioSender)
        assert isinstance(sender, Sender)
        sender.send(TO, "hi")
    finally:
        sender.close()
    assert len(fake_twilio.messages) == 1


@pytest.mark.parametrize(
    ("backend", "settings", "error"),
    [
        ("carrier-pigeon", {}, ValueError),
        ("console", {"acount_sid": "AC1"}, TypeError),
        ("twilio", {"from_number": SERVICE_FROM}, ValueError),
        ("twilio", {"account_sid": "AC1", "auth_token": "t"}, ValueError),
    ],
)
def test_make_sender_rejects_bad_settings(
    backend: str, settings: dict[str, str], error: type[Exception]
) -> None:
    with pytest.raises(error):
        make_sender(backend, **settings)


# -- the package surface -----------------------------------------------------------------


def test_package_exports_both_halves_and_loads_twilio_only_when_asked() -> None:
    code = (
        "import sys, sms\n"
        "assert 'twilio' not in sys.modules, 'import sms loaded twilio'\n"
        "assert callable(sms.parse) and callable(sms.normalize)\n"
        "missing = [n for n in sms.__all__ if getattr(sms, n, None) is None]\n"
        "assert not missing, missing\n"
        "assert 'twilio' in sys.modules\n"
        "from sms import TwilioSender, SendError, is_valid_signature\n"
        "from sms.transport import TwilioSender as direct\n"
        "assert TwilioSender is direct\n"
    )
    subprocess.run([sys.executable, "-W", "error", "-c", code], check=True, cwd=ROOT, timeout=60)


def test_the_console_sender_outside_development_prints_what_was_sent_not_the_body() -> None:
    stream = io.StringIO()
    sender = ConsoleSender(stream=stream, show_bodies=False)
    body = "Task 4821: 12 Canon Dr, door 4417 " * 6
    sender.send("+17185550101", body, label="accepted_volunteer")
    sender.send("+17185550101", "Está bien 👍")
    printed = stream.getvalue()
    assert "Canon" not in printed and "4417" not in printed and "bien" not in printed
    assert "accepted_volunteer, 2 segments (GSM-7)" in printed
    assert "message, 1 segment (UCS-2)" in printed
    assert "0101" not in printed and "•01" in printed
