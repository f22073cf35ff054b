"""The shape of a workflow file, as pydantic models.

These models check types and refuse unknown keys; whether the names used inside the file
fit together (a transition to a status that exists, a timer whose transition the system may
make) is checked afterwards by `checks.py`, which can see the whole file at once.
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, StrictBool, StrictInt, StrictStr

Texts = dict[StrictStr, StrictStr]
Category = Literal["new", "open", "waiting", "resolved", "closed", "cancelled"]
Turn = Literal["supplier", "customer", "third_party", "nobody"]
FieldKind = Literal["text", "number", "decimal", "date", "datetime", "version"]
# What a place does to each SLA clock (see sla.py); absent targets follow whose turn it is.
ClockTarget = Literal["first_response", "next_response", "resolution"]
ClockMode = Literal["run", "pause", "stop"]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)


class TypeDef(_Strict):
    label: Texts
    customer_may_create: StrictBool = True
    default: StrictBool = False


class PriorityDef(_Strict):
    label: Texts
    default: StrictBool = False


class TeamDef(_Strict):
    label: Texts


class FieldDef(_Strict):
    label: Texts
    kind: FieldKind = "text"
    help: Texts | None = None
    customer_visible: StrictBool = True
    customer_editable: StrictBool = False
    pattern: StrictStr | None = None


class FlagDef(_Strict):
    label: Texts
    # customers see a flag only when the workflow says they may (seed 000: HASTER is internal)
    public: StrictBool = False


class SubStatusDef(_Strict):
    label: Texts
    explain: Texts
    # what staff should know or do here; never shown to customers
    staff_note: Texts | None = None
    turn: Turn | None = None
    active: StrictBool | None = None
    # on the customer's turn, whose turn it is: roles on the customer's side (default: all)
    waits_for: list[StrictStr] | None = None


class StatusDef(_Strict):
    label: Texts
    explain: Texts
    # what staff should know or do here; never shown to customers
    staff_note: Texts | None = None
    category: Category
    turn: Turn
    active: StrictBool | None = None
    initial: StrictBool = False
    sub_statuses: list[StrictStr] = Field(default_factory=list)
    default_sub: StrictStr | None = None
    rank: StrictInt | None = None
    waits_for: list[StrictStr] | None = None
    # every transition a person makes into this status asks for a reason (a comment)
    ask_reason: StrictBool = False
    # what a ticket must have for as long as it is in this status
    requires: list[Literal["assignee", "customer_assignee"]] = Field(default_factory=list)
    # what this status does to the SLA clocks, where it differs from the default
    sla: dict[ClockTarget, ClockMode] = Field(default_factory=dict)

    @property
    def final(self) -> bool:
        return self.category in ("closed", "cancelled")


class TransitionDef(_Strict):
    label: Texts
    from_: list[StrictStr] | Literal["*"] = Field(alias="from")
    to: StrictStr
    by: list[StrictStr]
    types: list[StrictStr] | None = None
    requires: list[StrictStr] = Field(default_factory=list)
    prompt: Texts | None = None
    reopen: StrictBool = False
    effects: list[dict[StrictStr, StrictStr | StrictInt]] = Field(default_factory=list)


class TimerDef(_Strict):
    in_: list[StrictStr] = Field(alias="in")
    after: StrictStr
    since: Literal["entered", "last_activity"] = "entered"
    transition: StrictStr
    notice: Texts
    # how long before the timer acts the people whose turn it is are warned (optional)
    warn_before: StrictStr | None = None


class TriggerDef(_Strict):
    on: StrictStr
    in_: list[StrictStr] = Field(alias="in")
    # what the event does: a transition, or (`flag`) a flag raised without moving the ticket
    transition: StrictStr | None = None
    flag: StrictStr | None = None
    environment: StrictStr | None = None


class DuplicateDef(_Strict):
    transition: StrictStr
    title_prefix: StrictStr = ""


class WorkflowDef(_Strict):
    workflow: StrictStr
    version: StrictInt
    name: Texts
    description: Texts | None = None
    languages: list[StrictStr]
    order: Literal["free", "forward"] = "free"
    types: dict[StrictStr, TypeDef]
    priorities: dict[StrictStr, PriorityDef]
    teams: dict[StrictStr, TeamDef] = Field(default_factory=dict)
    fields: dict[StrictStr, FieldDef] = Field(default_factory=dict)
    flags: dict[StrictStr, FlagDef] = Field(default_factory=dict)
    sub_statuses: dict[StrictStr, SubStatusDef] = Field(default_factory=dict)
    statuses: dict[StrictStr, StatusDef]
    transitions: dict[StrictStr, TransitionDef]
    timers: dict[StrictStr, TimerDef] = Field(default_factory=dict)
    events: list[TriggerDef] = Field(default_factory=list)
    duplicates: DuplicateDef | None = None
