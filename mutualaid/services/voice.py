"""The voice hotline: one call's dialogue, step by step, ending in the same request a text
would create, a voicemail for a coordinator to call back, or one follow-up text.

Each webhook of a call (it rang; a key was pressed; a recording is ready; it ended) is
one call of a function here, which returns the :class:`sms.voice.Script` the caller hears
next. Between webhooks the call's state is a :class:`~mutualaid.models.Call` row keyed
by CallSid: the step it is at and what was pressed (encrypted, forgotten after
CONVERSATION_TTL like an SMS question). The row is locked for the transaction, so a
webhook Twilio re-sends, or two at once, change it once.

The steps: ``language`` (one key per language of the network) → ``category`` (one key
per category) → ``where`` (a 5-digit ZIP, or * to say it: ``where_spoken``, recorded)
→ ``confirm`` (1 yes, 2 start again). 0 at any step, or anything not understood twice
at one step, goes to ``voicemail``: a recording and a request flagged for a coordinator's
callback. A call that ends otherwise gets one follow-up text. Prompts come from the
message catalogues (``voice_*``), in the language the caller chose.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Sequence
from dataclasses import dataclass
from urllib.parse import urlsplit

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from mutualaid.db import insert_or_ignore
from mutualaid.models import AidRequest, Call, Channel, Person, RequestStatus
from mutualaid.services import flags, optin
from mutualaid.services.audit import Actor, record
from mutualaid.services.inbox import sender_phone
from mutualaid.services.intake import NewRequest, create_request, find_or_create_person
from mutualaid.services.notify import SmsContext, say
from sms.catalog import Catalogue
from sms.voice import Line, Script, is_call_sid, is_recording_sid, keypad, spelled

log = logging.getLogger(__name__)

# Twilio's CallStatus values for a call that is over.
ENDED = frozenset({"completed", "busy", "no-answer", "canceled", "failed"})
# A question is asked once more after an answer we did not understand, then voicemail.
TRIES = 2
VOICEMAIL_FLAG = "voicemail: call the requester back"
VERIFIED_CALLED = "called from the number"
SPOKEN_PLACE_SECONDS = 30
VOICEMAIL_SECONDS = 120
REQUEST, VOICEMAIL, MISSED = "request", "voicemail", "missed"
# The voice_locale of a language no Twilio <Say> voice speaks.
NO_VOICE = "none"


@dataclass(frozen=True)
class Hotline:
    """The network's settings of the hotline: its LANGUAGES, in the order the menu offers
    them, and the VOICEMAIL_CATEGORY of a voicemail left before choosing one."""

    languages: tuple[str, ...]
    voicemail_category: str


@dataclass(frozen=True)
class Recording:
    """A recording as Twilio posts it: RecordingSid, RecordingUrl, RecordingDuration."""

    sid: str | None
    url: str | None
    seconds: str | None = None


class _Turn:
    """One webhook of one call: the call row (locked), its caller, the catalogue."""

    def __init__(
        self,
        session: Session,
        ctx: SmsContext,
        call: Call,
        hotline: Hotline,
    ):
        self.session, self.ctx, self.call = session, ctx, call
        self.languages = _languages(ctx, hotline)
        self.voicemail_category = hotline.voicemail_category
        self.person = session.get(Person, call.person_id) if call.person_id else None

    @property
    def language(self) -> str:
        return self.call.language

    def line(self, key: str, language: str | None = None, **values: object) -> Line:
        language = language or self.language
        if key == "voice_welcome":
            values = {"network": self.ctx.network_name, **values}
        return Line(self.ctx.catalogue.render(key, language, **values), _locale(self.ctx, language))

    def update(self, **data: object) -> None:
        # A new dict: the encrypted JSON column is not tracked for changes in place.
        self.call.data = {**self.call.data, **data}

    def go(self, step: str, *, keep: bool = True, same_question: bool = False) -> None:
        """Move to ``step``, keeping what was pressed (unless not ``keep``). A step that
        asks the same question another way (saying the place instead of typing it) keeps
        the count of answers not understood, so it cannot go round for ever."""
        self.call.step = step
        data = dict(self.call.data) if keep else {}
        if not same_question:
            data.pop("tries", None)
        self.call.data = data
        self.call.expires_at = self.ctx.now + self.ctx.conversation_ttl


# -- the webhooks -------------------------------------------------------------------------


def answer(
    session: Session,
    ctx: SmsContext,
    *,
    call_sid: str | None,
    caller: str | None,
    hotline: Hotline,
) -> Script:
    """A call rang (``POST /voice/inbound``): the first question. A re-sent webhook of the
    same call hears the question its call is at. Flushes; the caller commits."""
    first = _languages(ctx, hotline)[0]
    if not is_call_sid(call_sid):
        return _sorry(ctx, first)
    assert call_sid is not None
    call = _open_call(session, ctx, call_sid, caller, hotline)
    if call is None:
        # No number to reach them at afterwards: told so in every language, kindly.
        lines = tuple(
            Line(ctx.catalogue.render("voice_no_caller_id", lang), _locale(ctx, lang))
            for lang in _languages(ctx, hotline)
        )
        return Script(lines, "hangup")
    turn = _Turn(session, ctx, call, hotline)
    if turn.person is None or turn.person.blocked:
        return _sorry(ctx, turn.language)
    return _resume(turn)


def respond(
    session: Session,
    ctx: SmsContext,
    *,
    call_sid: str | None,
    caller: str | None,
    step: str,
    digits: str | None = None,
    recording: Recording | None = None,
    hotline: Hotline,
) -> Script:
    """The caller answered ``step`` (``POST /voice/step``): pressed ``digits`` (or nothing),
    or finished a ``recording`` (the place they said, or their voicemail). An answer to
    another step than the call is at (a re-sent or stale webhook) is not taken: the call's
    own question is asked again. Flushes; the caller commits."""
    turn = _turn(session, ctx, call_sid, caller, hotline)
    if isinstance(turn, Script):
        return turn
    call = turn.call
    if call.outcome is not None:
        return _goodbye(turn)
    if step != call.step:
        return _prompt(turn)
    if call.step == VOICEMAIL:
        _keep_recording(call, recording)
        _take_voicemail(turn)
        return Script((turn.line("voice_voicemail_thanks"),), "hangup")
    if call.step == "where_spoken":
        if not _keep_recording(call, recording):
            turn.go("where", same_question=True)
            return _not_understood(turn)
        turn.update(spoken_place=True, zip=None)
        turn.go("confirm")
        return _prompt(turn)
    keys = keypad(digits)
    if keys == "0":
        return _to_voicemail(turn)
    handled = STEPS[call.step](turn, keys)
    return handled if handled is not None else _not_understood(turn)


def recording_ready(
    session: Session,
    *,
    ctx: SmsContext,
    call_sid: str | None,
    recording: Recording | None,
    status: str | None,
    hotline: Hotline,
) -> bool:
    """Twilio's recording status callback (``POST /voice/recording``): a voicemail's
    recording is stored with its call, and the voicemail taken if the caller hung up
    before its action ran. False when there was nothing to do. Flushes."""
    if not is_call_sid(call_sid) or status != "completed":
        return False
    call = _locked_call(session, call_sid or "")
    if call is None:
        return False
    kept = _keep_recording(call, recording)
    if call.step == VOICEMAIL and call.outcome is None:
        _take_voicemail(_Turn(session, ctx, call, hotline))
    return kept


def call_ended(
    session: Session,
    ctx: SmsContext,
    *,
    call_sid: str | None,
    caller: str | None,
    status: str | None,
    hotline: Hotline,
) -> bool:
    """Twilio's call status callback (``POST /voice/status``). A call that ended (or was
    never answered: busy, no-answer, canceled, failed) before a request or voicemail was
    taken gets one follow-up text, whatever number of times Twilio sends the callback;
    a caller who hung up while leaving a voicemail has left one. True when the follow-up
    was queued now. Flushes."""
    if status not in ENDED or not is_call_sid(call_sid):
        return False
    assert call_sid is not None
    call = _open_call(session, ctx, call_sid, caller, hotline)
    if call is None or call.outcome is not None:
        return False
    turn = _Turn(session, ctx, call, hotline)
    if call.step == VOICEMAIL:
        _take_voicemail(turn)
        return False
    call.outcome, call.data, call.expires_at = MISSED, {}, None
    person = turn.person
    record(
        session,
        Actor.system(),
        "call.missed",
        subject_type="people",
        subject_id=call.person_id,
        status=status,
    )
    if person is None or person.blocked or not person.phone:
        return False
    # The person's language: a call that never reached the menu kept the one we knew.
    queued = say(session, ctx, person, "voice_missed", dedupe_key=f"voice:{call.call_sid}:missed")
    if queued is not None:
        log.info("call %s ended before a request (%s): one follow-up text queued", call.id, status)
    return queued is not None


def forget_expired(session: Session, *, now: dt.datetime) -> int:
    """Clear what callers pressed in calls past their expiry (the worker runs it); how
    many. The call rows stay: what each call became, and its recording for coordinators.
    Flushes; the caller commits."""
    result = session.execute(
        update(Call)
        .where(Call.expires_at < now)
        .values(data={}, expires_at=None)
        .execution_options(synchronize_session=False)
    )
    return result.rowcount or 0


# -- the steps ----------------------------------------------------------------------------


def _prompt(turn: _Turn, *, sorry: bool = False) -> Script:
    """The question of the call's step."""
    step = turn.call.step
    lines = [turn.line("voice_not_understood")] if sorry else []
    if step == "language":
        first = turn.languages[0]
        if not sorry:
            lines.append(turn.line("voice_welcome", first))
        lines += [
            turn.line("voice_language_option", lang, digit=str(n))
            for n, lang in enumerate(turn.languages, start=1)
        ]
        lines.append(turn.line("voice_press_zero", first))
        return Script(tuple(lines), "gather", step=step, digits=_width(turn.languages))
    if step == "category":
        keys = list(turn.ctx.categories)
        lines.append(turn.line("voice_ask_category"))
        lines += [
            turn.line("voice_category_option", category=_label(turn, key), digit=str(n))
            for n, key in enumerate(keys, start=1)
        ]
        lines.append(turn.line("voice_press_zero"))
        return Script(tuple(lines), "gather", step=step, digits=_width(keys))
    if step == "where":
        lines.append(turn.line("voice_ask_where"))
        return Script(tuple(lines), "gather", step=step, digits=5, timeout=8)
    if step == "where_spoken":
        lines.append(turn.line("voice_say_where"))
        return Script(tuple(lines), "record", step=step, max_seconds=SPOKEN_PLACE_SECONDS)
    if step == "confirm":
        data = turn.call.data
        place = spelled(data["zip"]) if data.get("zip") else None
        lines.append(
            turn.line(
                "voice_confirm",
                category=_label(turn, data.get("category", "")),
                place=place or turn.ctx.catalogue.render("voice_place_spoken", turn.language),
            )
        )
        return Script(tuple(lines), "gather", step=step)
    # voicemail
    lines.append(turn.line("voice_voicemail"))
    return Script(
        tuple(lines),
        "record",
        step=VOICEMAIL,
        max_seconds=VOICEMAIL_SECONDS,
        recording_callback=True,
    )


def _resume(turn: _Turn) -> Script:
    if turn.call.outcome is not None:
        return _goodbye(turn)
    return _prompt(turn)


def _not_understood(turn: _Turn) -> Script:
    tries = int(turn.call.data.get("tries", 0)) + 1
    if tries >= TRIES:
        return _to_voicemail(turn)
    turn.update(tries=tries)
    return _prompt(turn, sorry=True)


def _choose_language(turn: _Turn, keys: str | None) -> Script | None:
    chosen = _pick(keys, turn.languages)
    if chosen is None:
        return None
    turn.call.language = chosen
    if turn.person is not None:
        turn.person.language = chosen
    turn.go("category")
    return _prompt(turn)


def _choose_category(turn: _Turn, keys: str | None) -> Script | None:
    chosen = _pick(keys, list(turn.ctx.categories))
    if chosen is None:
        return None
    turn.update(category=chosen)
    turn.go("where")
    return _prompt(turn)


def _choose_place(turn: _Turn, keys: str | None) -> Script | None:
    if keys == "*":
        turn.go("where_spoken", same_question=True)
        return _prompt(turn)
    if keys is None or len(keys) != 5 or not keys.isdigit():
        return None
    if turn.ctx.resolver.resolve(keys) is None:
        return None  # not a ZIP we can place
    turn.update(zip=keys, spoken_place=False)
    turn.go("confirm")
    return _prompt(turn)


def _confirm(turn: _Turn, keys: str | None) -> Script | None:
    if keys == "2":
        turn.go("category", keep=False)
        return _prompt(turn)
    if keys != "1":
        return None
    return _take_request(turn)


STEPS = {
    "language": _choose_language,
    "category": _choose_category,
    "where": _choose_place,
    "confirm": _confirm,
}


# -- what a call becomes ------------------------------------------------------------------


def _take_request(turn: _Turn) -> Script:
    """The caller confirmed: the request a text would create (or the open one they already
    have for the same need), told to them, and texted with its reference."""
    session, ctx, call, person = turn.session, turn.ctx, turn.call, turn.person
    assert person is not None and person.phone
    category = call.data.get("category", "")
    existing = session.scalars(
        select(AidRequest)
        .where(
            AidRequest.requester_id == person.id,
            AidRequest.category == category,
            AidRequest.status.in_((RequestStatus.OPEN, RequestStatus.MATCHED)),
        )
        .order_by(AidRequest.id.desc())
        .limit(1)
    ).first()
    lines: list[Line] = []
    if existing is not None:
        req = existing
        lines.append(
            turn.line("voice_already_asked", category=_label(turn, category), ref=spelled(req.ref))
        )
    else:
        req = create_request(
            session,
            NewRequest(
                phone=person.phone,
                category=category,
                location_text=call.data.get("zip") or "",
                language=turn.language,
                channel=Channel.VOICE,
            ),
            resolver=ctx.resolver,
            categories=ctx.categories,
            verified=VERIFIED_CALLED,
        )
        if person.awaiting_opt_in:
            # Asking for help from their own phone is their opt-in, as a NEED text is.
            optin.confirm(session, person, source="voice:NEED", actor=Actor.person(person.id))
        lines.append(turn.line("voice_confirmed", ref=spelled(req.ref)))
        values: dict[str, str] = {"ref": req.ref}
        if req.needs_location:  # said aloud: a coordinator will place it
            key = "need_no_location_stored"
        else:
            key, values["category"] = "need_confirmed", _label(turn, category)
        dedupe = f"voice:{call.call_sid}:request"
        say(session, ctx, person, key, dedupe_key=dedupe, request_id=req.id, **values)
    if person.opted_out:
        lines.append(turn.line("voice_opted_out"))
    call.outcome, call.request_id = REQUEST, req.id
    call.data, call.expires_at = {}, None
    return Script(tuple(lines), "hangup")


def _to_voicemail(turn: _Turn) -> Script:
    turn.go(VOICEMAIL)
    return _prompt(turn)


def _take_voicemail(turn: _Turn) -> AidRequest:
    """The caller left a voicemail (or hung up while leaving it): a request flagged for a
    coordinator to call back, with the recording when Twilio has it. Whatever the caller
    pressed before is not taken as confirmed: no place, so it is not matched until a
    coordinator has listened. Once per call."""
    session, ctx, call, person = turn.session, turn.ctx, turn.call, turn.person
    assert person is not None and person.phone
    if call.request_id is not None:
        req = session.get(AidRequest, call.request_id)
        assert req is not None
        return req
    chosen = call.data.get("category")
    category = chosen if chosen in ctx.categories else turn.voicemail_category
    if category not in ctx.categories:
        category = next(iter(ctx.categories))
    req = create_request(
        session,
        NewRequest(
            phone=person.phone,
            category=category,
            location_text="",
            language=turn.language,
            channel=Channel.VOICE,
        ),
        resolver=ctx.resolver,
        categories=ctx.categories,
        verified=VERIFIED_CALLED,
    )
    flags.flag(session, req, VOICEMAIL_FLAG, actor=Actor.system())
    call.outcome, call.request_id = VOICEMAIL, req.id
    call.data, call.expires_at = {}, None
    record(
        session,
        Actor.person(person.id),
        "call.voicemail",
        subject_type="aid_requests",
        subject_id=req.id,
        recording=call.recording_sid is not None,
        category_chosen=chosen in ctx.categories,
    )
    return req


def _goodbye(turn: _Turn) -> Script:
    """What a call already over hears (a re-sent webhook)."""
    call = turn.call
    if call.outcome == REQUEST and call.request_id is not None:
        req = turn.session.get(AidRequest, call.request_id)
        if req is not None:
            return Script((turn.line("voice_confirmed", ref=spelled(req.ref)),), "hangup")
    if call.outcome == VOICEMAIL:
        return Script((turn.line("voice_voicemail_thanks"),), "hangup")
    return _sorry(turn.ctx, turn.language)


# -- helpers ------------------------------------------------------------------------------


def _turn(
    session: Session,
    ctx: SmsContext,
    call_sid: str | None,
    caller: str | None,
    hotline: Hotline,
) -> _Turn | Script:
    """The turn of a call that is under way, or what to say when it cannot go on: a call
    we do not know (or whose state expired) starts again from its first question."""
    if not is_call_sid(call_sid):
        return _sorry(ctx, _languages(ctx, hotline)[0])
    call = _locked_call(session, call_sid or "")
    expired = (
        call is not None
        and call.outcome is None
        and (call.expires_at is None or call.expires_at <= ctx.now)
    )
    if call is None or expired:
        if call is not None:
            offered = _languages(ctx, hotline)
            call.step = "category" if len(offered) == 1 else "language"
            call.data, call.expires_at = {}, ctx.now + ctx.conversation_ttl
        return answer(session, ctx, call_sid=call_sid, caller=caller, hotline=hotline)
    turn = _Turn(session, ctx, call, hotline)
    if turn.person is None or turn.person.blocked:
        return _sorry(ctx, turn.language)
    return turn


def _open_call(
    session: Session, ctx: SmsContext, call_sid: str, caller: str | None, hotline: Hotline
) -> Call | None:
    """The call with this CallSid, created (with its caller as a person) on its first
    webhook; locked for this transaction. None for a caller with no usable number."""
    call = _locked_call(session, call_sid)
    if call is not None:
        return call
    phone = sender_phone(caller or "", ctx.phone_region)
    if phone is None:
        return None
    person = find_or_create_person(session, phone)
    offered = _languages(ctx, hotline)
    one = len(offered) == 1
    language = ctx.catalogue.language(person.language)
    if one or not spoken(ctx.catalogue, language):
        language = offered[0]
    insert_or_ignore(
        session,
        Call,
        {
            "call_sid": call_sid,
            "person_id": person.id,
            "language": language,
            "step": "category" if one else "language",
            "data": {},
            "expires_at": ctx.now + ctx.conversation_ttl,
            "created_at": ctx.now,
            "updated_at": ctx.now,
        },
        ["call_sid"],
    )
    return _locked_call(session, call_sid)


def _locked_call(session: Session, call_sid: str) -> Call | None:
    query = select(Call).where(Call.call_sid == call_sid)
    if session.get_bind().dialect.name == "postgresql":
        query = query.with_for_update()
    return session.scalars(query.execution_options(populate_existing=True)).first()


def _keep_recording(call: Call, recording: Recording | None) -> bool:
    """Store Twilio's recording with the call when it looks like one of Twilio's; False
    (nothing stored) otherwise."""
    if recording is None or not is_recording_sid(recording.sid):
        return False
    if not _is_twilio_media(recording.url):
        return False
    call.recording_sid, call.recording_url = recording.sid, recording.url
    text = (recording.seconds or "").strip()
    call.recording_seconds = int(text) if text.isdigit() and len(text) <= 6 else None
    return True


def _is_twilio_media(url: str | None) -> bool:
    """Twilio's own https address of a recording (a coordinator will open it)."""
    if not url or len(url) > 300 or not url.isprintable() or " " in url:
        return False
    parts = urlsplit(url)
    host = (parts.hostname or "").lower()
    return parts.scheme == "https" and (host == "twilio.com" or host.endswith(".twilio.com"))


def _languages(ctx: SmsContext, hotline: Hotline) -> list[str]:
    """The network's languages that have a message catalogue and a voice to speak it, in
    the network's order (else the fallback's: its callers hear the English prompts)."""
    offered = [
        lang
        for lang in hotline.languages
        if lang in ctx.catalogue.languages and spoken(ctx.catalogue, lang)
    ]
    return offered or [ctx.catalogue.fallback]


def _locale(ctx: SmsContext, language: str) -> str:
    return locale(ctx.catalogue, language)


def spoken(catalogue: Catalogue, language: str) -> bool:
    """Whether Twilio can say ``language``: its voice_locale is "none" when no <Say> voice
    speaks it (Haitian Creole, Bengali), and the hotline's menu leaves it out."""
    return catalogue.render("voice_locale", language).strip().lower() != NO_VOICE


def locale(catalogue: Catalogue, language: str) -> str:
    """Twilio's language attribute for a catalogue language: "es-mx" → "es-MX"."""
    code = catalogue.render("voice_locale", language).strip()
    base, _, region = code.partition("-")
    return f"{base.lower()}-{region.upper()}" if region else base.lower()


def _label(turn: _Turn, category: str) -> str:
    return turn.ctx.label(category, turn.language)


def _pick(keys: str | None, options: Sequence[str]) -> str | None:
    if keys is None or not keys.isdigit():
        return None
    n = int(keys)
    return options[n - 1] if 1 <= n <= len(options) else None


def _width(options: Sequence[object]) -> int:
    """How many keys a choice among ``options`` takes (1 for up to 9 options)."""
    return len(str(len(options)))


def _sorry(ctx: SmsContext, language: str) -> Script:
    return sorry(ctx.catalogue, language)


def sorry(catalogue: Catalogue, language: str) -> Script:
    """A call we cannot take: said kindly, then the call ends."""
    line = Line(catalogue.render("voice_sorry", language), locale(catalogue, language))
    return Script((line,), "hangup")
