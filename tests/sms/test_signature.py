"""Webhook signatures: the URL Twilio signed is rebuilt exactly, and anything changed fails."""

from __future__ import annotations

from collections.abc import Iterator, Mapping

import pytest
from twilio.request_validator import RequestValidator

from sms.signature import compute_signature, is_valid_signature, public_url

TOKEN = "12345678901234567890123456789012"
URL = "https://aid.example.org/sms/inbound"
PARAMS = {
    "MessageSid": "SM" + "a" * 32,
    "AccountSid": "AC" + "0" * 32,
    "From": "+17185550101",
    "To": "+17185550199",
    "Body": "need groceries 11216",
    "NumMedia": "0",
}


def twilio_signs(url: str, params: dict[str, str] | list[tuple[str, str]]) -> str:
    """Sign exactly as Twilio does, with the library's own validator."""
    return str(RequestValidator(TOKEN).compute_signature(url, params))


def test_valid_signature_is_accepted() -> None:
    assert is_valid_signature(TOKEN, URL, PARAMS, twilio_signs(URL, PARAMS))


def test_compute_signature_matches_twilio() -> None:
    assert compute_signature(TOKEN, URL, PARAMS) == twilio_signs(URL, PARAMS)


@pytest.mark.parametrize(
    ("field", "value"),
    [("Body", "need groceries 11217"), ("From", "+17185550102"), ("Extra", "x")],
)
def test_tampered_param_is_rejected(field: str, value: str) -> None:
    signature = twilio_signs(URL, PARAMS)
    assert not is_valid_signature(TOKEN, URL, {**PARAMS, field: value}, signature)


@pytest.mark.parametrize(
    "other_url",
    [
        "https://aid.example.org/sms/status",
        "http://aid.example.org/sms/inbound",
        "https://evil.example.org/sms/inbound",
        URL + "?x=1",
    ],
)
def test_tampered_url_is_rejected(other_url: str) -> None:
    assert not is_valid_signature(TOKEN, other_url, PARAMS, twilio_signs(URL, PARAMS))


@pytest.mark.parametrize("signature", [None, ""])
def test_missing_signature_is_rejected(signature: str | None) -> None:
    assert not is_valid_signature(TOKEN, URL, PARAMS, signature)


def test_wrong_token_is_rejected() -> None:
    signature = twilio_signs(URL, PARAMS)
    assert not is_valid_signature("another-token", URL, PARAMS, signature)
    assert not is_valid_signature("", URL, PARAMS, signature)


def test_garbage_signature_is_rejected() -> None:
    assert not is_valid_signature(TOKEN, URL, PARAMS, "not base64 ☃")


def test_repeated_params_are_all_signed() -> None:
    pairs = [*PARAMS.items(), ("MediaUrl", "https://a/1"), ("MediaUrl", "https://a/2")]
    signature = twilio_signs(URL, {**PARAMS, "MediaUrl": "x"})  # wrong on purpose
    assert not is_valid_signature(TOKEN, URL, pairs, signature)
    good = compute_signature(TOKEN, URL, pairs)
    assert is_valid_signature(TOKEN, URL, pairs, good)
    assert not is_valid_signature(TOKEN, URL, pairs[:-1], good)


class _MultiDict(Mapping[str, str]):
    """The getlist() shape of Werkzeug's MultiDict, without Werkzeug."""

    def __init__(self, values: dict[str, list[str]]) -> None:
        self._values = values

    def __getitem__(self, key: str) -> str:
        return self._values[key][0]

    def __iter__(self) -> Iterator[str]:
        return iter(self._values)

    def __len__(self) -> int:
        return len(self._values)

    def getlist(self, key: str) -> list[str]:
        return self._values[key]


def test_multidict_params_keep_every_value() -> None:
    form = _MultiDict({"Body": ["hi"], "MediaUrl": ["https://a/1", "https://a/2"]})
    pairs = [("Body", "hi"), ("MediaUrl", "https://a/1"), ("MediaUrl", "https://a/2")]
    assert is_valid_signature(TOKEN, URL, form, compute_signature(TOKEN, URL, pairs))


def test_percent_encoded_query_string_is_kept_raw() -> None:
    signed = "https://aid.example.org/sms/status?id=42&note=a%2Bb%20c&x=%C3%A9"
    signature = twilio_signs(signed, PARAMS)
    url = public_url(
        "https://aid.example.org",
        scheme="http",
        host="127.0.0.1:8000",
        path="/sms/status",
        query_string=b"id=42&note=a%2Bb%20c&x=%C3%A9",
    )
    assert url == signed
    assert is_valid_signature(TOKEN, url, PARAMS, signature)
    decoded = "https://aid.example.org/sms/status?id=42&note=a+b c&x=é"
    assert not is_valid_signature(TOKEN, decoded, PARAMS, signature)


def test_behind_one_proxy_uses_forwarded_scheme_and_host() -> None:
    signature = twilio_signs(URL, PARAMS)
    direct = public_url(
        None, scheme="http", host="10.0.0.5:8000", path="/sms/inbound", query_string=b""
    )
    assert direct == "http://10.0.0.5:8000/sms/inbound"
    assert not is_valid_signature(TOKEN, direct, PARAMS, signature)

    proxied = public_url(
        None,
        scheme="http",
        host="10.0.0.5:8000",
        path="/sms/inbound",
        query_string=b"",
        forwarded_proto="https",
        forwarded_host="aid.example.org",
        trusted_proxies=1,
    )
    assert proxied == URL
    assert is_valid_signature(TOKEN, proxied, PARAMS, signature)


def test_forwarded_headers_ignored_without_trusted_proxies() -> None:
    url = public_url(
        None,
        scheme="http",
        host="10.0.0.5:8000",
        path="/sms/inbound",
        query_string=b"",
        forwarded_proto="https",
        forwarded_host="evil.example.org",
    )
    assert url == "http://10.0.0.5:8000/sms/inbound"


@pytest.mark.parametrize(
    ("proto", "host", "trusted", "expected"),
    [
        # a client-supplied value first, then what our one proxy appended
        ("http, https", "evil.example.org, aid.example.org", 1, URL),
        # two trusted proxies: the outer one wrote the first of the two last entries
        ("https, http", "aid.example.org, lb.internal", 2, URL),
        # fewer entries than trusted hops: not trusted, use what the app saw
        ("https", "aid.example.org", 2, "http://10.0.0.5:8000/sms/inbound"),
    ],
)
def test_forwarded_entry_is_taken_for_the_number_of_hops(
    proto: str, host: str, trusted: int, expected: str
) -> None:
    url = public_url(
        None,
        scheme="http",
        host="10.0.0.5:8000",
        path="/sms/inbound",
        query_string=b"",
        forwarded_proto=proto,
        forwarded_host=host,
        trusted_proxies=trusted,
    )
    assert url == expected


def test_configured_base_url_wins_over_forwarded_headers() -> None:
    url = public_url(
        "https://aid.example.org/",
        scheme="http",
        host="10.0.0.5:8000",
        path="/sms/inbound",
        query_string="",
        forwarded_proto="http",
        forwarded_host="evil.example.org",
        trusted_proxies=1,
    )
    assert url == URL


def test_base_url_with_a_path_prefix() -> None:
    url = public_url(
        "https://example.org/aid",
        scheme="http",
        host="x",
        path="/sms/inbound",
        query_string=b"a=1",
    )
    assert url == "https://example.org/aid/sms/inbound?a=1"


@pytest.mark.parametrize(
    ("signed_url", "checked_url"),
    [
        ("https://aid.example.org/sms/inbound", "https://aid.example.org:443/sms/inbound"),
        ("https://aid.example.org:443/sms/inbound", "https://aid.example.org/sms/inbound"),
        ("http://aid.example.org/sms/inbound", "http://aid.example.org:80/sms/inbound"),
    ],
)
def test_default_port_variants_are_accepted(signed_url: str, checked_url: str) -> None:
    assert is_valid_signature(TOKEN, checked_url, PARAMS, twilio_signs(signed_url, PARAMS))


def test_non_default_port_must_match() -> None:
    signed = "https://aid.example.org:8443/sms/inbound"
    signature = twilio_signs(signed, PARAMS)
    assert not is_valid_signature(TOKEN, URL, PARAMS, signature)
    url = public_url(
        None,
        scheme="http",
        host="10.0.0.5",
        path="/sms/inbound",
        query_string=b"",
        forwarded_proto="https",
        forwarded_host="aid.example.org",
        forwarded_port="8443",
        trusted_proxies=1,
    )
    assert url == signed
    assert is_valid_signature(TOKEN, url, PARAMS, signature)


def test_negative_trusted_proxies_is_an_error() -> None:
    with pytest.raises(ValueError, match="trusted_proxies"):
        public_url(None, scheme="http", host="x", path="/", query_string=b"", trusted_proxies=-1)
