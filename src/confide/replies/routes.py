"""HTTP routes of the replies domain."""

from __future__ import annotations

from fastapi import APIRouter

router = APIRouter()
