"""People who text or fill forms: requesters and volunteers alike, keyed by phone number."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import String, false
from sqlalchemy.orm import Mapped, mapped_column

from mutualaid.models.base import Base, utcnow
from mutualaid.models.crypto import Encrypted


class Person(Base):
    """Someone the network talks to. The phone number is the most sensitive field we hold."""

    __tablename__ = "people"

    id: Mapped[int] = mapped_column(primary_key=True)
    # E.164 ("+17185550101"); never shown whole to viewers, never logged; encrypted at rest
    # (deterministically, so lookups and the unique constraint still work).
    phone: Mapped[str | None] = mapped_column(Encrypted("people.phone", 20), unique=True)
    name: Mapped[str | None] = mapped_column(String(80))
    language: Mapped[str] = mapped_column(String(8), default="en", server_default="en")
    opted_out: Mapped[bool] = mapped_column(default=False, server_default=false())
    opted_out_at: Mapped[dt.datetime | None]
    # How the consent last changed: "sms:STOP", "twilio:21610", "coordinator:<id>" …
    consent_source: Mapped[str | None] = mapped_column(String(40))
    blocked: Mapped[bool] = mapped_column(default=False, server_default=false())
    # Imported from a spreadsheet (services.imports): the file's name. Such a person has
    # not answered yet: ``awaiting_opt_in`` until their YES (services.optin), and nothing
    # is proposed to them or for them meanwhile.
    imported_from: Mapped[str | None] = mapped_column(String(120))
    awaiting_opt_in: Mapped[bool] = mapped_column(default=False, server_default=false())
    opted_in_at: Mapped[dt.datetime | None]
    # How they opted in, or were asked to: "import:volunteers.csv", "sms:YES", "phone:coordinator:3"
    opt_in_source: Mapped[str | None] = mapped_column(String(80))
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)

    def __repr__(self) -> str:  # never the phone number
        return f"<Person {self.id}>"
