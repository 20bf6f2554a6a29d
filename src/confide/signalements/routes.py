"""Pages of signalements: the form (new and edit) opened from the console, and the exports
for the unit (printable page and plain text). Server-rendered forms with the session's CSRF
token; every rule is in `actions`."""

from __future__ import annotations

from typing import Annotated
from urllib.parse import urlencode

from fastapi import APIRouter, Depends, Form, Request
from starlette.responses import PlainTextResponse, RedirectResponse, Response

from confide import i18n
from confide.errors import DomainError
from confide.i18n import N_
from confide.routing import postcodes
from confide.security.guards import allow, check_csrf, runtime_of
from confide.security.permissions import Permission
from confide.signalements import actions
from confide.signalements.errors import SignalementInvalid
from confide.signalements.schemas import (
    CONTACT_MAX,
    FACTS_MAX,
    UNIT_MAX,
    SignalementForm,
    SignalementView,
    UnitChoice,
    Urgency,
)
from confide.staff.schemas import StaffIdentity
from confide.web.errors import request_lang
from confide.web.templating import render

router = APIRouter(prefix="/staff")
Writer = Annotated[StaffIdentity, Depends(allow(Permission.SIGNALEMENT_WRITE))]
Csrf = Annotated[str, Form(max_length=100)]

URGENCY_LABELS = {
    Urgency.IMMEDIATE: N_("Immediate"),
    Urgency.WITHIN_24H: N_("Within 24 hours"),
    Urgency.NORMAL: N_("Normal"),
}
CHANNEL_LABELS = {
    "domestic": N_("Domestic violence"),
    "sexual": N_("Sexual violence"),
    "discrimination": N_("Discrimination, harassment, sexist outrage"),
}
VISITOR_ROLE_LABELS = {"victim": N_("Victim"), "witness": N_("Witness")}
ROLE_LABELS = {
    "officer": N_("Police officer"),
    "supervisor": N_("Supervisor"),
    "psychologist": N_("Psychologist"),
}


async def _form(
    referral_id: Annotated[str, Form(max_length=20)] = "",
    unit_name: Annotated[str, Form(max_length=UNIT_MAX + 100)] = "",
    urgency: Annotated[str, Form(max_length=20)] = "",
    agreed_contact: Annotated[str, Form(max_length=10)] = "",
    facts: Annotated[str, Form(max_length=FACTS_MAX + 1000)] = "",
    contact: Annotated[str, Form(max_length=CONTACT_MAX + 500)] = "",
) -> SignalementForm:
    return SignalementForm(
        referral_id=referral_id.strip(),
        unit_name=unit_name,
        urgency=urgency,
        agreed_contact=bool(agreed_contact),
        facts=facts,
        contact=contact,
    )


TypedForm = Annotated[SignalementForm, Depends(_form)]
Action = Annotated[str, Form(max_length=20)]


def _with_lang(url: str, lang: str, **params: str) -> str:
    return f"{url}?{urlencode({'lang': lang, **params})}"


def _departement_label(code: str) -> str:
    name = postcodes.departement_name(code)
    return f"{name} ({code})" if name else code


def _page(
    request: Request,
    staff: StaffIdentity,
    *,
    action_url: str,
    conversation_id: str,
    form: SignalementForm,
    units: list[UnitChoice],
    shared: bool,
    signalement: SignalementView | None = None,
    errors: dict[str, str] | None = None,
    notice: str | None = None,
    status: int = 200,
) -> Response:
    return render(
        request,
        "signalement_form.html",
        lang=request_lang(request),
        staff=staff,
        action_url=action_url,
        conversation_id=conversation_id,
        form=form,
        units=units,
        shared=shared,
        signalement=signalement,
        urgencies=[(u.value, URGENCY_LABELS[u]) for u in Urgency],
        errors=errors or {},
        notice=notice,
        saved=request.query_params.get("saved") == "1",
        facts_max=FACTS_MAX,
        contact_max=CONTACT_MAX,
        unit_max=UNIT_MAX,
        status_code=status,
    )


@router.get("/conversations/{conversation_id}/signalements/new")
async def new_page(request: Request, staff: Writer, conversation_id: str) -> Response:
    _, units, shared = await actions.form_context(
        runtime_of(request), staff=staff, conversation_id=conversation_id
    )
    return _page(
        request,
        staff,
        action_url=_with_lang(
            f"/staff/conversations/{conversation_id}/signalements/new", request_lang(request)
        ),
        conversation_id=conversation_id,
        form=SignalementForm(urgency=Urgency.NORMAL),
        units=units,
        shared=shared,
    )


async def _prefilled(
    request: Request, staff: StaffIdentity, conversation_id: str, form: SignalementForm
) -> tuple[SignalementForm, dict[str, str]]:
    """The form with the contact details the person shared (audited), or the error."""
    lang = request_lang(request)
    try:
        contact = await actions.contact_from_identity(
            runtime_of(request),
            staff=staff,
            conversation_id=conversation_id,
            translate=i18n.translations(lang).gettext,
        )
    except DomainError as error:
        if error.status == 404:
            raise
        return form, {"contact": error.message}
    return SignalementForm(**{**form.__dict__, "contact": contact}), {}


@router.post("/conversations/{conversation_id}/signalements/new")
async def create(
    request: Request,
    staff: Writer,
    conversation_id: str,
    form: TypedForm,
    csrf: Csrf = "",
    action: Action = "save",
) -> Response:
    check_csrf(staff, csrf)
    rt = runtime_of(request)
    lang = request_lang(request)
    errors: dict[str, str] = {}
    if action == "prefill":
        form, errors = await _prefilled(request, staff, conversation_id, form)
    else:
        try:
            saved = await actions.save_signalement(
                rt, staff=staff, form=form, conversation_id=conversation_id
            )
        except SignalementInvalid as error:
            errors = error.fields
        else:
            return RedirectResponse(
                _with_lang(f"/staff/signalements/{saved.id}/edit", lang, saved="1"),
                status_code=303,
            )
    _, units, shared = await actions.form_context(rt, staff=staff, conversation_id=conversation_id)
    return _page(
        request,
        staff,
        action_url=_with_lang(f"/staff/conversations/{conversation_id}/signalements/new", lang),
        conversation_id=conversation_id,
        form=form,
        units=units,
        shared=shared,
        errors=errors,
        status=422 if errors else 200,
    )


@router.get("/signalements/{signalement_id}/edit")
async def edit_page(request: Request, staff: Writer, signalement_id: int) -> Response:
    rt = runtime_of(request)
    view = await actions.open_for_edit(rt, staff=staff, signalement_id=signalement_id)
    units = await actions.units_for(rt, staff=staff, signalement_id=signalement_id)
    return _page(
        request,
        staff,
        action_url=_with_lang(f"/staff/signalements/{signalement_id}/edit", request_lang(request)),
        conversation_id=view.conversation_id,
        form=view.form(),
        units=units,
        shared=False,
        signalement=view,
    )


@router.post("/signalements/{signalement_id}/edit")
async def update(
    request: Request, staff: Writer, signalement_id: int, form: TypedForm, csrf: Csrf = ""
) -> Response:
    check_csrf(staff, csrf)
    rt = runtime_of(request)
    lang = request_lang(request)
    try:
        await actions.save_signalement(rt, staff=staff, form=form, signalement_id=signalement_id)
    except SignalementInvalid as error:
        units = await actions.units_for(rt, staff=staff, signalement_id=signalement_id)
        view = await actions.open_for_edit(rt, staff=staff, signalement_id=signalement_id)
        return _page(
            request,
            staff,
            action_url=_with_lang(f"/staff/signalements/{signalement_id}/edit", lang),
            conversation_id=view.conversation_id,
            form=form,
            units=units,
            shared=False,
            signalement=view,
            errors=error.fields,
            status=422,
        )
    return RedirectResponse(
        _with_lang(f"/staff/signalements/{signalement_id}/edit", lang, saved="1"), status_code=303
    )


def _labels(view: SignalementView) -> dict[str, str]:
    """The coded values of a signalement as English message ids, translated by the caller."""
    return {
        "urgency": URGENCY_LABELS.get(Urgency(view.urgency), view.urgency)
        if view.urgency in set(Urgency)
        else view.urgency,
        "channel": CHANNEL_LABELS.get(view.channel, view.channel),
        "visitor_role": VISITOR_ROLE_LABELS.get(view.visitor_role, view.visitor_role),
        "author_role": ROLE_LABELS.get(view.author_role, view.author_role),
        "consent": N_("Yes, the person agreed to be contacted")
        if view.agreed_contact
        else N_("No, the person did not agree to be contacted"),
    }


@router.get("/signalements/{signalement_id}")
async def printable(request: Request, staff: Writer, signalement_id: int) -> Response:
    view = await actions.export_signalement(
        runtime_of(request), staff=staff, signalement_id=signalement_id, format="html"
    )
    lang = request_lang(request)
    return render(
        request,
        "signalement_export.html",
        lang=lang,
        staff=staff,
        s=view,
        labels=_labels(view),
        departements=[_departement_label(d) for d in view.departements],
        text_url=_with_lang(f"/staff/signalements/{signalement_id}/export.txt", lang),
        edit_url=_with_lang(f"/staff/signalements/{signalement_id}/edit", lang),
    )


#: Lines of the plain-text export, in order (English message ids).
TEXT_TITLE = N_("Signalement to a competent unit")
TEXT_FIELDS = (
    ("reference", N_("Reference")),
    ("date", N_("Date (UTC)")),
    ("unit", N_("Unit")),
    ("urgency", N_("Urgency")),
    ("channel", N_("Chat")),
    ("visitor_role", N_("The person is")),
    ("departement", N_("Département")),
    ("postcode", N_("Postal code")),
    ("consent", N_("Contact")),
    ("author", N_("Written by")),
    ("conversation", N_("Conversation (for the procedure)")),
)
TEXT_FACTS = N_("Facts")
TEXT_CONTACT = N_("Contact details given by the person")


def export_text(view: SignalementView, lang: str) -> str:
    """The plain-text export, for the unit's own channels."""
    t = i18n.translations(lang).gettext
    labels = {k: t(v) for k, v in _labels(view).items()}
    values = {
        "reference": view.reference,
        "date": view.created_at.strftime("%Y-%m-%d %H:%M"),
        "unit": view.unit_name,
        "urgency": labels["urgency"],
        "channel": labels["channel"],
        "visitor_role": labels["visitor_role"],
        "departement": ", ".join(_departement_label(d) for d in view.departements) or "—",
        "postcode": view.postcode,
        "consent": labels["consent"],
        "author": f"{view.author_name} ({labels['author_role']})",
        "conversation": view.conversation_id,
    }
    title = t(TEXT_TITLE)
    lines = [title, "=" * len(title), ""]
    lines += [f"{t(label)}: {values[key]}" for key, label in TEXT_FIELDS]
    lines += ["", t(TEXT_FACTS), "-" * len(t(TEXT_FACTS)), view.facts, ""]
    if view.agreed_contact and view.contact:
        lines += [t(TEXT_CONTACT), "-" * len(t(TEXT_CONTACT)), view.contact, ""]
    return "\n".join(lines)


@router.get("/signalements/{signalement_id}/export.txt")
async def plain_text(request: Request, staff: Writer, signalement_id: int) -> Response:
    view = await actions.export_signalement(
        runtime_of(request), staff=staff, signalement_id=signalement_id, format="text"
    )
    return PlainTextResponse(
        export_text(view, request_lang(request)),
        headers={
            "Content-Disposition": f'inline; filename="{view.reference}.txt"',
            "Cache-Control": "no-store",
        },
    )
