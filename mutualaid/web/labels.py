"""Words chosen by a value at run time: a request's state, a message's status, a refusal's
reason, an audit event's sentence. Each entry is (context, English message id), marked for
``pybabel extract`` by NP_ / NNP_ and translated where it is shown (i18n.label, i18n.counted).
"""

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
            'no place found for "%(place)s": try a neighbourhood from the list, a ZIP code or coordinates',  # noqa: E501 (one message id)
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
