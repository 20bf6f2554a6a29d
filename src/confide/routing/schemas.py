from __future__ import annotations

from enum import StrEnum


class TeamKind(StrEnum):
    POLICE = "police"
    GENDARMERIE = "gendarmerie"
    NATIONAL = "national"
    PSYCHOLOGISTS = "psychologists"


class TeamMode(StrEnum):
    AUTO = "auto"
    PICK = "pick"


class Availability(StrEnum):
    AVAILABLE = "available"
    BUSY = "busy"
    AWAY = "away"
    OFFLINE = "offline"
