"""Per-object detail reads: owners, app role assignments, federated credentials, resources' app roles.

One request per object, sent 20 to a $batch (graph/streams.py mode "per_object"). An inner error is
recorded and steps over that object only: one app whose owners 404 must not end the run.
"""
from connector.graph import streams
from connector.errors import GraphError, error_record, scrub

DEFAULT_APP_ROLE_ID = "00000000-0000-0000-0000-000000000000"   # "default access": no permission


class DetailReader:
    """Batched per-object reads for one harvest; errors go to the harvest's list (shared, in order)."""

    def __init__(self, client, errors):
        self._client = client
        self._errors = errors
        self._resource_roles = {}      # resource SP id -> {appRoleId: (appId, displayName, value)}

    def _record_error(self, stage, error):
        self._errors.append(error_record(stage, error))

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
                answers = self._client.batch(requests, api=stream.api)
            except GraphError as error:
                self._record_error(stream.name, error)
                for object_id in chunk:
                    yield object_id, None
                continue
            for index, object_id in enumerate(chunk):
                yield object_id, self._batch_answer(stream, object_id, answers.get(str(index)))

    def _batch_answer(self, stream, object_id, answer):
        if not answer:
            self._errors.append({"stage": stream.name, "code": "missingBatchResponse",
                                "message": f"no answer for {stream.path.format(id=object_id)}", "request_id": None})
            return None
        status, body = answer.get("status"), answer.get("body") or {}
        if not isinstance(status, int) or not 200 <= status < 300:
            error = body.get("error") if isinstance(body, dict) else None
            error = error if isinstance(error, dict) else {}
            inner = error.get("innerError") or error.get("innererror") or {}
            self._errors.append({
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
                items.extend(self._client.iter_items(next_link, api=stream.api))
            except GraphError as error:
                self._record_error(stream.name, error)
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
