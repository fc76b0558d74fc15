"""Flow metrics (DESIGN.md, "Flow metrics"): computed in the database from the status history and
stored as ``FlowSnapshot`` rows per product and per value stream, per calendar week and month.

Definitions, exactly as DESIGN.md states them, and the readings this module decided:

- A change's category comes from the scope's mapping, matched by ``status_key``: a product maps
  through the value stream it serves (the lowest id when several), a value stream through its own
  mapping, each falling back to the organisation default.
- **Unmapped statuses** belong to no category, and the definitions are applied literally: a change
  into an unmapped status is not a start (not ``active``/``waiting``) and not a completion (not
  ``done``); once an item has started, an unmapped status is "not in ``done``", so the item is in
  progress while in it, and the time spent in it is not active time (it counts like waiting in
  flow efficiency). An item whose latest status is unmapped is not complete. No item is dropped:
  mapping the status later and recomputing puts it where it belongs.
- start = the time of the first change into an ``active`` or ``waiting`` status.
- An item is complete when its latest change (by time, then by arrival) is into ``done``; its
  completion is the time of its last change *into* ``done``: a change from a status outside
  ``done`` (or the first change) into one inside it. A move between two done statuses
  (Resolved -> Closed) does not complete the item again. An item done without ever starting
  counts in no metric.
- In progress at instant t: started before t and the status set by the last change before t is
  not in ``done`` (a started item moved back to the backlog is still in progress).
- Windows are [start, end): calendar weeks from Monday 00:00 UTC, calendar months.
  velocity = items completed in the window; flow time = completion - start, in days, median and
  85th percentile by linear interpolation between closest ranks (PostgreSQL ``percentile_cont``);
  flow efficiency = active time between start and completion / flow time x 100, summed over the
  window's completed items (empty when their flow times sum to 0); flow load at the end = items in
  progress at the instant ``end``; daily average = mean over the window's days of the items in
  progress at each following midnight UTC.
- **Untyped items** (``type`` '' while the tracker type is unmapped) count under ``"unmapped"`` in
  the distribution, and the percentages are over all completed items, so they add up to 100. A
  value stream resolves each item's tracker type through its own type mapping (falling back to
  the default); a product uses the item's stored ``type`` (resolved through the product's mapping).

How, in two steps, neither looping over items in Python:

1. **Per-item facts** (``valuestreams.flow.facts``: ``FlowFact``, ``FlowSpan``): one SQL
   statement with window functions over the status changes gives each item's first activity,
   start, completion, active seconds, latest category and in-progress intervals (as the epoch
   days whose midnights they cover), once per mapping the item is seen through. Each ingest
   derives the facts of the items it touched in its own transaction (under a per-product lock,
   so two ingests of one item cannot each miss the other's change); a mapping change or a
   recompute asked for by a person derives its products' facts again; the weekly run derives all.
2. **Aggregation**: one statement per batch (every product at once, each through its own facts
   row; every value stream at once) groups the facts by week and month keys (``percentile_cont``
   on PostgreSQL; on SQLite only the ranks around each percentile are selected in SQL and
   interpolated per window in Python); the load comes from a per-day sweep over the intervals
   (+1 / -1, summed per day in SQL, accumulated per day here). Each scope's snapshots are
   replaced in one transaction after all of its rows are computed, so a worker killed midway
   leaves the previous snapshots.

Incremental runs (after an ingest) recompute only the given products and the value streams they
serve, and replace only the windows from the one holding ``since``; the ingest reaches ``since``
back to the completion any touched item's facts held before (a reopen removes that completion).
"""

from valuestreams.flow.selectors import flow_snapshot_list
from valuestreams.flow.services import (
    FlowRecomputeResult,
    FlowScope,
    flow_recompute,
    flow_scope_replace,
    flow_scopes,
    scope_snapshots,
)
from valuestreams.flow.windows import month_start, week_start, window_bounds, windows_between

__all__ = [
    "FlowRecomputeResult",
    "FlowScope",
    "flow_recompute",
    "flow_scope_replace",
    "flow_scopes",
    "flow_snapshot_list",
    "month_start",
    "scope_snapshots",
    "week_start",
    "window_bounds",
    "windows_between",
]
