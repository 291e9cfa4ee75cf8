"""What a service refuses carries its catalogue key, its values and an English sentence;
a Conflict is a refusal about the record's state now."""

from __future__ import annotations

import pytest

from mutualaid.services.errors import Conflict, Refused


def test_a_refusal_names_its_sentence_and_values() -> None:
    exc = Refused("note_too_long", "a note is at most 2000 characters", max=2000)
    assert (exc.key, exc.values, str(exc)) == ("note_too_long", {"max": 2000}, exc.args[0])
    assert isinstance(exc, ValueError)  # bad input, as far as a caller is concerned


def test_a_conflict_is_a_refusal() -> None:
    with pytest.raises(Refused) as caught:
        raise Conflict("request_changed", "the request changed meanwhile")
    assert isinstance(caught.value, Conflict) and caught.value.key == "request_changed"
