"""The table of Microsoft Graph collections the harvest reads.

One place says which path, API version, fields and page size each read uses, so the request shape can
be reviewed (and benchmarked) without reading the walking code. Field lists hold only what correlate,
assess and the inventory events use; everything else Graph would send is bytes we pay for and drop.
Facts: ../shared/docs/graph-wire-facts.md (section numbers below).
"""
from dataclasses import dataclass, field
from typing import Optional

DIRECTORY_PAGE_MAX = 999   # applications / servicePrincipals maximum page size (§1.5)
SIGNIN_PAGE_MAX = 1000     # beta auditLogs/signIns maximum page size (§2.1)
BATCH_MAX = 20             # JSON $batch requests per call (§5)



@dataclass(frozen=True)
class Stream:
    name: str
    path: str
    api: str = "v1.0"
    select: tuple = ()
    top: Optional[int] = None
    # "list": one paged collection for the tenant; "per_object": one request per object, sent in $batch
    mode: str = "list"
    extra: dict = field(default_factory=dict)
    headers: dict = field(default_factory=dict)    # sent with every page (advanced queries need them each time)

    def params(self, **overrides):
        """Query parameters for the first request (nextLinks carry them afterwards)."""
        params = dict(self.extra)
        if self.select:
            params["$select"] = ",".join(self.select)
        if self.top:
            params["$top"] = str(self.top)
        params.update({key: value for key, value in overrides.items() if value is not None})
        return params

    def url(self, object_id=None):
        """Relative URL for a $batch request: no version prefix, per §5."""
        path = self.path.format(id=object_id) if object_id is not None else self.path
        query = "&".join(f"{key}={value}" for key, value in self.params().items())
        return f"{path}?{query}" if query else path


CREDENTIAL_FIELDS = ("passwordCredentials", "keyCredentials")

APPLICATIONS = Stream(
    name="applications", path="/applications",
    select=("id", "appId", "displayName", "signInAudience", "createdDateTime") + CREDENTIAL_FIELDS,
    top=DIRECTORY_PAGE_MAX)

SERVICE_PRINCIPALS = Stream(
    name="service_principals", path="/servicePrincipals",
    select=("id", "appId", "displayName", "accountEnabled", "servicePrincipalType",
            "appOwnerOrganizationId", "signInAudience") + CREDENTIAL_FIELDS,
    top=DIRECTORY_PAGE_MAX)

# The applications that hold a federated identity credential, whether or not they hold a secret, in one
# paged list: the relationship "Supports $expand and $filter (startsWith, /$count eq 0, /$count ne 0)"
# (application resource), and counting a relationship is an advanced query that needs the
# ConsistencyLevel: eventual header and $count=true (§1.5; MGD concepts/aad-advanced-queries.md).
# Eventually consistent: a credential added minutes ago may show on the next run.
FEDERATED_CREDENTIAL_HOLDERS = Stream(
    name="federated_credential_holders", path="/applications", select=("id", "appId", "displayName"),
    top=DIRECTORY_PAGE_MAX, extra={"$filter": "federatedIdentityCredentials/$count ne 0", "$count": "true"},
    headers={"ConsistencyLevel": "eventual"})

# Per-object reads, batched 20 to a request: federated credentials of the holders listed above; the
# rest only for objects that hold a client secret.
FEDERATED_CREDENTIALS = Stream(
    name="federated_credentials", path="/applications/{id}/federatedIdentityCredentials",
    select=("id", "name", "issuer", "subject", "audiences"), mode="per_object")

APP_ROLE_ASSIGNMENTS = Stream(
    name="app_role_assignments", path="/servicePrincipals/{id}/appRoleAssignments",
    select=("id", "appRoleId", "resourceId", "resourceDisplayName", "principalId"),
    top=DIRECTORY_PAGE_MAX, mode="per_object")

# Owners are directoryObjects of several types (users, service principals): select only what all have
# or the user has; a property of another type in $select is a 400.
APPLICATION_OWNERS = Stream(
    name="application_owners", path="/applications/{id}/owners",
    select=("id", "displayName", "userPrincipalName"), top=DIRECTORY_PAGE_MAX, mode="per_object")

# The resource an appRoleId belongs to (Microsoft Graph itself, usually), read once per resource.
RESOURCE_APP_ROLES = Stream(
    name="resource_app_roles", path="/servicePrincipals/{id}",
    select=("id", "appId", "displayName", "appRoles"), mode="per_object")

# Directory roles: the tenant's assignments are few, so one paged read beats one read per principal;
# the role's name comes along through $expand (graph-wire-facts §4).
ROLE_ASSIGNMENTS = Stream(
    name="role_assignments", path="/roleManagement/directory/roleAssignments",
    select=("id", "principalId", "roleDefinitionId", "directoryScopeId"),
    extra={"$expand": "roleDefinition"})

# Service-principal sign-ins exist only in beta and only with the event-type filter (§2.1).
SIGNINS = Stream(name="signins", path="/auditLogs/signIns", api="beta", top=SIGNIN_PAGE_MAX)

APP_CREDENTIAL_ACTIVITY = Stream(
    name="app_credential_activity", path="/reports/appCredentialSignInActivities", api="beta")

STREAMS = {stream.name: stream for stream in (
    APPLICATIONS, SERVICE_PRINCIPALS, FEDERATED_CREDENTIAL_HOLDERS, FEDERATED_CREDENTIALS, APP_ROLE_ASSIGNMENTS, APPLICATION_OWNERS,
    RESOURCE_APP_ROLES, ROLE_ASSIGNMENTS, SIGNINS, APP_CREDENTIAL_ACTIVITY)}


def signin_filter(lower_iso, upper_iso):
    """The documented form of the service-principal sign-in filter (graph-wire-facts §2.1)."""
    return (f"(createdDateTime ge {lower_iso} and createdDateTime le {upper_iso}) "
            f"and signInEventTypes/any(t: t eq 'servicePrincipal')")
