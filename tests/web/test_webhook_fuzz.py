"""Property-based: any Unicode body, any sender, through the signed webhook — never a 5xx,
stored once from a phone number (never from anything else), on SQLite and PostgreSQL."""

from __future__ import annotations

import itertools

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import func, select

from mutualaid.models import Message, MessageDirection
from sms.phones import is_valid
from tests.sms_helpers import text

_sid = itertools.count()

# Text Twilio could deliver (valid UTF-8: no lone surrogates), sometimes command-like.
bodies = st.one_of(
    st.text(alphabet=st.characters(blacklist_categories=("Cs",)), max_size=400),
    st.builds(
        lambda k, rest: f"{k} {rest}",
        st.sampled_from(
            [
                "need",
                "NECESITO",
                "offer",
                "yes",
                "no",
                "done",
                "stop",
                "start",
                "cancel",
                "status",
                "help",
                "human",
                "1",
                "2 3",
            ]
        ),
        st.text(alphabet=st.characters(blacklist_categories=("Cs",)), max_size=60),
    ),
)
senders = st.sampled_from(["+17185550101", "+17185550102", "+447700900123", "12345", "", "abc"])


@settings(
    max_examples=60,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(body=bodies, sender=senders)
def test_any_body_from_any_sender(app, client, session, body: str, sender: str) -> None:
    sid = f"SM{next(_sid):032x}"
    response = text(client, app, sender, body, MessageSid=sid)
    assert response.status_code == 200, response.get_data(as_text=True)[:300]
    stored = session.scalar(
        select(func.count())
        .select_from(Message)
        .where(Message.direction == MessageDirection.INBOUND, Message.provider_sid == sid)
    )
    assert stored == (1 if is_valid(sender) else 0)
