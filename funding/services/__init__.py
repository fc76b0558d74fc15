"""Writes of the funding app: one transaction each, the acting user passed explicitly.

Periods, rate cards and envelopes live in ``periods``; allocations, their limits and the approval
workflow in ``allocations``.
"""

from funding.services.actuals import (
    ActualsImportResult,
    actual_delete,
    actual_set,
    actuals_import,
)
from funding.services.allocations import (
    allocation_set_percent,
    allocations_move,
    check_envelope_limit,
    check_team_limit,
    lock_cells,
    money_text,
    plan_status,
    team_allocated_percent,
    value_stream_allocated,
)
from funding.services.periods import (
    envelope_delete,
    envelope_set,
    fiscal_period_create,
    fiscal_period_set_status,
    fiscal_period_update,
    rate_delete,
    rate_set,
)
from funding.services.scenarios import (
    scenario_compare,
    scenario_create,
    scenario_delete,
    scenario_promote,
    scenario_set_cell,
    scenario_update,
)

__all__ = [
    "ActualsImportResult",
    "actual_delete",
    "actual_set",
    "actuals_import",
    "allocation_set_percent",
    "allocations_move",
    "check_envelope_limit",
    "check_team_limit",
    "envelope_delete",
    "envelope_set",
    "fiscal_period_create",
    "fiscal_period_set_status",
    "fiscal_period_update",
    "lock_cells",
    "money_text",
    "plan_status",
    "rate_delete",
    "rate_set",
    "scenario_compare",
    "scenario_create",
    "scenario_delete",
    "scenario_promote",
    "scenario_set_cell",
    "scenario_update",
    "team_allocated_percent",
    "value_stream_allocated",
]
