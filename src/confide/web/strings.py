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
    "staff.capacity": N_("{active} of {capacity} chats"),
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
    # --- case work: notes, flags, closing qualification, transcript (console-casework.js) ---
    # --- hand-offs and supervision (console-handoff.js) ---
    # --- signalements (console-reports.js) ---
}


def client_strings(lang: str) -> dict[str, str]:
    translations = i18n.translations(lang)
    return {key: translations.gettext(message) for key, message in CLIENT_STRINGS.items()}
