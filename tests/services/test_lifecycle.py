"""The life of a need through SMS and the fake Twilio API: texted in, proposed, accepted,
relayed both ways without a phone number, completed, followed up; decline and expiry
lead to someone else; signed links; fairness."""

from __future__ import annotations

import datetime as dt
import re

import pytest
from sqlalchemy import select, update

from mutualaid.models import (
    AidRequest,
    Match,
    MatchStatus,
    Message,
    Offer,
    RequestStatus,
)
from mutualaid.services.links import proposal_token
from mutualaid.worker.jobs import expire_proposals, run_matching
from tests import builders
from tests.fakes.twilio import FakeTwilio
from tests.sms_helpers import phones_of, text, twilio_sender

ROSA, MARCUS, ANA = "+17185550101", "+17185550111", "+17185550122"


pytestmark = pytest.mark.usefixtures("gazetteer_loaded")


@pytest.fixture
def fake():
    with FakeTwilio() as fake:
        yield fake


@pytest.fixture
def deliver(app, fake):
    """Run the worker's outbox job against the fake Twilio API; the bodies it received."""
    with twilio_sender(fake) as sender:
        yield phones_of(app, fake, sender)


@pytest.fixture
def sms(app, client):
    def send(sender: str, body: str) -> None:
        assert text(client, app, sender, body).status_code == 200

    return send


def _to(sent: list[tuple[str, str]], phone: str) -> list[str]:
    return [body for to, body in sent if to == phone]


def test_a_need_met_end_to_end(app, session, sms, deliver, fake) -> None:
    sms(MARCUS, "offer groceries 11216 3km")
    sms(ROSA, "need groceries 11216")
    deliver()

    run, _ = run_matching(app, trigger="test")
    assert run.proposed == 1
    (proposal,) = _to(deliver(), MARCUS)
    code = re.search(r"YES (\d{4})", proposal).group(1)
    assert "Groceries" in proposal and "under 1 mile away" in proposal and "/t/" in proposal

    sms(MARCUS, "yes")
    sent = deliver()
    assert "Task " + code in _to(sent, MARCUS)[0]
    assert "a neighbour is coming" in _to(sent, ROSA)[0]
    req = session.scalars(select(AidRequest)).one()
    assert req.status is RequestStatus.MATCHED

    sms(ROSA, "3rd floor, buzzer broken, call me at 718-555-0101 when here")
    sms(MARCUS, "On my way, 10 minutes. My cell is (718) 555-0111")
    sent = deliver()
    (to_marcus,) = _to(sent, MARCUS)
    (to_rosa,) = _to(sent, ROSA)
    assert "3rd floor" in to_marcus and "On my way" in to_rosa
    assert "[number removed]" in to_marcus and "[number removed]" in to_rosa

    sms(MARCUS, f"DONE {code}")
    sent = deliver()
    assert "marked done" in _to(sent, MARCUS)[0]
    assert _to(sent, ROSA) == []  # the follow-up waits a day
    session.execute(
        update(Message)
        .where(Message.template == "followup_question")
        .values(next_attempt_at=dt.datetime.now(dt.UTC))
    )
    session.commit()
    (question,) = _to(deliver(), ROSA)
    assert "Did you get the help you needed" in question

    sms(ROSA, "no")
    assert "reopened" in _to(deliver(), ROSA)[0]
    session.expire_all()
    assert req.status is RequestStatus.OPEN and req.flagged

    # Nobody ever received anyone else's number.
    for message in fake.messages:
        digits = re.sub(r"\D", "", message["body"])
        for phone in (ROSA, MARCUS):
            if phone != message["to"]:
                assert phone[-7:] not in digits, message["body"]


def _offer_at(session, phone: str, lat: float, lon: float, **fields) -> Offer:
    return builders.offer(
        session, person=builders.person(session, phone=phone), lat=lat, lon=lon, **fields
    )


def test_decline_and_expiry_lead_to_someone_else_never_the_same_again(app, session, sms) -> None:
    req = builders.aid_request(session, lat=40.680, lon=-73.950)
    near = _offer_at(session, MARCUS, 40.681, -73.950)
    middle = _offer_at(session, ANA, 40.690, -73.950)
    far = _offer_at(session, "+17185550133", 40.700, -73.950)
    session.commit()

    def proposed_to() -> int:
        run_matching(app, trigger="test")
        session.expire_all()
        return (
            session.scalars(select(Match).where(Match.status == MatchStatus.PROPOSED))
            .one()
            .offer_id
        )

    assert proposed_to() == near.id
    sms(MARCUS, "no")
    assert proposed_to() == middle.id
    session.execute(
        update(Match)
        .where(Match.status == MatchStatus.PROPOSED)
        .values(expires_at=dt.datetime.now(dt.UTC) - dt.timedelta(seconds=1))
    )
    session.commit()
    assert expire_proposals(app) == 1
    assert proposed_to() == far.id
    session.execute(
        update(Match)
        .where(Match.status == MatchStatus.PROPOSED)
        .values(expires_at=dt.datetime.now(dt.UTC) - dt.timedelta(seconds=1))
    )
    session.commit()
    expire_proposals(app)
    run, plan = run_matching(app, trigger="test")
    assert run.proposed == 0
    (unmatched,) = plan.result.unmatched
    assert unmatched.reason == "excluded_unvetted_or_full"
    assert session.get(AidRequest, req.id).status is RequestStatus.OPEN


def test_fairness_spreads_proposals_across_volunteers(app, session) -> None:
    """Two volunteers equally near; the one who did three tasks this week is asked second."""
    busy = _offer_at(session, MARCUS, 40.690, -73.950)
    rested = _offer_at(session, ANA, 40.670, -73.950)
    for _ in range(3):
        done = builders.aid_request(session, status=RequestStatus.COMPLETED)
        builders.match(session, request=done, offer=busy, status=MatchStatus.COMPLETED)
    builders.aid_request(session, lat=40.680, lon=-73.950)
    session.commit()
    run_matching(app, trigger="test")
    live = session.scalars(select(Match).where(Match.status == MatchStatus.PROPOSED)).one()
    assert live.offer_id == rested.id


def test_without_fairness_the_nearest_wins(app, session) -> None:
    app.config.update(LOAD_PENALTY_KM=0.0, UNRELIABILITY_PENALTY_KM=0.0)
    busy = _offer_at(session, MARCUS, 40.689, -73.950)
    _offer_at(session, ANA, 40.670, -73.950)
    for _ in range(3):
        done = builders.aid_request(session, status=RequestStatus.COMPLETED)
        builders.match(session, request=done, offer=busy, status=MatchStatus.COMPLETED)
    builders.aid_request(session, lat=40.680, lon=-73.950)
    session.commit()
    run_matching(app, trigger="test")
    live = session.scalars(select(Match).where(Match.status == MatchStatus.PROPOSED)).one()
    assert live.offer_id == busy.id


def test_a_dry_run_proposes_nothing(app, session) -> None:
    _offer_at(session, MARCUS, 40.681, -73.950)
    builders.aid_request(session, lat=40.680, lon=-73.950)
    session.commit()
    _run, plan = run_matching(app, trigger="test", dry_run=True)
    assert len(plan.result.pairs) == 1
    assert session.scalars(select(Match)).all() == []


def test_several_pending_proposals_need_a_code(app, session, sms) -> None:
    offer = _offer_at(session, MARCUS, 40.681, -73.950, capacity=2)
    first = builders.match(session, offer=offer, code="1111")
    second = builders.match(session, offer=offer, code="2222")
    session.commit()
    sms(MARCUS, "yes")
    session.expire_all()
    assert first.status is second.status is MatchStatus.PROPOSED
    reply = session.scalars(select(Message).where(Message.template == "which_code")).one()
    assert "1111" in reply.body and "2222" in reply.body
    sms(MARCUS, "YES 2222")
    session.expire_all()
    assert second.status is MatchStatus.ACCEPTED and first.status is MatchStatus.PROPOSED


class TestSignedLinks:
    def _link(self, app, session) -> tuple[Match, str]:
        offer = _offer_at(session, MARCUS, 40.681, -73.950)
        match = builders.match(
            session, offer=offer, expires_at=dt.datetime.now(dt.UTC) + dt.timedelta(hours=1)
        )
        session.commit()
        return match, f"/t/{proposal_token(app.config['SECRET_KEY'], match)}"

    def test_get_shows_and_changes_nothing(self, app, client, session) -> None:
        match, url = self._link(app, session)
        page = client.get(url)
        assert page.status_code == 200
        html = page.get_data(as_text=True)
        assert "Can you help?" in html and match.code in html
        assert match.request.requester.phone[-4:] not in html
        session.expire_all()
        assert match.status is MatchStatus.PROPOSED

    def test_the_page_rounds_the_distance(self, app, client, session) -> None:
        match, url = self._link(app, session)
        match.km = 0.04
        session.commit()
        html = client.get(url).get_data(as_text=True)
        assert "under 1 mile" in html and "0.0" not in html

    def test_post_accepts(self, app, client, session) -> None:
        match, url = self._link(app, session)
        assert client.post(url, data={"answer": "yes"}).status_code == 200
        session.expire_all()
        assert match.status is MatchStatus.ACCEPTED
        assert client.post(url, data={"answer": "no"}).status_code == 410  # already answered

    def test_post_declines(self, app, client, session) -> None:
        match, url = self._link(app, session)
        assert client.post(url, data={"answer": "no"}).status_code == 200
        session.expire_all()
        assert match.status is MatchStatus.DECLINED
        # Opening the link again says what they did, not "someone else has taken this".
        again = client.get(url)
        assert again.status_code == 410
        html = again.get_data(as_text=True)
        assert "You said no to this one" in html and "Someone else" not in html

    def test_a_taken_link_says_it_is_theirs(self, app, client, session) -> None:
        _match, url = self._link(app, session)
        client.post(url, data={"answer": "yes"})
        assert "Someone else" not in client.get(url).get_data(as_text=True)

    @pytest.mark.parametrize("tamper", ["signature", "number", "garbage"])
    def test_tampered_links_are_unknown(self, app, client, session, tamper) -> None:
        match, url = self._link(app, session)
        number, signature = url.removeprefix("/t/").split(".")
        bad = {
            "signature": f"/t/{number}.{signature[:-1]}{'A' if signature[-1] != 'A' else 'B'}",
            "number": f"/t/{int(number) + 1}.{signature}",
            "garbage": "/t/../../etc/passwd",
        }[tamper]
        assert client.get(bad).status_code == 404
        assert client.post(bad, data={"answer": "yes"}).status_code == 404
        session.expire_all()
        assert match.status is MatchStatus.PROPOSED

    def test_someone_elses_link_does_not_open_my_proposal(self, app, client, session) -> None:
        mine, _ = self._link(app, session)
        other = builders.match(session, offer=builders.offer(session))
        session.commit()
        theirs = proposal_token(app.config["SECRET_KEY"], other)
        forged = f"/t/{mine.id}.{theirs.split('.')[1]}"
        assert client.post(forged, data={"answer": "yes"}).status_code == 404

    def test_expired_links_are_gone(self, app, client, session) -> None:
        match, url = self._link(app, session)
        session.execute(update(Match).values(expires_at=dt.datetime.now(dt.UTC) - dt.timedelta(1)))
        session.commit()
        assert client.get(url).status_code == 410
        assert client.post(url, data={"answer": "yes"}).status_code == 410
        session.expire_all()
        assert match.status is MatchStatus.PROPOSED
