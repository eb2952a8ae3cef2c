"""Join credentials, sign-ins and permissions into the facts assess needs. Pure: no I/O, no clock.

Memory stays bounded by the number of credentials, never by the number of sign-ins: sign-ins are folded
into per-key aggregates (last use, hourly counts inside the window, a capped set of source IPs) as they
stream past, and those aggregates are what the checkpoint keeps between runs.
"""
import dataclasses
import datetime as dt
import re
from dataclasses import dataclass, field
from typing import Optional

from connector.times import UTC, iso, iso_precise, parse_time
from connector.wellknown import MICROSOFT_GRAPH_APP_ID, NEVER_EXPIRES_YEAR

MAX_SOURCE_IPS_PER_KEY = 50   # enough to say "many"; a botnet must not grow the checkpoint without bound
MULTI_TENANT_AUDIENCES = {"AzureADMultipleOrgs", "AzureADandPersonalMicrosoftAccount"}

SECRET_TYPES = ("password", "symmetric_key")
_GUID = re.compile(r"^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$")


def is_guid(text):
    return bool(_GUID.match(text or ""))


def _days(delta):
    return round(delta.total_seconds() / 86400, 1)


# ------------------------------------------------------------------------------------------ credentials

@dataclass(frozen=True)
class Credential:
    """One credential on one object, as the inventory and the assessment see it."""
    credential_type: str          # password | certificate | symmetric_key | federated
    object_type: str              # application | servicePrincipal
    object_id: str
    app_id: str
    app_name: str
    key_id: str
    display_name: Optional[str] = None
    hint: Optional[str] = None
    start: Optional[dt.datetime] = None
    end: Optional[dt.datetime] = None
    usage: Optional[str] = None
    key_type: Optional[str] = None
    issuer: Optional[str] = None
    subject: Optional[str] = None
    audiences: tuple = ()
    name: Optional[str] = None

    @property
    def is_secret(self):
        return self.credential_type in SECRET_TYPES


def credentials_of(graph_object, object_type):
    """Password and key credentials of an application or service principal, in Graph's order.

    A keyCredential of type Symmetric is a shared secret like a password (graph-wire-facts §1.3), so it
    is reported as a secret ("symmetric_key"); X.509 certificates are inventory only.
    """
    common = dict(object_type=object_type, object_id=graph_object.get("id") or "",
                  app_id=graph_object.get("appId") or "", app_name=graph_object.get("displayName") or "")
    for password in graph_object.get("passwordCredentials") or ():
        yield Credential(credential_type="password", key_id=password.get("keyId") or "",
                         display_name=password.get("displayName"), hint=password.get("hint"),
                         start=parse_time(password.get("startDateTime")),
                         end=parse_time(password.get("endDateTime")), **common)
    for key in graph_object.get("keyCredentials") or ():
        kind = "symmetric_key" if (key.get("type") or "").lower() == "symmetric" else "certificate"
        yield Credential(credential_type=kind, key_id=key.get("keyId") or "",
                         display_name=key.get("displayName"), start=parse_time(key.get("startDateTime")),
                         end=parse_time(key.get("endDateTime")), usage=key.get("usage"),
                         key_type=key.get("type"), **common)


def federated_credentials_of(application, records):
    for record in records:
        yield Credential(credential_type="federated", object_type="application",
                         object_id=application.get("id") or "", app_id=application.get("appId") or "",
                         app_name=application.get("displayName") or "", key_id=record.get("id") or "",
                         display_name=record.get("name"), name=record.get("name"),
                         issuer=record.get("issuer"), subject=record.get("subject"),
                         audiences=tuple(record.get("audiences") or ()))


@dataclass(frozen=True)
class Timing:
    never_expires: bool
    lifetime_days: Optional[float]
    age_days: Optional[float]
    days_to_expiry: Optional[float]
    expired: bool
    status: str                    # active | expired | not_yet_valid


def timing(credential, now):
    start, end = credential.start, credential.end
    never_expires = end is None or end.year >= NEVER_EXPIRES_YEAR
    if credential.credential_type == "federated":
        # a federated credential has no validity period: it is valid while it exists
        return Timing(False, None, None, None, False, "active")
    expired = end is not None and end <= now
    status = "expired" if expired else ("not_yet_valid" if start and start > now else "active")
    return Timing(
        never_expires=never_expires,
        lifetime_days=_days(end - start) if (start and end) else None,
        age_days=_days(now - start) if start else None,
        days_to_expiry=_days(end - now) if end else None,
        expired=expired, status=status)


# ---------------------------------------------------------------------------------------------- usage

BUCKETS_PER_WINDOW = 24   # use counts are kept in at most this many time buckets per key


def _bucket(moment, width_hours):
    """Start of the `width_hours`-wide bucket holding `moment`, as "YYYY-MM-DDTHH" (sortable text)."""
    hours_since_epoch = int(moment.timestamp() // 3600)
    start = hours_since_epoch - hours_since_epoch % width_hours
    return dt.datetime.fromtimestamp(start * 3600, UTC).strftime("%Y-%m-%dT%H")


@dataclass
class KeyUsage:
    """Aggregates of successful sign-ins with one credential key id."""
    last_used: Optional[str] = None           # ISO, all time (what Graph or the sign-ins told us)
    last_ip: Optional[str] = None
    hours: dict = field(default_factory=dict)  # bucket start "YYYY-MM-DDTHH" -> count, pruned to the window
    ips: dict = field(default_factory=dict)    # ip -> ISO last seen, capped, pruned to the window

    def to_state(self):
        return {"last_used": self.last_used, "last_ip": self.last_ip, "hours": self.hours, "ips": self.ips}

    @classmethod
    def from_state(cls, state):
        return cls(last_used=state.get("last_used"), last_ip=state.get("last_ip"),
                   hours=dict(state.get("hours") or {}), ips=dict(state.get("ips") or {}))


@dataclass(frozen=True)
class UsageSummary:
    last_used: Optional[str]
    use_count: int
    source_ips: tuple       # most recent first
    last_ip: Optional[str]


NO_USAGE = UsageSummary(None, 0, (), None)


class UsageTracker:
    """Per key id: last use, use count and source IPs inside a rolling window.

    Bounded by keys x (BUCKETS_PER_WINDOW + MAX_SOURCE_IPS_PER_KEY), whatever the number of sign-ins:
    counts sit in buckets of window/24 hours (1 hour for the default 24-hour window), so the window's
    edge is exact to one bucket.
    """

    def __init__(self, window_hours, state=None):
        self.window_hours = window_hours
        self.bucket_hours = max(1, -(-window_hours // BUCKETS_PER_WINDOW))
        self._keys = {key: KeyUsage.from_state(value) for key, value in (state or {}).items()}

    def add_signin(self, record):
        """Fold one Graph sign-in record in. Only successful sign-ins count as use of the key."""
        key_id = (record.get("servicePrincipalCredentialKeyId") or "").lower()
        when = parse_time(record.get("createdDateTime"))
        if not key_id or when is None or not _succeeded(record):
            return
        usage = self._keys.setdefault(key_id, KeyUsage())
        stamp = iso(when)
        ip = record.get("ipAddress") or None
        if usage.last_used is None or stamp >= usage.last_used:
            usage.last_used, usage.last_ip = stamp, ip or usage.last_ip
        bucket = _bucket(when, self.bucket_hours)
        usage.hours[bucket] = usage.hours.get(bucket, 0) + 1
        if ip and stamp >= usage.ips.get(ip, ""):
            usage.ips[ip] = stamp
            if len(usage.ips) > MAX_SOURCE_IPS_PER_KEY:
                oldest = min(usage.ips, key=usage.ips.get)
                del usage.ips[oldest]

    def note_last_use(self, key_id, last_used_iso):
        """Last use per key from Graph's credential activity report: keep whichever is newer."""
        when = parse_time(last_used_iso)
        if not key_id or when is None:
            return
        usage = self._keys.setdefault(key_id.lower(), KeyUsage())
        stamp = iso(when)
        if usage.last_used is None or stamp > usage.last_used:
            usage.last_used = stamp

    def prune(self, now):
        """Drop hours and IPs older than the window; keys that keep a last use stay."""
        horizon = now - dt.timedelta(hours=self.window_hours)
        first_bucket, first_stamp = _bucket(horizon, self.bucket_hours), iso(horizon)
        for key_id in list(self._keys):
            usage = self._keys[key_id]
            usage.hours = {bucket: count for bucket, count in usage.hours.items() if bucket >= first_bucket}
            usage.ips = {ip: seen for ip, seen in usage.ips.items() if seen >= first_stamp}

    def summary(self, key_id):
        usage = self._keys.get((key_id or "").lower())
        if usage is None:
            return NO_USAGE
        ordered_ips = tuple(sorted(usage.ips, key=lambda ip: (usage.ips[ip], ip), reverse=True))
        return UsageSummary(usage.last_used, sum(usage.hours.values()), ordered_ips, usage.last_ip)

    def to_state(self):
        return {key: usage.to_state() for key, usage in sorted(self._keys.items())}


def _succeeded(record):
    status = record.get("status") or {}
    return (status.get("errorCode") in (0, "0", None)) if isinstance(status, dict) else False


# -------------------------------------------------------------------------------------- app context

@dataclass(frozen=True)
class Permission:
    resource_app_id: str
    resource_name: str
    value: str

    @property
    def label(self):
        if self.resource_app_id == MICROSOFT_GRAPH_APP_ID or not self.resource_name:
            return self.value
        return f"{self.resource_name}: {self.value}"


@dataclass(frozen=True)
class AppContext:
    """What is known about one app identity (appId) in this tenant, shared by all its secrets."""
    app_id: str
    app_name: str
    application_object_id: Optional[str] = None
    service_principal_id: Optional[str] = None
    sign_in_audience: Optional[str] = None
    account_enabled: Optional[bool] = None      # None: no service principal in this tenant
    has_certificate: bool = False
    has_federated_credential: bool = False
    permissions: tuple = ()                     # Permission
    directory_roles: tuple = ()                 # role display names
    owners: tuple = ()                          # owner display names / UPNs
    is_collector_app: bool = False              # the add-on's own app (the account's client_id)
    collector_uses_secret: bool = False         # ...and the add-on signs in with a secret
    owned_by_other_tenant: bool = False         # the SP's appOwnerOrganizationId is another tenant

    @property
    def multi_tenant(self):
        return (self.sign_in_audience or "") in MULTI_TENANT_AUDIENCES or self.owned_by_other_tenant


def valid_certificate(credentials, now):
    return any(c.credential_type == "certificate" and not timing(c, now).expired for c in credentials)


@dataclass(frozen=True)
class SecretFacts:
    """Everything assess looks at for one secret."""
    credential: Credential
    context: AppContext
    timing: Timing
    usage: UsageSummary
    recently_added: bool
    window_hours: int = 24            # the window use counts and source IPs cover

    @property
    def on_service_principal(self):
        return self.credential.object_type == "servicePrincipal"


def secret_facts(credential, context, usage, now, recent_days, window_hours=24):
    when = timing(credential, now)
    recently_added = bool(credential.start and dt.timedelta(0) <= now - credential.start
                          <= dt.timedelta(days=recent_days))
    return SecretFacts(credential=credential, context=context, timing=when, usage=usage,
                       recently_added=recently_added, window_hours=window_hours)


# ------------------------------------------------------------------------ kept between runs (state)

def credential_to_state(credential):
    state = dataclasses.asdict(credential)
    state.update(start=iso_precise(credential.start), end=iso_precise(credential.end),
                 audiences=list(credential.audiences))
    return state


def credential_from_state(state):
    return Credential(**{**state, "start": parse_time(state.get("start")), "end": parse_time(state.get("end")),
                         "audiences": tuple(state.get("audiences") or ())})


def context_to_state(context):
    state = dataclasses.asdict(context)
    state.update(permissions=[dataclasses.astuple(p) for p in context.permissions],
                 directory_roles=list(context.directory_roles), owners=list(context.owners))
    return state


def context_from_state(state):
    return AppContext(**{**state, "permissions": tuple(Permission(*p) for p in state.get("permissions") or ()),
                         "directory_roles": tuple(state.get("directory_roles") or ()),
                         "owners": tuple(state.get("owners") or ())})
