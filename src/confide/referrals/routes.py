"""HTTP routes of the referrals domain."""

from __future__ import annotations

from fastapi import APIRouter

router = APIRouter()
