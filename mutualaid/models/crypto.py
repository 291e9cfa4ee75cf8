"""Personal data encrypted at rest: the DATA_KEY, AES-SIV, and the column type that uses them.

Phone numbers, street addresses and what people type are stored encrypted with
deterministic authenticated encryption (AES-SIV, RFC 5297, from ``cryptography``):
the same value in the same column always gives the same ciphertext, so equality
lookups (``Person.phone == phone``), unique constraints and ``!=`` keep working in
SQL, while a dump of the database shows only ``v1:…`` tokens. The column's name is
the associated data, so one phone number looks different in ``people.phone`` and in
``messages.phone``. What this gives away: which rows of one column hold equal
values. LIKE, prefix and ordering on these columns mean nothing any more.

The key is per engine (each app registers its own in create_app), so several apps
with different keys can live in one process, as the tests do.
"""

from __future__ import annotations

import base64
import binascii
import json
import secrets
import weakref
from collections.abc import Callable, Iterable, Mapping
from typing import Any

import sqlalchemy as sa
from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESSIV
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from sqlalchemy import Connection, Engine, Text, TypeDecorator
from sqlalchemy.engine import Dialect

PREFIX = "v1:"
KEY_BYTES = 64  # AES-SIV with two AES-256 keys
_HKDF_INFO = b"mutualaid DATA_KEY v1"


class DataKeyError(ValueError):
    """A DATA_KEY that is not 64 bytes of url-safe base64 or hex."""


class DecryptionError(RuntimeError):
    """A stored value that the configured key(s) cannot decrypt: the wrong DATA_KEY,
    a value written by something else, or tampering. Never garbage: AES-SIV
    authenticates every value."""


def parse_key(text: str) -> bytes:
    """The 64 key bytes written as hex (128 digits) or url-safe base64 (86 characters,
    padding optional). Raises DataKeyError otherwise."""
    text = text.strip()
    raw: bytes | None = None
    if len(text) == 2 * KEY_BYTES:
        try:
            raw = bytes.fromhex(text)
        except ValueError:
            raw = None
    if raw is None:
        try:
            raw = base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
        except (binascii.Error, ValueError):
            raw = None
    if raw is None or len(raw) != KEY_BYTES:
        raise DataKeyError(
            f"expected {KEY_BYTES} random bytes as url-safe base64 or hex; generate one with "
            '`python -c "import base64, os; print(base64.urlsafe_b64encode(os.urandom(64))'
            '.decode())"`'
        )
    return raw


def derive_key(secret: str) -> bytes:
    """A data key derived from SECRET_KEY with HKDF-SHA256 (development and tests only)."""
    hkdf = HKDF(algorithm=hashes.SHA256(), length=KEY_BYTES, salt=None, info=_HKDF_INFO)
    return hkdf.derive(secret.encode())


def generate_key() -> str:
    """A new random DATA_KEY, as url-safe base64."""
    return base64.urlsafe_b64encode(secrets.token_bytes(KEY_BYTES)).decode()


def encode_key(key: bytes) -> str:
    return base64.urlsafe_b64encode(key).decode()


class Cipher:
    """Encrypts with ``key``; decrypts with ``key``, then each of ``old_keys`` (rotation)."""

    def __init__(self, key: bytes, old_keys: Iterable[bytes] = ()) -> None:
        self._current = AESSIV(key)
        self._all = [self._current, *(AESSIV(k) for k in old_keys)]

    def encrypt(self, value: str, column: str) -> str:
        """``v1:`` + url-safe base64 of AES-SIV(value), bound to ``column`` ("people.phone")."""
        sealed = self._current.encrypt(value.encode(), [column.encode()])
        return PREFIX + base64.urlsafe_b64encode(sealed).decode()

    def decrypt(self, token: str, column: str) -> str:
        if not token.startswith(PREFIX):
            raise DecryptionError(
                f"{column}: a stored value is not encrypted; has the database been "
                "migrated (`mutualaid db upgrade`)?"
            )
        try:
            sealed = base64.urlsafe_b64decode(token[len(PREFIX) :])
        except (binascii.Error, ValueError):
            raise DecryptionError(f"{column}: a stored value is not valid base64") from None
        for aead in self._all:
            try:
                return aead.decrypt(sealed, [column.encode()]).decode()
            except InvalidTag:
                continue
        raise DecryptionError(
            f"{column}: a stored value cannot be decrypted with DATA_KEY (nor DATA_KEY_OLD): "
            "this is not the key the data was encrypted with"
        )


_ciphers: weakref.WeakKeyDictionary[Dialect, Cipher] = weakref.WeakKeyDictionary()
_last: Cipher | None = None


def use_cipher(engine: Engine, cipher: Cipher) -> None:
    """Encrypt and decrypt through ``engine`` with ``cipher`` (create_app calls this).
    An engine without one (a script's own) uses the one registered last."""
    global _last
    _ciphers[engine.dialect] = cipher
    _last = cipher


def cipher_for(dialect: Dialect) -> Cipher:
    cipher = _ciphers.get(dialect, _last)
    if cipher is None:
        raise DecryptionError("no DATA_KEY configured: create the app before using the database")
    return cipher


def rewrite_columns(
    connection: Connection,
    columns: Mapping[str, Iterable[str]],
    convert: Callable[[str, str], str],
    *,
    batch: int = 1000,
    keys: Mapping[str, str] | None = None,
) -> int:
    """Replace every non-empty value of ``columns`` ({table: [column, …]}, each table with
    a one-column key: ``id`` unless ``keys`` names another) by ``convert(value,
    "table.column")``, a page of rows at a time, in plain SQL (no model types). Used by
    the migration that encrypts and by key rotation. Returns how many values changed;
    the caller commits."""
    changed = 0
    for table_name, names in columns.items():
        names = list(names)
        key = (keys or {}).get(table_name, "id")
        table = sa.table(table_name, sa.column(key), *(sa.column(c, Text()) for c in names))
        update = (
            table.update()
            .where(table.c[key] == sa.bindparam("_id"))
            .values({c: sa.bindparam("_" + c) for c in names})
        )
        last = None
        while True:
            query = sa.select(table).order_by(table.c[key]).limit(batch)
            if last is not None:
                query = query.where(table.c[key] > last)
            rows = connection.execute(query).all()
            if not rows:
                break
            last = rows[-1][0]
            params = []
            for row in rows:
                old = dict(zip(names, row[1:], strict=True))
                new = {c: convert(v, f"{table_name}.{c}") if v else v for c, v in old.items()}
                if new != old:
                    changed += sum(new[c] != old[c] for c in names)
                    params.append({"_id": row[0], **{"_" + c: v for c, v in new.items()}})
            if params:
                connection.execute(update, params)
    return changed


def check_key(connection: Connection, metadata: sa.MetaData, cipher: Cipher) -> None:
    """Decrypt one stored value of every encrypted column (if it has any), so that a wrong
    DATA_KEY stops a process at start-up with one DecryptionError naming the column,
    instead of failing later on each page or job. Tables not created yet are skipped."""
    existing = set(sa.inspect(connection).get_table_names())
    for table in metadata.sorted_tables:
        if table.name not in existing:
            continue
        for column in table.c:
            if not isinstance(column.type, Encrypted):
                continue
            raw = sa.table(table.name, sa.column(column.name, Text()))
            value = connection.scalar(
                sa.select(raw.c[column.name]).where(raw.c[column.name] != "").limit(1)
            )
            if value:
                cipher.decrypt(value, f"{table.name}.{column.name}")


def reencrypt(connection: Connection, metadata: sa.MetaData, cipher: Cipher) -> int:
    """Rewrite every encrypted value of ``metadata``'s tables with the cipher's current key,
    reading each with the current or an old key (DATA_KEY rotation). How many changed."""
    columns = {
        table.name: [c.name for c in table.c if isinstance(c.type, Encrypted)]
        for table in metadata.sorted_tables
    }
    keys = {
        table.name: next(iter(table.primary_key.columns)).name for table in metadata.sorted_tables
    }
    return rewrite_columns(
        connection,
        {t: names for t, names in columns.items() if names},
        lambda value, column: cipher.encrypt(cipher.decrypt(value, column), column),
        keys=keys,
    )


class Encrypted(TypeDecorator[str]):
    """Text stored encrypted with the engine's DATA_KEY (see the module docstring).

    ``column`` ("people.phone") is bound into every ciphertext; ``length`` is the
    longest value accepted, in characters (the ciphertext itself is longer, hence
    TEXT). None stays NULL and "" stays "" (an empty default reveals nothing).
    """

    impl = Text
    cache_ok = True

    def __init__(self, column: str, length: int | None = None) -> None:
        super().__init__()
        self.column = column
        self.length = length

    def process_bind_param(self, value: str | None, dialect: Dialect) -> str | None:
        if value is None or value == "":
            return value
        if not isinstance(value, str):
            raise TypeError(f"{self.column}: expected a string, got {type(value).__name__}")
        if self.length is not None and len(value) > self.length:
            raise ValueError(f"{self.column}: longer than {self.length} characters")
        return cipher_for(dialect).encrypt(value, self.column)

    def process_literal_param(self, value: Any, dialect: Dialect) -> str:
        return self.process_bind_param(value, dialect) or ""

    def process_result_value(self, value: str | None, dialect: Dialect) -> str | None:
        if value is None or value == "":
            return value
        return cipher_for(dialect).decrypt(value, self.column)

    @property
    def python_type(self) -> type[str]:
        return str


class EncryptedJSON(Encrypted):
    """A JSON value stored encrypted like ``Encrypted`` text (what a person typed in the
    middle of an SMS dialogue: an address, a door code). An empty value (``{}``, ``[]``
    or None) is stored as "" and read back as ``{}``: nothing to hide, nothing on disk."""

    cache_ok = True

    def process_bind_param(self, value: Any, dialect: Dialect) -> str | None:  # type: ignore[override]
        if not value:
            return ""
        text = json.dumps(value, ensure_ascii=False, separators=(",", ":"), sort_keys=True)
        return cipher_for(dialect).encrypt(text, self.column)

    def process_result_value(self, value: str | None, dialect: Dialect) -> Any:  # type: ignore[override]
        if not value:
            return {}
        return json.loads(cipher_for(dialect).decrypt(value, self.column))

    @property
    def python_type(self) -> type[dict]:  # type: ignore[override]
        return dict
