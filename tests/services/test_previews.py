"""A preview sent as shown: exactly the kept pairs, each checked again, and a pair that is no
longer possible skipped with its reason, never replaced."""

from __future__ import annotations

import datetime as dt

import pytest

from mutualaid.adapters import sms_context
from mutualaid.models import MatchStatus, RequestStatus
from mutualaid.services import previews
from tests import builders

NOW = dt.datetime.now(dt.UTC)


@pytest.mark.parametrize(
    "row",
    [[1, 2, 0.5], [1, "2", 0.5, "why"], [True, 2, 0.5, "why"], [1, 2, "far", "why"], "1,2", None],
)
def test_only_a_well_formed_pair_is_read_back(row) -> None:
    with pytest.raises(ValueError):
        previews.PreviewPair.from_list(row)


def test_a_pair_survives_its_round_trip() -> None:
    pair = previews.PreviewPair(3, 4, 1.23456, "nearest")
    assert previews.PreviewPair.from_list(pair.as_list()) == previews.PreviewPair(
        3, 4, 1.235, "nearest"
    )


def _send(app, session, pairs, coordinator):
    return previews.send_previewed(
        session,
        sms_context(),
        pairs,
        categories=app.extensions["categories"],
        max_km=app.config["MAX_KM"],
        actor=coordinator,
        started_at=NOW,
    )


def test_what_changed_since_the_preview_is_skipped_with_its_reason(app, session) -> None:
    coordinator = builders.coordinator(session)
    ok_req, ok_offer = builders.aid_request(session), builders.offer(session)
    closed = builders.aid_request(session, status=RequestStatus.CANCELLED)
    paused = builders.offer(session, paused=True)
    other_req = builders.aid_request(session)
    far_req = builders.aid_request(session, lat=41.5, lon=-73.95)
    far_offer = builders.offer(session)
    full = builders.offer(session)
    builders.match(session, offer=full, status=MatchStatus.ACCEPTED)
    full_req = builders.aid_request(session)
    pairs = [
        previews.PreviewPair(ok_req.id, ok_offer.id, 0.7, "nearest"),
        previews.PreviewPair(closed.id, ok_offer.id, 0.7, "nearest"),
        previews.PreviewPair(other_req.id, paused.id, 0.7, "nearest"),
        previews.PreviewPair(far_req.id, far_offer.id, 0.7, "nearest"),
        previews.PreviewPair(full_req.id, full.id, 0.7, "nearest"),
        previews.PreviewPair(10**6, ok_offer.id, 0.7, "nearest"),
    ]
    sent = _send(app, session, pairs, coordinator)
    assert [m.request_id for m in sent.proposed] == [ok_req.id]
    assert [(s.pair.request_id, s.reason) for s in sent.skipped] == [
        (closed.id, "request_state"),
        (other_req.id, "paused"),
        (far_req.id, "reach"),
        (full_req.id, "capacity"),
        (10**6, "request_gone"),
    ]
    assert (sent.run.proposed, sent.run.unmatched) == (1, 5)


def test_a_preview_sent_twice_proposes_once(app, session) -> None:
    coordinator = builders.coordinator(session)
    req, offer = builders.aid_request(session), builders.offer(session)
    pair = [previews.PreviewPair(req.id, offer.id, 0.7, "nearest")]
    assert len(_send(app, session, pair, coordinator).proposed) == 1
    again = _send(app, session, pair, coordinator)
    assert again.proposed == [] and [s.reason for s in again.skipped] == ["request_busy"]
