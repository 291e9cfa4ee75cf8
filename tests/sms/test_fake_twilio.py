"""The fake Twilio API itself: Twilio's shapes, paging, signed callbacks, clean shutdown."""

from __future__ import annotations

import os
import select
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import parse_qsl

import pytest
import requests

from sms.signature import SIGNATURE_HEADER, is_valid_signature, public_url
from sms.transport import SendError, TwilioSender
from tests.fakes.twilio import FakeTwilio, Webhook

SERVICE_FROM = "+15005550006"
TO = "+17185550101"
ROOT = Path(__file__).resolve().parents[2]


# -- a stand-in for the app's webhook endpoint ----------------------------------------


@dataclass
class Received:
    path: str
    query_string: bytes
    host: str
    form: list[tuple[str, str]]
    signature: str | None


@dataclass
class CallbackReceiver:
    base_url: str
    received: list[Received] = field(default_factory=list)


@pytest.fixture
def receiver() -> Iterator[CallbackReceiver]:
    """A real HTTP endpoint on 127.0.0.1 that records what is POSTed to it."""
    received: list[Received] = []

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            body = self.rfile.read(length).decode("utf-8")
            path, _, query = self.path.partition("?")
            received.append(
                Received(
                    path=path,
                    query_string=query.encode("ascii"),
                    host=self.headers["Host"],
                    form=parse_qsl(body, keep_blank_values=True),
                    signature=self.headers.get(SIGNATURE_HEADER),
                )
            )
            self.send_response(204)
            self.send_header("Content-Length", "0")
            self.end_headers()

        def log_message(self, format: str, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.02})
    thread.start()
    try:
        yield CallbackReceiver(f"http://127.0.0.1:{server.server_address[1]}", received)
    finally:
        server.shutdown()
        server.server_close()
        thread.join()


def api(fake: FakeTwilio, method: str, path: str = "", **kwargs: object) -> requests.Response:
    """A raw HTTP call to the fake, to check Twilio's wire shapes directly."""
    url = fake.messages_url if not path else fake.base_url + path
    kwargs.setdefault("auth", (fake.account_sid, fake.auth_token))
    with requests.Session() as session:
        session.trust_env = False
        return session.request(method, url, timeout=5, **kwargs)  # type: ignore[arg-type]


# -- Twilio's shapes -----------------------------------------------------------------


def test_created_message_has_twilios_shape(fake_twilio: FakeTwilio) -> None:
    response = api(fake_twilio, "POST", data={"To": TO, "From": SERVICE_FROM, "Body": "hi"})
    assert response.status_code == 201
    body = response.json()
    assert body["sid"].startswith("SM") and len(body["sid"]) == 34
    assert body["status"] == "queued"
    assert body["direction"] == "outbound-api"
    assert body["api_version"] == "2010-04-01"
    assert body["num_segments"] == "1"
    assert (
        body["uri"] == f"/2010-04-01/Accounts/{fake_twilio.account_sid}/Messages/{body['sid']}.json"
    )
    assert body["date_created"].endswith("+0000")


def test_bad_credentials_get_twilios_401(fake_twilio: FakeTwilio) -> None:
    response = api(fake_twilio, "POST", data={"To": TO}, auth=(fake_twilio.account_sid, "wrong"))
    assert response.status_code == 401
    assert response.json() == {
        "code": 20003,
        "message": "Authenticate",
        "detail": "Your AccountSid or AuthToken was incorrect.",
        "more_info": "https://www.twilio.com/docs/errors/20003",
        "status": 401,
    }
    assert response.headers["WWW-Authenticate"].startswith("Basic")
    assert api(fake_twilio, "GET", auth=None).status_code == 401
    assert fake_twilio.messages == []


@pytest.mark.parametrize(
    ("form", "code"),
    [
        ({"From": SERVICE_FROM, "Body": "hi"}, 21604),
        ({"To": TO, "Body": "hi"}, 21603),
        ({"To": TO, "From": SERVICE_FROM}, 21602),
        ({"To": "555", "From": SERVICE_FROM, "Body": "hi"}, 21211),
        ({"To": TO, "MessagingServiceSid": "MGnope", "Body": "hi"}, 21701),
    ],
)
def test_required_parameters_are_checked_like_twilio(
    fake_twilio: FakeTwilio, form: dict[str, str], code: int
) -> None:
    response = api(fake_twilio, "POST", data=form)
    assert response.status_code == 400
    error = response.json()
    assert set(error) == {"code", "message", "more_info", "status"}
    assert (error["code"], error["status"]) == (code, 400)
    assert error["more_info"] == f"https://www.twilio.com/docs/errors/{code}"
    assert fake_twilio.messages == []


def test_rate_limit_answer_has_retry_after(fake_twilio: FakeTwilio) -> None:
    fake_twilio.fail_next(429, retry_after=3)
    response = api(fake_twilio, "POST", data={"To": TO, "From": SERVICE_FROM, "Body": "x"})
    assert response.status_code == 429
    assert response.headers["Retry-After"] == "3"
    assert response.json()["code"] == 20429


def test_failures_apply_in_order_then_stop(fake_twilio: FakeTwilio) -> None:
    fake_twilio.fail_next(30003, times=2)
    fake_twilio.fail_next(21211)
    form = {"To": TO, "From": SERVICE_FROM, "Body": "x"}
    codes = [api(fake_twilio, "POST", data=form).json().get("code") for _ in range(4)]
    assert codes == [30003, 30003, 21211, None]
    assert len(fake_twilio.messages) == 1


def test_other_accounts_and_paths_are_not_found(fake_twilio: FakeTwilio) -> None:
    other = "/2010-04-01/Accounts/AC" + "9" * 32 + "/Messages.json"
    assert api(fake_twilio, "GET", other).json()["code"] == 20404
    assert api(fake_twilio, "GET", "/2010-04-01/Accounts").status_code == 404
    missing = f"/2010-04-01/Accounts/{fake_twilio.account_sid}/Messages/SMnope.json"
    assert api(fake_twilio, "GET", missing).status_code == 404


# -- listing and paging ----------------------------------------------------------------


def test_list_pages_newest_first_in_twilios_shape(fake_twilio: FakeTwilio) -> None:
    for n in range(5):
        fake_twilio.add_inbound(TO, SERVICE_FROM, f"in {n}")
    page = api(fake_twilio, "GET", params={"PageSize": 2}).json()
    assert set(page) == {
        "first_page_uri", "end", "previous_page_uri", "messages", "uri",
        "page_size", "start", "next_page_uri", "page",
    }  # fmt: skip
    assert [m["body"] for m in page["messages"]] == ["in 4", "in 3"]
    assert (page["page"], page["start"], page["end"], page["previous_page_uri"]) == (0, 0, 1, None)
    assert "Page=1" in page["next_page_uri"] and "PageSize=2" in page["next_page_uri"]
    last = api(fake_twilio, "GET", params={"PageSize": 2, "Page": 2}).json()
    assert [m["body"] for m in last["messages"]] == ["in 0"]
    assert last["next_page_uri"] is None


def test_real_client_follows_pages_and_sees_both_directions(
    fake_twilio: FakeTwilio, twilio_sender: TwilioSender
) -> None:
    for n in range(4):
        fake_twilio.add_inbound(TO, SERVICE_FROM, f"in {n}")
    twilio_sender.send(TO, "out")
    fake_twilio.add_inbound("+17185550102", SERVICE_FROM, "someone else")

    listed = twilio_sender.list_messages(page_size=2)
    assert [m.body for m in listed] == ["someone else", "out", "in 3", "in 2", "in 1", "in 0"]
    assert [m.direction for m in listed[:2]] == ["inbound", "outbound-api"]
    assert len([r for r in fake_twilio.requests if r.method == "GET"]) == 3

    inbound = twilio_sender.list_messages(from_=TO)
    assert [m.body for m in inbound] == ["in 3", "in 2", "in 1", "in 0"]
    assert all(m.status == "received" and m.date_sent is not None for m in inbound)


def test_list_filters_by_date_sent(fake_twilio: FakeTwilio, twilio_sender: TwilioSender) -> None:
    now = datetime.now(UTC).replace(microsecond=0)
    fake_twilio.add_inbound(TO, SERVICE_FROM, "old", received_at=now - timedelta(days=2))
    fake_twilio.add_inbound(TO, SERVICE_FROM, "new", received_at=now)
    twilio_sender.send(TO, "queued, so not sent yet")
    recent = twilio_sender.list_messages(date_sent_after=now - timedelta(hours=1))
    assert [m.body for m in recent] == ["new"]


def test_fetch_one_message_through_the_real_client(
    fake_twilio: FakeTwilio, twilio_sender: TwilioSender
) -> None:
    sid = twilio_sender.send(TO, "hi").provider_id
    fake_twilio.deliver(sid, "delivered")
    assert twilio_sender.client.messages(sid).fetch().status == "delivered"


# -- status callbacks and inbound webhooks ---------------------------------------------


def test_status_callback_is_posted_and_signed_like_twilio(
    fake_twilio: FakeTwilio, twilio_sender: TwilioSender, receiver: CallbackReceiver
) -> None:
    callback = f"{receiver.base_url}/sms/status?message=42&k=a%2Bb"
    sid = twilio_sender.send(TO, "hi", status_callback=callback).provider_id

    sent = fake_twilio.deliver(sid, "sent")
    fake_twilio.deliver(sid, "undelivered", error_code=30003)

    assert sent is not None and sent.response_status == 204
    first, second = receiver.received
    assert dict(first.form)["MessageStatus"] == "sent"
    assert "ErrorCode" not in dict(first.form)
    assert dict(second.form) == {
        "SmsSid": sid,
        "SmsStatus": "undelivered",
        "MessageStatus": "undelivered",
        "To": TO,
        "MessageSid": sid,
        "AccountSid": fake_twilio.account_sid,
        "From": SERVICE_FROM,
        "ApiVersion": "2010-04-01",
        "ErrorCode": "30003",
    }
    for seen in receiver.received:
        # what an app would do: rebuild the URL from the raw request, then check
        url = public_url(
            None, scheme="http", host=seen.host, path=seen.path, query_string=seen.query_string
        )
        assert url == callback
        assert is_valid_signature(fake_twilio.auth_token, url, seen.form, seen.signature)
        assert not is_valid_signature("other-token", url, seen.form, seen.signature)
    assert fake_twilio.message(sid)["status"] == "undelivered"
    assert fake_twilio.message(sid)["error_code"] == 30003


def test_callbacks_can_go_through_a_test_client_instead(fake_twilio: FakeTwilio) -> None:
    posted: list[Webhook] = []

    def transport(webhook: Webhook) -> int:
        posted.append(webhook)
        return 200

    fake = FakeTwilio(fake_twilio.account_sid, fake_twilio.auth_token, callback_transport=transport)
    with (
        fake,
        TwilioSender(
            fake.account_sid, fake.auth_token, from_number=SERVICE_FROM, api_base_url=fake.base_url
        ) as sender,
    ):
        sid = sender.send(
            TO, "hi", status_callback="https://aid.example.org/sms/status?m=1"
        ).provider_id
        webhook = fake.deliver(sid)
    assert webhook is not None and webhook.response_status == 200
    assert posted == [webhook]
    assert webhook.path == "/sms/status?m=1"
    assert webhook.headers[SIGNATURE_HEADER] == webhook.signature
    assert is_valid_signature(fake.auth_token, webhook.url, webhook.params, webhook.signature)


def test_deliver_without_a_callback_url_only_moves_the_status(
    fake_twilio: FakeTwilio, twilio_sender: TwilioSender
) -> None:
    sid = twilio_sender.send(TO, "hi").provider_id
    assert fake_twilio.deliver(sid, "delivered") is None
    assert fake_twilio.message(sid)["status"] == "delivered"
    assert fake_twilio.message(sid)["date_sent"] is not None


def test_unreachable_callback_url_reports_no_status(
    fake_twilio: FakeTwilio, twilio_sender: TwilioSender
) -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    sid = twilio_sender.send(TO, "hi", status_callback=f"http://127.0.0.1:{port}/s").provider_id
    webhook = fake_twilio.deliver(sid)
    assert webhook is not None and webhook.response_status is None


def test_auto_deliver_posts_sent_then_delivered() -> None:
    posted: list[Webhook] = []

    def transport(webhook: Webhook) -> int:
        posted.append(webhook)
        return 204

    with (
        FakeTwilio(callback_transport=transport, auto_deliver=True) as fake,
        TwilioSender(
            fake.account_sid, fake.auth_token, from_number=SERVICE_FROM, api_base_url=fake.base_url
        ) as sender,
    ):
        sender.send(TO, "hi", status_callback="https://aid.example.org/sms/status")
        deadline = time.monotonic() + 2
        while len(posted) < 2 and time.monotonic() < deadline:
            time.sleep(0.01)
    assert [w.params["MessageStatus"] for w in posted] == ["sent", "delivered"]


def test_inbound_webhook_is_signed_and_listed(
    fake_twilio: FakeTwilio, twilio_sender: TwilioSender
) -> None:
    url = "https://aid.example.org/sms/inbound"
    webhook = fake_twilio.inbound_webhook(
        url, TO, SERVICE_FROM, "need groceries 11216", media_urls=["https://m/1"]
    )
    params = webhook.params
    assert (params["From"], params["To"], params["Body"]) == (
        TO,
        SERVICE_FROM,
        "need groceries 11216",
    )
    assert params["MessageSid"] == params["SmsSid"] and params["MessageSid"].startswith("SM")
    assert (params["NumMedia"], params["MediaUrl0"]) == ("1", "https://m/1")
    assert is_valid_signature(fake_twilio.auth_token, url, params, webhook.signature)
    [listed] = twilio_sender.list_messages()
    assert (listed.sid, listed.direction) == (params["MessageSid"], "inbound")


def test_stop_and_start_keywords_opt_out_and_in(
    fake_twilio: FakeTwilio, twilio_sender: TwilioSender
) -> None:
    fake_twilio.add_inbound(TO, SERVICE_FROM, "  unsubscribe ")
    with pytest.raises(SendError) as caught:
        twilio_sender.send(TO, "hi")
    assert caught.value.opted_out
    fake_twilio.add_inbound(TO, SERVICE_FROM, "stop texting me")  # not Twilio's keyword
    fake_twilio.opt_in(TO)
    twilio_sender.send(TO, "hi")
    fake_twilio.opt_out(TO)
    with pytest.raises(SendError):
        twilio_sender.send(TO, "hi")


# -- lifecycle -------------------------------------------------------------------------


def test_close_is_quick_with_stalled_requests_and_open_connections(
    make_twilio_sender: Callable[..., TwilioSender],
) -> None:
    fake = FakeTwilio().start()
    sender = TwilioSender(
        fake.account_sid,
        fake.auth_token,
        from_number=SERVICE_FROM,
        api_base_url=fake.base_url,
        read_timeout=0.2,
    )
    try:
        sender.send(TO, "keeps a keep-alive connection open")
        fake.timeout_next(30)
        with pytest.raises(SendError):
            sender.send(TO, "stalls")
        started = time.monotonic()
        fake.close()
        assert time.monotonic() - started < 2
        fake.close()  # twice is fine
    finally:
        sender.close()
    with pytest.raises(RuntimeError):
        _ = fake.base_url


def _line_within(process: subprocess.Popen, seconds: float) -> str:
    """The next line the process prints, or a failure after ``seconds`` (never a hang)."""
    assert process.stdout is not None
    ready, _, _ = select.select([process.stdout], [], [], seconds)
    assert ready, f"nothing printed within {seconds} s"
    return process.stdout.readline()


def test_runs_standalone(tmp_path: Path) -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    with subprocess.Popen(
        [sys.executable, "-m", "tests.fakes.twilio", "--port", str(port), "--auth-token", "tok"],
        stdout=subprocess.PIPE,
        text=True,
        env=env,
        cwd=tmp_path,
    ) as process:
        try:
            assert (
                _line_within(process, 30).strip() == f"Fake Twilio API on http://127.0.0.1:{port}"
            )
            with TwilioSender(
                "AC" + "0" * 32,
                "tok",
                from_number=SERVICE_FROM,
                api_base_url=f"http://127.0.0.1:{port}",
            ) as sender:
                assert sender.send(TO, "hello").status == "queued"
        finally:
            process.send_signal(signal.SIGINT)
            try:
                output, _ = process.communicate(timeout=60)
            except subprocess.TimeoutExpired:
                process.kill()
                raise
    assert "1 messages created" in output


def test_concurrent_senders_each_message_created_once(
    fake_twilio: FakeTwilio, make_twilio_sender: Callable[..., TwilioSender]
) -> None:
    senders = [make_twilio_sender() for _ in range(4)]
    fake_twilio.fail_next(429, times=3)
    failures: list[SendError] = []

    def work(index: int, sender: TwilioSender) -> None:
        for n in range(25):
            for _attempt in range(5):  # the retries a worker would make
                try:
                    sender.send(TO, f"{index}-{n}")
                    break
                except SendError as error:
                    failures.append(error)

    threads = [threading.Thread(target=work, args=(i, s)) for i, s in enumerate(senders)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    bodies = [m["body"] for m in fake_twilio.messages]
    assert sorted(bodies) == sorted(f"{i}-{n}" for i in range(4) for n in range(25))
    assert len({m["sid"] for m in fake_twilio.messages}) == 100
    assert [(f.code, f.retry_after) for f in failures] == [(20429, 1.0)] * 3


# -- WhatsApp ---------------------------------------------------------------------------

WA_SENDER = "+14155238886"
WA_SID = "HX" + "a" * 32


def test_whatsapp_needs_both_ends_on_whatsapp(fake_twilio, make_twilio_sender) -> None:
    with pytest.raises(SendError, match="no WhatsApp sender") as ours:
        make_twilio_sender().send(f"whatsapp:{TO}", "hi")  # we never mix them up ...
    assert not ours.value.retryable
    answer = requests.post(  # ... and Twilio refuses it when someone does
        fake_twilio.messages_url,
        data={"To": f"whatsapp:{TO}", "From": SERVICE_FROM, "Body": "hi"},
        auth=(fake_twilio.account_sid, fake_twilio.auth_token),
        timeout=5,
    )
    assert answer.status_code == 400 and answer.json()["code"] == 21910


def test_whatsapp_free_form_only_within_24_hours_of_their_last_message(
    fake_twilio, make_twilio_sender
) -> None:
    sender = make_twilio_sender(whatsapp_from=WA_SENDER)
    fake_twilio.add_inbound(
        f"whatsapp:{TO}", f"whatsapp:{WA_SENDER}", "hola",
        received_at=datetime.now(UTC) - timedelta(hours=23),
    )  # fmt: skip
    inside = sender.send(f"whatsapp:{TO}", "within the window")
    assert fake_twilio.message(inside.provider_id)["error_code"] is None
    assert fake_twilio.message(inside.provider_id)["from"] == f"whatsapp:{WA_SENDER}"

    other = "+17185550122"
    fake_twilio.add_inbound(
        f"whatsapp:{other}", f"whatsapp:{WA_SENDER}", "hi",
        received_at=datetime.now(UTC) - timedelta(hours=25),
    )  # fmt: skip
    outside = sender.send(f"whatsapp:{other}", "a day later")  # the API takes it ...
    failed = fake_twilio.message(outside.provider_id)  # ... and WhatsApp fails it
    assert failed["status"] == "failed" and failed["error_code"] == 63016

    # An approved template may go any time; an unknown one is refused.
    fake_twilio.approve_template(WA_SID, "Task {{1}} is yours, {{2}}.")
    template = sender.send(
        f"whatsapp:{other}", "", content_sid=WA_SID, content_variables='{"1": "4821", "2": "Ana"}'
    )
    sent = fake_twilio.message(template.provider_id)
    assert sent["body"] == "Task 4821 is yours, Ana." and sent["error_code"] is None
    with pytest.raises(SendError) as unknown:
        sender.send(f"whatsapp:{other}", "", content_sid="HX" + "b" * 32)
    assert unknown.value.code == 21655


def test_stop_on_whatsapp_is_not_twilios_to_enforce(fake_twilio) -> None:
    fake_twilio.add_inbound(f"whatsapp:{TO}", f"whatsapp:{WA_SENDER}", "STOP")
    assert fake_twilio.account.opted_out == set()
