"""Delta queries on /applications/delta and /servicePrincipals/delta (graph-wire-facts.md 1.6).

A first call starts a round over the whole collection: pages linked by `@odata.nextLink`
(`$skiptoken`), the last one carrying `@odata.deltaLink` (`$deltatoken`). The delta token remembers the
position in the tenant state's change log when the round began, so a later call returns every object
changed since (changes during the round come again: Graph also replays). Objects that no longer exist
come back as `{"id", "@removed": {"reason": "changed"}}` (soft-deleted, restorable, as a DELETE leaves
them) or `"deleted"` (gone for good). A token from before a state reset, or
expired by `Simulator.expire_delta_tokens()`, answers 410 Gone with a Location to start over.
"""

from __future__ import annotations
import time

from entra_simulator import graph_errors as errors
from entra_simulator.graph_errors import GraphError
from entra_simulator.odata import QuerySpec, apply_select, parse
from entra_simulator.paging import expired_page_token, link

DELTA_SPEC = QuerySpec("microsoft.graph.application", max_top=999, default_top=100, count=False,
                       filters={"id": ("eq",)})
DELTA_TOKEN_TTL_S = 7 * 24 * 3600  # directory delta tokens are valid for 7 days


class DeltaApi:
    def __init__(self, api, clock=time.time):
        self.api = api          # the GraphApi: tenant, state, pager and the shared list helpers
        self._clock = clock
        self.stale_before = 0.0

    def expire_tokens(self):
        """Every delta token issued so far becomes stale (410 on use)."""
        self.stale_before = self._clock() + 1e-6

    def serve(self, request, collection):
        options = request.options
        if "$deltatoken" in options:
            extra = set(options) - {"$deltatoken"}
            if extra:
                raise errors.bad_request("Query options must not be combined with $deltatoken; they are encoded "
                                         "in the token.")
            return self._changes(request, collection, options["$deltatoken"])
        if "$skiptoken" in options and set(options) != {"$skiptoken"}:
            raise errors.bad_request("Query options must not be combined with $skiptoken on delta; they are "
                                     "encoded in the token.")
        return self._round(request, collection)

    # A skip token of a delta round carries the round's query and its starting change sequence.
    def _round(self, request, collection):
        api, state, pager = self.api, self.api.state, self.api.pager
        route_key = f"{request.api}/{collection}/delta"
        if "$skiptoken" in request.options:
            token = request.options["$skiptoken"]
            cursor = pager.signer.decode(token)
            if cursor is None or cursor.get("route") != route_key:
                raise errors.bad_request("Invalid skip token: it is malformed or was not issued for this request.")
            if cursor.get("epoch") != state.epoch:
                raise self._gone(request, collection)
            if cursor.get("iat", 0) < pager.expired_before or time.time() - cursor.get("iat", 0) > pager.ttl_s:
                raise expired_page_token()
            query_options = cursor["options"]
        else:
            token, cursor, query_options = None, None, dict(request.options)
        query = parse(query_options, DELTA_SPEC)
        source = api._directory_source(collection)
        round_start = cursor["since"] if cursor else state.sequence

        def walk():
            return (self._present(item, query) for item in source(query))

        items, rest = pager.page(token, cursor, walk, query.top or DELTA_SPEC.default_top)
        body = {"@odata.context": api._context(request, collection)}
        if rest is not None:
            offset = (cursor or {}).get("offset", 0) + len(items)
            next_token = pager.issue({"route": route_key, "options": query_options, "offset": offset,
                                      "since": round_start, "epoch": state.epoch, "query": None})
            pager.remember(next_token, rest)
            body["@odata.nextLink"] = link(request.base_url, request.api, f"/{collection}/delta",
                                           {"$skiptoken": next_token})
        else:
            body["@odata.deltaLink"] = self._delta_link(request, collection, query_options, round_start)
        body["value"] = items
        return body

    def _delta_link(self, request, collection, query_options, sequence):
        token = self.api.pager.signer.encode({"route": f"{request.api}/{collection}/delta/changes",
                                              "options": query_options, "since": sequence,
                                              "epoch": self.api.state.epoch, "iat": self._clock()})
        return link(request.base_url, request.api, f"/{collection}/delta", {"$deltatoken": token})

    def _changes(self, request, collection, token):
        state = self.api.state
        if token == "latest":
            return {"@odata.context": self.api._context(request, collection), "value": [],
                    "@odata.deltaLink": self._delta_link(request, collection, {}, state.sequence)}
        cursor = self.api.pager.signer.decode(token)
        if cursor is None or cursor.get("route") != f"{request.api}/{collection}/delta/changes":
            raise errors.bad_request("Invalid delta token: it is malformed or was not issued for this request.")
        issued = cursor.get("iat", 0)
        if (cursor.get("epoch") != state.epoch or issued < self.stale_before
                or self._clock() - issued > DELTA_TOKEN_TTL_S):
            raise self._gone(request, collection)
        query = parse(cursor["options"], DELTA_SPEC)
        now = state.sequence
        changed = state.changes_since(collection, cursor["since"])
        items = []
        for object_id in changed:
            current = state.get(collection, object_id)
            if current is None:
                reason = "changed" if state.is_deleted(object_id) else "deleted"
                items.append({"id": object_id, "@removed": {"reason": reason}})
            else:
                items.append(self._present(current, query))
        # Changes are few (they come from this process's own writes), so they fit in one page.
        return {"@odata.context": self.api._context(request, collection),
                "@odata.deltaLink": self._delta_link(request, collection, cursor["options"], now),
                "value": items}

    def _present(self, item, query):
        return apply_select(self.api._hide_certificate_keys(item, query), query.select)

    @staticmethod
    def _gone(request, collection):
        restart = link(request.base_url, request.api, f"/{collection}/delta", {"$deltatoken": ""})
        return GraphError(410, "resyncRequired",
                          "The delta token is no longer valid: resynchronize by starting a new delta round.",
                          {"Location": restart})
