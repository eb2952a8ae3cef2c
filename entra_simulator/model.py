"""The simulated tenant's interface: what the server, the tests and the benchmarks read.

The tenant is never materialised. Every object is rebuilt on demand from (seed, index), and every id
encodes its index (see ids.py), so lookups are O(1) and iterating a 100,000-app tenant or a
1,000,000-sign-in log holds one object at a time. The implementation lives in generator.py.
"""
from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import dataclass
from datetime import datetime
from typing import Iterator

SIZES = ("demo", "medium", "large")

# Facts about one client secret that tests compare the add-on's findings with. Each trait is a fact
# about the generated tenant, not a judgement:
TRAITS = frozenset({
    "high_privilege_permission",   # the secret's service principal holds a high-risk app role (catalog.high_risk)
    "directory_role",              # ... or a directory role assignment
    "on_service_principal",        # the secret sits on the servicePrincipal object, not the application
    "never_expires",               # endDateTime in year 2299 or 9999
    "long_lifetime",               # finite, endDateTime - startDateTime > 730 days
    "expired",                     # endDateTime < tenant.now
    "unused",                      # no sign-in record in the log carries this keyId
    "used",                        # at least one successful sign-in with this keyId in the log
    "many_source_ips",             # its successful sign-ins come from >= 5 distinct IP addresses
    "recently_added",              # startDateTime within 7 days before tenant.now
    "has_certificate",             # the same object also has a keyCredential
    "has_federated_credential",    # the application has a federated identity credential
    "multi_tenant",                # signInAudience AzureADMultipleOrgs / ...PersonalMicrosoftAccount, or owned by another tenant
    "disabled_service_principal",  # the service principal has accountEnabled false
    "collector_app",               # it belongs to one of the add-on's own sign-in apps
})

IDENTITY_NAMES = ("collector", "responder", "limited")


@dataclass(frozen=True)
class AppIdentity:
    """An app that can sign in to the simulator."""
    name: str                 # "collector" | "responder" | "limited"
    client_id: str            # appId GUID
    app_object_id: str
    sp_object_id: str
    display_name: str
    certificate_path: str     # PEM file: RSA private key + certificate
    certificate_pem: str      # the certificate alone (public), for the server to verify assertions
    thumbprint_sha1: str      # hex, lowercase
    thumbprint_sha256: str    # hex, lowercase
    secret: str               # a client secret value valid for this app (40 chars, Entra's format)
    secret_key_id: str        # keyId of that passwordCredential on its application object
    certificate_key_id: str   # keyId of the certificate's keyCredential on its application object
    roles: tuple[str, ...]    # Microsoft Graph application permissions granted

    def __repr__(self):       # the secret never reaches a log through repr()
        return f"AppIdentity(name={self.name!r}, client_id={self.client_id!r})"


@dataclass(frozen=True)
class ExpectedSecret:
    """Ground truth for one client secret (passwordCredential) in the tenant."""
    object_type: str          # "application" | "servicePrincipal"
    object_id: str
    app_id: str
    key_id: str
    traits: frozenset[str]


class TenantData(ABC):
    """Read-only, lazily generated tenant. All returned dicts are fresh copies the caller may modify."""

    tenant_id: str
    domain: str
    size: str
    seed: int
    now: datetime             # reference time (UTC); sign-ins end shortly before it
    identities: dict[str, AppIdentity]
    application_count: int
    service_principal_count: int
    signin_count: int
    microsoft_graph_sp_id: str

    @abstractmethod
    def iter_applications(self) -> Iterator[dict]:
        """v1.0 application JSON, all default properties, stable order."""

    @abstractmethod
    def iter_service_principals(self) -> Iterator[dict]:
        """v1.0 servicePrincipal JSON, stable order; includes Microsoft Graph's own SP with its appRoles."""

    @abstractmethod
    def application(self, object_id: str) -> dict | None: ...

    @abstractmethod
    def application_by_app_id(self, app_id: str) -> dict | None: ...

    @abstractmethod
    def service_principal(self, object_id: str) -> dict | None: ...

    @abstractmethod
    def service_principal_by_app_id(self, app_id: str) -> dict | None: ...

    @abstractmethod
    def federated_credentials(self, app_object_id: str) -> list[dict]: ...

    @abstractmethod
    def app_role_assignments(self, sp_object_id: str) -> list[dict]:
        """appRoleAssignment JSON: the app roles granted TO this service principal."""

    @abstractmethod
    def owners(self, object_id: str) -> list[dict]:
        """directoryObject JSON (users, service principals) owning an application or service principal."""

    @abstractmethod
    def iter_role_assignments(self, principal_id: str | None = None) -> Iterator[dict]:
        """unifiedRoleAssignment JSON, all of them or those of one principal."""

    @abstractmethod
    def role_assignment(self, assignment_id: str) -> dict | None: ...

    @abstractmethod
    def role_definition(self, role_definition_id: str) -> dict | None: ...

    @abstractmethod
    def iter_role_definitions(self) -> Iterator[dict]: ...

    @abstractmethod
    def iter_signins(self, start: datetime | None = None, end: datetime | None = None,
                     event_types=None) -> Iterator[dict]:
        """beta signIn records, newest first, createdDateTime in [start, end]; all kinds unless
        event_types (e.g. {"servicePrincipal"}) narrows them to records whose signInEventTypes match."""

    @abstractmethod
    def signin(self, signin_id: str) -> dict | None: ...

    @abstractmethod
    def make_signin(self, sp_object_id: str, key_id: str | None = None, when: datetime | None = None,
                    success: bool = True, ip_address: str | None = None, sequence: int = 0) -> dict:
        """A new service-principal sign-in record (not part of iter_signins) for "sign-ins arrive between
        runs" tests. key_id picks the credential (passwordCredential or keyCredential keyId; None: the
        first client secret); `sequence` makes the record id unique among run-time records."""

    @abstractmethod
    def iter_credential_activities(self) -> Iterator[dict]:
        """beta appCredentialSignInActivity, one per credential that has signed in."""

    @abstractmethod
    def iter_directory_audits(self) -> Iterator[dict]:
        """directoryAudit records for credentials added/removed in the last 30 days, newest first."""

    @abstractmethod
    def expected_secrets(self) -> Iterator[ExpectedSecret]:
        """Ground truth: one entry per passwordCredential in the tenant, in object order."""

    @abstractmethod
    def user(self, object_id: str) -> dict | None: ...


def generate_tenant(size: str, seed: int = 7, now: datetime | None = None,
                    workdir: str | None = None) -> TenantData:
    """Build a tenant of `size` ("demo" | "medium" | "large"); cheap: objects are made on demand.

    `now` fixes the reference time (default: the current UTC time, to the second); `workdir` receives
    the identity apps' PEM files (default: a new temporary directory).
    """
    from .generator import generate_tenant as _generate   # generator imports this module
    return _generate(size, seed=seed, now=now, workdir=workdir)
