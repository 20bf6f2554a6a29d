"""The officer-state row: created on first need, locked to keep every claim under capacity.

Lock order everywhere: the conversation row first, then the officer's state row (so two
claims never wait on each other in opposite orders).
"""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert

from confide.routing import queries
from confide.routing.errors import AtCapacity
from confide.routing.models import OfficerState
from confide.runtime import Tx


async def locked_state(tx: Tx, staff_id: int, default_capacity: int) -> OfficerState:
    """The staff member's routing state, created if missing, locked until commit."""
    dialect = tx.session.get_bind().dialect.name
    insert = pg_insert if dialect == "postgresql" else sqlite_insert
    await tx.session.execute(
        insert(OfficerState)
        .values(staff_id=staff_id, capacity=default_capacity, availability="offline", connections=0)
        .on_conflict_do_nothing(index_elements=["staff_id"])
    )
    state = await tx.session.scalar(
        select(OfficerState)
        .where(OfficerState.staff_id == staff_id)
        .with_for_update()
        .execution_options(populate_existing=True)
    )
    assert state is not None
    return state


async def reserve_slot(tx: Tx, staff_id: int, default_capacity: int) -> OfficerState:
    """Lock the staff member's state and check one more conversation fits; raises AtCapacity."""
    state = await locked_state(tx, staff_id, default_capacity)
    if await queries.active_count(tx.session, staff_id) >= state.capacity:
        raise AtCapacity()
    return state
