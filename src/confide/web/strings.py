"""Texts the browser scripts need, translated on the server (no strings in the JavaScript)."""

from __future__ import annotations

from confide import i18n
from confide.i18n import N_

CLIENT_STRINGS: dict[str, str] = {
    "state.connected": N_("Connected"),
    "state.connecting": N_("Connecting…"),
    "state.reconnecting": N_("Connection lost, reconnecting…"),
    "state.offline": N_("You are offline. Your messages will be sent when the connection is back."),
    "queue.position": N_("You are number {position} in the queue."),
    "queue.first": N_("You are next in the queue."),
    "queue.eta": N_("Estimated wait: about {minutes} min."),
    "queue.eta_unknown": N_("We cannot estimate the wait yet."),
    "delivery.sending": N_("Sending…"),
    "delivery.sent": N_("Sent"),
    "delivery.failed": N_("Not sent"),
    "delivery.read": N_("Seen"),
    "author.visitor": N_("You"),
    "author.person": N_("The person"),
    "author.officer": N_("Police officer"),
    "author.psychologist": N_("Psychologist"),
    "author.supervisor": N_("Supervisor"),
    "author.system": N_("Information"),
    "author.prosecutor": N_("Prosecutor"),
    "author.admin": N_("Administrator"),
    "system.assigned": N_("A police officer has joined the conversation."),
    "system.closed": N_("The conversation has been closed."),
    "system.visitor_left": N_("The person has left the chat (quick exit)."),
    "system.visitor_erased": N_("The person has erased the conversation and left."),
    "typing.staff": N_("The police officer is writing…"),
    "typing.psychologist": N_("The psychologist is writing…"),
    "typing.supervisor": N_("The supervisor is writing…"),
    "typing.visitor": N_("The person is writing…"),
    "assigned": N_("You are now talking with a {role}."),
    "error.postcode": N_(
        "Please enter a postal code of 5 digits, for example 75011. An approximate code is fine."
    ),
    "error.generic": N_("Something went wrong. Please try again."),
    "error.network": N_("The server cannot be reached. Check your connection and try again."),
    "error.token_invalid": N_(
        "This conversation cannot be found. It may have been erased or closed."
    ),
    "chars_left": N_("{count} characters left"),
    "staff.queue_empty": N_("Nobody is waiting."),
    "staff.take": N_("Take"),
    "staff.close": N_("Close the conversation"),
    "staff.close_confirm": N_("Close this conversation? The person will be told."),
    "staff.waiting_since": N_("waiting for {minutes} min"),
    "staff.no_chat": N_("Take a conversation from the queue to start."),
    "channel.domestic": N_("Domestic violence"),
    "channel.sexual": N_("Sexual violence"),
    "channel.discrimination": N_("Discrimination, harassment, sexist outrage"),
    "role.victim": N_("victim"),
    "role.witness": N_("witness"),
    "dept.unknown": N_("national"),
    # Routing (issue 4): system messages, availability, transfers, supervisor alerts.
    "system.assigned_psychologist": N_("A psychologist has joined the conversation."),
    "system.assigned_supervisor": N_("A supervisor has joined the conversation."),
    "system.requeued": N_(
        "The person you were talking with had to leave. You are back at the head of the queue: someone else will answer you shortly."
    ),
    "system.transferred_officer": N_("You are now talking with another police officer."),
    "system.transferred_psychologist": N_("You are now talking with a psychologist."),
    "system.transferred_team": N_(
        "Your conversation is being passed to another team. Please wait a moment."
    ),
    "system.transferred_to_psychologists": N_(
        "Your conversation is being passed to a psychologist. Please wait a moment."
    ),
    "availability.available": N_("Available"),
    "availability.busy": N_("Busy"),
    "availability.away": N_("Away"),
    "availability.offline": N_("Offline"),
    "staff.capacity": N_("Chats: {active}/{capacity}"),
    "staff.take_next": N_("Take the next"),
    "staff.nothing_to_take": N_("Nobody you can answer is waiting."),
    "staff.transfer": N_("Transfer"),
    "staff.transfer_to_staff": N_("To a colleague"),
    "staff.transfer_to_team": N_("To a team"),
    "staff.transfer_to_psychologists": N_("To the psychologists"),
    "staff.transfer_note": N_("Note for the next person (the visitor does not see it)"),
    "staff.cancel": N_("Cancel"),
    "staff.released_transferred": N_("You transferred this conversation."),
    "staff.released_requeued": N_("This conversation went back to the queue."),
    "staff.transfer_note_from": N_("Note from a colleague: {note}"),
    "staff.alert": N_("Nobody has answered for {minutes} min: {what}."),
    "staff.alert_badge": N_("unanswered"),
    # Console comfort: notifications, unread counts, shortcuts.
    "staff.notify_assigned": N_("A conversation has been assigned to you"),
    "staff.notify_message": N_("New message"),
    "staff.notify_denied": N_(
        "Desktop notifications are blocked by the browser. Allow them in the site settings."
    ),
    "staff.unread": N_("{count} unread"),
    "staff.tab_shortcut": N_("Alt+{n}"),
    # Voluntary identity (issue 6).
    "identity.saved": N_(
        "Sent. Only the officer in charge of this conversation can read it. You can withdraw it."
    ),
    "identity.withdrawn": N_("Withdrawn. The officer can no longer read it."),
    "identity.empty": N_("Fill in at least one field, or simply close this section."),
    "staff.identity_shared": N_("The person shared who they are."),
    "staff.identity_show": N_("Show (recorded in the audit log)"),
    "staff.identity_withdrawn": N_("The person withdrew what they had shared."),
    "staff.identity_name": N_("Name"),
    "staff.identity_phone": N_("Phone"),
    "staff.identity_email": N_("Email"),
    "staff.identity_address": N_("Address"),
    "referral.open": N_("Resources"),
    "referral.send": N_("Send"),
    "referral.none": N_("No resource in the directory for this conversation."),
    "referral.audience": N_("For"),
    "referral.audience.all": N_("Everyone"),
    "referral.audience.women": N_("Women"),
    "referral.audience.minors": N_("Minors"),
    "referral.call": N_("Call"),
    "referral.mail": N_("Write to"),
    "referral.hours": N_("Hours:"),
    "referral.type.association_aide_victimes": N_("Victim support association"),
    "referral.type.cidff": N_("CIDFF (women's and families' rights)"),
    "referral.type.accueil_de_jour": N_("Day centre"),
    "referral.type.hebergement_urgence": N_("Emergency shelter"),
    "referral.type.psychologue": N_("Psychologist"),
    "referral.type.intervenant_social": N_("Social worker"),
    "referral.type.unite_police_gendarmerie": N_("Police or gendarmerie unit"),
    "referral.type.ligne_nationale": N_("National helpline"),
    # --- canned replies and guidance cards (console-replies.js, cards.js) ---
    "replies.open": N_("Replies"),
    "replies.title": N_("Canned replies"),
    "replies.filter": N_("Filter the replies"),
    "replies.none": N_("No canned reply for this chat and language."),
    "replies.no_match": N_("No reply matches."),
    "replies.close": N_("Close"),
    "replies.hint": N_(
        "Shortcuts: type / at the start of the message or press Alt+R to choose a reply; arrows to move, Enter to insert, Esc to close. The text is inserted, not sent."
    ),
    "guidance.open": N_("Guidance"),
    "guidance.title": N_("Guidance cards"),
    "guidance.send": N_("Send this card"),
    "guidance.none": N_("No guidance card for this chat."),
    "guidance.call": N_("Call"),
    "guidance.sms": N_("Send a text message to"),
    "guidance.label": N_("Guidance card"),
    # --- case work: notes, flags, closing qualification, transcript (console-casework.js) ---
    "flag.danger": N_("Immediate danger"),
    "flag.minor": N_("Suspected minor"),
    "casework.flags": N_("Flags"),
    "casework.flag_alert": N_("{flag} reported by a {role}: {what}"),
    "casework.open": N_("Open"),
    "casework.dismiss": N_("Dismiss"),
    "casework.notes": N_("Internal notes"),
    "casework.notes_hint": N_("Only staff see these notes, never the person."),
    "casework.notes_none": N_("No note yet."),
    "casework.note_label": N_("New note"),
    "casework.note_add": N_("Add the note"),
    "casework.note_too_long": N_("The note is too long (2,000 characters at most)."),
    "casework.transcript": N_("Transcript"),
    "casework.close": N_("Close…"),
    "casework.close_title": N_("Close the conversation"),
    "casework.close_intro": N_(
        "Qualify the conversation before closing it. The person will be told it is closed."
    ),
    "casework.close_channel": N_("Confirmed chat type"),
    "casework.close_offence": N_("Offence suspected"),
    "casework.close_outcomes": N_("What was done (at least one)"),
    "casework.close_prefilled": N_("Ticked from the conversation's history: please check."),
    "casework.close_submit": N_("Close the conversation"),
    "casework.missing_all": N_(
        "Please complete the closing form: confirm the chat type, say whether an offence is suspected and tick at least one outcome."
    ),
    "casework.missing_channel": N_("Please confirm the chat type before closing."),
    "casework.missing_offence": N_("Please say whether an offence is suspected before closing."),
    "casework.missing_outcomes": N_("Please tick at least one outcome before closing."),
    "offence.yes": N_("Yes"),
    "offence.no": N_("No"),
    "offence.unknown": N_("Cannot say"),
    "outcome.information": N_("Information given"),
    "outcome.referral": N_("Referred to a resource"),
    "outcome.guidance": N_("Complaint guidance given"),
    "outcome.signalement": N_("Signalement to a competent unit"),
    "outcome.emergency": N_("Emergency services alerted"),
    "outcome.handoff": N_("Handed over to a psychologist"),
    "casework.status.waiting": N_("waiting"),
    "casework.status.active": N_("in progress"),
    "casework.status.closed": N_("closed by staff"),
    "casework.status.abandoned": N_("left by the person before an answer"),
    "casework.status.erased": N_("erased by the person"),
    # --- hand-offs and supervision (console-handoff.js) ---
    "handoff.request": N_("Hand off to a psychologist"),
    "handoff.dialog_title": N_("Hand off to a psychologist"),
    "handoff.note": N_("Note for the psychologist (the person does not see it)"),
    "handoff.stay": N_("Stay in the conversation as a silent observer"),
    "handoff.send": N_("Ask for a psychologist"),
    "handoff.pending": N_("Waiting for a psychologist to accept…"),
    "handoff.cancel": N_("Cancel the request"),
    "handoff.cancelled": N_("Hand-off request cancelled."),
    "handoff.accepted_observer": N_(
        "A psychologist has taken over. You are following as a silent observer."
    ),
    "handoff.accepted_left": N_("A psychologist has taken over this conversation."),
    "handoff.requests": N_("Hand-off requests"),
    "handoff.none": N_("No hand-off request."),
    "handoff.requested_since": N_("asked {minutes} min ago"),
    "handoff.note_from": N_("Officer's note: {note}"),
    "handoff.no_note": N_("No note."),
    "handoff.read": N_("Read the history"),
    "handoff.accept": N_("Accept"),
    "handoff.reading": N_(
        "You are reading the history of a hand-off request. Accept it to answer the person."
    ),
    "handoff.close_history": N_("Close"),
    "handoff.released_reader": N_(
        "This hand-off request is no longer open: it was accepted or cancelled."
    ),
    "observer.notice": N_("You are following this conversation as a silent observer."),
    "observer.leave": N_("Leave"),
    "observer.left": N_("You left this conversation."),
    "supervision.title": N_("Live conversations"),
    "supervision.none": N_("No live conversation in your teams."),
    "supervision.in_charge": N_("{name} ({role}) for {minutes} min"),
    "supervision.unassigned": N_("Nobody in charge"),
    "supervision.read": N_("Read"),
    "supervision.join": N_("Join"),
    "supervision.reassign": N_("Reassign"),
    "supervision.reassign_to": N_("Reassign to"),
    "supervision.reassign_note": N_("Note for the next officer (the person does not see it)"),
    "supervision.reassigned": N_("Conversation reassigned."),
    "supervision.no_target": N_("No other officer to reassign to."),
    "supervision.member_notice": N_(
        "You joined this conversation: you write alongside the officer in charge."
    ),
    "supervision.released_reassigned": N_(
        "A supervisor reassigned this conversation to a colleague."
    ),
    # --- signalements (console-reports.js) ---
    "signalement.open": N_("Signalement"),
    "signalement.list": N_("Signalements"),
    "signalement.urgency.immediate": N_("Immediate"),
    "signalement.urgency.within_24h": N_("Within 24 hours"),
    "signalement.urgency.normal": N_("Normal"),
}


def client_strings(lang: str) -> dict[str, str]:
    translations = i18n.translations(lang)
    return {key: translations.gettext(message) for key, message in CLIENT_STRINGS.items()}
