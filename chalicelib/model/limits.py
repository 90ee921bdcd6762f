"""Who is calling and what they may do: the principal and per-owner limits (pure)."""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from chalicelib.model.errors import ValidationError
from chalicelib.model.settings import Settings

LIMIT_NAMES = ("max_active_jobs", "max_upload_bytes", "max_duration_seconds", "max_pixels",
               "max_pixel_seconds_per_day")


@dataclass(frozen=True)
class Principal:
    """The authenticated caller: an owner id and the owner's limit overrides."""

    owner: str
    limits: dict[str, float] = field(default_factory=dict)
    key_id: str = ""


def parse_limits(raw: dict[str, Any]) -> dict[str, float]:
    """Validate per-owner limit overrides (positive numbers with known names)."""
    limits: dict[str, float] = {}
    for name, value in raw.items():
        if name not in LIMIT_NAMES:
            raise ValidationError(f"unknown limit {name!r}; known: {', '.join(LIMIT_NAMES)}")
        if value is None:
            continue
        if isinstance(value, bool) or not isinstance(value, (int, float)) or value <= 0:
            raise ValidationError(f"limit {name} must be a positive number")
        limits[name] = value
    return limits


def limits_for(settings: Settings, who: Principal) -> dict[str, float]:
    """The caller's limits: the deployment's defaults, overridden by their key's."""
    defaults = {"max_active_jobs": settings.max_active_jobs, "max_upload_bytes": settings.max_upload_bytes,
                "max_duration_seconds": settings.max_duration_seconds, "max_pixels": settings.max_pixels,
                "max_pixel_seconds_per_day": settings.max_pixel_seconds_per_day}
    return {**defaults, **who.limits}
