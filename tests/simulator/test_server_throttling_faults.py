"""Throttling (honest Retry-After) and every fault knob."""
import re
import time

import pytest
import requests

from server_helpers import Graph, error_code

SIGNINS = "/auditLogs/signIns?$top=1&$filter=signInEventTypes/any(t: t eq 'servicePrincipal')"


def test_directory_reads_are_throttled_at_the_configured_rate_and_retry_after_is_honest(simulator_factory):
    # 10 resource units per 3 s window (a page back every 0.6 s, slow enough for a loaded machine to
    # send six requests inside it); an applications page of 20 or more costs 2 RU.
    sim = simulator_factory(throttle={"directory_ru": 10, "scale": 0.3})
    graph = Graph(sim, "collector")
    statuses = [graph.get("/applications?$top=20").status_code for _ in range(5)]
    assert statuses == [200] * 5
    throttled = graph.get("/applications?$top=20")
    assert throttled.status_code == 429 and error_code(throttled) == "TooManyRequests"
    retry_after = float(throttled.headers["Retry-After"])
    assert 0 < retry_after <= 0.6 + 0.001
    assert throttled.headers["x-ms-throttle-scope"].startswith("Tenant_Application/ReadWrite/")
    assert throttled.json()["error"]["innerError"]["code"] == "429"
    time.sleep(retry_after)
    assert graph.get("/applications?$top=20").status_code == 200
    assert sim.counters.throttled == 1
    assert sim.counters.by_status[429] == 1


def test_sign_in_logs_allow_five_requests_per_window(simulator_factory):
    sim = simulator_factory(throttle={"scale": 0.3})  # 5 requests per 3 s: one back every 0.6 s
    graph = Graph(sim, "collector")
    started = time.monotonic()
    statuses = [graph.get(SIGNINS, api="beta").status_code for _ in range(6)]
    assert statuses == [200] * 5 + [429]
    response = graph.get(SIGNINS, api="beta")
    assert response.status_code == 429
    time.sleep(float(response.headers["Retry-After"]))
    assert graph.get(SIGNINS, api="beta").status_code == 200
    assert time.monotonic() - started < 6, "waits Retry-After, not a whole window per request"
    # directory reads have their own budget and are untouched
    assert graph.get("/applications?$top=1").status_code == 200


def test_selecting_key_credentials_has_its_own_per_minute_limit(simulator_factory):
    sim = simulator_factory(throttle={"key_credentials_requests": 2, "scale": 0.01})
    graph = Graph(sim, "collector")
    assert [graph.get("/applications?$top=1&$select=keyCredentials").status_code for _ in range(3)] == [200, 200, 429]
    assert graph.get("/applications?$top=1&$select=passwordCredentials").status_code == 200


def test_throttling_is_per_app(simulator_factory):
    sim = simulator_factory(throttle={"reports_requests": 1})
    collector, responder = Graph(sim, "collector"), Graph(sim, "responder")
    assert collector.get("/auditLogs/directoryAudits?$top=1").status_code == 200
    assert collector.get("/auditLogs/directoryAudits?$top=1").status_code == 429
    assert responder.get("/auditLogs/directoryAudits?$top=1").status_code == 200


@pytest.mark.parametrize("status", [500, 502, 503, 504])
def test_http_fault_bursts(clean_simulator, status):
    sim = clean_simulator
    graph = Graph(sim, "collector")
    sim.set_fault(f"http_{status}_burst", retry_after=0.25 if status == 503 else None, route="/applications")
    responses = [graph.get("/applications?$top=1") for _ in range(4)]
    assert [r.status_code for r in responses] == [status] * 3 + [200]
    assert responses[0].json()["error"]["innerError"]["request-id"] == responses[0].headers["request-id"]
    if status == 503:
        assert responses[0].headers["Retry-After"] == "0.25"
    else:
        assert "Retry-After" not in responses[0].headers
    assert graph.get("/servicePrincipals?$top=1").status_code == 200


def test_fault_skip_and_seeded_rate_are_deterministic(simulator_factory):
    def pattern():
        sim = simulator_factory(seed=7)
        sim.set_fault("http_500", count=None, rate=0.5)
        graph = Graph(sim, "collector")
        return [graph.get("/applications?$top=1").status_code for _ in range(12)]
    first, second = pattern(), pattern()
    assert first == second and 500 in first and 200 in first


def test_connection_reset(clean_simulator):
    sim = clean_simulator
    graph = Graph(sim, "collector")
    sim.set_fault("connection_reset")
    with pytest.raises(requests.exceptions.ConnectionError):
        graph.get("/applications?$top=1")
    assert graph.get("/applications?$top=1").status_code == 200


def test_slow_responses(clean_simulator):
    sim = clean_simulator
    graph = Graph(sim, "collector")
    sim.set_fault("slow", delay=0.3, count=2)
    started = time.monotonic()
    graph.get("/applications?$top=1")
    graph.get("/applications?$top=1")
    slow = time.monotonic() - started
    started = time.monotonic()
    graph.get("/applications?$top=1")
    assert slow >= 0.6 and time.monotonic() - started < 0.3


def test_truncated_body(clean_simulator):
    sim = clean_simulator
    graph = Graph(sim, "collector")
    sim.set_fault("truncated_body", keep=0.5)
    with pytest.raises(requests.exceptions.RequestException):
        graph.get("/applications?$top=50").json()
    assert graph.get("/applications?$top=50").status_code == 200


def test_tokens_revoked_mid_pagination(clean_simulator):
    sim = clean_simulator
    graph = Graph(sim, "collector")
    first = graph.get("/applications?$top=5&$select=id").json()
    sim.set_fault("revoke_tokens")
    revoked = graph.get(first["@odata.nextLink"])
    assert revoked.status_code == 401 and error_code(revoked) == "InvalidAuthenticationToken"
    fresh = Graph(sim, "collector")
    assert fresh.get(first["@odata.nextLink"]).status_code == 200, "the nextLink outlives the token"


def test_expiring_next_link(clean_simulator):
    sim = clean_simulator
    graph = Graph(sim, "collector")
    first = graph.get("/applications?$top=5&$select=id").json()
    sim.set_fault("expire_next_link")
    assert graph.get("/applications?$top=5&$select=id").status_code == 200, "only requests following a link"
    expired = graph.get(first["@odata.nextLink"])
    assert expired.status_code == 400 and error_code(expired) == "Directory_ExpiredPageToken"
    restart = graph.get("/applications?$top=5&$select=id").json()
    assert graph.get(restart["@odata.nextLink"]).status_code == 200


def test_odd_report_shapes_serve_a_bare_object_for_a_filtered_report(clean_simulator):
    sim = clean_simulator
    graph = Graph(sim, "collector")
    activities = graph.get("/reports/appCredentialSignInActivities?$top=50", api="beta").json()["value"]
    key_id = next(item["keyId"] for item in activities if item["keyType"] == "clientSecret")
    sim.set_fault("odd_report_shapes", count=None)
    body = graph.get(f"/reports/appCredentialSignInActivities?$filter=keyId eq '{key_id}'", api="beta").json()
    assert "value" not in body and body["keyId"] == key_id
    assert body["keyType"] == "secret" and "expirationDateTime" not in body
    assert body["expirationDate"] is None or re.search(r"T\d\d:\d\d:\d\d-8:00$", body["expirationDate"])
    listed = graph.get("/reports/appCredentialSignInActivities?$top=5", api="beta").json()["value"]
    assert all(re.search(r"-8:00$", item["signInActivity"]["lastSignInDateTime"]) for item in listed)


def test_unknown_fault_or_parameter_is_refused(clean_simulator):
    with pytest.raises(ValueError):
        clean_simulator.set_fault("http_200")
    with pytest.raises(ValueError):
        clean_simulator.set_fault("slow", retry_after=1)
