"""Application factory."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI
from starlette.staticfiles import StaticFiles

from confide import migrations
from confide.audit import routes as audit_routes
from confide.casework import routes as casework_routes
from confide.conversations import routes as conversation_routes
from confide.db import Database
from confide.disclosure import routes as disclosure_routes
from confide.disclosure.jobs import PurgeJob
from confide.referrals import routes as referral_routes
from confide.replies import routes as replies_routes
from confide.routing import routes as routing_routes
from confide.routing.jobs import RoutingJobs
from confide.runtime import Runtime
from confide.security.headers import SecurityHeadersMiddleware
from confide.security.ratelimit import make_limiter
from confide.settings import Settings, load_secrets
from confide.signalements import routes as signalement_routes
from confide.staff import routes as staff_routes
from confide.web import errors, pages
from confide.web.realtime import staff as staff_socket
from confide.web.realtime import visitor as visitor_socket
from confide.web.realtime.bus import make_bus
from confide.web.realtime.queue import QueueWatcher
from confide.web.templating import TEMPLATES_DIR

log = logging.getLogger(__name__)


class DatabaseNotMigrated(RuntimeError):
    pass


def create_app(settings: Settings | None = None) -> FastAPI:
    settings = settings or Settings()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        db = Database(settings.resolved_database_url)
        try:
            current, head = await migrations.revisions(db)
            if current != head:
                raise DatabaseNotMigrated(
                    f"The database is not migrated (at {current or 'nothing'}, code expects {head}). "
                    "Run `confide migrate` first."
                )
            bus = make_bus(settings.redis_url)
            await bus.start()
            rt = Runtime(
                settings=settings,
                secrets=load_secrets(settings.resolved_secrets_file),
                db=db,
                bus=bus,
            )
            app.state.runtime = rt
            app.state.queue_watcher = watcher = QueueWatcher(rt)
            await watcher.start()
            jobs = RoutingJobs(rt) if settings.routing_jobs else None
            if jobs is not None:
                await jobs.start()
            purge = PurgeJob(rt) if settings.purge_jobs else None
            if purge is not None:
                await purge.start()
            try:
                yield
            finally:
                if purge is not None:
                    await purge.stop()
                if jobs is not None:
                    await jobs.stop()
                await watcher.stop()
                await bus.stop()
                await app.state.start_limiter.close()
                await app.state.message_limiter.close()
        finally:
            await db.dispose()

    app = FastAPI(
        title="Confide",
        lifespan=lifespan,
        docs_url=None,
        redoc_url=None,
        openapi_url=None,
    )
    # With Redis (several nodes) the limits are counted once for all nodes.
    app.state.start_limiter = make_limiter(
        "start", settings.conversations_per_hour_per_network, 3600, settings.redis_url
    )
    app.state.message_limiter = make_limiter(
        "messages", settings.messages_per_10s, 10, settings.redis_url
    )
    app.add_middleware(SecurityHeadersMiddleware)
    errors.install(app)
    app.include_router(pages.router)
    app.include_router(conversation_routes.router)
    app.include_router(staff_routes.router)
    app.include_router(routing_routes.router)
    app.include_router(disclosure_routes.router)
    app.include_router(audit_routes.router)
    app.include_router(replies_routes.router)
    app.include_router(casework_routes.router)
    app.include_router(signalement_routes.router)
    app.include_router(referral_routes.router)
    app.include_router(visitor_socket.router)
    app.include_router(staff_socket.router)
    app.mount("/static", StaticFiles(directory=TEMPLATES_DIR.parent / "static"), name="static")
    return app
