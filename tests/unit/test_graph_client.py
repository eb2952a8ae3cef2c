"""GraphClient over a scripted requests transport (retries, paging, $batch, typed errors, redaction)
and over real TLS (the account's CA bundle wins over REQUESTS_CA_BUNDLE).

The transport is a requests adapter mounted on the client's real session, so requests' own code
(environment merging, body reading, truncation detection) runs; the injected sleep records waits so
no test waits for real.
"""
import http.server
import io
import json
import ssl
import threading

import certifi
import pytest
import requests
import structlog
import trustme
import urllib3
from requests.adapters import BaseAdapter, HTTPAdapter

from connector.graph.auth import session_for
from connector.config import Account
from connector.errors import (DeltaTokenExpired, GraphBadRequest, GraphError, GraphForbidden, GraphNotFound,
                              GraphServerError, GraphThrottled, GraphTransportError, GraphUnauthorized)
from connector.graph.client import GraphClient, Page
from connector.graph.throttle import RetryPolicy

GRAPH = "https://graph.test.example"
TENANT = "0b1f5c8e-2c4d-4a5e-9f10-7a6b5c4d3e2f"
CLIENT = "5e6f7a8b-9c0d-4e1f-8a2b-3c4d5e6f7a8b"
REQUEST_ID = "11111111-2222-4333-8444-555555555555"


class FakeTokens:
    """A token provider: a new token after each invalidate(); counts calls."""

    def __init__(self):
        self.generation = 1
        self.invalidations = 0

    def token(self):
        return f"eyJhbGciOiJub25lIn0.eyJnZW4iOi{self.generation}fQ.c2lnbmF0dXJl"

    def invalidate(self):
        self.invalidations += 1
        self.generation += 1


def answer(status=200, body=None, headers=None, truncate=None):
    """A scripted answer: status, JSON (or raw bytes) body, headers; truncate cuts the body after N bytes."""
    return {"status": status, "body": body, "headers": headers or {}, "truncate": truncate}


class ScriptedTransport(BaseAdapter):
    """Answers requests in order from a script; records what was sent (method, url, headers, json, verify)."""

    def __init__(self, script):
        super().__init__()
        self.script = list(script)
        self.sent = []

    def send(self, request, stream=False, timeout=None, verify=True, cert=None, proxies=None):
        body = json.loads(request.body) if request.body else None
        self.sent.append({"method": request.method, "url": request.url, "headers": dict(request.headers),
                          "json": body, "verify": verify, "timeout": timeout})
        if not self.script:
            raise AssertionError(f"unexpected request {request.method} {request.url}")
        step = self.script.pop(0)
        if callable(step):
            step = step(request, body)
        if isinstance(step, Exception):
            raise step
        payload = step["body"]
        headers = dict(step["headers"])
        if isinstance(payload, (dict, list)):
            payload = json.dumps(payload).encode()
            headers.setdefault("Content-Type", "application/json")
        payload = payload or b""
        headers.setdefault("Content-Length", str(len(payload)))
        if step["truncate"] is not None:
            payload = payload[:step["truncate"]]
        raw = urllib3.HTTPResponse(body=io.BytesIO(payload), headers=headers, status=step["status"],
                                   preload_content=False, enforce_content_length=True)
        return HTTPAdapter().build_response(request, raw)

    def close(self):
        pass


def make_client(script, policy=None, ca_bundle=None):
    account = Account(name="prod", tenant_id=TENANT, client_id=CLIENT, graph_host=GRAPH, ca_bundle=ca_bundle)
    session = session_for(account)
    transport = ScriptedTransport(script)
    session.mount("https://", transport)
    waits = []
    tokens = FakeTokens()
    client = GraphClient(account, tokens, session=session, policy=policy or RetryPolicy(), sleep=waits.append)
    return client, transport, waits, tokens


def graph_error(code, message="", request_id=REQUEST_ID, inner_key="innerError"):
    return {"error": {"code": code, "message": message,
                      inner_key: {"date": "2026-01-02T03:04:05", "request-id": request_id,
                                  "client-request-id": "c0ffee00-0000-4000-8000-000000000000"}}}


def throttled(retry_after="2.128"):
    headers = {"Retry-After": retry_after} if retry_after is not None else {}
    return answer(429, {"error": {"code": "TooManyRequests", "message": "Please retry again later.",
                                  "innerError": {"code": "429", "request-id": REQUEST_ID}}}, headers)


# -- get, URLs, headers -----------------------------------------------------------------------------

def test_get_builds_the_url_from_the_graph_host_and_api_version():
    client, transport, _, tokens = make_client([answer(200, {"id": "1"}), answer(200, {"id": "2"})])
    assert client.get("/applications/1", params={"$select": "id"}) == {"id": "1"}
    assert client.get("auditLogs/signIns", api="beta") == {"id": "2"}
    assert transport.sent[0]["url"] == f"{GRAPH}/v1.0/applications/1?%24select=id"
    assert transport.sent[1]["url"] == f"{GRAPH}/beta/auditLogs/signIns"
    first = transport.sent[0]["headers"]
    assert first["Authorization"] == f"Bearer {tokens.token()}"
    assert first["Accept"] == "application/json"
    assert first["client-request-id"] != transport.sent[1]["headers"]["client-request-id"]
    assert first["User-Agent"].startswith("TA-entra-app-secrets/")


def test_extra_headers_are_sent_and_cannot_replace_the_token():
    client, transport, _, tokens = make_client([answer(200, {"value": []})])
    client.get("/applications", headers={"ConsistencyLevel": "eventual", "Authorization": "Bearer other"})
    assert transport.sent[0]["headers"]["ConsistencyLevel"] == "eventual"
    assert transport.sent[0]["headers"]["Authorization"] == f"Bearer {tokens.token()}"


def test_ca_bundle_is_passed_on_every_request_even_with_requests_ca_bundle_set(monkeypatch, tmp_path):
    monkeypatch.setenv("REQUESTS_CA_BUNDLE", certifi.where())
    ca = tmp_path / "ca.pem"
    ca.write_text("placeholder")
    client, transport, _, _ = make_client([answer(200, {"value": []}), answer(200, {})], ca_bundle=str(ca))
    client.get("/applications")
    client.post("/applications/1/removePassword", {"keyId": "k"})
    assert [sent["verify"] for sent in transport.sent] == [str(ca), str(ca)]
    assert all(sent["timeout"] == (10, 60) for sent in transport.sent)


def test_unknown_api_version_is_refused():
    client, _, _, _ = make_client([])
    with pytest.raises(ValueError, match="api must be"):
        client.get("/applications", api="v2.0")


# -- paging ------------------------------------------------------------------------------------------

def test_iter_pages_follows_next_link_verbatim_and_yields_every_item_once():
    link1 = f"{GRAPH}/v1.0/applications?$top=2&$select=id&$skiptoken=RFNwdAIAAQAAA"
    link2 = f"{GRAPH}/v1.0/applications?$top=2&$select=id&$skiptoken=X%2Bpart2"
    client, transport, _, _ = make_client([
        answer(200, {"@odata.context": "ctx", "value": [{"id": "1"}, {"id": "2"}], "@odata.nextLink": link1}),
        answer(200, {"value": [], "@odata.nextLink": link2}),   # an empty page may still have a nextLink
        answer(200, {"value": [{"id": "3"}]}),
    ])
    pages = list(client.iter_pages("/applications", params={"$top": "2", "$select": "id"}))
    assert [page.items for page in pages] == [[{"id": "1"}, {"id": "2"}], [], [{"id": "3"}]]
    assert [page.next_link for page in pages] == [link1, link2, None]
    assert [sent["url"] for sent in transport.sent] == [
        f"{GRAPH}/v1.0/applications?%24top=2&%24select=id", link1, link2]
    assert client.stats.requests == 3


def test_iter_items_streams_lazily():
    link = f"{GRAPH}/v1.0/servicePrincipals?$skiptoken=a"
    client, transport, _, _ = make_client([answer(200, {"value": [{"id": "1"}], "@odata.nextLink": link}),
                                           answer(200, {"value": [{"id": "2"}]})])
    items = client.iter_items("/servicePrincipals")
    assert next(items) == {"id": "1"}
    assert len(transport.sent) == 1  # the second page is only fetched when needed
    assert list(items) == [{"id": "2"}]


def test_a_bare_object_is_one_item():
    body = {"@odata.context": "ctx", "id": "ZjRk", "appId": "f4d9654f-0305-4072-878c-8bf266dfe146"}
    client, _, _, _ = make_client([answer(200, body)])
    assert list(client.iter_pages("/reports/servicePrincipalSignInActivities", api="beta")) == [
        Page(items=[{"id": "ZjRk", "appId": "f4d9654f-0305-4072-878c-8bf266dfe146"}])]


def test_a_next_link_to_another_host_is_refused_and_gets_no_token():
    client, transport, _, _ = make_client([
        answer(200, {"value": [{"id": "1"}], "@odata.nextLink": "https://evil.example/v1.0/applications?x=1"})])
    with pytest.raises(GraphError, match="refusing to send the token to https://evil.example"):
        list(client.iter_items("/applications"))
    assert len(transport.sent) == 1


def test_a_next_link_that_repeats_the_page_stops_the_walk():
    link = f"{GRAPH}/v1.0/applications?$skiptoken=same"
    client, _, _, _ = make_client([answer(200, {"value": [], "@odata.nextLink": link}),
                                   answer(200, {"value": [], "@odata.nextLink": link})])
    with pytest.raises(GraphError, match="nextLink"):
        list(client.iter_pages("/applications"))


# -- delta -------------------------------------------------------------------------------------------

def test_delta_round_ends_with_a_delta_link_and_the_next_round_starts_from_it():
    next_link = f"{GRAPH}/v1.0/applications/delta?$skiptoken=s1"
    delta_link = f"{GRAPH}/v1.0/applications/delta?$deltatoken=d1"
    client, transport, _, _ = make_client([
        answer(200, {"value": [{"id": "1"}], "@odata.nextLink": next_link}),
        answer(200, {"value": [{"id": "2", "@removed": {"reason": "deleted"}}], "@odata.deltaLink": delta_link}),
        answer(200, {"value": [], "@odata.deltaLink": delta_link + "2"}),
    ])
    pages = list(client.iter_delta("/applications/delta", params={"$select": "id,passwordCredentials"}))
    assert pages[-1].delta_link == delta_link and pages[0].delta_link is None
    assert transport.sent[0]["url"] == f"{GRAPH}/v1.0/applications/delta?%24select=id%2CpasswordCredentials"
    again = list(client.iter_delta("/applications/delta", delta_link=pages[-1].delta_link,
                                   params={"$select": "ignored"}))
    assert transport.sent[2]["url"] == delta_link  # params live in the token, never re-added
    assert again[-1].delta_link == delta_link + "2"


@pytest.mark.parametrize("status, code", [(410, "resyncRequired"), (410, ""), (400, "syncStateNotFound")])
def test_an_expired_delta_link_raises_delta_token_expired(status, code):
    client, _, waits, _ = make_client([answer(status, graph_error(code), {"Location": f"{GRAPH}/v1.0/x"})])
    with pytest.raises(DeltaTokenExpired) as caught:
        list(client.iter_delta("/applications/delta", delta_link=f"{GRAPH}/v1.0/applications/delta?$deltatoken=old"))
    assert caught.value.status == status and waits == []


# -- retries -----------------------------------------------------------------------------------------

def test_429_waits_exactly_retry_after_then_succeeds():
    client, transport, waits, _ = make_client([throttled("2.128"), throttled("0.5"), answer(200, {"value": []})])
    assert client.get("/applications") == {"value": []}
    assert waits == [2.128, 0.5]
    assert len(transport.sent) == 3
    stats = client.stats
    assert (stats.requests, stats.throttled, stats.retries, stats.errors) == (3, 2, 2, 0)
    assert stats.by_status[429] == 2 and stats.by_status[200] == 1


@pytest.mark.parametrize("status", [503, 504])
def test_503_and_504_honour_retry_after(status):
    client, _, waits, _ = make_client([answer(status, b"busy", {"Retry-After": "7"}), answer(200, {})])
    client.get("/applications")
    assert waits == [7.0]


def test_persistent_429_raises_graph_throttled_with_the_last_retry_after():
    policy = RetryPolicy(max_attempts=3)
    client, transport, waits, _ = make_client([throttled("1"), throttled("1"), throttled("4")], policy=policy)
    with pytest.raises(GraphThrottled) as caught:
        client.get("/applications")
    assert caught.value.code == "TooManyRequests" and caught.value.retry_after == 4.0
    assert caught.value.request_id == REQUEST_ID
    assert waits == [1.0, 1.0] and len(transport.sent) == 3
    assert client.stats.errors == 1 and client.stats.throttled == 3


def test_retry_after_beyond_the_wait_budget_gives_up_without_waiting():
    client, _, waits, _ = make_client([throttled("400")], policy=RetryPolicy(max_total_wait=60))
    with pytest.raises(GraphThrottled):
        client.get("/applications")
    assert waits == []


def test_500_backs_off_exponentially_and_gives_up_as_server_error():
    policy = RetryPolicy(max_attempts=4, backoff_initial=1.0, jitter=0.5, max_total_wait=100)
    script = [answer(500, graph_error("generalException", "boom"))] * 4
    client, transport, waits, _ = make_client(script, policy=policy)
    with pytest.raises(GraphServerError) as caught:
        client.get("/servicePrincipals")
    assert caught.value.status == 500 and caught.value.code == "generalException"
    assert len(waits) == 3 and len(transport.sent) == 4
    for attempt, wait in enumerate(waits, start=1):
        assert 2 ** (attempt - 1) <= wait <= 2 ** (attempt - 1) + 0.5


def test_connection_errors_are_retried_then_reported_as_transport_errors():
    policy = RetryPolicy(max_attempts=3, jitter=0)
    reset = requests.ConnectionError("Connection reset by peer")
    client, _, waits, _ = make_client([reset, reset, reset], policy=policy)
    with pytest.raises(GraphTransportError) as caught:
        client.get("/applications")
    assert caught.value.status is None and "ConnectionError" in str(caught.value)
    assert waits == [1.0, 2.0]
    assert client.stats.by_status["transport"] == 3


def test_a_read_timeout_is_retried():
    client, _, waits, _ = make_client([requests.ReadTimeout("read timed out"), answer(200, {"ok": True})])
    assert client.get("/applications") == {"ok": True}
    assert len(waits) == 1


def test_a_truncated_body_is_retried_as_a_transport_error():
    body = {"value": [{"id": str(i)} for i in range(50)]}
    client, transport, waits, _ = make_client([answer(200, body, truncate=40), answer(200, body)])
    assert client.get("/applications") == body
    assert len(transport.sent) == 2 and len(waits) == 1


def test_a_non_json_success_body_is_retried():
    client, _, waits, _ = make_client([answer(200, b'{"value": [', {"Content-Type": "application/json"}),
                                       answer(200, {"value": []})])
    assert client.get("/applications") == {"value": []}
    assert len(waits) == 1
    assert client.stats.by_status["transport"] == 1 and client.stats.by_status[200] == 1


def test_text_plain_count_is_returned_as_text():
    client, _, _, _ = make_client([answer(200, b"893", {"Content-Type": "text/plain"})])
    assert client.get("/applications/$count", headers={"ConsistencyLevel": "eventual"}) == "893"


# -- 401: one token refresh --------------------------------------------------------------------------

def test_401_refreshes_the_token_once_and_retries():
    client, transport, waits, tokens = make_client([
        answer(401, graph_error("InvalidAuthenticationToken", "Lifetime validation failed, the token is expired.")),
        answer(200, {"value": []})])
    assert client.get("/applications") == {"value": []}
    old, new = (sent["headers"]["Authorization"] for sent in transport.sent)
    assert old != new and new == f"Bearer {tokens.token()}"
    assert tokens.invalidations == 1 and waits == []


def test_a_second_401_is_final():
    script = [answer(401, graph_error("InvalidAuthenticationToken", "expired"))] * 2
    client, transport, _, tokens = make_client(script)
    with pytest.raises(GraphUnauthorized) as caught:
        client.get("/applications")
    assert tokens.invalidations == 1 and len(transport.sent) == 2
    assert caught.value.code == "InvalidAuthenticationToken"


# -- typed errors ------------------------------------------------------------------------------------

def test_403_names_the_missing_permission_and_carries_code_and_request_id():
    client, _, waits, _ = make_client([answer(403, graph_error("Authorization_RequestDenied",
                                                              "Insufficient privileges to complete the operation.",
                                                              inner_key="innererror"))])
    with pytest.raises(GraphForbidden) as caught:
        client.get("/auditLogs/signIns", params={"$filter": "signInEventTypes/any(t: t eq 'servicePrincipal')"},
                   api="beta")
    error = caught.value
    assert (error.status, error.code, error.request_id) == (403, "Authorization_RequestDenied", REQUEST_ID)
    assert error.client_request_id == "c0ffee00-0000-4000-8000-000000000000"
    assert "AuditLog.Read.All" in str(error) and REQUEST_ID in str(error)
    assert error.path == "/beta/auditLogs/signIns"
    assert waits == []


def test_403_on_a_write_names_the_write_permission():
    client, _, _, _ = make_client([answer(403, graph_error("Authorization_RequestDenied", "Insufficient"))])
    with pytest.raises(GraphForbidden, match="Application.ReadWrite"):
        client.post("/applications/abc/removePassword", {"keyId": "k"})


@pytest.mark.parametrize("status, cls", [(400, GraphBadRequest), (404, GraphNotFound), (409, GraphError)])
def test_status_maps_to_its_exception(status, cls):
    client, _, _, _ = make_client([answer(status, graph_error("Request_ResourceNotFound", "Resource 'x' does not exist"))])
    with pytest.raises(cls) as caught:
        client.get("/servicePrincipals/x")
    assert caught.value.status == status


def test_request_id_from_headers_when_the_body_has_none():
    client, _, _, _ = make_client([answer(404, b"<html>not found</html>", {"request-id": REQUEST_ID,
                                                                          "Content-Type": "text/html"})])
    with pytest.raises(GraphNotFound) as caught:
        client.get("/servicePrincipals/x")
    assert caught.value.request_id == REQUEST_ID


def test_no_token_in_errors_or_logs():
    client, _, _, tokens = make_client([
        answer(400, graph_error("Request_BadRequest", "bad header Authorization: Bearer " + FakeTokens().token())),
    ])
    with structlog.testing.capture_logs() as logs:
        with pytest.raises(GraphBadRequest) as caught:
            client.get("/applications", params={"$filter": "x"})
    token = tokens.token()
    assert token not in str(caught.value) and token not in repr(caught.value.args)
    assert token not in json.dumps(logs, default=str)
    requests_logged = [entry for entry in logs if entry["event"] == "graph.request"]
    assert requests_logged and requests_logged[0]["path"] == "/v1.0/applications"
    assert requests_logged[0]["status"] == 400 and requests_logged[0]["query_keys"] == ["$filter"]


# -- POST / PATCH --------------------------------------------------------------------------------------

def test_post_returns_none_for_204_and_json_otherwise():
    client, transport, _, _ = make_client([answer(204), answer(200, {"secretText": None, "keyId": "k"})])
    assert client.post("/applications/1/removePassword", {"keyId": "k"}) is None
    assert client.post("/applications/1/addPassword", {"passwordCredential": {}}) == {"secretText": None, "keyId": "k"}
    assert transport.sent[0]["json"] == {"keyId": "k"}
    assert transport.sent[0]["headers"]["Content-Type"] == "application/json"


def test_patch_sends_the_body():
    client, transport, _, _ = make_client([answer(204)])
    assert client.patch("/servicePrincipals/1", {"accountEnabled": False}) is None
    assert transport.sent[0]["method"] == "PATCH" and transport.sent[0]["json"] == {"accountEnabled": False}


def test_a_write_is_not_repeated_after_a_500_or_a_read_timeout():
    client, transport, waits, _ = make_client([answer(500, graph_error("generalException"))])
    with pytest.raises(GraphServerError):
        client.post("/applications/1/addPassword", {})
    client2, transport2, _, _ = make_client([requests.ReadTimeout("timed out")])
    with pytest.raises(GraphTransportError):
        client2.patch("/servicePrincipals/1", {"accountEnabled": False})
    assert len(transport.sent) == 1 and len(transport2.sent) == 1 and waits == []


def test_a_write_is_repeated_after_429_and_connect_failures():
    refused = requests.ConnectTimeout("connect timed out")
    client, transport, waits, _ = make_client([throttled("1.5"), refused, answer(204)])
    assert client.post("/applications/1/removePassword", {"keyId": "k"}) is None
    assert len(transport.sent) == 3 and waits[0] == 1.5


# -- $batch --------------------------------------------------------------------------------------------

def batch_echo(throttle_ids=(), retry_after=None, missing=()):
    """A $batch answer built from the request: 200 for each id, 429 for throttle_ids."""
    def respond(request, body):
        responses = []
        for inner in body["requests"]:
            if inner["id"] in missing:
                continue
            if inner["id"] in throttle_ids:
                headers = {"retry-after": retry_after[inner["id"]]} if retry_after else {}
                responses.append({"id": inner["id"], "status": 429, "headers": headers,
                                  "body": {"error": {"code": "TooManyRequests"}}})
            else:
                responses.append({"id": inner["id"], "status": 200, "headers": {"Content-Type": "application/json"},
                                  "body": {"value": [{"for": inner["url"]}]}})
        responses.reverse()  # any order, as Graph does
        return answer(200, {"responses": responses})
    return respond


def test_batch_sends_chunks_of_20_and_returns_every_answer():
    requests_ = [{"id": str(i), "method": "GET", "url": f"/servicePrincipals/{i}/appRoleAssignments"}
                 for i in range(45)]
    client, transport, _, _ = make_client([batch_echo(), batch_echo(), batch_echo()])
    answers = client.batch(requests_)
    assert [len(sent["json"]["requests"]) for sent in transport.sent] == [20, 20, 5]
    assert all(sent["url"] == f"{GRAPH}/v1.0/$batch" and sent["method"] == "POST" for sent in transport.sent)
    assert set(answers) == {str(i) for i in range(45)}
    assert answers["44"] == {"status": 200, "headers": {"Content-Type": "application/json"},
                             "body": {"value": [{"for": "/servicePrincipals/44/appRoleAssignments"}]}}
    assert client.stats.requests == 3


def test_batch_retries_inner_429s_after_the_longest_retry_after():
    requests_ = [{"id": name, "method": "GET", "url": f"/x/{name}"} for name in ("a", "b", "c")]
    client, transport, waits, _ = make_client([
        batch_echo(throttle_ids={"a", "c"}, retry_after={"a": "1", "c": "3.5"}),
        batch_echo(),
    ])
    answers = client.batch(requests_)
    assert waits == [3.5]
    assert [r["id"] for r in transport.sent[1]["json"]["requests"]] == ["a", "c"]
    assert all(answers[name]["status"] == 200 for name in "abc")
    assert client.stats.throttled == 2


def test_batch_returns_throttled_answers_when_the_budget_is_spent():
    requests_ = [{"id": "a", "method": "GET", "url": "/x/a"}, {"id": "b", "method": "GET", "url": "/x/b"}]
    policy = RetryPolicy(max_attempts=2)
    client, transport, waits, _ = make_client([batch_echo(throttle_ids={"a"}, retry_after={"a": "1"})] * 2,
                                              policy=policy)
    answers = client.batch(requests_)
    assert answers["a"]["status"] == 429 and answers["b"]["status"] == 200
    assert len(transport.sent) == 2 and waits == [1.0]


def test_batch_asks_again_for_answers_graph_left_out():
    requests_ = [{"id": "a", "method": "GET", "url": "/x/a"}, {"id": "b", "method": "GET", "url": "/x/b"}]
    client, transport, waits, _ = make_client([batch_echo(missing={"b"}), batch_echo()],
                                              policy=RetryPolicy(jitter=0))
    answers = client.batch(requests_)
    assert answers["b"]["status"] == 200 and [r["id"] for r in transport.sent[1]["json"]["requests"]] == ["b"]


def test_batch_outer_429_is_retried_like_any_request():
    client, _, waits, _ = make_client([throttled("2"), batch_echo()])
    answers = client.batch([{"id": "1", "method": "GET", "url": "/x"}])
    assert answers["1"]["status"] == 200 and waits == [2.0]


def test_batch_ids_must_be_unique():
    client, _, _, _ = make_client([])
    with pytest.raises(ValueError, match="unique"):
        client.batch([{"id": "A", "method": "GET", "url": "/x"}, {"id": "a", "method": "GET", "url": "/y"}])


# -- real TLS: the account's CA bundle wins over REQUESTS_CA_BUNDLE ---------------------------------------

@pytest.fixture(scope="module")
def tls_graph(tmp_path_factory):
    """A tiny HTTPS server on loopback with a certificate from a private CA; yields (base_url, ca_path)."""
    ca = trustme.CA()
    server_cert = ca.issue_cert("127.0.0.1")
    ca_path = tmp_path_factory.mktemp("tls") / "ca.pem"
    ca.cert_pem.write_to_path(str(ca_path))

    class Handler(http.server.BaseHTTPRequestHandler):
        disable_nagle_algorithm = True

        def do_GET(self):  # noqa: N802 - http.server's naming
            body = json.dumps({"value": [{"id": "1"}]}).encode()
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args):
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    server_cert.configure_cert(context)
    server.socket = context.wrap_socket(server.socket, server_side=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"https://127.0.0.1:{server.server_address[1]}", str(ca_path)
    server.shutdown()
    server.server_close()


def tls_client(base_url, ca_bundle):
    account = Account(name="tls", tenant_id=TENANT, client_id=CLIENT, graph_host=base_url, ca_bundle=ca_bundle)
    return GraphClient(account, FakeTokens(), policy=RetryPolicy(max_attempts=2), sleep=lambda s: None)


def test_ca_bundle_wins_over_requests_ca_bundle(tls_graph, monkeypatch):
    base_url, ca_path = tls_graph
    monkeypatch.setenv("REQUESTS_CA_BUNDLE", certifi.where())  # a bundle that does not trust our CA
    monkeypatch.setenv("CURL_CA_BUNDLE", certifi.where())
    with tls_client(base_url, ca_path) as client:
        assert list(client.iter_items("/applications")) == [{"id": "1"}]
    # the hazard this guards against: a session with trust_env on lets the environment win
    naive = requests.Session()
    naive.verify = ca_path
    with pytest.raises(requests.exceptions.SSLError):
        naive.get(f"{base_url}/v1.0/applications")
    naive.close()


def test_without_the_ca_bundle_the_private_ca_is_not_trusted_and_not_retried(tls_graph, monkeypatch):
    base_url, ca_path = tls_graph
    monkeypatch.setenv("REQUESTS_CA_BUNDLE", ca_path)  # the environment must not make it work either
    with tls_client(base_url, None) as client:
        with pytest.raises(GraphTransportError, match="SSLError") as caught:
            client.get("/applications")
        assert client.stats.requests == 1  # an untrusted certificate will not become trusted by retrying
    assert "certificate verify failed" in str(caught.value).lower()


def test_a_write_to_a_refusing_port_is_retried_because_nothing_was_sent():
    import socket
    # a port bound for the whole test but never listening: every connect is refused, and no other
    # process can take the number meanwhile (a closed port's number can be reused by anyone)
    with socket.socket() as held:
        held.bind(("127.0.0.1", 0))
        port = held.getsockname()[1]
        account = Account(name="closed", tenant_id=TENANT, client_id=CLIENT, graph_host=f"https://127.0.0.1:{port}")
        waits = []
        client = GraphClient(account, FakeTokens(), policy=RetryPolicy(max_attempts=3, jitter=0), sleep=waits.append)
        with pytest.raises(GraphTransportError, match="ConnectionError") as caught:
            client.post("/applications/1/removePassword", {"keyId": "k"})
    assert caught.value.sent_nothing and not caught.value.permanent
    assert client.stats.requests == 3 and waits == [1.0, 2.0]


def test_batch_keeps_retrying_while_each_round_makes_progress():
    # a tight bucket lets one inner request through per round: four rounds with max_attempts=2 still
    # finish, because only rounds without progress count as attempts
    requests_ = [{"id": name, "method": "GET", "url": f"/x/{name}"} for name in "abcd"]
    script = [batch_echo(throttle_ids=set("bcd"), retry_after={n: "1" for n in "bcd"}),
              batch_echo(throttle_ids=set("cd"), retry_after={n: "1" for n in "cd"}),
              batch_echo(throttle_ids={"d"}, retry_after={"d": "1"}),
              batch_echo()]
    client, transport, waits, _ = make_client(script, policy=RetryPolicy(max_attempts=2))
    answers = client.batch(requests_)
    assert all(answers[name]["status"] == 200 for name in "abcd")
    assert len(transport.sent) == 4 and waits == [1.0, 1.0, 1.0]


# -- what may be repeated, what is counted, what is logged ------------------------------------------------

def test_a_write_is_repeated_after_503_but_not_after_504():
    client, transport, waits, _ = make_client([answer(503, b"busy", {"Retry-After": "0.25"}), answer(204)])
    assert client.post("/applications/1/removePassword", {"keyId": "k"}) is None
    assert len(transport.sent) == 2 and waits == [0.25]
    # a 504 says the gateway gave up waiting, not that Graph did nothing: the write may have happened
    client, transport, waits, _ = make_client([answer(504, b"gateway", {"Retry-After": "0.25"})])
    with pytest.raises(GraphServerError):
        client.post("/applications/1/removePassword", {"keyId": "k"})
    assert len(transport.sent) == 1 and waits == []


def test_a_read_after_504_is_repeated():
    client, _, waits, _ = make_client([answer(504, b"gateway", {"Retry-After": "0.25"}), answer(200, {})])
    assert client.get("/applications") == {} and waits == [0.25]


def test_retry_after_as_an_http_date_waits_until_that_moment_on_the_servers_clock():
    headers = {"Retry-After": "Tue, 01 Dec 2026 21:00:42 GMT", "Date": "Tue, 01 Dec 2026 21:00:00 GMT"}
    client, _, waits, _ = make_client([answer(429, graph_error("TooManyRequests"), headers), answer(200, {})])
    assert client.get("/applications") == {} and waits == [42.0]


def test_401_then_429_refreshes_once_and_still_waits():
    client, transport, waits, tokens = make_client([answer(401, graph_error("InvalidAuthenticationToken")),
                                                    throttled("1.5"), answer(401, graph_error("x")),
                                                    ])
    with pytest.raises(GraphUnauthorized):
        client.get("/applications")  # the refresh is spent: a second 401, even after a wait, is final
    assert tokens.invalidations == 1 and waits == [1.5] and len(transport.sent) == 3


def test_throttle_wait_seconds_count_waits_after_429_only():
    policy = RetryPolicy(backoff_initial=0.5, jitter=0)
    requests_ = [{"id": name, "method": "GET", "url": f"/x/{name}"} for name in "ab"]
    client, _, waits, _ = make_client([
        throttled("2.128"), answer(200, {}),                                        # 2.128 s throttled
        answer(500, graph_error("generalException")), answer(200, {}),              # 0.5 s backoff: not throttling
        batch_echo(throttle_ids={"b"}, retry_after={"b": "1.25"}), batch_echo(),    # 1.25 s throttled in $batch
    ], policy=policy)
    client.get("/applications")
    client.get("/servicePrincipals")
    client.batch(requests_)
    assert waits == [2.128, 0.5, 1.25]
    assert client.stats.throttle_wait_s == pytest.approx(3.378)
    assert client.stats.as_dict()["throttle_wait_s"] == 3.378
    assert client.stats.as_dict()["retries"] == 3 and client.stats.throttled == 2


@pytest.fixture
def log_lines():
    """The real logging pipeline at a chosen level, into a buffer; yields (configure(level), lines())."""
    from connector import logs
    buffer = io.StringIO()

    def configure(level):
        logs.configure_logging(level, stream=buffer)

    def lines():
        return [json.loads(line) for line in buffer.getvalue().splitlines()]
    yield configure, lines
    logs.reset_logging()


def test_per_request_lines_are_debug_while_waits_and_errors_are_info_and_warning(log_lines):
    configure, lines = log_lines
    configure("INFO")
    script = [answer(200, {"value": []})] * 5 + [throttled("1"), answer(200, {}), answer(404, graph_error("nf"))]
    client, _, _, _ = make_client(script)
    for _ in range(5):
        client.get("/applications")
    client.get("/servicePrincipals")
    with pytest.raises(GraphNotFound):
        client.get("/servicePrincipals/x")
    events = [(line["level"], line["event"], line.get("status")) for line in lines()]
    assert events == [("info", "graph.retry", 429), ("info", "graph.error", 404)]
    client, _, _, _ = make_client([answer(500, graph_error("generalException"))], policy=RetryPolicy(max_attempts=1))
    with pytest.raises(GraphServerError):
        client.get("/applications")
    assert [(line["level"], line["event"], line["status"]) for line in lines()][-1] == ("warning", "graph.error", 500)
    configure("DEBUG")
    client, _, _, _ = make_client([answer(200, {"value": []})])
    client.get("/applications")
    debug = [line for line in lines() if line["event"] == "graph.request"]
    assert len(debug) == 1 and debug[0]["level"] == "debug" and debug[0]["status"] == 200
