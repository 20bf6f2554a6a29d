"""The `confide` command."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Annotated, TypeVar

import typer

from confide import migrations
from confide.audit.queries import ChainReport, verify_chain
from confide.runtime import Runtime
from confide.settings import Settings, load_secrets

app = typer.Typer(
    help="Confide: anonymous chat with the police of your area.", no_args_is_help=True
)
audit_app = typer.Typer(help="The tamper-evident audit log.", no_args_is_help=True)
app.add_typer(audit_app, name="audit")
teams_app = typer.Typer(help="Teams and the départements they cover.", no_args_is_help=True)
app.add_typer(teams_app, name="teams")
referrals_app = typer.Typer(
    help="The directory of resources visitors can be referred to.", no_args_is_help=True
)
app.add_typer(referrals_app, name="referrals")
keys_app = typer.Typer(
    help="Keys: the prosecution office's key pair and the server's master key.",
    no_args_is_help=True,
)
app.add_typer(keys_app, name="keys")

T = TypeVar("T")

#: Real national lines and clearly labelled fictitious local entries ("[FICTIF]"), imported
#: by `confide demo` when the directory is empty (a source checkout).
DEMO_REFERRALS = Path(__file__).resolve().parents[2] / "data" / "referrals-sample.csv"

#: Public, like every demo secret: a real office creates its key with `confide keys init-prosecutor`.
DEMO_PROSECUTOR_PASSPHRASE = "demo-parquet-passphrase"  # noqa: S105  (a demo secret, public)

#: Demo accounts: fixed passwords and TOTP secrets, for a local demonstration only.
DEMO_STAFF = [
    (
        "officer",
        "officer",
        "Policier (démo)",
        "demo-officer-pass",
        "SEE65CWKXBNCBO3ERZWW7CWPMZXR4LL3",
    ),
    (
        "psychologist",
        "psychologist",
        "Psychologue (démo)",
        "demo-psychologist-pass",
        "NK22MB5M5JB3BAXUSLHNCTZUM33HKENP",
    ),
    (
        "supervisor",
        "supervisor",
        "Superviseur (démo)",
        "demo-supervisor-pass",
        "TWTGN45A55TJT5QLKDG7BLQ6NIBRFYQQ",
    ),
    (
        "prosecutor",
        "prosecutor",
        "Parquet (démo)",
        "demo-prosecutor-pass",
        "KZVBTXQWPQPRXIAJYHTCWANAMAC4L3YE",
    ),
    (
        "admin",
        "admin",
        "Administrateur (démo)",
        "demo-admin-pass",
        "JHU5556U4WYAJXY66VHR7DEREVCVMPFR",
    ),
]


#: Demo teams: (name, kind, chats, départements, demo members).
DEMO_TEAMS = [
    ("Police Paris", "police", "domestic sexual discrimination", "75", ["officer", "supervisor"]),
    (
        "Gendarmerie Lozère",
        "gendarmerie",
        "domestic sexual discrimination",
        "48",
        ["officer"],
    ),
    ("Équipe nationale", "national", "domestic sexual discrimination", "", ["supervisor"]),
    ("Psychologues", "psychologists", "domestic sexual discrimination", "", ["psychologist"]),
]


def _run(action: Callable[[Runtime], Awaitable[T]]) -> T:
    """Run `action` with a runtime on the configured database (which must be migrated)."""
    settings = Settings()
    _require_migrated(settings)

    async def main() -> T:
        rt = await _runtime(settings)
        try:
            return await action(rt)
        finally:
            await rt.db.dispose()

    return asyncio.run(main())


def _refuse_import(errors: list[tuple[int, str]]) -> None:
    """A CSV import is all or nothing: list every mistake by line and exit 1 if there is one."""
    if not errors:
        return
    for line, message in errors:
        typer.echo(f"line {line}: {message}", err=True)
    typer.echo("Nothing was imported.", err=True)
    raise typer.Exit(1)


async def _runtime(settings: Settings) -> Runtime:
    from confide.db import Database
    from confide.web.realtime.bus import InProcessBus

    db = Database(settings.resolved_database_url)
    return Runtime(
        settings=settings,
        secrets=load_secrets(settings.resolved_secrets_file),
        db=db,
        bus=InProcessBus(),
    )


def _require_migrated(settings: Settings) -> None:
    """Refuse, with a clear message, to work on a database that is not at the code's version."""
    from confide.db import Database

    async def check() -> tuple[str | None, str | None]:
        db = Database(settings.resolved_database_url)
        try:
            return await migrations.revisions(db)
        finally:
            await db.dispose()

    current, head = asyncio.run(check())
    if current != head:
        typer.echo(
            f"The database is not migrated (it is at {current or 'no version'}, this code needs {head}). "
            "Run `confide migrate` first.",
            err=True,
        )
        raise typer.Exit(2)


@app.command()
def serve(
    host: Annotated[str | None, typer.Option(help="Address to listen on.")] = None,
    port: Annotated[int | None, typer.Option(help="Port to listen on.")] = None,
) -> None:
    """Serve the web application (HTTP and WebSockets)."""
    import uvicorn

    from confide.app import create_app
    from confide.security import logfilter

    settings = Settings()
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    _require_migrated(settings)
    logfilter.configure()
    config = uvicorn.Config(
        create_app(settings),
        host=host or settings.host,
        port=port or settings.port,
        # No access log: it would hold visitors' addresses.
        access_log=False,
        proxy_headers=False,
        server_header=False,
        ws="websockets-sansio",
        ws_per_message_deflate=False,
        ws_max_size=1024 * 1024,
        loop="uvloop",
        http="httptools",
        lifespan="on",
        log_config=None,
    )
    server = uvicorn.Server(config)
    server.run()
    if not server.started:
        raise typer.Exit(3)


@app.command()
def migrate() -> None:
    """Create or upgrade the database tables to the current version."""
    settings = Settings()
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    migrations.upgrade(settings.resolved_database_url, secrets_file=settings.resolved_secrets_file)
    typer.echo(f"Database migrated to {migrations.head_revision()}.")


@app.command("create-staff")
def create_staff(
    role: Annotated[
        str, typer.Option(help="officer, psychologist, supervisor, prosecutor or admin")
    ],
    username: Annotated[str, typer.Option()],
    password: Annotated[str, typer.Option()],
    totp_secret: Annotated[
        str | None, typer.Option(help="Base32 secret; generated when omitted.")
    ] = None,
    display_name: Annotated[str | None, typer.Option()] = None,
) -> None:
    """Create a staff account and print the TOTP secret to enrol in an authenticator app."""
    from confide.security import crypto
    from confide.staff import actions
    from confide.staff.errors import StaffInvalid

    async def main(rt: Runtime) -> str:
        _member, secret = await actions.create_staff(
            rt,
            role=role,
            username=username,
            password=password,
            totp_secret=totp_secret,
            display_name=display_name,
        )
        return secret

    try:
        secret = _run(main)
    except StaffInvalid as error:
        typer.echo(error.message, err=True)
        raise typer.Exit(1) from None
    typer.echo(f"Created {role} {username}.")
    typer.echo(f"TOTP secret: {secret}")
    typer.echo(f"Authenticator URI: {crypto.totp_uri(secret, username)}")


@app.command()
def demo() -> None:
    """Create the demo staff accounts and teams (idempotent) and print how to log in."""
    from sqlalchemy import select

    from confide.disclosure import actions as disclosure_actions
    from confide.disclosure.models import ProsecutorKey
    from confide.referrals import actions as referral_actions
    from confide.referrals import queries as referral_queries
    from confide.replies.demo import seed_demo_replies
    from confide.routing import actions as routing_actions
    from confide.routing.models import Team
    from confide.staff import actions
    from confide.staff.models import StaffMember

    async def main(rt: Runtime) -> None:
        ids: dict[str, int] = {}
        for role, username, display_name, password, secret in DEMO_STAFF:
            async with rt.reading() as session:
                exists = await session.scalar(
                    select(StaffMember.id).where(StaffMember.username == username)
                )
            if exists is None:
                member, _ = await actions.create_staff(
                    rt,
                    role=role,
                    username=username,
                    password=password,
                    totp_secret=secret,
                    display_name=display_name,
                )
                exists = member.id
            ids[username] = exists
        for name, kind, channels, departements, members in DEMO_TEAMS:
            async with rt.reading() as session:
                team_id = await session.scalar(select(Team.id).where(Team.name == name))
            if team_id is None:
                spec = routing_actions.check_team(
                    name=name, kind=kind, channels=channels, departements=departements
                )
                team_id = (await routing_actions.save_team(rt, actor=None, spec=spec)).id
            for username in members:
                await routing_actions.set_membership(
                    rt, actor=None, team_id=team_id, staff_id=ids[username], member=True
                )
        async with rt.reading() as session:
            referrals = await referral_queries.count(session)
        if referrals == 0 and DEMO_REFERRALS.is_file():
            await referral_actions.import_referrals(rt, DEMO_REFERRALS.read_text(encoding="utf-8"))
        await seed_demo_replies(rt)
        async with rt.reading() as session:
            has_key = await session.scalar(select(ProsecutorKey.id).limit(1))
        if has_key is None:
            # So that lifting anonymity can be tried end to end; a public passphrase, as
            # every demo secret.
            await disclosure_actions.create_prosecutor_key(
                rt, passphrase=DEMO_PROSECUTOR_PASSPHRASE, rotate=False
            )

    _run(main)
    typer.echo("Demo staff accounts (log in at /staff/login):")
    typer.echo(f"  {'role':<13} {'username':<13} password")
    for role, username, _name, password, _secret in DEMO_STAFF:
        typer.echo(f"  {role:<13} {username:<13} {password}")
    typer.echo(
        "Current 6-digit code for any of them: confide totp USERNAME  (or: make totp WHO=officer)"
    )
    typer.echo(
        f"Prosecution office key passphrase (demo only): {DEMO_PROSECUTOR_PASSPHRASE}"
        "  — the prosecutor enters it to approve a request to lift anonymity."
    )
    typer.echo("Demo teams:")
    for name, kind, _channels, departements, members in DEMO_TEAMS:
        typer.echo(f"  {name:<20} {kind:<14} {departements or '—':<4} {', '.join(members)}")


@teams_app.command("import")
def teams_import(
    file: Annotated[
        typer.FileText, typer.Argument(help="CSV: name,kind,channels,departements[,mode]")
    ],
) -> None:
    """Load a team/département mapping from CSV: every row checked, all or nothing.

    Columns: name, kind (police, gendarmerie, national, psychologists), channels and
    departements (separated by spaces or semicolons), and optionally mode (auto or pick).
    Teams are matched by name; their chats, coverage and mode are replaced.
    """
    from confide.routing import actions as routing_actions

    text = file.read()

    async def main(rt: Runtime) -> routing_actions.ImportReport:
        return await routing_actions.import_teams(rt, text)

    report = _run(main)
    # Messages are English message ids: in English they are shown as they are.
    _refuse_import(report.errors)
    typer.echo(f"Imported {report.teams} team(s).")


@referrals_app.command("import")
def referrals_import(
    file: Annotated[typer.FileText, typer.Argument(help="CSV: see data/referrals-sample.csv")],
) -> None:
    """Replace the referral directory with a CSV file: every row checked, all or nothing.

    Columns: type, name, address, postcode, insee, departement (empty only for a national
    line), phone, email, hours, audience (women, minors, all), channels (domestic, sexual,
    discrimination; separated by spaces or semicolons), source.
    """
    from confide.referrals import actions as referral_actions

    text = file.read()

    async def main(rt: Runtime) -> referral_actions.ImportReport:
        return await referral_actions.import_referrals(rt, text)

    report = _run(main)
    _refuse_import(report.errors)
    typer.echo(f"Imported {report.resources} resource(s); the directory was replaced.")


@app.command()
def totp(username: str) -> None:
    """Print the current TOTP code of a DEMO account (demo secrets are public)."""
    from confide.security import crypto

    for _role, name, _display, _password, secret in DEMO_STAFF:
        if name == username:
            typer.echo(crypto.totp_code(secret))
            return
    typer.echo(f"{username!r} is not a demo account; use its authenticator app.", err=True)
    raise typer.Exit(1)


@audit_app.command("verify")
def audit_verify() -> None:
    """Check the audit log's hash chain; report the first broken entry."""

    async def main(rt: Runtime) -> ChainReport:
        async with rt.reading() as session:
            return await verify_chain(session)

    report = _run(main)
    if report.ok:
        typer.echo(f"Audit log intact: {report.checked} entries checked.")
        return
    typer.echo(f"Audit log BROKEN at entry {report.first_broken_id}: {report.reason}.", err=True)
    raise typer.Exit(1)


PassphraseFile = Annotated[
    typer.FileText | None,
    typer.Option(help="Read the passphrase from this file (first line) instead of asking."),
]


def _passphrase(passphrase_file: typer.FileText | None) -> str:
    """The prosecutor's passphrase: typed twice without echo, or the first line of a file."""
    if passphrase_file is not None:
        return passphrase_file.readline().rstrip("\r\n")
    value: str = typer.prompt(
        "Passphrase of the prosecution office (12 characters or more)",
        hide_input=True,
        confirmation_prompt=True,
    )
    return value


def _create_key(passphrase_file: typer.FileText | None, *, rotate: bool) -> None:
    from confide.disclosure import actions
    from confide.errors import DomainError

    passphrase = _passphrase(passphrase_file)

    async def main(rt: Runtime) -> int:
        key = await actions.create_prosecutor_key(rt, passphrase=passphrase, rotate=rotate)
        return key.id

    try:
        key_id = _run(main)
    except DomainError as error:
        typer.echo(error.message, err=True)  # message ids are the English texts
        raise typer.Exit(1) from None
    typer.echo(
        f"Prosecution office key {key_id} created; new conversations are sealed to it. "
        "Keep the passphrase safe: it is stored nowhere, and without it the sealed data "
        "cannot be opened."
    )


@keys_app.command("init-prosecutor")
def keys_init_prosecutor(passphrase_file: PassphraseFile = None) -> None:
    """Create the prosecution office's key pair; its private key is kept under a passphrase."""
    _create_key(passphrase_file, rotate=False)


@keys_app.command("rotate-prosecutor")
def keys_rotate_prosecutor(passphrase_file: PassphraseFile = None) -> None:
    """New key pair for new conversations; old keys stay (under their own passphrase) so
    older sealed data can still be opened."""
    _create_key(passphrase_file, rotate=True)


@keys_app.command("rotate-master")
def keys_rotate_master(
    resume: Annotated[
        bool,
        typer.Option(
            "--resume",
            help="Add no new master key: only re-wrap what is still under an older one "
            "(after an interruption, or once every node has been restarted).",
        ),
    ] = False,
    add_only: Annotated[
        bool,
        typer.Option(
            "--add-only",
            help="Only add the new version to the secrets file (nodes with their own copy of "
            "the file: copy it to each, restart them, then run again with --resume).",
        ),
    ] = False,
    batch_size: Annotated[int, typer.Option(help="Conversations per transaction.")] = 500,
) -> None:
    """New master key: adds a version to the secrets file, then re-wraps every conversation's
    key (and re-encrypts disclosure texts) under it, in small transactions, while the service
    runs. Older versions are kept in the file: running nodes pick the new one up by themselves;
    restart them all, then run again with --resume."""
    from confide.conversations import actions as conversation_actions
    from confide.disclosure import actions as disclosure_actions
    from confide.settings import add_master_key

    settings = Settings()
    _require_migrated(settings)
    path = settings.resolved_secrets_file
    if not path.exists():
        typer.echo(f"No secrets file at {path}: nothing to rotate.", err=True)
        raise typer.Exit(1)
    if not resume:
        secrets = add_master_key(path)
        typer.echo(f"Master key version {secrets.master_version} added to {path}.")
        if add_only:
            typer.echo(
                "Copy this file to every node, restart them, then run "
                "`confide keys rotate-master --resume`."
            )
            return

    async def main(rt: Runtime) -> tuple[conversation_actions.RewrapReport, int]:
        report = await conversation_actions.rewrap_conversation_keys(rt, batch_size=batch_size)
        texts = await disclosure_actions.reencrypt_texts(rt)
        return report, texts

    report, texts = _run(main)
    typer.echo(
        f"Re-wrapped {report.rewrapped} conversation key(s) and re-encrypted {texts} "
        "disclosure request(s) under the current master key."
    )
    if report.remaining:
        typer.echo(
            f"{report.remaining} conversation(s) were started meanwhile under an older master "
            "key: restart every node, then run `confide keys rotate-master --resume`."
        )
    else:
        typer.echo(
            "Restart every node so that new conversations use the new key. Older versions stay "
            "in the secrets file (a backup made before the rotation still needs them)."
        )


@app.command()
def purge(
    dry_run: Annotated[
        bool, typer.Option("--dry-run", help="Only count what would be deleted.")
    ] = False,
) -> None:
    """Delete what is past its retention period (conversations, sealed connection data)."""
    from confide.db import utcnow
    from confide.disclosure import actions

    async def main(rt: Runtime) -> actions.PurgeReport:
        return await actions.purge(rt, now=utcnow(), dry_run=dry_run)

    report = _run(main)
    verb = "Would delete" if dry_run else "Deleted"
    typer.echo(
        f"{verb}: {report.conversations} conversation(s), "
        f"{report.sealed_metadata} sealed connection record(s), "
        f"{report.revealed_metadata} expired disclosure(s)."
    )


def main() -> None:
    app(prog_name="confide")


if __name__ == "__main__":
    main()
