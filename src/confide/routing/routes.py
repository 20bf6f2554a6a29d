"""Admin and supervisor pages: teams (kind, chats, départements, mode), members and their
capacity, and weekly shift schedules. Server-rendered forms with the session's CSRF token."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Form, Request
from starlette.responses import RedirectResponse, Response

from confide.conversations.schemas import Channel
from confide.errors import DomainError
from confide.routing import actions, queries
from confide.routing.errors import StaffNotFound, TeamNotFound
from confide.routing.schemas import TeamKind, TeamMode
from confide.security.guards import allow, check_csrf, runtime_of
from confide.security.permissions import Permission
from confide.staff.schemas import StaffIdentity
from confide.web.errors import request_lang
from confide.web.templating import render

router = APIRouter(prefix="/staff")
Admin = Annotated[StaffIdentity, Depends(allow(Permission.TEAMS_MANAGE))]
Scheduler = Annotated[StaffIdentity, Depends(allow(Permission.SCHEDULE_EDIT))]
Csrf = Annotated[str, Form(max_length=100)]


async def _team_form(
    name: Annotated[str, Form(max_length=200)] = "",
    kind: Annotated[str, Form(max_length=40)] = "",
    mode: Annotated[str, Form(max_length=10)] = "auto",
    channels: Annotated[list[str] | None, Form()] = None,
    departements: Annotated[str, Form(max_length=2000)] = "",
) -> actions.TeamSpec | DomainError:
    """The team form (create and edit), checked: the spec, or the first mistake to show."""
    try:
        return actions.check_team(
            name=name,
            kind=kind,
            channels=" ".join(channels or []),
            departements=departements,
            mode=mode,
        )
    except DomainError as error:
        return error


TeamForm = Annotated[actions.TeamSpec | DomainError, Depends(_team_form)]
WEEKDAYS = range(7)


def _back(url: str) -> Response:
    return RedirectResponse(url, status_code=303)


async def _teams_page(
    request: Request, staff: StaffIdentity, *, error: str | None = None, status: int = 200
) -> Response:
    rt = runtime_of(request)
    async with rt.reading() as session:
        teams = await queries.load_teams(session)
        members = {
            team_id: await queries.team_members(
                session, team_id, rt.settings.routing_default_capacity
            )
            for team_id in teams
        }
    return render(
        request,
        "admin_teams.html",
        lang=request_lang(request),
        staff=staff,
        teams=list(teams.values()),
        members=members,
        kinds=list(TeamKind),
        modes=list(TeamMode),
        channels=list(Channel),
        error=error,
        status_code=status,
    )


@router.get("/teams")
async def teams_page(request: Request, staff: Admin) -> Response:
    return await _teams_page(request, staff)


@router.post("/teams")
async def create_team(request: Request, staff: Admin, spec: TeamForm, csrf: Csrf = "") -> Response:
    check_csrf(staff, csrf)
    try:
        if isinstance(spec, DomainError):
            raise spec
        team = await actions.save_team(runtime_of(request), actor=staff, spec=spec)
    except DomainError as error:
        return await _teams_page(request, staff, error=error.message, status=422)
    return _back(f"/staff/teams/{team.id}")


async def _team_page(
    request: Request,
    staff: StaffIdentity,
    team_id: int,
    *,
    error: str | None = None,
    status: int = 200,
) -> Response:
    rt = runtime_of(request)
    async with rt.reading() as session:
        teams = await queries.load_teams(session)
        team = teams.get(team_id)
        if team is None:
            raise TeamNotFound()
        members = await queries.team_members(session, team_id, rt.settings.routing_default_capacity)
        candidates = await queries.chat_staff(session)
    member_ids = {m.staff_id for m in members}
    return render(
        request,
        "admin_team.html",
        lang=request_lang(request),
        staff=staff,
        team=team,
        members=members,
        candidates=[c for c in candidates if c.id not in member_ids],
        kinds=list(TeamKind),
        modes=list(TeamMode),
        channels=list(Channel),
        error=error,
        status_code=status,
    )


@router.get("/teams/{team_id}")
async def team_page(request: Request, staff: Admin, team_id: int) -> Response:
    return await _team_page(request, staff, team_id)


@router.post("/teams/{team_id}")
async def update_team(
    request: Request, staff: Admin, team_id: int, spec: TeamForm, csrf: Csrf = ""
) -> Response:
    check_csrf(staff, csrf)
    try:
        if isinstance(spec, DomainError):
            raise spec
        await actions.save_team(runtime_of(request), actor=staff, spec=spec, team_id=team_id)
    except (TeamNotFound, StaffNotFound):
        raise
    except DomainError as error:
        return await _team_page(request, staff, team_id, error=error.message, status=422)
    return _back(f"/staff/teams/{team_id}")


@router.post("/teams/{team_id}/delete")
async def delete_team(request: Request, staff: Admin, team_id: int, csrf: Csrf = "") -> Response:
    check_csrf(staff, csrf)
    await actions.delete_team(runtime_of(request), actor=staff, team_id=team_id)
    return _back("/staff/teams")


@router.post("/teams/{team_id}/members")
async def add_member(
    request: Request,
    staff: Admin,
    team_id: int,
    csrf: Csrf = "",
    staff_id: Annotated[int, Form()] = 0,
) -> Response:
    check_csrf(staff, csrf)
    await actions.set_membership(
        runtime_of(request), actor=staff, team_id=team_id, staff_id=staff_id, member=True
    )
    return _back(f"/staff/teams/{team_id}")


@router.post("/teams/{team_id}/members/{staff_id}/remove")
async def remove_member(
    request: Request, staff: Admin, team_id: int, staff_id: int, csrf: Csrf = ""
) -> Response:
    check_csrf(staff, csrf)
    await actions.set_membership(
        runtime_of(request), actor=staff, team_id=team_id, staff_id=staff_id, member=False
    )
    return _back(f"/staff/teams/{team_id}")


@router.post("/teams/{team_id}/members/{staff_id}/capacity")
async def set_capacity(
    request: Request,
    staff: Admin,
    team_id: int,
    staff_id: int,
    csrf: Csrf = "",
    capacity: Annotated[int, Form(ge=0, le=1000)] = 0,
) -> Response:
    check_csrf(staff, csrf)
    try:
        await actions.set_capacity(
            runtime_of(request), actor=staff, staff_id=staff_id, capacity=capacity
        )
    except StaffNotFound:
        raise
    except DomainError as error:
        return await _team_page(request, staff, team_id, error=error.message, status=422)
    return _back(f"/staff/teams/{team_id}")


@router.get("/schedules")
async def schedules_page(request: Request, staff: Scheduler) -> Response:
    rt = runtime_of(request)
    async with rt.reading() as session:
        people = await queries.chat_staff(session)
        slots = {p.id: await queries.shift_slots(session, p.id) for p in people}
    return render(
        request,
        "admin_schedules.html",
        lang=request_lang(request),
        staff=staff,
        people=people,
        slots=slots,
        weekdays=WEEKDAYS,
        hhmm=_hhmm,
    )


async def _schedule_page(
    request: Request,
    staff: StaffIdentity,
    staff_id: int,
    *,
    error: str | None = None,
    status: int = 200,
) -> Response:
    rt = runtime_of(request)
    async with rt.reading() as session:
        people = {p.id: p for p in await queries.chat_staff(session)}
        person = people.get(staff_id)
        if person is None:
            raise StaffNotFound()
        slots = await queries.shift_slots(session, staff_id)
    rows: list[dict[str, Any]] = [
        {"weekday": s.weekday, "start": _hhmm(s.start_minute), "end": _hhmm(s.end_minute)}
        for s in slots
    ]
    rows += [{"weekday": None, "start": "", "end": ""} for _ in range(3)]
    return render(
        request,
        "admin_schedule.html",
        lang=request_lang(request),
        staff=staff,
        person=person,
        rows=rows,
        weekdays=WEEKDAYS,
        error=error,
        status_code=status,
    )


@router.get("/schedules/{staff_id}")
async def schedule_page(request: Request, staff: Scheduler, staff_id: int) -> Response:
    return await _schedule_page(request, staff, staff_id)


@router.post("/schedules/{staff_id}")
async def save_schedule(
    request: Request,
    staff: Scheduler,
    staff_id: int,
    csrf: Csrf = "",
    weekday: Annotated[list[str] | None, Form()] = None,
    start: Annotated[list[str] | None, Form()] = None,
    end: Annotated[list[str] | None, Form()] = None,
) -> Response:
    check_csrf(staff, csrf)
    try:
        slots = [
            actions.parse_slot(day, begin, finish)
            for day, begin, finish in zip(weekday or [], start or [], end or [], strict=False)
            if day.strip() and (begin.strip() or finish.strip())
        ]
        await actions.set_shifts(runtime_of(request), actor=staff, staff_id=staff_id, slots=slots)
    except StaffNotFound:
        raise
    except DomainError as error:
        return await _schedule_page(request, staff, staff_id, error=error.message, status=422)
    return _back(f"/staff/schedules/{staff_id}")


def _hhmm(minutes: int) -> str:
    return f"{minutes // 60:02d}:{minutes % 60:02d}"
