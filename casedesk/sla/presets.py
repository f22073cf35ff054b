"""Shipped example service levels (`casedesk/presets/sla/<preset>.yaml`), applied to a
desk through the same services as any admin's edit."""

from __future__ import annotations

from pathlib import Path

import yaml
from django.db import transaction

from casedesk.common import clock
from casedesk.desks.models import Desk

from . import services
from .models import SlaPlan

FOLDER = Path(__file__).resolve().parent.parent / "presets" / "sla"
DAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")


def sla_preset_names() -> list[str]:
    return sorted(p.stem for p in FOLDER.glob("*.yaml"))


def _week(spec: dict) -> dict[int, list[tuple[str, str]]]:
    unknown = set(spec) - set(DAYS)
    if unknown:
        raise ValueError(f"unknown days {sorted(unknown)}: use {', '.join(DAYS)}")
    week: dict[int, list[tuple[str, str]]] = {}
    for day, spans in spec.items():
        week[DAYS.index(day)] = [(s.split("-", 1)[0], s.split("-", 1)[1]) for s in spans]
    return week


@transaction.atomic
def sla_preset_apply(*, actor, desk: Desk, preset: str) -> list[SlaPlan]:
    """Set the desk's calendar, public holidays (last year to two years ahead) and plans
    from a shipped file."""
    path = FOLDER / f"{preset}.yaml"
    if not path.is_file():
        raise ValueError(f"no shipped service levels '{preset}' ({', '.join(sla_preset_names())})")
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    if set(data) - {"calendar", "plans"}:
        raise ValueError(f"{path.name}: only `calendar` and `plans` belong at the top")
    cal = data["calendar"]
    holidays = cal.get("holidays") or {}
    services.calendar_set(
        actor=actor,
        desk=desk,
        zone=cal["zone"],
        week=_week(cal.get("week") or {}),
        always=bool(cal.get("always", False)),
        holiday_country=holidays.get("country", ""),
        holiday_subdivision=holidays.get("subdivision", ""),
    )
    if holidays:
        year = clock.now().year
        services.calendar_holidays_accept(actor=actor, desk=desk, years=range(year - 1, year + 3))
    plans = []
    for slug, plan in data["plans"].items():
        unknown = set(plan) - {"name", "default", "around_the_clock", "warn_percent", "targets"}
        if unknown:
            raise ValueError(f"{path.name}: plan {slug}: unknown keys {sorted(unknown)}")
        plans.append(
            services.plan_save(
                actor=actor,
                desk=desk,
                slug=slug,
                name=plan["name"],
                targets=plan["targets"],
                around_the_clock=bool(plan.get("around_the_clock", False)),
                desk_default=bool(plan.get("default", False)),
                warn_percent=int(plan.get("warn_percent", 80)),
            )
        )
    return plans
