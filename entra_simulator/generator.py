"""The generated tenant: TenantData built on demand from (size, seed, now).

Index spaces (see ids.py for how an id carries its index):
- service principals 0..S-1: the first `app_count` belong to this tenant's applications (same index),
  then Microsoft's first-party ones (Microsoft Graph, Exchange Online, Azure Portal), then service
  principals of third-party multi-tenant apps and managed identities;
- applications 0..app_count-1: 0, 1, 2 are the collector, responder and limited sign-in apps;
- sign-ins 0..N-1, oldest first (signins.py).
Nothing is stored per object except a small LRU of plans; the lists kept in memory (directory-role
holders, recent credential changes) are bounded by what a real tenant keeps small.
"""
from __future__ import annotations

import tempfile
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from functools import lru_cache
from typing import Iterator

from . import catalog, profiles, resources, timefmt
from .audits import credential_audit
from .certs_identity import identity_certificate, write_identity_pem
from .ids import IdCodec, Kind, b64url_decode, guid_from_bytes_le
from .model import IDENTITY_NAMES, SIZES, AppIdentity, TenantData
from .plans import Credential, ObjectPlan, build_credentials, derived_secret
from .randomness import mix
from .signins import Event, SigninContext, Timeline, build_record, event_for, service_principal_ip
from .truth import Usage, expected_secret

SIGNIN_WINDOW = timedelta(days=30)        # P1/P2 retention (graph-wire-facts.md 2.3)
SIGNIN_LAG = timedelta(seconds=90)        # the newest record is this much older than `now`
AUDIT_WINDOW = timedelta(days=30)
PLAN_CACHE_SIZE = 6_000     # holds every plan of a medium tenant (a few MiB); large ones stream through it
FIRST_PARTY = profiles.first_party_profiles()
_USER_FIRST = ("Adele", "Alex", "Diego", "Grady", "Isaiah", "Johanna", "Lee", "Lidia", "Megan", "Miriam",
               "Nestor", "Patti", "Pradeep", "Irvin", "Lynne", "Joni")
_USER_LAST = ("Vance", "Wilber", "Siciliani", "Archie", "Langer", "Lauridsen", "Gu", "Holloway", "Bowen",
              "Graham", "Wilke", "Fernandez", "Gupta", "Sayers", "Robbins", "Sherman")
_JOB_TITLES = ("Cloud Engineer", "IT Administrator", "Developer", "Security Analyst", None)


@dataclass(frozen=True)
class SizeSpec:
    app_count: int
    extra_count: int        # service principals without an application here (first-party included)
    user_count: int
    signin_count: int


def size_spec(size: str) -> SizeSpec:
    if size == "demo":
        apps = len(IDENTITY_NAMES) + len(profiles.demo_profiles())
        extras = len(FIRST_PARTY) + len(profiles.demo_extra_profiles())
        return SizeSpec(apps, extras, 16, (apps + extras) * 40)
    if size == "medium":
        return SizeSpec(5_000, 60, 400, 50_000)
    if size == "large":
        return SizeSpec(100_000, 300, 5_000, 1_000_000)
    raise ValueError(f"unknown tenant size {size!r}; choose one of {', '.join(SIZES)}")


class GeneratedTenant(TenantData):
    def __init__(self, size: str, seed: int = 7, now: datetime | None = None, workdir: str | None = None):
        spec = size_spec(size)
        self.size, self.seed = size, seed
        self.now = (now or datetime.now(timezone.utc)).astimezone(timezone.utc).replace(microsecond=0)
        self.codec = IdCodec(seed)
        self.tenant_id = self.codec.guid(Kind.TENANT, 0)
        self.subscription_id = self.codec.guid(Kind.TENANT, 1)
        self.domain = f"contoso{seed}.onmicrosoft.com"
        self.application_count = spec.app_count
        self.service_principal_count = spec.app_count + spec.extra_count
        self.user_count = spec.user_count
        self.signin_count = spec.signin_count
        self.workdir = workdir or tempfile.mkdtemp(prefix="entra-simulator-")
        self.timeline = Timeline(spec.signin_count, self.service_principal_count,
                                 self.now - SIGNIN_WINDOW, self.now - SIGNIN_LAG, seed)
        self._first_party_index = {p.fixed_app_id: spec.app_count + n for n, p in enumerate(FIRST_PARTY)}
        self.microsoft_graph_sp_id = self.codec.guid(Kind.SERVICE_PRINCIPAL, self._first_party_index[catalog.MICROSOFT_GRAPH_APP_ID])
        self.exchange_sp_id = self.codec.guid(Kind.SERVICE_PRINCIPAL, self._first_party_index[catalog.EXCHANGE_ONLINE_APP_ID])
        self._certificates = {name: identity_certificate(seed, name, profiles.IDENTITY_DISPLAY_NAMES[name],
                                                         (self.now - timedelta(days=20)).replace(hour=0, minute=0, second=0))
                              for name in IDENTITY_NAMES}
        self.plan = lru_cache(maxsize=PLAN_CACHE_SIZE)(self._build_plan)
        self.identities = {name: self._identity(n, name) for n, name in enumerate(IDENTITY_NAMES)}
        self.signin_context = SigninContext(
            self.codec, seed, self.tenant_id, self.microsoft_graph_sp_id, self.exchange_sp_id,
            self.codec.guid(Kind.SERVICE_PRINCIPAL, self._first_party_index[catalog.AZURE_PORTAL_APP_ID]),
            self.user_count, self.user_name, self.subscription_id)
        self._role_holders = None
        self._recent_changes = None

    # ---- plans ---------------------------------------------------------------------------------
    def profile(self, sp_index: int) -> profiles.Profile:
        if sp_index < len(IDENTITY_NAMES):
            return profiles.identity_profile(IDENTITY_NAMES[sp_index])
        if sp_index < self.application_count:
            if self.size == "demo":
                return profiles.demo_profiles()[sp_index - len(IDENTITY_NAMES)]
            return profiles.random_profile(self.seed, sp_index)
        extra = sp_index - self.application_count
        if extra < len(FIRST_PARTY):
            return FIRST_PARTY[extra]
        if self.size == "demo":
            return profiles.demo_extra_profiles()[extra - len(FIRST_PARTY)]
        return profiles.random_extra_profile(self.seed, extra)

    def _build_plan(self, sp_index: int) -> ObjectPlan:
        profile = self.profile(sp_index)
        app_index = sp_index if sp_index < self.application_count else None
        overrides = {"certificate": self._certificates[profile.identity]} if profile.identity else None
        owner_tenant = {"app": self.tenant_id, "first_party": catalog.MICROSOFT_SERVICES_TENANT_ID,
                        "external": self.codec.guid(Kind.EXTERNAL_TENANT, sp_index % 7),
                        "managed_identity": None}[profile.kind]
        # a deterministic time of day, so creation times do not all share `now`'s clock time
        created = (self.now - timedelta(days=profile.created_days_ago, seconds=mix(self.seed, sp_index) % 86_400))
        return ObjectPlan(
            sp_index=sp_index, app_index=app_index, profile=profile,
            app_object_id=self.codec.guid(Kind.APPLICATION, app_index) if app_index is not None else None,
            sp_object_id=self.codec.guid(Kind.SERVICE_PRINCIPAL, sp_index),
            app_id=profile.fixed_app_id or self.codec.guid(Kind.APP_ID, sp_index),
            created=created, owner_tenant_id=owner_tenant,
            credentials=build_credentials(self.codec, self.seed, self.now, sp_index, app_index, profile, overrides))

    def _identity(self, index: int, name: str) -> AppIdentity:
        plan = self.plan(index)
        certificate = self._certificates[name]
        secret = next(c for c in plan.credentials if c.kind == "password")
        key = next(c for c in plan.credentials if c.kind == "key")
        return AppIdentity(
            name=name, client_id=plan.app_id, app_object_id=plan.app_object_id, sp_object_id=plan.sp_object_id,
            display_name=plan.display_name, certificate_path=write_identity_pem(self.workdir, name, certificate),
            certificate_pem=certificate.certificate_pem, thumbprint_sha1=certificate.thumbprint_sha1,
            thumbprint_sha256=certificate.thumbprint_sha256, secret=derived_secret(self.seed, secret.key_id),
            secret_key_id=secret.key_id, certificate_key_id=key.key_id, roles=profiles.IDENTITY_ROLES[name])

    def _sp_index(self, object_id) -> int | None:
        index = self.codec.index_of(object_id, Kind.SERVICE_PRINCIPAL)
        return index if index is not None and index < self.service_principal_count else None

    def _app_index(self, object_id) -> int | None:
        index = self.codec.index_of(object_id, Kind.APPLICATION)
        return index if index is not None and index < self.application_count else None

    def _index_by_app_id(self, app_id) -> int | None:
        if isinstance(app_id, str) and app_id.lower() in self._first_party_index:
            return self._first_party_index[app_id.lower()]
        index = self.codec.index_of(app_id, Kind.APP_ID)
        if index is None or index >= self.service_principal_count or self.plan(index).profile.fixed_app_id:
            return None
        return index

    # ---- directory objects ---------------------------------------------------------------------
    def iter_applications(self) -> Iterator[dict]:
        for index in range(self.application_count):
            yield resources.application(self.plan(index), self.domain)

    def iter_service_principals(self) -> Iterator[dict]:
        for index in range(self.service_principal_count):
            yield self._service_principal_json(index)

    def _service_principal_json(self, index: int) -> dict:
        return resources.service_principal(self.plan(index), self.domain, self.subscription_id)

    def application(self, object_id):
        index = self._app_index(object_id)
        return None if index is None else resources.application(self.plan(index), self.domain)

    def application_by_app_id(self, app_id):
        index = self._index_by_app_id(app_id)
        if index is None or index >= self.application_count:
            return None
        return resources.application(self.plan(index), self.domain)

    def service_principal(self, object_id):
        index = self._sp_index(object_id)
        return None if index is None else self._service_principal_json(index)

    def service_principal_by_app_id(self, app_id):
        index = self._index_by_app_id(app_id)
        return None if index is None else self._service_principal_json(index)

    def federated_credentials(self, app_object_id):
        index = self._app_index(app_object_id)
        if index is None:
            return []
        return [resources.federated_identity_credential(c) for c in self.plan(index).federated()]

    def app_role_assignments(self, sp_object_id):
        index = self._sp_index(sp_object_id)
        if index is None:
            return []
        plan = self.plan(index)
        graph = [resources.app_role_assignment(plan, catalog.GRAPH_ROLE_BY_VALUE[name], self.microsoft_graph_sp_id,
                                               "Microsoft Graph") for name in plan.profile.graph_permissions]
        exchange = [resources.app_role_assignment(plan, catalog.EXCHANGE_ROLE_BY_VALUE[name], self.exchange_sp_id,
                                                  "Office 365 Exchange Online")
                    for name in plan.profile.exchange_permissions]
        return graph + exchange

    def owners(self, object_id):
        app_index = self._app_index(object_id)
        sp_index = self._sp_index(object_id)
        index = app_index if app_index is not None else sp_index
        if index is None:
            return []
        count = self.plan(index).profile.owner_count
        if sp_index is not None:
            count = min(count, 1)     # service principals rarely have more than the creator as owner
        return [self._user_json(self._owner_user_index(index, n)) for n in range(count)]

    def _owner_user_index(self, index: int, ordinal: int) -> int:
        return (index * 7 + ordinal * 3 + self.seed) % self.user_count

    # ---- users -----------------------------------------------------------------------------------
    def user_name(self, index: int) -> tuple[str, str]:
        """(display name, userPrincipalName) of user `index`."""
        first = _USER_FIRST[index % len(_USER_FIRST)]
        last = _USER_LAST[(index // len(_USER_FIRST)) % len(_USER_LAST)]
        suffix = "" if index < len(_USER_FIRST) * len(_USER_LAST) else str(index)
        return f"{first} {last}", f"{first}.{last}{suffix}@{self.domain}".lower()

    def _user_json(self, index: int) -> dict:
        display_name, upn = self.user_name(index)
        return resources.user(self.codec.guid(Kind.USER, index), display_name, upn,
                              _JOB_TITLES[index % len(_JOB_TITLES)])

    def user(self, object_id):
        index = self.codec.index_of(object_id, Kind.USER)
        return None if index is None or index >= self.user_count else self._user_json(index)

    # ---- directory roles -------------------------------------------------------------------------
    def _holders(self) -> list[tuple[str, str]]:
        """(roleDefinitionId, principalId) for every directory role assignment; small in any tenant."""
        if self._role_holders is None:
            self._scan_profiles()
        return self._role_holders

    def _scan_profiles(self):
        """One pass over every profile for the two tenant-wide lists (role holders, credential changes)."""
        holders = [(catalog.GLOBAL_ADMINISTRATOR, self.codec.guid(Kind.USER, 0))]
        changes = []
        for index in range(self.service_principal_count):
            profile = self.profile(index)
            if profile.directory_roles:
                sp_id = self.codec.guid(Kind.SERVICE_PRINCIPAL, index)
                holders.extend((role, sp_id) for role in profile.directory_roles)
            changes.extend(self._changes_of(index, profile))
        changes.sort(key=lambda change: (change[0], change[1], change[3]), reverse=True)
        self._role_holders, self._recent_changes = holders, changes

    def iter_role_assignments(self, principal_id=None):
        if principal_id is not None:
            index = self._sp_index(principal_id)
            if index is not None:
                for role in self.profile(index).directory_roles:
                    yield resources.role_assignment(role, principal_id)
                return
        for role, holder in self._holders():
            if principal_id is None or holder == str(principal_id).lower():
                yield resources.role_assignment(role, holder)

    def role_assignment(self, assignment_id):
        if not isinstance(assignment_id, str) or not assignment_id.endswith("-1"):
            return None
        try:
            raw = b64url_decode(assignment_id[:-2])
        except ValueError:
            return None
        if len(raw) != 32:
            return None
        role, principal = guid_from_bytes_le(raw[:16]), guid_from_bytes_le(raw[16:])
        return next((a for a in self.iter_role_assignments(principal) if a["roleDefinitionId"] == role), None)

    def role_definition(self, role_definition_id):
        role = catalog.DIRECTORY_ROLE_BY_ID.get(str(role_definition_id).lower())
        return None if role is None else resources.role_definition(role)

    def iter_role_definitions(self):
        return (resources.role_definition(role) for role in catalog.DIRECTORY_ROLES)

    # ---- sign-ins ----------------------------------------------------------------------------------
    def _event(self, index: int) -> tuple[ObjectPlan, int, datetime, Event]:
        actor, round_number = self.timeline.actor_round(index)
        plan = self.plan(actor)
        moment = self.timeline.moment(index)
        return plan, round_number, moment, event_for(plan, round_number, moment)

    def _record(self, index: int) -> dict:
        plan, round_number, moment, event = self._event(index)
        return build_record(self.signin_context, index, timefmt.seconds(moment), plan, round_number, event)

    def iter_signins(self, start=None, end=None, event_types=None):
        """Newest first. `event_types` (e.g. {"servicePrincipal"}) keeps records whose signInEventTypes
        include one of them, deciding before the record is built (a server filtering on
        signInEventTypes/any(...) saves the cost of the records it would drop)."""
        wanted = None if event_types is None else frozenset(event_types)
        for index in reversed(self.timeline.index_range(start, end)):
            plan, round_number, moment, event = self._event(index)
            if wanted is None or event.sign_in_event_type in wanted:
                yield build_record(self.signin_context, index, timefmt.seconds(moment), plan, round_number, event)

    def signin_index_range(self, start=None, end=None) -> range:
        """Oldest-first index range for a createdDateTime window (for servers that page by index)."""
        return self.timeline.index_range(start, end)

    def signin_at(self, index: int) -> dict:
        return self._record(index)

    def signin(self, signin_id):
        index = self.codec.index_of(signin_id, Kind.SIGN_IN)
        return None if index is None or index >= self.signin_count else self._record(index)

    def make_signin(self, sp_object_id, key_id=None, when=None, success=True, ip_address=None, sequence=0):
        index = self._sp_index(sp_object_id)
        if index is None:
            raise KeyError(f"no service principal {sp_object_id}")
        plan = self.plan(index)
        when = (when or self.now).astimezone(timezone.utc)
        event = Event("invalid_secret") if not success else Event("credential", self._credential_for(plan, key_id))
        record_index = (1 << 39) + sequence
        return build_record(self.signin_context, record_index, timefmt.seconds(when), plan, 0, event,
                            record_id=self.codec.guid(Kind.SIGN_IN, record_index), ip_override=ip_address)

    @staticmethod
    def _credential_for(plan: ObjectPlan, key_id) -> Credential:
        if key_id is None:
            found = next((c for c in plan.credentials if c.kind == "password"), None)
            if found is None:
                raise ValueError(f"service principal {plan.sp_object_id} has no client secret")
            return found
        found = next((c for c in plan.credentials if c.key_id == str(key_id).lower()), None)
        # a secret added at run time (addPassword) is not in the plan: sign in with its keyId anyway
        return found or Credential("password", str(key_id).lower(), 0, False, None, None, None, True)

    def _replay(self, plan: ObjectPlan) -> dict[str, Usage]:
        """keyId -> Usage, from replaying the actor's rounds (no sign-in record is built)."""
        usage = {}
        for round_number in self.timeline.rounds_of(plan.sp_index):
            index = self.timeline.index_of(plan.sp_index, round_number)
            event = event_for(plan, round_number, self.timeline.moment(index))
            if event.kind != "credential":
                continue
            entry = usage.setdefault(event.credential.key_id, Usage(event.credential, index))
            entry.last_index = index
            entry.addresses.add(service_principal_ip(self.seed, plan, round_number))
        return usage

    def iter_credential_activities(self):
        for index in range(self.service_principal_count):
            plan = self.plan(index)
            for usage in self._replay(plan).values():
                if usage.credential.kind != "federated":
                    yield resources.credential_activity(
                        plan, usage.credential, self.microsoft_graph_sp_id,
                        timefmt.seconds(self.timeline.moment(usage.last_index)),
                        self.codec.guid(Kind.SIGN_IN, usage.last_index))

    # ---- audits ------------------------------------------------------------------------------------
    def _changes(self) -> list[tuple[datetime, int, str, int]]:
        """(time, sp_index, action, ordinal) for credential changes in the audit window, newest first."""
        if self._recent_changes is None:
            self._scan_profiles()
        return self._recent_changes

    def _changes_of(self, index: int, profile: profiles.Profile) -> list[tuple[datetime, int, str, int]]:
        since = self.now - AUDIT_WINDOW
        recent = any(spec.start_days_ago <= AUDIT_WINDOW.days + 1 for spec in profile.secrets + profile.certificates)
        if not (recent or profile.removed_secret_days_ago):
            return []         # nothing changed in the window: skip building the plan
        changes = [(credential.start, index, "added", position)
                   for position, credential in enumerate(self.plan(index).credentials)
                   if credential.kind != "federated" and since <= credential.start <= self.now]
        for position, days_ago in enumerate(profile.removed_secret_days_ago):
            moment = self.now - timedelta(days=days_ago)
            if since <= moment <= self.now:
                changes.append((moment, index, "removed", position))
        return changes

    def iter_directory_audits(self):
        for moment, index, action, position in self._changes():
            yield credential_audit(self, self.plan(index), moment, action, position)

    # ---- ground truth ------------------------------------------------------------------------------
    def expected_secrets(self):
        for index in range(self.service_principal_count):
            plan = self.plan(index)
            secrets = [c for c in plan.credentials if c.kind == "password"]
            if secrets:
                usage = self._replay(plan)
                for credential in secrets:
                    yield expected_secret(plan, credential, usage.get(credential.key_id), self.now)


def generate_tenant(size: str, seed: int = 7, now: datetime | None = None, workdir: str | None = None) -> GeneratedTenant:
    return GeneratedTenant(size, seed=seed, now=now, workdir=workdir)


def describe(tenant: GeneratedTenant) -> Iterator[str]:
    """One line per client secret with its ground-truth traits: what a reader of the demo should find."""
    names = {}
    for index in range(tenant.service_principal_count):
        plan = tenant.plan(index)
        names[plan.app_id] = plan.display_name
    for expected in tenant.expected_secrets():
        name = (names.get(expected.app_id) or "").encode("unicode_escape").decode("ascii")[:60]
        yield f"{name:<60} {expected.object_type:<16} {expected.key_id}  {', '.join(sorted(expected.traits))}"


if __name__ == "__main__":      # python -m entra_simulator.generator [demo|medium|large] [seed]
    import sys

    arguments = sys.argv[1:]
    chosen = generate_tenant(arguments[0] if arguments else "demo", seed=int(arguments[1]) if len(arguments) > 1 else 7)
    print(f"tenant {chosen.tenant_id} ({chosen.size}): {chosen.application_count} applications, "
          f"{chosen.service_principal_count} service principals, {chosen.signin_count} sign-ins")
    for line in describe(chosen):
        print(line)
