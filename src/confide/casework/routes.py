"""HTTP routes of the casework domain."""

from __future__ import annotations

from fastapi import APIRouter

router = APIRouter()
