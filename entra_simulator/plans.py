"""From a profile and an index to concrete ids, credentials and times: one object's plan.

A plan is everything the JSON builders, the sign-in timeline and the ground truth need to agree on,
computed once from (seed, index). Plans are cheap and cached in a small LRU by the tenant.
"""
from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import datetime, timedelta

from . import timefmt
from .ids import CREDENTIAL_SLOTS, IdCodec, Kind
from .profiles import Profile

SECRET_ALPHABET = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_-.~"


@dataclass(frozen=True)
class Credential:
    kind: str                   # "password" | "key" | "federated"
    key_id: str                 # keyId (password/key) or the federated credential id
    ordinal: int
    on_service_principal: bool
    display_name: str | None
    start: datetime | None
    end: datetime | None
    intended_use: bool
    tick: int = 0                           # the 7th fractional digit Graph prints
    seed: int = 0                           # passwords: derives the hint
    key_type: str | None = None             # keys: AsymmetricX509Cert | Symmetric
    usage: str | None = None                # keys: Verify | Sign
    thumbprint_sha1: str | None = None      # keys: hex
    never_expires_year: int | None = None   # 2299 | 9999 for never-expiring secrets
    federated: object = None                # FederatedSpec

    # Text forms are computed on demand: the sign-in log needs the times, not their spelling.
    @property
    def start_text(self) -> str | None:
        return None if self.start is None else timefmt.seven_digits(self.start, self.tick)

    @property
    def end_text(self) -> str | None:
        if self.never_expires_year:
            return timefmt.NEVER_EXPIRES_TEXT[self.never_expires_year]
        return None if self.end is None else timefmt.seven_digits(self.end, self.tick)

    @property
    def never_expires(self) -> bool:
        return self.never_expires_year is not None

    @property
    def hint(self) -> str | None:
        return derived_secret(self.seed, self.key_id)[:3] if self.kind == "password" else None

    def valid_at(self, moment: datetime) -> bool:
        if self.kind == "federated":
            return True
        return self.start <= moment <= self.end


@dataclass(frozen=True)
class ObjectPlan:
    sp_index: int
    app_index: int | None       # None: a service principal with no application in this tenant
    profile: Profile
    app_object_id: str | None
    sp_object_id: str
    app_id: str
    created: datetime
    owner_tenant_id: str | None
    credentials: tuple[Credential, ...]

    @property
    def display_name(self):
        return self.profile.display_name

    def passwords(self, on_service_principal: bool):
        return [c for c in self.credentials if c.kind == "password" and c.on_service_principal == on_service_principal]

    def keys(self, on_service_principal: bool):
        return [c for c in self.credentials if c.kind == "key" and c.on_service_principal == on_service_principal]

    def federated(self):
        return [c for c in self.credentials if c.kind == "federated"]


def derived_secret(seed: int, key_id: str) -> str:
    """A 40-character secret in Entra's shape (three characters, `8Q~`, 34 more) for a keyId."""
    digest = hashlib.sha512(f"secret/{seed}/{key_id}".encode()).digest()
    chars = [SECRET_ALPHABET[b % len(SECRET_ALPHABET)] for b in digest[:37]]
    return "".join(chars[:3]) + "8Q~" + "".join(chars[3:37])


def _fraction(seed: int, key: str) -> tuple[int, int]:
    """Deterministic sub-day offset (seconds) and 7th digit so credential times look organic."""
    digest = hashlib.blake2b(f"{seed}/{key}".encode(), digest_size=8).digest()
    return int.from_bytes(digest[:4], "big") % 86400, digest[4] % 10


def _moment(now: datetime, days_ago: float, seed: int, key: str) -> tuple[datetime, int]:
    offset, tick = _fraction(seed, key)
    base = now - timedelta(days=days_ago)
    micro = (offset * 7919) % 1_000_000
    return base.replace(hour=0, minute=0, second=0, microsecond=0) + timedelta(seconds=offset, microseconds=micro), tick


def build_credentials(codec: IdCodec, seed: int, now: datetime, sp_index: int, app_index: int | None,
                      profile: Profile, identity_overrides: dict | None = None) -> tuple[Credential, ...]:
    """Credentials in the order Graph lists them; identity_overrides pins the identity apps' certificate."""
    identity_overrides = identity_overrides or {}
    credentials = []
    owner_index = {False: app_index if app_index is not None else sp_index, True: sp_index}
    counters = {}

    def next_ordinal(kind_key):
        counters[kind_key] = counters.get(kind_key, -1) + 1
        if counters[kind_key] >= CREDENTIAL_SLOTS:
            raise ValueError("too many credentials of one kind on one object")
        return counters[kind_key]

    for spec in profile.secrets:
        on_sp = spec.on_service_principal or app_index is None
        ordinal = next_ordinal(("password", on_sp))
        kind = Kind.PASSWORD_ON_SERVICE_PRINCIPAL if on_sp else Kind.PASSWORD_ON_APPLICATION
        key_id = codec.guid(kind, owner_index[on_sp] * CREDENTIAL_SLOTS + ordinal)
        start, tick = _moment(now, spec.start_days_ago, seed, key_id)
        if spec.lifetime_days is None:
            end, year = timefmt.NEVER_EXPIRES_DATETIME[spec.never_expires_year], spec.never_expires_year
        else:
            end, year = start + timedelta(days=spec.lifetime_days), None
        credentials.append(Credential("password", key_id, ordinal, on_sp, spec.display_name, start, end, spec.used,
                                      tick=tick, seed=seed, never_expires_year=year))
    for spec in profile.certificates:
        on_sp = spec.on_service_principal or app_index is None
        ordinal = next_ordinal(("key", on_sp))
        kind = Kind.KEY_ON_SERVICE_PRINCIPAL if on_sp else Kind.KEY_ON_APPLICATION
        key_id = codec.guid(kind, owner_index[on_sp] * CREDENTIAL_SLOTS + ordinal)
        certificate = identity_overrides.get("certificate") if ordinal == 0 and not on_sp else None
        if certificate is not None:
            start, end, tick = certificate.not_before, certificate.not_after, 0
            thumbprint = certificate.thumbprint_sha1
        else:
            start, tick = _moment(now, spec.start_days_ago, seed, key_id)
            end = start + timedelta(days=spec.lifetime_days)
            thumbprint = hashlib.sha1(f"cert/{seed}/{key_id}".encode()).hexdigest()
        credentials.append(Credential("key", key_id, ordinal, on_sp, spec.display_name, start, end, spec.used,
                                      tick=tick, key_type=spec.key_type, usage=spec.usage, thumbprint_sha1=thumbprint))
    for ordinal, spec in enumerate(profile.federated):
        fic_id = codec.guid(Kind.FEDERATED_CREDENTIAL, owner_index[False] * CREDENTIAL_SLOTS + ordinal)
        credentials.append(Credential("federated", fic_id, ordinal, False, spec.name, None, None, spec.used,
                                      federated=spec))
    return tuple(credentials)
