"""Delta rounds and JSON $batch."""
import pytest

from server_helpers import Graph, error_code


def delta_round(graph, url):
    """Follow a delta round to its deltaLink: (items, deltaLink)."""
    items = []
    while True:
        response = graph.get(url)
        assert response.status_code == 200, response.text
        body = response.json()
        items.extend(body["value"])
        if "@odata.deltaLink" in body:
            return items, body["@odata.deltaLink"]
        url = body["@odata.nextLink"]


def test_delta_round_then_the_changes_after_remove_password(clean_simulator):
    sim = clean_simulator
    collector, responder = Graph(sim, "collector"), Graph(sim, "responder")
    items, delta_link = delta_round(collector, "/applications/delta?$select=displayName,passwordCredentials&$top=17")
    assert [item["id"] for item in items] == [app["id"] for app in sim.tenant.iter_applications()]
    assert all(set(item) == {"id", "displayName", "passwordCredentials"} for item in items)

    quiet, delta_link = delta_round(collector, delta_link)
    assert quiet == []

    target = next(e for e in sim.tenant.expected_secrets()
                  if e.object_type == "application" and "collector_app" not in e.traits)
    assert responder.post(f"/applications/{target.object_id}/removePassword",
                          json={"keyId": target.key_id}).status_code == 204
    changed, delta_link = delta_round(collector, delta_link)
    assert [item["id"] for item in changed] == [target.object_id]
    assert target.key_id not in [cred["keyId"] for cred in changed[0]["passwordCredentials"]]
    assert delta_round(collector, delta_link)[0] == []


def test_service_principal_delta_sees_account_enabled(clean_simulator):
    sim = clean_simulator
    collector = Graph(sim, "collector")
    _latest, delta_link = delta_round(collector, "/servicePrincipals/delta?$deltatoken=latest")
    assert _latest == []
    sp = next(iter(sim.tenant.iter_service_principals()))
    sim.state.set_account_enabled(sp["id"], False)
    changed, _ = delta_round(collector, delta_link)
    assert [(item["id"], item["accountEnabled"]) for item in changed] == [(sp["id"], False)]


def test_stale_delta_token_is_410_with_a_location_to_restart(clean_simulator):
    sim = clean_simulator
    collector = Graph(sim, "collector")
    _items, delta_link = delta_round(collector, "/applications/delta?$deltatoken=latest")
    sim.expire_delta_tokens()
    response = collector.get(delta_link)
    assert response.status_code == 410
    assert "/applications/delta" in response.headers["Location"]
    assert collector.get(delta_link.split("$deltatoken=")[0] + "$deltatoken=forged").status_code == 400


def test_batch_answers_each_request_independently(clean_simulator):
    sim = clean_simulator
    graph = Graph(sim, "collector")
    sp = next(iter(sim.tenant.iter_service_principals()))
    response = graph.post("/$batch", json={"requests": [
        {"id": "1", "method": "GET", "url": "/applications?$top=2&$select=id"},
        {"id": "2", "method": "GET", "url": f"servicePrincipals/{sp['id']}/appRoleAssignments"},
        {"id": "3", "method": "GET", "url": "/applications/00000000-0000-4000-8000-000000000000"},
        {"id": "4", "method": "GET", "url": "/auditLogs/signIns", "dependsOn": ["3"]},
    ]})
    assert response.status_code == 200
    answers = {answer["id"]: answer for answer in response.json()["responses"]}
    assert answers["1"]["status"] == 200 and len(answers["1"]["body"]["value"]) == 2
    assert answers["2"]["status"] == 200 and "value" in answers["2"]["body"]
    assert answers["3"]["status"] == 404 and answers["3"]["body"]["error"]["code"] == "Request_ResourceNotFound"
    assert answers["4"]["status"] == 424
    assert len([r for r in sim.requests if r.batched]) == 4


@pytest.mark.parametrize("requests_, reason", [
    ([{"id": str(i), "method": "GET", "url": "/applications"} for i in range(21)], "21 requests"),
    ([{"id": "a", "method": "GET", "url": "/applications"}, {"id": "A", "method": "GET", "url": "/x"}], "dup id"),
    ([{"id": "1", "method": "GET"}], "no url"),
    ([{"id": "1", "method": "POST", "url": "/x", "body": {}}], "body without Content-Type"),
])
def test_malformed_batch_is_400(clean_simulator, requests_, reason):
    response = Graph(clean_simulator, "collector").post("/$batch", json={"requests": requests_})
    assert response.status_code == 400, reason


def test_batch_inner_429_carries_retry_after_while_the_batch_is_200(simulator_factory):
    sim = simulator_factory(throttle={"directory_ru": 3, "directory_window_s": 10})
    graph = Graph(sim, "collector")
    response = graph.post("/$batch", json={"requests": [
        {"id": str(i), "method": "GET", "url": "/applications?$top=1&$select=id"} for i in range(1, 6)]})
    assert response.status_code == 200
    statuses = {answer["id"]: answer for answer in response.json()["responses"]}
    assert [statuses[str(i)]["status"] for i in range(1, 6)] == [200, 200, 200, 429, 429]
    throttled = statuses["4"]
    assert float(throttled["headers"]["Retry-After"]) > 0
    assert throttled["body"]["error"]["code"] == "TooManyRequests"


def test_batch_writes_use_the_callers_permissions(clean_simulator):
    sim = clean_simulator
    target = next(e for e in sim.tenant.expected_secrets()
                  if e.object_type == "servicePrincipal" and "collector_app" not in e.traits)
    request = {"id": "1", "method": "POST", "url": f"/servicePrincipals/{target.object_id}/removePassword",
               "headers": {"Content-Type": "application/json"}, "body": {"keyId": target.key_id}}
    denied = Graph(sim, "collector").post("/$batch", json={"requests": [request]}).json()["responses"][0]
    assert denied["status"] == 403 and error_code_of(denied) == "Authorization_RequestDenied"
    done = Graph(sim, "responder").post("/$batch", json={"requests": [request]}).json()["responses"][0]
    assert done["status"] == 204 and "body" not in done
    assert target.key_id not in sim.state.password_key_ids("servicePrincipals", target.object_id)


def error_code_of(answer):
    return answer["body"]["error"]["code"]


def test_batch_requires_authentication(clean_simulator):
    sim = clean_simulator
    graph = Graph(sim, "collector", access_token="not-a-token")
    response = graph.post("/$batch", json={"requests": [{"id": "1", "method": "GET", "url": "/applications"}]})
    assert response.status_code == 401 and error_code(response) == "InvalidAuthenticationToken"


def test_deleted_object_leaves_lists_and_delta_reports_it_removed(clean_simulator):
    sim = clean_simulator
    collector, responder = Graph(sim, "collector"), Graph(sim, "responder")
    _latest, delta_link = delta_round(collector, "/applications/delta?$deltatoken=latest")
    victim = next(iter(sim.tenant.iter_applications()))
    assert collector.request("DELETE", f"/applications/{victim['id']}").status_code == 403
    assert responder.request("DELETE", f"/applications/{victim['id']}").status_code == 204
    assert collector.get(f"/applications/{victim['id']}").status_code == 404
    listed = [item["id"] for item in collector.walk("/applications?$top=999&$select=id")[0]]
    assert victim["id"] not in listed and len(listed) == sim.tenant.application_count - 1
    count = collector.get("/applications/$count", headers={"ConsistencyLevel": "eventual"}).text
    assert int(count) == sim.tenant.application_count - 1
    changed, _ = delta_round(collector, delta_link)
    assert changed == [{"id": victim["id"], "@removed": {"reason": "changed"}}]
