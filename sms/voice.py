"""Voice calls as Twilio hears them: a :class:`Script` (what to say, then gather keys,
record, or hang up) rendered as TwiML with the ``twilio`` library's ``VoiceResponse``.

The dialogue itself lives in the app (mutualaid.services.voice); this module knows only
TwiML. Action URLs are given by the caller (the web boundary knows its routes).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Literal

from twilio.twiml.voice_response import VoiceResponse

__all__ = [
    "Line",
    "Script",
    "is_call_sid",
    "is_recording_sid",
    "keypad",
    "spelled",
    "twiml",
]

_CALL_SID = re.compile(r"CA[0-9a-f]{32}")
_RECORDING_SID = re.compile(r"RE[0-9a-f]{32}")
# What a keypad can send: digits, * and #.
_KEYPAD = re.compile(r"[0-9*#]{1,10}")


def is_call_sid(value: str | None) -> bool:
    """Whether ``value`` has the shape of a Twilio CallSid (see sms.signature.is_message_sid
    for why a signed request's ids are checked).

    >>> is_call_sid("CA" + "0a" * 16), is_call_sid("CA" + "0a" * 16 + "From+1"), is_call_sid(None)
    (True, False, False)
    """
    return value is not None and _CALL_SID.fullmatch(value) is not None


def is_recording_sid(value: str | None) -> bool:
    """Whether ``value`` has the shape of a Twilio RecordingSid."""
    return value is not None and _RECORDING_SID.fullmatch(value) is not None


def keypad(digits: str | None) -> str | None:
    """The keys a caller pressed, or None for anything a keypad cannot send.

    >>> keypad(" 11216 "), keypad("abc"), keypad("1" * 500), keypad("")
    ('11216', None, None, None)
    """
    text = (digits or "").strip()
    return text if _KEYPAD.fullmatch(text) else None


def spelled(text: str) -> str:
    """Digits and letters one at a time, so speech reads "1 1 2 1 6", not "eleven
    thousand…".

    >>> spelled("K7Q2MX")
    'K 7 Q 2 M X'
    """
    return " ".join(ch for ch in text if not ch.isspace())


@dataclass(frozen=True)
class Line:
    """One sentence spoken in ``locale`` (Twilio's language attribute: "en-US", "es-MX")."""

    text: str
    locale: str


@dataclass(frozen=True)
class Script:
    """What the caller hears next: ``lines``, then ``then``:

    - ``"gather"``: wait up to ``timeout`` seconds for ``digits`` keys, sent to the action
      of ``step`` (also with no key pressed, so silence is answered too);
    - ``"record"``: record up to ``max_seconds`` after a beep (# or hanging up ends it),
      sent to the action of ``step``;
    - ``"hangup"``: end the call.
    """

    lines: tuple[Line, ...]
    then: Literal["gather", "record", "hangup"]
    step: str = ""
    digits: int = 1
    timeout: int = 6
    max_seconds: int = 120
    recording_callback: bool = False


def twiml(
    script: Script,
    *,
    action: Callable[[str], str],
    recording_callback: str | None = None,
    voice: str | None = None,
) -> str:
    """The TwiML document of ``script``. ``action(step)`` is the URL that step's answer is
    posted to; ``recording_callback`` where Twilio posts a finished recording (when the
    script asks for it); ``voice`` a Twilio voice name ("Polly.Joanna"), else Twilio's
    default.

    >>> s = Script((Line("Press 1.", "en-US"),), "gather", step="language")
    >>> xml = twiml(s, action=lambda step: f"/voice/step?step={step}")
    >>> '<Gather action="/voice/step?step=language"' in xml, '<Say language="en-US">' in xml
    (True, True)
    """
    response = VoiceResponse()
    say_options = {"voice": voice} if voice else {}
    if script.then == "gather":
        url = action(script.step)
        gather = response.gather(
            input="dtmf",
            num_digits=script.digits,
            timeout=script.timeout,
            action=url,
            method="POST",
            action_on_empty_result=True,
        )
        for line in script.lines:
            gather.say(line.text, language=line.locale, **say_options)
        # Only if Twilio did not post the empty result: the same question is answered anyway.
        response.redirect(url, method="POST")
    else:
        for line in script.lines:
            response.say(line.text, language=line.locale, **say_options)
    if script.then == "record":
        url = action(script.step)
        callback = (
            {
                "recording_status_callback": recording_callback,
                "recording_status_callback_event": "completed",
                "recording_status_callback_method": "POST",
            }
            if script.recording_callback and recording_callback
            else {}
        )
        response.record(
            action=url,
            method="POST",
            max_length=script.max_seconds,
            timeout=5,
            finish_on_key="#",
            play_beep=True,
            **callback,
        )
        # Nothing recorded (silence): Twilio goes on to the next verb instead of the action.
        response.redirect(url, method="POST")
    if script.then == "hangup":
        response.hangup()
    return str(response)
