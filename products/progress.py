"""Key-result progress and status, exactly as DESIGN.md ("Outcomes") defines them.

The one place these figures are computed. Services store the results on the key result whenever
it or its measurements change, so pages, the API, exports and dashboards all read the same numbers.
"""

import datetime
from decimal import Decimal
from typing import NamedTuple

HUNDRED = Decimal(100)
ZERO = Decimal(0)

ON_TRACK = "on_track"
AT_RISK = "at_risk"
OFF_TRACK = "off_track"
NO_DATA = "no_data"

ON_TRACK_MARGIN = Decimal(10)
AT_RISK_MARGIN = Decimal(25)


class Standing(NamedTuple):
    progress: Decimal | None
    expected_progress: Decimal | None
    status: str


def clamp(value: Decimal) -> Decimal:
    return max(ZERO, min(HUNDRED, value))


def progress(*, baseline: Decimal, target: Decimal, latest: Decimal) -> Decimal:
    """(latest - baseline) / (target - baseline) x 100, clamped to 0..100 (either direction)."""
    return clamp((latest - baseline) * HUNDRED / (target - baseline))


def expected_progress(
    *, start_date: datetime.date, target_date: datetime.date, latest_date: datetime.date
) -> Decimal:
    """(latest's date - start) / (target date - start) x 100, clamped to 0..100."""
    elapsed = Decimal((latest_date - start_date).days)
    span = Decimal((target_date - start_date).days)
    return clamp(elapsed * HUNDRED / span)


def status(*, progress: Decimal, expected: Decimal) -> str:
    """on_track within 10 points of expected, at_risk within 25, off_track beyond."""
    if progress >= expected - ON_TRACK_MARGIN:
        return ON_TRACK
    if progress >= expected - AT_RISK_MARGIN:
        return AT_RISK
    return OFF_TRACK


def standing(
    *,
    baseline: Decimal,
    target: Decimal,
    start_date: datetime.date,
    target_date: datetime.date,
    latest: Decimal | None,
    latest_date: datetime.date | None,
) -> Standing:
    """Progress, expected progress and status of a key result given its latest measurement."""
    if latest is None or latest_date is None:
        return Standing(None, None, NO_DATA)
    done = progress(baseline=baseline, target=target, latest=latest)
    expected = expected_progress(
        start_date=start_date, target_date=target_date, latest_date=latest_date
    )
    return Standing(done, expected, status(progress=done, expected=expected))
