"""Phoning the hotline exactly as Twilio does: each webhook form-encoded and signed, each
next one posted to the action URL of the TwiML the last one answered."""

from __future__ import annotations

import uuid
import xml.etree.ElementTree as ET
from dataclasses import dataclass

from flask import Flask
from flask.testing import FlaskClient

from tests.sms_helpers import SERVICE_NUMBER, signed_post

ACCOUNT = "AC" + "0" * 32


def new_call_sid() -> str:
    return f"CA{uuid.uuid4().hex}"


def recording_url(sid: str) -> str:
    return f"https://api.twilio.com/2010-04-01/Accounts/{ACCOUNT}/Recordings/{sid}"


@dataclass
class Heard:
    """A TwiML answer as the caller meets it."""

    status: int
    xml: str

    @property
    def root(self) -> ET.Element:
        return ET.fromstring(self.xml)

    @property
    def said(self) -> list[str]:
        return [say.text or "" for say in self.root.iter("Say")]

    @property
    def text(self) -> str:
        return " ".join(self.said)

    @property
    def locales(self) -> set[str]:
        return {say.get("language", "") for say in self.root.iter("Say")}

    @property
    def gather(self) -> ET.Element | None:
        return self.root.find("Gather")

    @property
    def record(self) -> ET.Element | None:
        return self.root.find("Record")

    @property
    def hangs_up(self) -> bool:
        return self.root.find("Hangup") is not None

    @property
    def action(self) -> str:
        verb = self.gather if self.gather is not None else self.record
        assert verb is not None, f"nothing is asked: {self.xml}"
        return verb.get("action", "")


class Caller:
    """One phone call to the service: ``ring``, then ``press`` keys, ``speak`` (a
    recording), ``hang_up``; each returns what the caller hears next."""

    def __init__(self, client: FlaskClient, app: Flask, phone: str, sid: str | None = None):
        self.client, self.app, self.phone = client, app, phone
        self.sid = sid or new_call_sid()
        self.last: Heard | None = None

    def params(self, **extra: str) -> dict[str, str]:
        return {
            "CallSid": self.sid,
            "AccountSid": ACCOUNT,
            "From": self.phone,
            "To": SERVICE_NUMBER,
            "CallStatus": "in-progress",
            "Direction": "inbound",
            "ApiVersion": "2010-04-01",
            **extra,
        }

    def post(self, path: str, params: dict[str, str]) -> Heard:
        response = signed_post(self.client, self.app, path, params)
        heard = Heard(response.status_code, response.get_data(as_text=True))
        if response.status_code == 200 and response.mimetype == "text/xml":
            self.last = heard
        return heard

    def ring(self) -> Heard:
        return self.post("/voice/inbound", self.params(CallStatus="ringing"))

    def press(self, digits: str) -> Heard:
        assert self.last is not None
        extra = {"Digits": digits, "FinishedOnKey": ""} if digits else {}
        return self.post(self.last.action, self.params(**extra))

    def speak(self, seconds: int = 7) -> tuple[Heard, str]:
        """Say something after the beep and press #: Twilio posts the recording."""
        assert self.last is not None and self.last.record is not None
        sid = f"RE{uuid.uuid4().hex}"
        heard = self.post(
            self.last.action,
            self.params(
                RecordingSid=sid,
                RecordingUrl=recording_url(sid),
                RecordingDuration=str(seconds),
                Digits="#",
            ),
        )
        return heard, sid

    def recording_ready(self, sid: str, seconds: int = 7) -> Heard:
        """Twilio's recording status callback."""
        assert self.last is not None
        record = self.last.record
        path = record.get("recordingStatusCallback") if record is not None else None
        return self.post(
            path or "/voice/recording",
            {
                "AccountSid": ACCOUNT,
                "CallSid": self.sid,
                "RecordingSid": sid,
                "RecordingUrl": recording_url(sid),
                "RecordingStatus": "completed",
                "RecordingDuration": str(seconds),
                "RecordingChannels": "1",
                "RecordingSource": "RecordVerb",
            },
        )

    def hang_up(self, status: str = "completed") -> Heard:
        """Twilio's call status callback for the end of this call."""
        return self.post("/voice/status", self.params(CallStatus=status, CallDuration="31"))
