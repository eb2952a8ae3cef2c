""""Test connection": sign in as an account and compare the Microsoft Graph application permissions its
app holds with the ones the add-on needs.

What the app holds comes from Graph itself, not from the token: the app's own service principal
(`GET /servicePrincipals(appId='<client id>')`), its app role assignments
(`GET /servicePrincipals/{id}/appRoleAssignments`), each resolved to a permission name through the
resource service principal's `appRoles` (Microsoft Graph's appId is 00000003-0000-0000-c000-000000000000).
Reading them needs Application.Read.All, which the collector needs anyway; an app without it gets a
report that says so instead of a guess.

Each need lists the permissions that satisfy it, least privileged first (Microsoft Graph's permissions
reference: a ReadWrite permission or Directory.Read.All also grants the read). The README's permission
table says the same thing for people.
"""
from dataclasses import dataclass, field

from connector.errors import AddonError, GraphError
from connector.wellknown import MICROSOFT_GRAPH_APP_ID


@dataclass(frozen=True)
class Need:
    purpose: str
    satisfied_by: tuple      # permission values, least privileged first

    def met_by(self, held):
        return any(permission in held for permission in self.satisfied_by)


# the inputs (collector)
COLLECTOR_NEEDS = (
    Need("applications, service principals and their credentials",
         ("Application.Read.All", "Application.ReadWrite.OwnedBy", "Application.ReadWrite.All", "Directory.Read.All")),
    Need("service-principal sign-ins", ("AuditLog.Read.All",)),
    Need("owners and directory role memberships", ("Directory.Read.All",)),
    Need("directory role assignments of service principals",
         ("RoleManagement.Read.Directory", "RoleManagement.Read.All", "Directory.Read.All")),
)
# the response actions: remove a secret, disable or enable an app
RESPONDER_NEEDS = (
    Need("removing secrets and disabling apps", ("Application.ReadWrite.OwnedBy", "Application.ReadWrite.All")),
)
ROLE_NEEDS = {"collector": COLLECTOR_NEEDS, "responder": RESPONDER_NEEDS}


@dataclass(frozen=True)
class PermissionReport:
    account: str
    held: tuple = ()                      # Microsoft Graph application permissions, sorted
    missing: tuple = ()                   # the Needs no held permission satisfies
    problem: str = ""                     # a sentence when the check could not complete
    other_resources: tuple = field(default=())   # (resource name, permission) held on other APIs

    @property
    def ok(self):
        return not self.problem and not self.missing

    def sentence(self):
        """One sentence for the admin: what is missing and what to grant, or that all is there."""
        if self.problem:
            return self.problem
        held = ", ".join(self.held) or "no Microsoft Graph application permission"
        if not self.missing:
            return f"Account {self.account!r} signed in and holds every Graph permission it needs ({held})."
        wanted = "; ".join(f"{need.satisfied_by[0]} for {need.purpose}" for need in self.missing)
        return (f"Account {self.account!r} signed in but lacks Graph application permissions: {wanted} "
                f"(it holds {held}); add them under API permissions and grant admin consent.")


def check_permissions(client, account, needs=COLLECTOR_NEEDS, alternatives=()):
    """The report for `account`, through an open GraphClient (whose first request signs in). With
    `alternatives` (other tuples of Needs), holding every need of one of them is enough."""
    try:
        principal = client.get(f"/servicePrincipals(appId='{account.client_id}')",
                               params={"$select": "id,appId,displayName"})
    except GraphError as error:
        if error.status == 403:
            return PermissionReport(account.name, missing=tuple(needs), problem=(
                f"Account {account.name!r} signed in but cannot read its own service principal, so it lacks "
                f"Application.Read.All; add it under API permissions and grant admin consent."))
        if error.status == 404:
            return PermissionReport(account.name, missing=tuple(needs), problem=(
                f"Account {account.name!r} signed in but tenant {account.tenant_id} has no service principal "
                f"for client_id {account.client_id}; grant admin consent to the app in that tenant."))
        raise
    held, other = _held_permissions(client, principal["id"])
    missing = tuple(need for need in needs if not need.met_by(held))
    if any(all(need.met_by(held) for need in other_needs) for other_needs in alternatives):
        missing = ()
    return PermissionReport(account.name, held=tuple(sorted(held)), missing=missing, other_resources=other)


def _held_permissions(client, principal_id):
    """({Graph permission values}, ((resource name, permission), ...) for other APIs)."""
    roles_of = {}
    held, other = set(), []
    for assignment in client.iter_items(f"/servicePrincipals/{principal_id}/appRoleAssignments"):
        resource_id = assignment.get("resourceId")
        if resource_id not in roles_of:
            resource = client.get(f"/servicePrincipals/{resource_id}", params={"$select": "id,appId,displayName,appRoles"})
            roles_of[resource_id] = (resource.get("appId"), resource.get("displayName") or "",
                                     {(r.get("id") or "").lower(): r.get("value") for r in resource.get("appRoles") or ()})
        app_id, name, roles = roles_of[resource_id]
        value = roles.get((assignment.get("appRoleId") or "").lower())
        if not value:
            continue  # the default role (all zeros) or a role the resource no longer publishes
        if app_id == MICROSOFT_GRAPH_APP_ID:
            held.add(value)
        else:
            other.append((name, value))
    return held, tuple(sorted(other))


def run_connection_test(account, role="collector", open_client=None):
    """Sign in as `account` and report its permissions against `role` ("collector", "responder", or
    "either": a collector's needs, or else a responder's); a sign-in or Graph failure becomes the
    report's problem sentence (AddonError messages are already redacted and say what to fix)."""
    if open_client is None:
        from connector.graph.client import open_client
    needs, alternatives = (COLLECTOR_NEEDS, (RESPONDER_NEEDS,)) if role == "either" else (ROLE_NEEDS[role], ())
    try:
        with open_client(account) as client:
            return check_permissions(client, account, needs, alternatives)
    except AddonError as error:
        return PermissionReport(account.name, problem=f"Account {account.name!r}: test connection failed: {error}")
