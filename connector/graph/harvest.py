"""Walk the Graph collections in streams.py, page by page, and yield records.

The harvester only reads: it knows which requests to send (the streams table), how to batch per-object
reads 20 to a $batch, and which failures to record and step over (one app whose owners 404 must not end
the run). What to do with the records is scan.py's job. Errors are collected as
{stage, code, message, request_id} for the harvest health event; they never carry a token.
"""
import datetime as dt

from connector.graph import streams
from connector.times import iso, iso_precise, parse_time
from connector.errors import DeltaTokenExpired, GraphError, scrub
from connector.logs import get_logger

log = get_logger("connector.graph.harvest")

DEFAULT_APP_ROLE_ID = "00000000-0000-0000-0000-000000000000"   # "default access": no permission


class Harvester:
    def __init__(self, client):
        self.client = client
        self.errors = []
        self._resource_roles = {}      # resource SP id -> {appRoleId: (appId, displayName, value)}

    def record_error(self, stage, error):
        if isinstance(error, GraphError):
            entry = {"stage": stage, "code": error.code or str(error.status or ""), "message": str(error),
                     "request_id": error.request_id}
        else:
            entry = {"stage": stage, "code": type(error).__name__, "message": str(error), "request_id": None}
        self.errors.append(entry)
        return entry

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

    # ------------------------------------------------------------------------------ per object

    def per_object(self, stream, object_ids):
        """Yield (object_id, [items] or a single object or None) for each id, 20 ids to a $batch.

        An inner error is recorded and yields None for that object; a collection that spills past one
        page follows its nextLink with ordinary GETs (rare: an app with more than 999 assignments).
        """
        pending = list(dict.fromkeys(object_ids))
        for start in range(0, len(pending), streams.BATCH_MAX):
            chunk = pending[start:start + streams.BATCH_MAX]
            requests = [{"id": str(index), "method": "GET", "url": stream.url(object_id)}
                        for index, object_id in enumerate(chunk)]
            try:
                answers = self.client.batch(requests, api=stream.api)
            except GraphError as error:
                self.record_error(stream.name, error)
                for object_id in chunk:
                    yield object_id, None
                continue
            for index, object_id in enumerate(chunk):
                yield object_id, self._batch_answer(stream, object_id, answers.get(str(index)))

    def _batch_answer(self, stream, object_id, answer):
        if not answer:
            self.errors.append({"stage": stream.name, "code": "missingBatchResponse",
                                "message": f"no answer for {stream.path.format(id=object_id)}", "request_id": None})
            return None
        status, body = answer.get("status"), answer.get("body") or {}
        if not isinstance(status, int) or not 200 <= status < 300:
            error = body.get("error") if isinstance(body, dict) else None
            error = error if isinstance(error, dict) else {}
            inner = error.get("innerError") or error.get("innererror") or {}
            self.errors.append({
                "stage": stream.name, "code": error.get("code") or str(status),
                "message": scrub(f"GET {stream.path.format(id=object_id)} HTTP {status}: {error.get('message') or ''}"),
                "request_id": inner.get("request-id") if isinstance(inner, dict) else None})
            return None
        if "value" not in body:
            return body
        items = list(body.get("value") or [])
        next_link = body.get("@odata.nextLink")
        if next_link:
            try:
                items.extend(self.client.iter_items(next_link, api=stream.api))
            except GraphError as error:
                self.record_error(stream.name, error)
        return items

    def permissions(self, assignments_by_sp):
        """{sp id: [(resource appId, resource name, permission value)]} resolved through each resource
        service principal's appRoles, read once per resource (batched)."""
        resources = {a.get("resourceId") for items in assignments_by_sp.values() for a in items or ()}
        unknown = [resource for resource in resources if resource and resource not in self._resource_roles]
        for resource_id, resource in self.per_object(streams.RESOURCE_APP_ROLES, unknown):
            roles = {}
            if isinstance(resource, dict):
                for role in resource.get("appRoles") or ():
                    roles[(role.get("id") or "").lower()] = (resource.get("appId") or "",
                                                              resource.get("displayName") or "",
                                                              role.get("value") or role.get("displayName") or "")
            self._resource_roles[resource_id] = roles
        resolved = {}
        for sp_id, items in assignments_by_sp.items():
            names = []
            for assignment in items or ():
                role_id = (assignment.get("appRoleId") or "").lower()
                if not role_id or role_id == DEFAULT_APP_ROLE_ID:
                    continue
                known = self._resource_roles.get(assignment.get("resourceId"), {}).get(role_id)
                if known:
                    names.append(known)
                else:
                    # an app role the resource no longer publishes: keep the id so it is not hidden
                    names.append(("", assignment.get("resourceDisplayName") or "", role_id))
            resolved[sp_id] = names
        return resolved

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


# --------------------------------------------------------------------------------- sign-in cursor

class SigninCursor:
    """Where the sign-in read stands, so a restart neither loses nor repeats a sign-in.

    Graph returns sign-ins newest first, so a run cannot simply remember "read up to here" per page.
    The state says instead:
      high_water  newest createdDateTime read (or the top of the last finished range);
      recent      {id: createdDateTime} read at or after high_water - overlap - margin: the next run
                  re-reads from high_water - overlap (late-arriving sign-ins) and skips these;
      gap         the still-unread bottom [lower, upper] of a range a crash interrupted, with the ids
                  already read inside it ({id: createdDateTime}, bounded by the overlap and one second).
    All three stay bounded by the sign-in rate times the overlap, never by the size of a run. The caller
    commits `to_state()` after each page's events were written and flushed (commit after write).
    """

    MARGIN = dt.timedelta(minutes=1)

    def __init__(self, state, *, now, lookback_hours, overlap_minutes, max_catch_up_days=30):
        state = state or {}
        self.now = now
        self.overlap = dt.timedelta(minutes=overlap_minutes)
        self.high_water = parse_time(state.get("high_water"))
        self.recent = dict(state.get("recent") or {})
        gap = state.get("gap")
        self.gap = dict(gap) if gap else None
        if self.high_water is None:
            self.first_lower = now - dt.timedelta(hours=lookback_hours)
        else:
            # never further back than Graph keeps sign-ins (30 days with P1/P2)
            self.first_lower = max(self.high_water - self.overlap, now - dt.timedelta(days=max_catch_up_days))
        self.newest_seen = None
        self._previous_page = set()     # paging is consistent, but a replayed page must not repeat

    def ranges(self):
        """Yield (lower, upper, skip) to read this run: an interrupted range's rest first, then the new one.

        `skip` holds the ids read before this range that it covers again; it is taken when the range
        starts (a generator), so what the first range read is skipped by the second.
        """
        if self.gap:
            yield (parse_time(self.gap["lower"]), parse_time(self.gap["upper"]),
                   {**(self.gap.get("skip") or {}), **self.recent})
        yield (self.first_lower, self.now, dict(self.recent))

    def already_read(self, record_id, skip):
        return record_id in skip or record_id in self._previous_page

    def page_read(self, lower, records, skip):
        """Account for one page (already written). Returns nothing; updates the state to commit."""
        times = [(record_id, when) for record_id, when in
                 ((r.get("id"), parse_time(r.get("createdDateTime"))) for r in records) if record_id and when]
        if not times:
            return
        newest = max(when for _, when in times)
        oldest = min(when for _, when in times)
        self.newest_seen = max(self.newest_seen or newest, newest)
        if self.high_water is None or newest > self.high_water:
            self.high_water = newest
        for record_id, when in times:
            self.recent[record_id] = iso_precise(when)
        self._previous_page = {record_id for record_id, _ in times}
        # The rest of this range is [lower, ceil(oldest)]; ids read up to that second are skipped there.
        upper = _ceil_second(oldest)
        upper_stamp = iso_precise(upper)
        previous = (self.gap or {}).get("skip") or {}
        carried = {record_id: stamp for record_id, stamp in {**skip, **previous, **self.recent}.items()
                   if stamp <= upper_stamp}
        self.gap = {"lower": iso(lower), "upper": iso(upper), "skip": carried}
        self._prune_recent()

    def range_done(self, upper):
        self.gap = None
        self._previous_page = set()
        if self.high_water is None or upper > self.high_water:
            self.high_water = upper
        self._prune_recent()

    def _prune_recent(self):
        horizon = iso_precise(self.high_water - self.overlap - self.MARGIN)
        self.recent = {record_id: stamp for record_id, stamp in self.recent.items() if stamp >= horizon}

    def to_state(self):
        return {"high_water": iso_precise(self.high_water) if self.high_water else None,
                "recent": self.recent, "gap": self.gap}


def _ceil_second(value):
    floor = value.replace(microsecond=0)
    return floor if floor == value else floor + dt.timedelta(seconds=1)
