"""The tenant as it is now: the generated TenantData plus what happened since.

Writes never copy the tenant. They are kept as a small overlay (removed keyIds, added password
credentials, accountEnabled flips) applied to an object on the way out, and a change log that delta
queries read. Sign-ins that happen at run time (a test adds them, or the simulator records its own
token requests) sit beside the generated log. Tests use the same object to check what a response
action did.
"""

from __future__ import annotations
import bisect
import datetime
import hashlib
import secrets
import threading
import uuid
from entra_simulator import timefmt
from dataclasses import dataclass

APPLICATIONS, SERVICE_PRINCIPALS = "applications", "servicePrincipals"


@dataclass(frozen=True)
class Change:
    sequence: int
    collection: str   # APPLICATIONS or SERVICE_PRINCIPALS
    object_id: str
    at: datetime.datetime


def graph_timestamp(moment):
    """Graph's DateTimeOffset: UTC, 7 fractional digits as in Microsoft's examples, trailing Z."""
    return moment.astimezone(datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%f") + "0Z"


def parse_timestamp(text):
    """Graph's DateTimeOffset text -> aware datetime (Python 3.11 reads the 7th fractional digit)."""
    return timefmt.parse(text)


def _two_years_after(moment):
    try:
        return moment.replace(year=moment.year + 2)
    except ValueError:  # 29 February
        return moment.replace(year=moment.year + 2, day=28)


def _secret_digest(secret_text):
    return hashlib.sha256(secret_text.encode("utf-8")).hexdigest()


class TenantState:
    """Thread-safe overlay of writes on one TenantData."""

    def __init__(self, tenant, clock=None):
        self.tenant = tenant
        self._clock = clock or (lambda: datetime.datetime.now(datetime.timezone.utc))
        self._lock = threading.Lock()
        self.reset()

    def reset(self):
        """Forget every write: the tenant is as generated again."""
        with self._lock:
            self.epoch = uuid.uuid4().hex[:12]  # delta tokens from before a reset are stale
            self._removed_keys = {}       # object id -> set of keyIds
            self._added_passwords = {}    # object id -> list of passwordCredential (secretText None)
            self._added_secret_digests = {}  # sha256(secretText) -> (object id, keyId), to sign in with
            self._account_enabled = {}    # service principal object id -> bool
            self._deleted = {}            # object id -> collection, deleted (soft: Graph keeps them in deletedItems)
            self._changes = []
            self._sequence = 0
            self._signins = []            # (createdDateTime, record) of run-time sign-ins, oldest first

    # ---- reads -------------------------------------------------------------------------------
    def _lookup(self, collection, object_id):
        if collection == APPLICATIONS:
            return self.tenant.application(object_id)
        return self.tenant.service_principal(object_id)

    def get(self, collection, object_id):
        """The object as Graph would return it now, or None."""
        original = self._lookup(collection, object_id)
        return None if original is None else self.apply(collection, original)

    def apply(self, collection, original):
        """Overlay the writes on one generated object (None once deleted); the original is never modified."""
        object_id = original.get("id")
        with self._lock:
            if object_id in self._deleted:
                return None
            removed = self._removed_keys.get(object_id)
            added = self._added_passwords.get(object_id)
            enabled = self._account_enabled.get(object_id) if collection == SERVICE_PRINCIPALS else None
        if not removed and not added and enabled is None:
            return original
        current = dict(original)
        if removed or added:
            current["passwordCredentials"] = (
                [cred for cred in original.get("passwordCredentials") or [] if cred.get("keyId") not in (removed or ())]
                + [dict(cred) for cred in added or ()])
        if enabled is not None:
            current["accountEnabled"] = enabled
        return current

    def removed_key_ids(self, object_id):
        with self._lock:
            return frozenset(self._removed_keys.get(object_id, ()))

    def added_key_ids(self, object_id):
        with self._lock:
            return [cred["keyId"] for cred in self._added_passwords.get(object_id, ())]

    def account_enabled(self, sp_object_id):
        """accountEnabled of a service principal now (None if it does not exist)."""
        current = self.get(SERVICE_PRINCIPALS, sp_object_id)
        return None if current is None else current.get("accountEnabled")

    def password_key_ids(self, collection, object_id):
        current = self.get(collection, object_id)
        return [cred["keyId"] for cred in (current or {}).get("passwordCredentials") or []]

    def added_secret_owner(self, secret_text):
        """(object id, keyId) of a secret created by addPassword, so the app can sign in with it."""
        with self._lock:
            return self._added_secret_digests.get(_secret_digest(secret_text))

    @property
    def sequence(self):
        with self._lock:
            return self._sequence

    def changes_since(self, collection, sequence):
        """Object ids changed after `sequence`, each once, oldest change first."""
        with self._lock:
            changed = [change for change in self._changes if change.sequence > sequence
                       and change.collection == collection]
        seen = {}
        for change in changed:
            seen.setdefault(change.object_id, change)
        return [change.object_id for change in seen.values()]

    def added_signins(self, start=None, end=None):
        """Run-time sign-ins with createdDateTime in [start, end], newest first (as Graph lists them)."""
        with self._lock:
            chosen = [record for moment, record in self._signins
                      if (start is None or moment >= start) and (end is None or moment <= end)]
        return chosen[::-1]

    @property
    def changes(self):
        with self._lock:
            return list(self._changes)

    def summary(self):
        """What writes changed, for assertions and the command line's state dump."""
        with self._lock:
            return {"removed_key_ids": {oid: sorted(keys) for oid, keys in self._removed_keys.items()},
                    "added_key_ids": {oid: [c["keyId"] for c in creds] for oid, creds in self._added_passwords.items()},
                    "account_enabled": dict(self._account_enabled),
                    "deleted": sorted(self._deleted),
                    "changes": len(self._changes)}

    # ---- writes ------------------------------------------------------------------------------
    def _record(self, collection, object_id):
        self._sequence += 1
        self._changes.append(Change(self._sequence, collection, object_id, self._clock()))

    def remove_password(self, collection, object_id, key_id):
        """removePassword. True when the key was there and is now gone; False when it was not there."""
        if key_id not in self.password_key_ids(collection, object_id):
            return False
        with self._lock:
            added = self._added_passwords.get(object_id, [])
            kept = [cred for cred in added if cred["keyId"] != key_id]
            if len(kept) != len(added):
                self._added_passwords[object_id] = kept
                for digest, (owner, added_key) in list(self._added_secret_digests.items()):
                    if owner == object_id and added_key == key_id:
                        del self._added_secret_digests[digest]
            else:
                self._removed_keys.setdefault(object_id, set()).add(key_id)
            self._record(collection, object_id)
        return True

    def add_password(self, collection, object_id, display_name=None, start=None, end=None):
        """addPassword: a new secret; the returned credential carries secretText, nothing else keeps it."""
        start = start or self._clock()
        end = end or _two_years_after(start)  # addPassword's documented default
        secret_text = secrets.token_urlsafe(30)[:40]  # 40 characters, like Entra's generated secrets
        credential = {"customKeyIdentifier": None, "displayName": display_name,
                      "endDateTime": graph_timestamp(end), "hint": secret_text[:3],
                      "keyId": str(uuid.uuid4()), "secretText": None, "startDateTime": graph_timestamp(start)}
        with self._lock:
            self._added_passwords.setdefault(object_id, []).append(credential)
            self._added_secret_digests[_secret_digest(secret_text)] = (object_id, credential["keyId"])
            self._record(collection, object_id)
        return {**credential, "secretText": secret_text}

    def delete(self, collection, object_id):
        """DELETE of an application or service principal. True if it existed and is now gone."""
        if self.get(collection, object_id) is None:
            return False
        with self._lock:
            self._deleted[object_id] = collection
            self._record(collection, object_id)
        return True

    def is_deleted(self, object_id):
        with self._lock:
            return object_id in self._deleted

    def deleted_count(self, collection):
        with self._lock:
            return sum(1 for deleted_from in self._deleted.values() if deleted_from == collection)

    def add_signin(self, record):
        """A sign-in that happens now (e.g. from TenantData.make_signin): served by auditLogs/signIns."""
        moment = parse_timestamp(record["createdDateTime"])
        with self._lock:
            position = bisect.bisect_right([stamp for stamp, _ in self._signins], moment)
            self._signins.insert(position, (moment, record))

    def set_account_enabled(self, sp_object_id, enabled):
        with self._lock:
            self._account_enabled[sp_object_id] = bool(enabled)
            self._record(SERVICE_PRINCIPALS, sp_object_id)
