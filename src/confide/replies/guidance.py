"""Complaint-guidance cards: a fixed, versioned set of plain-language cards per chat type.

The texts are written here (English message ids, translated like the rest of the interface)
and reviewed for plain language: short sentences, and any legal word explained where it is
used. A card is sent into a conversation rendered in the **visitor's** language, as a JSON
document (`render`), shown by `static/guidance.js`. Change `GUIDANCE_VERSION` whenever a
text changes, so that a stored card says which wording it carries.

Sources (French law and practice): code de procédure pénale art. 10-2, 15-3 (a complaint
must be taken by any police station or gendarmerie), 40 (writing to the procureur); code
civil art. 515-9 to 515-13 (ordonnance de protection); code pénal art. 225-1 (discrimination),
222-33 (sexual harassment), 222-33-1-1 and R. 625-8-3 (outrage sexiste); the Défenseur des
droits' line 39 28; the national lines 17, 112, 114, 115, 3919, 116 006, 3018.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from confide import i18n
from confide.conversations.schemas import Channel
from confide.i18n import N_

GUIDANCE_VERSION = "2026-11-1"

_ALL = frozenset(Channel)


@dataclass(frozen=True)
class Section:
    heading: str
    items: tuple[str, ...]


@dataclass(frozen=True)
class Phone:
    label: str
    number: str
    #: A text-message line (114): the card offers to write a text rather than to call.
    sms: bool = False


@dataclass(frozen=True)
class GuidanceCard:
    id: str
    channels: frozenset[str]
    title: str
    sections: tuple[Section, ...]
    phones: tuple[Phone, ...] = ()


POLICE = Phone(N_("Police or gendarmerie, emergency"), "17")
EUROPEAN = Phone(N_("European emergency number"), "112")
SMS_114 = Phone(N_("Emergency by text message, if you cannot speak"), "114", sms=True)
VICTIMS = Phone(N_("France Victimes, help for victims (free, every day)"), "116 006")
WOMEN = Phone(N_("Violences Femmes Info (free, anonymous, 24/7)"), "3919")
RAPE_LINE = Phone(N_("Viols Femmes Informations (free, anonymous)"), "0 800 05 95 95")
SHELTER = Phone(N_("Emergency shelter"), "115")
RIGHTS = Phone(N_("Défenseur des droits, discrimination (free)"), "39 28")
ONLINE = Phone(N_("Online harassment (free, anonymous)"), "3018")

CARDS: tuple[GuidanceCard, ...] = (
    GuidanceCard(
        id="complaint",
        channels=_ALL,
        title=N_("Filing a complaint"),
        sections=(
            Section(
                N_("Where"),
                (
                    N_(
                        "In any police station (commissariat) or gendarmerie, wherever you live. They must take your complaint: it is the law (article 15-3 of the code of criminal procedure)."
                    ),
                    N_(
                        "Or by letter to the public prosecutor (procureur de la République) at the court (tribunal judiciaire) of the place where it happened or where you live. Say what happened, when, where, and who did it if you know."
                    ),
                    N_(
                        "For some offences, such as a theft by someone you do not know, you can start online (pre-plainte-en-ligne.gouv.fr) and then sign at the station."
                    ),
                ),
            ),
            Section(
                N_("How it goes"),
                (
                    N_(
                        "You tell what happened. An officer writes it down in a report (procès-verbal). Read it before you sign: you can ask for changes."
                    ),
                    N_(
                        "You get a receipt on the spot. You can also ask for a copy of your complaint: it is your right."
                    ),
                    N_(
                        "You can file a complaint even if you do not know the name of the person, or if a long time has passed. The time limits are long: 6 years for most offences, 20 years for rape."
                    ),
                    N_(
                        "A note in the register (main courante) is not a complaint: it does not start an investigation."
                    ),
                ),
            ),
        ),
        phones=(POLICE, SMS_114),
    ),
    GuidanceCard(
        id="bring",
        channels=_ALL,
        title=N_("What to bring"),
        sections=(
            Section(
                N_("If you have them"),
                (
                    N_("An identity document."),
                    N_(
                        "Medical certificates. If a doctor set a number of days of ITT (total incapacity for work), bring it: it measures how serious the harm is, even if you do not work."
                    ),
                    N_("Photos of injuries or of damage, with their dates."),
                    N_(
                        "Messages, e-mails, voicemails, posts: keep them on your phone and take screenshots."
                    ),
                    N_("The names and contact details of witnesses."),
                    N_("Any earlier complaint or note in the register (main courante)."),
                ),
            ),
            Section(
                N_("Good to know"),
                (
                    N_(
                        "None of this is required: you can file a complaint with nothing in hand. The investigators will look for evidence."
                    ),
                    N_("Write down dates and facts as soon as you can, while you remember them."),
                ),
            ),
        ),
    ),
    GuidanceCard(
        id="rights",
        channels=_ALL,
        title=N_("Your rights"),
        sections=(
            Section(
                N_("You are not alone"),
                (
                    N_(
                        "You can be accompanied, at every step, by a person of your choice, by a lawyer, or by a victim support association."
                    ),
                    N_(
                        "If you do not understand French well, you have the right to a free interpreter."
                    ),
                    N_(
                        "Legal aid (aide juridictionnelle): depending on your income, the State pays all or part of your lawyer's fees."
                    ),
                ),
            ),
            Section(
                N_("During the case"),
                (
                    N_(
                        "You can become a civil party (partie civile): you then take part in the case, see the file through your lawyer, and can ask for compensation."
                    ),
                    N_(
                        "You are told what happens to your complaint. If the prosecutor closes it, you are told why, and you can challenge that decision."
                    ),
                    N_(
                        "If you are afraid the other person will find your address, tell the officer: in some cases you can give another address, for example your lawyer's."
                    ),
                ),
            ),
        ),
        phones=(VICTIMS,),
    ),
    GuidanceCard(
        id="protection",
        channels=frozenset({Channel.DOMESTIC, Channel.SEXUAL}),
        title=N_("Protecting yourself"),
        sections=(
            Section(
                N_("Protection order (ordonnance de protection)"),
                (
                    N_(
                        "A family judge (juge aux affaires familiales) can order it quickly, within about 6 days, when a partner or former partner is violent. You do not need to have filed a complaint."
                    ),
                    N_(
                        "It can forbid the other person to contact you or come near you, make them leave your home, hide your address, and settle the children's arrangements."
                    ),
                    N_(
                        "You ask for it at the court with a form, with or without a lawyer. An association can help you fill it in."
                    ),
                ),
            ),
            Section(
                N_("Other protections"),
                (
                    N_(
                        "Serious danger phone (téléphone grave danger): a phone with an alarm button that reaches help at once. The prosecutor decides to give it."
                    ),
                    N_(
                        "Anti-approach bracelet (bracelet anti-rapprochement): worn by the violent person, it raises an alarm if they come near you. A judge decides."
                    ),
                    N_(
                        "In an emergency, call 17 or 112. If you cannot speak, send a text message to 114."
                    ),
                ),
            ),
        ),
        phones=(POLICE, SMS_114, WOMEN, SHELTER),
    ),
    GuidanceCard(
        id="evidence_care",
        channels=frozenset({Channel.SEXUAL}),
        title=N_("Evidence and care"),
        sections=(
            Section(
                N_("Care first"),
                (
                    N_(
                        "Go to the emergency department of a hospital as soon as you can. Treatment against HIV and emergency contraception work best when started early: ideally within 48 hours."
                    ),
                    N_(
                        "A forensic medical unit (unité médico-judiciaire) can examine you, treat you and record your injuries for the case."
                    ),
                ),
            ),
            Section(
                N_("Keeping evidence"),
                (
                    N_(
                        "In some hospitals, evidence can be collected and kept even if you have not decided to file a complaint yet. Ask us where."
                    ),
                    N_(
                        "If you can, before the examination, do not wash and keep the clothes you wore in a paper bag. If you already have, it is not your fault: come all the same."
                    ),
                    N_("Keep messages and photos. Write down what you remember, when you can."),
                ),
            ),
        ),
        phones=(POLICE, SMS_114, RAPE_LINE),
    ),
    GuidanceCard(
        id="discrimination",
        channels=frozenset({Channel.DISCRIMINATION}),
        title=N_("Discrimination and harassment"),
        sections=(
            Section(
                N_("What the law says"),
                (
                    N_(
                        "Treating someone worse because of their origin, sex, religion, disability, sexual orientation or another protected reason is an offence (discrimination)."
                    ),
                    N_(
                        "Sexual harassment is an offence, at work, in the street or online: repeated comments or behaviour of a sexual nature, or one serious act of pressure."
                    ),
                    N_(
                        "A sexist remark or behaviour in public (outrage sexiste) is punished with a fine, up to 3,750 euros in serious cases such as on public transport."
                    ),
                ),
            ),
            Section(
                N_("What you can do"),
                (
                    N_(
                        "Keep evidence: messages, e-mails, screenshots, names of witnesses. Write down dates and places."
                    ),
                    N_(
                        "You can file a complaint, and also contact the Défenseur des droits (39 28), a free and independent public body that can look into your case."
                    ),
                    N_("For harassment online, call 3018."),
                ),
            ),
        ),
        phones=(RIGHTS, ONLINE, POLICE),
    ),
)

_BY_ID = {card.id: card for card in CARDS}


def cards_for(channel: str) -> list[GuidanceCard]:
    """The cards an officer may send in a chat of this type, in a fixed order."""
    return [card for card in CARDS if channel in card.channels]


def card_for(card_id: str, channel: str) -> GuidanceCard | None:
    """The card `card_id` if it belongs to this chat type."""
    card = _BY_ID.get(card_id)
    return card if card is not None and channel in card.channels else None


def render(card: GuidanceCard, lang: str) -> dict[str, Any]:
    """The card translated into `lang`: the JSON document a guidance message carries."""
    translate = i18n.translations(lang).gettext
    return {
        "id": card.id,
        "version": GUIDANCE_VERSION,
        "lang": lang,
        "title": translate(card.title),
        "sections": [
            {"heading": translate(s.heading), "items": [translate(item) for item in s.items]}
            for s in card.sections
        ],
        "phones": [
            {"label": translate(p.label), "number": p.number, "sms": p.sms} for p in card.phones
        ],
    }
