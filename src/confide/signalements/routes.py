"""HTTP routes of the signalements domain."""

from __future__ import annotations

from fastapi import APIRouter

router = APIRouter()
