"""Walk the Graph collections in streams.py, page by page, and yield records.

The harvester only reads: it knows which requests to send (the streams table) and which failures to
record and step over. The work is split by job: collection walks and the delta check are here,
per-object detail reads (batched 20 to a $batch) are graph/details.py's `DetailReader`, and the sign-in
cursor is graph/signin_cursor.py. What to do with the records is scan.py's job. Errors are collected
as {stage, code, message, request_id} for the harvest health event; they never carry a token.
"""
from connector.graph import streams
from connector.graph.details import DEFAULT_APP_ROLE_ID, DetailReader  # noqa: F401 - re-exported
from connector.graph.signin_cursor import SigninCursor  # noqa: F401 - scan.py imports it from here
from connector.errors import DeltaTokenExpired, GraphError, error_record
from connector.logs import get_logger

log = get_logger("connector.graph.harvest")


class Harvester:
    def __init__(self, client):
        self.client = client
        self.errors = []
        self.details = DetailReader(client, self.errors)

    def record_error(self, stage, error):
        entry = error_record(stage, error)
        self.errors.append(entry)
        return entry

    # ------------------------------------------------------------------------------ per object

    def per_object(self, stream, object_ids):
        """Yield (object_id, [items] or a single object or None) for each id (graph/details.py)."""
        return self.details.per_object(stream, object_ids)

    def permissions(self, assignments_by_sp):
        """{sp id: [(resource appId, resource name, permission value)]} (graph/details.py)."""
        return self.details.permissions(assignments_by_sp)

    # ------------------------------------------------------------------------------- collections

    def _items(self, stream, **params):
        return self.client.iter_items(stream.path, params=stream.params(**params), api=stream.api,
                                      headers=stream.headers or None)

    def applications(self):
        return self._items(streams.APPLICATIONS)

    def service_principals(self):
        return self._items(streams.SERVICE_PRINCIPALS)

    def federated_credential_holder_pages(self):
        """Pages of {id, appId, displayName}: every application holding a federated credential."""
        stream = streams.FEDERATED_CREDENTIAL_HOLDERS
        for page in self.client.iter_pages(stream.path, params=stream.params(), api=stream.api,
                                           headers=stream.headers):
            yield page.items

    def role_assignments(self, principal_ids):
        """{principalId: [role display name]} for the given principals; the tenant's list is read once.
        A 403 (no RoleManagement.Read.Directory) is recorded, not fatal."""
        wanted = {principal.lower() for principal in principal_ids}
        found = {}
        if not wanted:
            return found
        try:
            for assignment in self._items(streams.ROLE_ASSIGNMENTS):
                principal = (assignment.get("principalId") or "").lower()
                if principal in wanted:
                    definition = assignment.get("roleDefinition") or {}
                    found.setdefault(principal, []).append(definition.get("displayName")
                                                           or assignment.get("roleDefinitionId"))
        except GraphError as error:
            self.record_error("role_assignments", error)
        return found

    # ------------------------------------------------------------------------------------ delta

    def delta_links(self):
        """{collection: deltaLink} marking "now" for applications and service principals
        ($deltatoken=latest, graph-wire-facts §1.6); None when Graph refuses (then no cache)."""
        links = {}
        for collection in ("applications", "servicePrincipals"):
            try:
                pages = list(self.client.iter_pages(f"/{collection}/delta", params={"$deltatoken": "latest"}))
            except GraphError as error:
                # delta only saves requests: without it every run harvests in full, which is no error
                log.warning("harvest.delta_unavailable", collection=collection, error=str(error))
                return None
            links[collection] = pages[-1].delta_link if pages else None
        return links if all(links.values()) else None

    def unchanged_since(self, links):
        """Fresh links when no application or service principal changed since `links`; None when
        something did, the links expired (410) or Graph refused."""
        fresh = {}
        for collection, link in links.items():
            try:
                for page in self.client.iter_delta(f"/{collection}/delta", delta_link=link):
                    if page.items:
                        return None
                    fresh[collection] = page.delta_link or fresh.get(collection)
            except GraphError as error:
                if not isinstance(error, DeltaTokenExpired):
                    log.warning("harvest.delta_unavailable", collection=collection, error=str(error))
                return None
        return fresh if all(fresh.values()) else None

    # ---------------------------------------------------------------------------------- sign-ins

    def signin_pages(self, lower_iso, upper_iso):
        """Pages of service-principal sign-ins in [lower, upper], newest first (Graph's order)."""
        params = streams.SIGNINS.params(**{"$filter": streams.signin_filter(lower_iso, upper_iso)})
        return self.client.iter_pages(streams.SIGNINS.path, params=params, api=streams.SIGNINS.api)

    def credential_activity(self):
        """Yield (keyId, lastSignInDateTime) from beta reports/appCredentialSignInActivities.

        Optional: a tenant without the report (national cloud, licence, permission) just derives last use
        from sign-ins; the failure is recorded so the health event says why.
        """
        stream = streams.APP_CREDENTIAL_ACTIVITY
        try:
            for item in self.client.iter_items(stream.path, params=stream.params(), api=stream.api):
                activity = item.get("signInActivity") or {}
                if item.get("keyId") and activity.get("lastSignInDateTime"):
                    yield item["keyId"], activity["lastSignInDateTime"]
        except GraphError as error:
            self.record_error("app_credential_activity", error)


