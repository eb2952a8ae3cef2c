"""Microsoft's own odd spellings, reproduced on purpose so clients prove they tolerate them.

MGD api-reference/beta/api/reportroot-list-appcredentialsigninactivities.md @09a02445 shows
appCredentialSignInActivity objects with `expirationDate` instead of the resource's
`expirationDateTime`, `keyType: "secret"` instead of `clientSecret`, no `createdDateTime`, and
timestamps such as `2021-04-01T21:36:48-8:00` (a one-digit hour offset, not valid ISO 8601). The
server serves this form when its odd-report-shapes knob is on; the canonical form stays the default.
"""
from __future__ import annotations

from datetime import timedelta, timezone

from . import timefmt

_KEY_TYPES = {"clientSecret": "secret"}


def offset_timestamp(text: str | None, hours: int = -8) -> str | None:
    """`2021-04-01T21:36:48-8:00`: the moment in UTC`hours`, with the offset spelled as in the example."""
    if text is None:
        return None
    local = timefmt.parse(text).astimezone(timezone(timedelta(hours=hours)))
    sign = "-" if hours < 0 else "+"
    return f"{local:%Y-%m-%dT%H:%M:%S}{sign}{abs(hours)}:00"


def credential_activity_as_in_docs(activity: dict, hours: int = -8) -> dict:
    """The same facts as `activity`, spelled the way Microsoft's example response spells them."""
    odd = {key: value for key, value in activity.items() if key not in ("createdDateTime", "expirationDateTime")}
    odd["expirationDate"] = offset_timestamp(activity.get("expirationDateTime"), hours)
    odd["keyType"] = _KEY_TYPES.get(activity.get("keyType"), activity.get("keyType"))
    sign_in = activity.get("signInActivity")
    if sign_in:
        odd["signInActivity"] = {**sign_in, "lastSignInDateTime": offset_timestamp(sign_in.get("lastSignInDateTime"), hours)}
    return odd
