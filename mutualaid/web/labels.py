"""Words chosen by a value at run time: a request's state, a message's status, a refusal's
reason, an audit event's sentence. Each entry is (context, English message id), marked for
``pybabel extract`` by NP_ / NNP_ and translated where it is shown (i18n.label, i18n.counted).
"""

# ruff: noqa: E501 (message ids are kept whole, one a line)

from __future__ import annotations


def NP_(context: str, message: str) -> tuple[str, str]:
    return context, message


def NNP_(context: str, singular: str, plural: str) -> tuple[str, str, str]:
    return context, singular, plural


LABELS: dict[str, dict[str, tuple[str, str]]] = {
    "urgency": {
        "normal": NP_("urgency", "In the next few days"),
        "soon": NP_("urgency", "Within a day"),
        "urgent": NP_("urgency", "Today"),
    },
    "dash.state": {
        "open": NP_("dash.state", "open"),
        "matched": NP_("dash.state", "matched"),
        "completed": NP_("dash.state", "completed"),
        "cancelled": NP_("dash.state", "cancelled"),
        "proposed": NP_("dash.state", "proposed"),
        "accepted": NP_("dash.state", "accepted"),
        "declined": NP_("dash.state", "declined"),
        "expired": NP_("dash.state", "expired"),
        "withdrawn": NP_("dash.state", "withdrawn"),
    },
    "dash.urgency": {
        "normal": NP_("dash.urgency", "normal"),
        "soon": NP_("dash.urgency", "soon"),
        "urgent": NP_("dash.urgency", "urgent"),
    },
    "dash.channel": {
        "sms": NP_("dash.channel", "sms"),
        "web": NP_("dash.channel", "web"),
        "coordinator": NP_("dash.channel", "coordinator"),
        "voice": NP_("dash.channel", "phone call"),
        "whatsapp": NP_("dash.channel", "WhatsApp"),
    },
    "dash.direction": {
        "inbound": NP_("dash.direction", "inbound"),
        "outbound": NP_("dash.direction", "outbound"),
    },
    "dash.message_status": {
        "received": NP_("dash.message_status", "received"),
        "processed": NP_("dash.message_status", "processed"),
        "queued": NP_("dash.message_status", "queued"),
        "sending": NP_("dash.message_status", "sending"),
        "sent": NP_("dash.message_status", "sent"),
        "delivered": NP_("dash.message_status", "delivered"),
        "undelivered": NP_("dash.message_status", "undelivered"),
        "failed": NP_("dash.message_status", "failed"),
        "suppressed": NP_("dash.message_status", "suppressed"),
    },
    "dash.sort": {
        "newest": NP_("dash.sort", "newest"),
        "oldest": NP_("dash.sort", "oldest"),
        "urgency": NP_("dash.sort", "urgency"),
    },
    "dash.actor": {
        "coordinator": NP_("dash.actor", "coordinator"),
        "person": NP_("dash.actor", "person"),
        "visitor": NP_("dash.actor", "website visitor (unverified)"),
        "system": NP_("dash.actor", "system"),
    },
    "dash.volunteer_status": {
        "blocked": NP_("dash.volunteer_status", "blocked"),
        "paused": NP_("dash.volunteer_status", "paused"),
        "opted_out": NP_("dash.volunteer_status", "opted out"),
        "available": NP_("dash.volunteer_status", "available"),
    },
    "dash.role": {
        "admin": NP_("dash.role", "admin"),
        "coordinator": NP_("dash.role", "coordinator"),
        "viewer": NP_("dash.role", "viewer"),
    },
    "dash.precision": {
        "exact": NP_("dash.precision", "exact"),
        "address": NP_("dash.precision", "address"),
        "place": NP_("dash.precision", "place"),
        "postcode": NP_("dash.precision", "postcode"),
        "none": NP_("dash.precision", "none"),
    },
    "dash.privacy": {
        "hidden": NP_("dash.privacy", "(hidden)"),
        "needs_location": NP_("dash.privacy", "needs a location"),
        "located": NP_("dash.privacy", "located"),
    },
    "dash.unmatched": {
        "no_category": NP_("dash.unmatched", "no volunteer offers it"),
        "out_of_range": NP_("dash.unmatched", "nobody within reach"),
        "excluded_unvetted_or_full": NP_(
            "dash.unmatched", "those in reach are excluded, unvetted or full"
        ),
        "outprioritised": NP_("dash.unmatched", "taken by requests of equal or higher priority"),
        "unproven": NP_(
            "dash.unmatched", "a suitable volunteer could take it: this run was not proven optimal"
        ),
    },
    "dash.export.kind": {
        "requests": NP_("dash.export.kind", "Requests"),
        "volunteers": NP_("dash.export.kind", "Volunteers"),
        "matches": NP_("dash.export.kind", "Matches"),
    },
    "dash.import.action": {
        "create": NP_("dash.import.action", "create"),
        "update": NP_("dash.import.action", "update"),
        "unchanged": NP_("dash.import.action", "unchanged"),
        "skipped": NP_("dash.import.action", "skipped"),
        "refused": NP_("dash.import.action", "refused"),
    },
    "dash.import.reason": {
        "duplicate": NP_("dash.import.reason", "the same person is on line %(line)s"),
        "no_phone": NP_("dash.import.reason", "no phone number"),
        "bad_phone": NP_("dash.import.reason", "bad phone number (%(phone)s)"),
        "own_offer": NP_("dash.import.reason", "their own offer: it changes only by their texts"),
        "already_asked": NP_("dash.import.reason", "already asked for"),
        "no_category": NP_("dash.import.reason", "no category"),
        "unknown_category": NP_("dash.import.reason", "unknown category '%(what)s'"),
        "no_place": NP_("dash.import.reason", "no place"),
        "unresolvable_place": NP_("dash.import.reason", "unresolvable place '%(what)s'"),
        "unreadable_distance": NP_("dash.import.reason", "unreadable distance '%(what)s'"),
        "distance_range": NP_(
            "dash.import.reason", "distance '%(what)s' is not between 0 and %(max)s km"
        ),
        "capacity_range": NP_(
            "dash.import.reason", "tasks at once '%(what)s' is not between 1 and %(max)s"
        ),
    },
    "dash.error": {
        "erase_already": NP_("dash.error", "this person is already erased"),
        "erase_busy": NP_(
            "dash.error", "they have accepted request %(ref)s: reassign or complete it first"
        ),
        "empty_note": NP_("dash.error", "an empty note"),
        "note_too_long": NP_("dash.error", "a note is at most %(max)s characters"),
        "not_a_coordinator": NP_("dash.error", "only a coordinator's account can write a note"),
        "empty_message": NP_("dash.error", "an empty message"),
        "no_phone": NP_("dash.error", "no phone number"),
        "not_open": NP_("dash.error", "only an open request can be edited"),
        "unknown_category": NP_("dash.error", "unknown category"),
        "unknown_language": NP_("dash.error", "unknown language"),
        "place_not_found": NP_(
            "dash.error",
            'no place found for "%(place)s": try a neighbourhood from the list, a ZIP code or coordinates',
        ),
        "search_nothing": NP_("dash.error", "type some words or a phone number to search for"),
        "search_phone": NP_(
            "dash.error", "that is not a phone number in region %(region)s: include the area code"
        ),
        "assign_cannot": NP_(
            "dash.error",
            "That volunteer cannot take this request now (category, distance or load).",
        ),
        "assign_too_late": NP_(
            "dash.error", "Too late: the request changed meanwhile. Nothing was assigned."
        ),
        "complete_needs_accepted": NP_(
            "dash.error", "Only a request with an accepted volunteer can be completed."
        ),
        "merge_needs_ref": NP_(
            "dash.error", "Give the reference of another request to merge into."
        ),
        "request_changed": NP_("dash.error", "Too late: it changed."),
        "match_changed": NP_("dash.error", "Too late: it changed."),
        "not_cancellable": NP_("dash.error", "Too late: it changed."),
        "import_too_big": NP_("dash.error", "The file is too big (at most %(limit)s): split it."),
        "import_empty": NP_("dash.error", "The file is empty."),
        "import_kind": NP_("dash.error", "Unknown import %(kind)s: volunteers or requests."),
        "import_bad_map": NP_("dash.error", "A column mapping is wrong: %(problem)s."),
        "import_missing_columns": NP_(
            "dash.error",
            "No column for %(missing)s (the file has: %(found)s). Name the column below.",
        ),
        "not_an_email": NP_("dash.error", "that is not an email address"),
        "short_password": NP_("dash.error", "the password must have at least %(min)s characters"),
        "account_exists": NP_("dash.error", "an account for %(email)s already exists"),
        "wrong_password": NP_("dash.error", "the current password is wrong"),
        "no_account": NP_("dash.error", "there is no account for that email"),
    },
    "dash.skip_reason": {
        "request_gone": NP_("dash.skip_reason", "the request no longer exists"),
        "volunteer_gone": NP_("dash.skip_reason", "the volunteer no longer exists"),
        "request_state": NP_("dash.skip_reason", "the request is %(state)s now"),
        "request_busy": NP_(
            "dash.skip_reason", "the request already has a proposal or a volunteer"
        ),
        "blocked": NP_("dash.skip_reason", "the volunteer was blocked"),
        "opted_out": NP_("dash.skip_reason", "the volunteer opted out of texts"),
        "paused": NP_("dash.skip_reason", "the volunteer paused"),
        "refused": NP_("dash.skip_reason", "the volunteer declined this request or let it expire"),
        "category": NP_(
            "dash.skip_reason",
            "the request's category changed to one this volunteer does not offer",
        ),
        "vetting": NP_("dash.skip_reason", "the request's category now needs a vetted volunteer"),
        "location": NP_("dash.skip_reason", "a location was removed"),
        "reach": NP_("dash.skip_reason", "the volunteer is out of reach now (%(km)s km)"),
        "capacity": NP_("dash.skip_reason", "the volunteer has no free capacity now"),
        "raced": NP_("dash.skip_reason", "changed while it was being sent"),
    },
    "dash.event": {
        "request.created": NP_("dash.event", "%(who)s asked for help: %(subject)s"),
        "request.open": NP_("dash.event", "%(subject)s reopened by %(who)s"),
        "request.matched": NP_("dash.event", "%(subject)s matched"),
        "request.completed": NP_("dash.event", "%(who)s completed %(subject)s"),
        "request.cancelled": NP_("dash.event", "%(who)s cancelled %(subject)s"),
        "request.edited": NP_("dash.event", "%(who)s edited %(subject)s"),
        "request.located": NP_("dash.event", "%(who)s placed %(subject)s"),
        "request.flagged": NP_("dash.event", "%(who)s flagged %(subject)s"),
        "request.unflagged": NP_("dash.event", "%(who)s cleared the flag of %(subject)s"),
        "request.updated": NP_("dash.event", "%(who)s added to %(subject)s"),
        "request.merged": NP_("dash.event", "%(who)s merged %(subject)s into another"),
        "request.merged_from": NP_("dash.event", "%(who)s merged a duplicate into %(subject)s"),
        "request.noted": NP_("dash.event", "%(who)s wrote a note on %(subject)s"),
        "request.followup_answered": NP_(
            "dash.event", "%(who)s answered the follow-up of %(subject)s"
        ),
        "match.proposed": NP_("dash.event", "%(who)s proposed %(subject)s"),
        "match.accepted": NP_("dash.event", "%(who)s accepted %(subject)s"),
        "match.declined": NP_("dash.event", "%(who)s declined %(subject)s"),
        "match.expired": NP_("dash.event", "%(subject)s expired unanswered"),
        "match.withdrawn": NP_("dash.event", "%(who)s withdrew %(subject)s"),
        "match.completed": NP_("dash.event", "%(who)s marked %(subject)s done"),
        "match.cancelled": NP_("dash.event", "%(who)s released %(subject)s"),
        "offer.created": NP_("dash.event", "%(who)s offered to volunteer: %(subject)s"),
        "offer.updated": NP_("dash.event", "%(who)s updated %(subject)s"),
        "offer.paused": NP_("dash.event", "%(who)s paused %(subject)s"),
        "offer.resumed": NP_("dash.event", "%(who)s resumed %(subject)s"),
        "offer.vetted": NP_("dash.event", "%(who)s vetted %(subject)s"),
        "person.asked_for_human": NP_("dash.event", "%(subject)s asked for a person"),
        "person.opted_out": NP_("dash.event", "%(subject)s opted out"),
        "person.opted_in": NP_("dash.event", "%(subject)s opted back in"),
        "person.blocked": NP_("dash.event", "%(who)s blocked %(subject)s"),
        "person.erased": NP_("dash.event", "%(who)s erased %(subject)s"),
        "person.unreachable": NP_("dash.event", "%(subject)s cannot be reached by text"),
        "call.missed": NP_(
            "dash.event", "a call from %(subject)s ended before a request was taken"
        ),
        "call.voicemail": NP_("dash.event", "%(who)s left a voicemail: %(subject)s"),
        "thread.opened": NP_("dash.event", "%(who)s opened a conversation with %(subject)s"),
        "thread.replied": NP_("dash.event", "%(subject)s wrote to the coordinators"),
        "thread.handled": NP_(
            "dash.event", "%(who)s marked the conversation with %(subject)s handled"
        ),
        "contact.revealed": NP_(
            "dash.event", "%(who)s revealed the contact details of %(subject)s"
        ),
        "message.by_coordinator": NP_("dash.event", "%(who)s texted %(subject)s"),
        "message.retried": NP_("dash.event", "%(who)s retried %(subject)s"),
        "message.failed": NP_("dash.event", "%(subject)s failed"),
        "message.suppressed": NP_("dash.event", "%(subject)s was not sent (opted out or blocked)"),
    },
    "dash.flash.volunteer": {
        "vet": NP_("dash.flash.volunteer", "Volunteer V%(id)s vetted."),
        "pause": NP_("dash.flash.volunteer", "Volunteer V%(id)s paused."),
        "resume": NP_("dash.flash.volunteer", "Volunteer V%(id)s resumed."),
        "block": NP_("dash.flash.volunteer", "Volunteer V%(id)s blocked."),
    },
    "dash": {
        "any": NP_("dash", "any"),
        "yes": NP_("dash", "yes"),
        "no": NP_("dash", "no"),
    },
}

COUNTED: dict[str, dict[str, tuple[str, str, str]]] = {
    "dash.state_count": {
        "open": NNP_("dash.state_count", "open", "open"),
        "matched": NNP_("dash.state_count", "matched", "matched"),
        "completed": NNP_("dash.state_count", "completed", "completed"),
        "cancelled": NNP_("dash.state_count", "cancelled", "cancelled"),
    },
    "dash.import.count": {
        "create": NNP_("dash.import.count", "%(num)s to create", "%(num)s to create"),
        "update": NNP_("dash.import.count", "%(num)s to update", "%(num)s to update"),
        "unchanged": NNP_("dash.import.count", "%(num)s unchanged", "%(num)s unchanged"),
        "skipped": NNP_("dash.import.count", "%(num)s skipped", "%(num)s skipped"),
        "refused": NNP_("dash.import.count", "%(num)s refused", "%(num)s refused"),
    },
}


# Reasons the service itself writes (a flag, an audit detail) in English; a coordinator's
# own words are shown as typed. Sentences with a number are matched by REASON_PATTERNS.
REASONS: dict[str, tuple[str, str]] = {
    "needs location": NP_("reason", "needs a location"),
    "voicemail: call the requester back": NP_("reason", "voicemail: call the requester back"),
    "requester did not get what they needed": NP_(
        "reason", "the requester did not get what they needed"
    ),
    "opted out": NP_("reason", "opted out"),
    "no longer needed": NP_("reason", "no longer needed"),
    "request cancelled": NP_("reason", "the request was cancelled"),
    "assigned by a coordinator": NP_("reason", "assigned by a coordinator"),
    "erased": NP_("reason", "erased"),
    "coordinator": NP_("reason", "by a coordinator"),
    "flagged by a coordinator": NP_("reason", "flagged by a coordinator"),
}

REASON_PATTERNS: tuple[tuple[str, tuple[str, str, str]], ...] = (
    (r"declined or expired (\d+) times", NNP_("reason", "declined or expired %(num)s time", "declined or expired %(num)s times")),
    (r"open for more than (\d+) hours", NNP_("reason", "open for more than %(num)s hour", "open for more than %(num)s hours")),
    (r"(\d+) proposals expired in a row", NNP_("reason", "%(num)s proposal expired unanswered", "%(num)s proposals expired in a row")),
    (r"not sent after (\d+) attempts", NNP_("reason", "not sent after %(num)s attempt", "not sent after %(num)s attempts")),
)  # fmt: skip

# The names of audit details ("reason: …", "km: 2.2").
DETAILS: dict[str, tuple[str, str]] = {
    "reason": NP_("detail", "reason"),
    "source": NP_("detail", "source"),
    "kind": NP_("detail", "kind"),
    "precision": NP_("detail", "precision"),
    "verified": NP_("detail", "verified"),
    "messages": NP_("detail", "texts"),
    "notes": NP_("detail", "notes"),
    "role": NP_("detail", "role"),
    "channel": NP_("detail", "channel"),
    "category": NP_("detail", "category"),
    "categories": NP_("detail", "categories"),
    "was": NP_("detail", "was"),
    "address_given": NP_("detail", "address given"),
    "radius_km": NP_("detail", "radius (km)"),
    "capacity": NP_("detail", "tasks at once"),
    "kept": NP_("detail", "kept"),
    "proposed": NP_("detail", "proposed"),
    "skipped": NP_("detail", "skipped"),
    "into": NP_("detail", "into"),
    "duplicate": NP_("detail", "duplicate"),
    "by_words": NP_("detail", "by words"),
    "by_phone": NP_("detail", "by phone number"),
    "further_page": NP_("detail", "a further page"),
    "found": NP_("detail", "found"),
    "revealed": NP_("detail", "revealed"),
    "km": NP_("detail", "km"),
    "got_help": NP_("detail", "got help"),
    "via": NP_("detail", "via"),
    "urgency_raised": NP_("detail", "urgency raised"),
    "requests": NP_("detail", "requests"),
    "people": NP_("detail", "people"),
    "filename": NP_("detail", "file"),
    "taken_by_phone": NP_("detail", "taken by phone"),
    "recording": NP_("detail", "recording"),
    "category_chosen": NP_("detail", "category chosen"),
    "status": NP_("detail", "call status"),
    "error_code": NP_("detail", "error code"),
    "urgency": NP_("detail", "urgency"),
    "location": NP_("detail", "place"),
    "language": NP_("detail", "language"),
    "unmatched": NP_("detail", "unmatched"),
    "trigger": NP_("detail", "trigger"),
}

# What kind of text an SMS was, by its catalogue key (config/messages/<lang>.toml): the
# first matching prefix.
MESSAGE_KINDS: tuple[tuple[str, tuple[str, str]], ...] = (
    ("help", NP_("message kind", "help")),
    ("first_notice", NP_("message kind", "first notice")),
    ("privacy", NP_("message kind", "privacy")),
    ("unknown", NP_("message kind", "not understood")),
    ("rate_limited", NP_("message kind", "too many texts")),
    ("human_ack", NP_("message kind", "asked for a person")),
    ("stopped", NP_("message kind", "opted out")),
    ("started", NP_("message kind", "opted back in")),
    ("need_", NP_("message kind", "request")),
    ("location_", NP_("message kind", "request")),
    ("nothing_to_cancel", NP_("message kind", "request")),
    ("cancelled_requester", NP_("message kind", "cancelled")),
    ("cancelled_volunteer", NP_("message kind", "cancelled")),
    ("still_looking", NP_("message kind", "still looking")),
    ("status", NP_("message kind", "status")),
    ("request_state", NP_("message kind", "status")),
    ("offer_", NP_("message kind", "offer")),
    ("paused", NP_("message kind", "paused")),
    ("resumed", NP_("message kind", "resumed")),
    ("proposal", NP_("message kind", "proposal")),
    ("nothing_pending", NP_("message kind", "answer")),
    ("which_code", NP_("message kind", "answer")),
    ("choice_invalid", NP_("message kind", "answer")),
    ("declined_ack", NP_("message kind", "answer")),
    ("expired_volunteer", NP_("message kind", "expired")),
    ("accepted", NP_("message kind", "accepted")),
    ("relay", NP_("message kind", "relay")),
    ("confirm", NP_("message kind", "confirmation")),
    ("optin", NP_("message kind", "confirmation")),
    ("done_ack", NP_("message kind", "done")),
    ("followup", NP_("message kind", "follow-up")),
    ("coordinator", NP_("message kind", "from a coordinator")),
)
