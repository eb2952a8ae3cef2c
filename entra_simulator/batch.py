"""JSON $batch (graph-wire-facts.md section 5).

`POST /{v1.0|beta}/$batch` with `{"requests": [{id, method, url, headers?, body?, dependsOn?}]}`, at most
20, ids unique (case-insensitive). The batch answers 200 whenever it parses; each inner request is
routed, authorized and throttled on its own, so one inner 429 (with its Retry-After in the inner
headers) sits beside inner 200s. A request whose dependency failed gets 424.
"""

from __future__ import annotations
import json
import time
import urllib.parse
import uuid

from entra_simulator import graph_errors as errors
from entra_simulator.graph_api import GraphRequest, GraphResponse
from entra_simulator.graph_errors import GraphError
from entra_simulator.observe import RequestRecord
from entra_simulator.odata import parse_query_string

MAX_REQUESTS = 20


def _validate(payload):
    requests = payload.get("requests") if isinstance(payload, dict) else None
    if not isinstance(requests, list) or not requests:
        raise errors.bad_request("Invalid batch payload: 'requests' must be a non-empty array.", code="BadRequest")
    if len(requests) > MAX_REQUESTS:
        raise errors.bad_request(f"The number of requests in a batch ({len(requests)}) exceeds the limit of "
                                 f"{MAX_REQUESTS}.", code="BadRequest")
    seen = set()
    for inner in requests:
        if not isinstance(inner, dict) or not all(inner.get(name) for name in ("id", "method", "url")):
            raise errors.bad_request("Each batch request needs an id, a method and a url.", code="BadRequest")
        key = str(inner["id"]).lower()
        if key in seen:
            raise errors.bad_request(f"Batch request ids must be unique; '{inner['id']}' is repeated.",
                                     code="BadRequest")
        seen.add(key)
        headers = {str(k).lower(): v for k, v in (inner.get("headers") or {}).items()}
        if "body" in inner and "content-type" not in headers:
            raise errors.bad_request(f"Batch request '{inner['id']}' has a body but no Content-Type header.",
                                     code="BadRequest")
    for inner in requests:
        for dependency in inner.get("dependsOn") or ():
            if str(dependency).lower() not in seen:
                raise errors.bad_request(f"Batch request '{inner['id']}' depends on unknown id '{dependency}'.",
                                         code="BadRequest")
    return requests


def _ordered(requests):
    """Dependencies first, otherwise the order given; a cycle is a malformed batch."""
    by_id = {str(inner["id"]).lower(): inner for inner in requests}
    done, visiting, order = set(), set(), []

    def visit(key):
        if key in done:
            return
        if key in visiting:
            raise errors.bad_request("Batch dependsOn references form a cycle.", code="BadRequest")
        visiting.add(key)
        for dependency in by_id[key].get("dependsOn") or ():
            visit(str(dependency).lower())
        visiting.discard(key)
        done.add(key)
        order.append(by_id[key])

    for inner in requests:
        visit(str(inner["id"]).lower())
    return order


class BatchApi:
    def __init__(self, graph_api, observer):
        self.graph_api = graph_api
        self.observer = observer

    def serve(self, request):
        requests = _ordered(_validate(request.json()))
        statuses, answers = {}, []
        for inner in requests:
            started = time.perf_counter()
            request_id = str(uuid.uuid4())
            failed = [dep for dep in inner.get("dependsOn") or () if statuses.get(str(dep).lower(), 200) >= 400]
            if failed:
                template, response = "batch dependency", GraphResponse(
                    424, GraphError(424, "FailedDependency", f"Dependent request '{failed[0]}' failed."))
            else:
                template, response = self._run(request, inner)
            statuses[str(inner["id"]).lower()] = response.status
            answer = {"id": str(inner["id"]), "status": response.status, "headers": dict(response.headers)}
            if isinstance(response.body, GraphError):
                answer["body"] = response.body.body(request_id)
            elif response.body is not None:
                answer["body"] = response.body
            if "body" in answer:
                answer["headers"].setdefault("Content-Type", "text/plain" if isinstance(answer["body"], str)
                                             else "application/json")
            answers.append(answer)
            url = str(inner["url"])
            self.observer.record(RequestRecord(
                method=str(inner["method"]).upper(), path=url.split("?")[0], query=url.partition("?")[2],
                route=template, status=response.status,
                bytes=len(json.dumps(answer.get("body"), separators=(",", ":"))) if "body" in answer else 0,
                duration_s=time.perf_counter() - started, app=request.grant.client_id, request_id=request_id,
                batched=True))
        return GraphResponse(200, {"responses": answers})

    def _run(self, outer, inner):
        url = str(inner["url"])
        if "://" in url:
            return "batch invalid url", GraphResponse(400, errors.bad_request(
                "Batch request urls must be relative, without the Graph host and version.", code="BadRequest"))
        path, _, query = url.partition("?")
        path = "/" + path.lstrip("/")
        if path.rstrip("/") == "/$batch":
            return "batch nested", GraphResponse(400, errors.bad_request("A batch cannot contain a batch.",
                                                                         code="BadRequest"))
        try:
            options = parse_query_string(query)
        except GraphError as error:
            return "batch invalid query", GraphResponse(error.status, error)
        headers = {str(k).lower(): str(v) for k, v in (inner.get("headers") or {}).items()}
        body = inner.get("body")
        raw = json.dumps(body).encode() if isinstance(body, (dict, list)) else (body or "").encode()
        return self.graph_api.dispatch(GraphRequest(
            method=str(inner["method"]).upper(), api=outer.api, path=urllib.parse.unquote(path), options=options,
            headers=headers, body=raw, grant=outer.grant, base_url=outer.base_url, batched=True))
