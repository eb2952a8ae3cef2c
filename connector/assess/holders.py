"""The app identities that hold a client secret, gathered from the inventory, and the AppContext of each.

Pure: Graph records and already-read details in, AppContext out; no I/O, no clock (the run's `now` is
passed in). Only identities holding a secret are kept, compactly, so memory follows the number of
secrets, not of objects.
"""
import dataclasses
from dataclasses import dataclass, field

from connector.assess import correlate
from connector.assess.correlate import AppContext, Permission

APPLICATION_FIELDS = ("id", "displayName", "signInAudience")
SERVICE_PRINCIPAL_FIELDS = ("id", "displayName", "accountEnabled", "signInAudience", "appOwnerOrganizationId")


@dataclass
class SecretHolder:
    """One app identity (appId) that holds at least one secret, kept until its details arrive."""
    app_id: str
    app_name: str = ""
    application: dict = None          # {id, displayName, signInAudience}
    service_principal: dict = None    # {id, displayName, accountEnabled, signInAudience, appOwnerOrganizationId}
    secrets: list = field(default_factory=list)
    has_certificate: bool = False


@dataclass(frozen=True)
class Collector:
    """Who the add-on signs in as: its secrets are flagged is_collector_app (and collector_uses_secret)."""
    client_id: str
    auth_method: str
    tenant_id: str
    own_app_ids: frozenset = frozenset()

    @classmethod
    def of(cls, account, other_app_ids=()):
        client_id = (account.client_id or "").lower()
        return cls(client_id=client_id, auth_method=account.auth_method, tenant_id=account.tenant_id,
                   own_app_ids=frozenset(app_id.lower() for app_id in other_app_ids) | {client_id})

    def is_collector_app(self, app_id):
        return app_id.lower() in self.own_app_ids

    def uses_secret(self, app_id):
        return self.auth_method == "secret" and app_id.lower() == self.client_id

    def refresh(self, context):
        """A kept context with this run's collector flags: who the add-on signs in as may have changed."""
        return dataclasses.replace(context, is_collector_app=self.is_collector_app(context.app_id),
                                   collector_uses_secret=self.uses_secret(context.app_id))


@dataclass(frozen=True)
class Details:
    """The per-object reads of the secret holders, keyed as the harvester returns them."""
    federated: frozenset = frozenset()     # app ids with a federated credential
    owners: dict = field(default_factory=dict)        # app id -> (owner name, ...)
    permissions: dict = field(default_factory=dict)   # service principal id -> [(resource, ...)]
    roles: dict = field(default_factory=dict)         # lowercased service principal id -> [role name]


class SecretHolders:
    """The secret-holding identities of one inventory, by appId."""

    def __init__(self):
        self.by_app_id = {}
        self.certificate_app_ids = set()      # applications with a valid certificate

    def add_application(self, application, credentials, now):
        if correlate.valid_certificate(credentials, now):
            self.certificate_app_ids.add(application.get("appId"))
        secrets = [credential for credential in credentials if credential.is_secret]
        if secrets:
            holder = self._holder(application)
            holder.application = {key: application.get(key) for key in APPLICATION_FIELDS}
            holder.secrets.extend(secrets)

    def add_service_principal(self, principal, credentials, now):
        """Kept when it holds a secret itself or its application does (its details make the context)."""
        secrets = [credential for credential in credentials if credential.is_secret]
        if not secrets and principal.get("appId") not in self.by_app_id:
            return
        holder = self._holder(principal)
        holder.service_principal = {key: principal.get(key) for key in SERVICE_PRINCIPAL_FIELDS}
        holder.secrets.extend(secrets)
        holder.has_certificate = holder.has_certificate or any(
            c.credential_type == "certificate" and (c.usage or "").lower() == "verify"
            and not correlate.timing(c, now).expired for c in credentials)

    def _holder(self, graph_object):
        app_id = graph_object.get("appId") or ""
        holder = self.by_app_id.get(app_id)
        if holder is None:
            holder = self.by_app_id[app_id] = SecretHolder(app_id=app_id)
        holder.app_name = holder.app_name or graph_object.get("displayName") or ""
        return holder

    def application_objects(self):
        """{application object id: app id} of the holders that have an application object here."""
        return {h.application["id"]: app_id for app_id, h in self.by_app_id.items() if h.application}

    def service_principal_objects(self):
        return {h.service_principal["id"]: app_id for app_id, h in self.by_app_id.items() if h.service_principal}

    def applications_for_federated_reads(self, skip=()):
        """{object id: {id, displayName, signInAudience, appId}} of the holders' applications not in `skip`."""
        return {h.application["id"]: {**h.application, "appId": app_id} for app_id, h in self.by_app_id.items()
                if h.application and app_id not in skip}

    def contexts(self, details, collector):
        """(holder, AppContext) for every holder."""
        for holder in self.by_app_id.values():
            yield holder, context_of(holder, details, collector, self.certificate_app_ids)

    def __contains__(self, app_id):
        return app_id in self.by_app_id

    def __iter__(self):
        return iter(self.by_app_id.values())


def context_of(holder, details, collector, certificate_app_ids=()):
    """The AppContext the assessment needs for one secret holder; `certificate_app_ids`: applications
    holding a valid certificate (SecretHolders.certificate_app_ids)."""
    sp = holder.service_principal or {}
    app = holder.application or {}
    sp_id = sp.get("id")
    return AppContext(
        app_id=holder.app_id,
        app_name=holder.app_name,
        application_object_id=app.get("id"),
        service_principal_id=sp_id,
        sign_in_audience=app.get("signInAudience") or sp.get("signInAudience"),
        account_enabled=sp.get("accountEnabled") if sp else None,
        has_certificate=holder.has_certificate or holder.app_id in certificate_app_ids,
        has_federated_credential=holder.app_id in details.federated,
        permissions=tuple(Permission(*entry) for entry in details.permissions.get(sp_id, ())),
        directory_roles=tuple(sorted(set(details.roles.get((sp_id or "").lower(), ())))),
        owners=details.owners.get(holder.app_id, ()),
        is_collector_app=collector.is_collector_app(holder.app_id),
        collector_uses_secret=collector.uses_secret(holder.app_id),
        owned_by_other_tenant=foreign(sp.get("appOwnerOrganizationId"), collector.tenant_id))


def foreign(owner_tenant, tenant_id):
    """An app registered elsewhere; unknown when the account names its tenant by domain."""
    return bool(owner_tenant and correlate.is_guid(tenant_id) and owner_tenant.lower() != tenant_id.lower())
