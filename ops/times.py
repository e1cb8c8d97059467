"""Times as people read them: in this machine's time zone, with how long ago."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

MINUTE, HOUR, DAY = 60, 3600, 86400


def readable(moment: datetime | str | None, now: datetime | None = None) -> str:
    """``2026-12-06 10:12 CET (3 min ago)``. A time without a zone is UTC (as AWS's are); an ISO
    text is read as one; anything else is shown as it is."""
    if moment is None or moment == "":
        return ""
    if isinstance(moment, str):
        try:
            moment = datetime.fromisoformat(moment.replace("Z", "+00:00"))
        except ValueError:
            return str(moment)
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    local = moment.astimezone()
    return f"{local:%Y-%m-%d %H:%M:%S} {local.tzname()} ({ago((now or datetime.now(UTC)) - moment)})"


def ago(elapsed: timedelta) -> str:
    """'just now', '42 s ago', '3 min ago', '5 h ago', '2 days ago'; a time still to come: 'in 3 min'."""
    seconds = int(elapsed.total_seconds())
    later, seconds = seconds < 0, abs(seconds)
    if seconds < 5:
        return "just now"
    if seconds < MINUTE:
        span = f"{seconds} s"
    elif seconds < HOUR:
        span = f"{seconds // MINUTE} min"
    elif seconds < 2 * DAY:
        span = f"{seconds // HOUR} h"
    else:
        span = f"{seconds // DAY} days"
    return f"in {span}" if later else f"{span} ago"
