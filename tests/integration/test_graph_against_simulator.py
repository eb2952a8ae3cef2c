"""Sign-in and the Graph client against the Entra/Graph simulator: real HTTPS on loopback, real MSAL.

The module runs its own simulator (for the session's demo tenant) because several tests change it in
ways other modules must not see: revoked tokens, throttling limits, token lifetime, expired delta
links. Each test starts from a reset server and sees only its own requests.
"""
import time

import jwt
import pytest

from connector.graph.auth import TokenProvider
from connector.errors import (AuthenticationError, DeltaTokenExpired, GraphForbidden, GraphThrottled,
                              GraphTransportError, GraphUnauthorized)
from connector.graph.client import GraphClient
from connector.graph.throttle import RetryPolicy
from entra_simulator import Simulator
from entra_simulator.throttling import Throttler
from simulated_accounts import account_for

SIGNIN_FILTER = "signInEventTypes/any(t: t eq 'servicePrincipal')"
TOKEN_ROUTE = "POST /{tenant}/oauth2/v2.0/token"


@pytest.fixture(scope="module")
def sim(demo_tenant):
    """This module's own server for the shared demo tenant (tests/conftest.py)."""
    simulator = Simulator(tenant=demo_tenant).start()
    yield simulator
    simulator.stop()


@pytest.fixture(autouse=True)
def fresh_state(sim):
    sim.reset()
    yield
    sim.set_throttle(None)
    sim.reset()


class FakeClock:
    """The simulator's throttle clock and the client's sleep, one timeline: a wait moves time on, at once."""

    def __init__(self):
        self.now = 1000.0
        self.waits = []

    def __call__(self):
        return self.now

    def sleep(self, seconds):
        self.waits.append(seconds)
        self.now += seconds


class RecordingSleep:
    """Records every wait asked for; nothing sleeps (faults count requests, not seconds)."""

    def __init__(self):
        self.waits = []

    def __call__(self, seconds):
        self.waits.append(seconds)


def throttle_on_fake_clock(sim, option):
    """Turn the simulator's throttling on with its token buckets on a FakeClock (Throttler takes a clock)."""
    sim.set_throttle(option)
    clock = FakeClock()
    sim.throttler = sim.graph.throttler = Throttler(sim.throttler.limits, sim.tenant_id, clock=clock)
    return clock


def client_for(account, sleep=None, policy=None):
    return GraphClient(account, TokenProvider(account), sleep=sleep or RecordingSleep(), policy=policy)


def _is_graph(record):
    return record.path.startswith(("/v1.0/", "/beta/"))


def recorded(sim, graph=None):
    """The simulator's request log once it has caught up: it records a request after writing the
    answer, so the client can hold the answer a moment before the record exists.

    graph: how many Graph requests the client sent (client.stats.requests): wait for that many records,
    a condition rather than a guess at time. Without it, wait until the log stops growing."""
    deadline = time.monotonic() + 10.0
    if graph is not None:
        while sum(1 for record in sim.requests if _is_graph(record)) < graph and time.monotonic() < deadline:
            time.sleep(0.005)
        return list(sim.requests)
    seen, stable_since = -1, time.monotonic()
    while time.monotonic() - stable_since < 0.05 and time.monotonic() < deadline:
        count = len(sim.requests)
        if count != seen:
            seen, stable_since = count, time.monotonic()
        time.sleep(0.01)
    return list(sim.requests)


def token_requests(sim, graph=None):
    return [record for record in recorded(sim, graph) if record.route == TOKEN_ROUTE]


def graph_requests(sim, client=None):
    """The Graph requests the simulator served; with `client`, all that client sent are waited for."""
    return [record for record in recorded(sim, client.stats.requests if client else None) if _is_graph(record)]


def application_ids(sim):
    return {application["id"] for application in sim.tenant.iter_applications()}


# -- sign-in ---------------------------------------------------------------------------------------

def test_token_by_certificate(sim):
    provider = TokenProvider(account_for(sim))
    claims = jwt.decode(provider.token(), options={"verify_signature": False})
    assert claims["appid"] == sim.collector.client_id and claims["tid"] == sim.tenant_id
    assert provider.auth_method == "certificate"
    assert provider.token() == provider.token()  # cached for its lifetime
    assert len(token_requests(sim)) == 1 and token_requests(sim)[0].status == 200
    provider.close()


def test_token_by_secret_reads_graph(sim):
    account = account_for(sim, secret=True)
    with client_for(account) as client:
        assert client.get("/applications", params={"$top": "1", "$select": "id"})["value"]
    assert account.auth_method == "secret"
    assert [record.status for record in token_requests(sim, client.stats.requests)] == [200]


def test_bad_secret_is_aadsts7000215_without_the_secret(sim):
    wrong = "xyz8Q~" + "w" * 34
    account = account_for(sim, secret=True).with_secret(wrong)
    with pytest.raises(AuthenticationError) as caught:
        TokenProvider(account).token()
    assert caught.value.aadsts_code == "AADSTS7000215"
    assert "Invalid client secret provided" in str(caught.value)
    for secret in (wrong, sim.collector.secret):
        assert secret not in str(caught.value) and secret not in repr(caught.value)


def test_the_environment_ca_bundle_does_not_replace_the_account_one(sim, monkeypatch):
    # REQUESTS_CA_BUNDLE trusts the simulator, the account does not name a CA bundle: sign-in must
    # fail, because the account's trust (the default store) is what counts, not the environment.
    monkeypatch.setenv("REQUESTS_CA_BUNDLE", sim.ca_path)
    monkeypatch.setenv("CURL_CA_BUNDLE", sim.ca_path)
    with pytest.raises(AuthenticationError, match="unreachable: SSLError"):
        TokenProvider(account_for(sim, ca_bundle=None)).token()
    # and with the account's CA bundle it works even though the environment points elsewhere
    monkeypatch.setenv("REQUESTS_CA_BUNDLE", "/etc/ssl/certs/ca-certificates.crt")
    assert TokenProvider(account_for(sim)).token()


# -- paging ----------------------------------------------------------------------------------------

def test_walk_applications_across_pages_exactly_once(sim):
    expected = application_ids(sim)
    page_size = 7
    assert len(expected) > 2 * page_size  # the walk must really cross pages
    with client_for(account_for(sim)) as client:
        pages = list(client.iter_pages("/applications", params={"$top": str(page_size),
                                                                "$select": "id,appId,passwordCredentials"}))
        ids = [item["id"] for page in pages for item in page.items]
    assert len(ids) == len(set(ids)) and set(ids) == expected
    assert len(pages) == -(-len(expected) // page_size)
    graph_gets = graph_requests(sim, client)
    assert len(graph_gets) == len(pages) and client.stats.requests == len(pages)
    assert all(r.status == 200 for r in graph_gets)


# -- throttling and faults -------------------------------------------------------------------------

def test_429_retry_after_is_honoured(sim):
    sim.set_fault("http_429", count=2, retry_after=0.25, route="/applications")
    sleep = RecordingSleep()
    with client_for(account_for(sim), sleep=sleep) as client:
        ids = [item["id"] for item in client.iter_items("/applications", params={"$top": "999", "$select": "id"})]
    assert set(ids) == application_ids(sim) and len(ids) == len(set(ids))
    assert sleep.waits == [0.25, 0.25]
    assert client.stats.throttled == 2 and sim.counters.throttled == 2


def test_real_reports_throttle_is_waited_out_never_earlier(sim):
    # the reports bucket refills on a fake clock that only the client's waits move: a request sent
    # before Retry-After has passed would be refused again, and nothing waits for real
    clock = throttle_on_fake_clock(sim, {"reports_requests": 2, "reports_window_s": 1.0})
    params = {"$filter": SIGNIN_FILTER, "$top": "5"}
    with client_for(account_for(sim), sleep=clock.sleep) as client:
        pages = []
        for page in client.iter_pages("/auditLogs/signIns", params=params, api="beta"):
            pages.append(page)
            if len(pages) == 5:
                break
    statuses = [r.status for r in graph_requests(sim, client)]
    throttled = statuses.count(429)
    assert throttled == 3  # 2 requests a second, 5 pages: the 3rd, 4th and 5th wait
    assert len(clock.waits) == throttled == client.stats.throttled
    assert all(wait > 0 for wait in clock.waits)
    assert client.stats.throttle_wait_s == pytest.approx(sum(clock.waits))
    # waiting exactly Retry-After is enough, never too early: every 429 is followed by a success
    assert all(after == 200 for before, after in zip(statuses, statuses[1:]) if before == 429)
    assert statuses[-1] == 200
    assert [len(page.items) for page in pages] == [5] * 5


def test_waiting_less_than_retry_after_is_refused_again(sim):
    # the other half of "exactly": the simulator's Retry-After is not generous, so the test above
    # would catch a client that waited less
    clock = throttle_on_fake_clock(sim, {"reports_requests": 1, "reports_window_s": 1.0})
    short = RetryPolicy(max_attempts=2)
    params = {"$filter": SIGNIN_FILTER, "$top": "1"}
    with client_for(account_for(sim), policy=short, sleep=lambda seconds: clock.sleep(seconds * 0.9)) as client:
        client.get("/auditLogs/signIns", params=params, api="beta")
        with pytest.raises(GraphThrottled):
            client.get("/auditLogs/signIns", params=params, api="beta")
    assert [r.status for r in graph_requests(sim, client)] == [200, 429, 429]


def test_revoked_token_is_refreshed_once_mid_walk(sim):
    sim.set_fault("revoke_tokens", skip=2)
    with client_for(account_for(sim)) as client:
        ids = [item["id"] for item in client.iter_items("/applications", params={"$top": "5", "$select": "id"})]
    assert set(ids) == application_ids(sim) and len(ids) == len(set(ids))
    assert [r.status for r in graph_requests(sim, client)].count(401) == 1
    assert len(token_requests(sim, client.stats.requests)) == 2 and client.stats.retries == 1


def test_expired_token_is_replaced_before_use(sim, monkeypatch):
    original = sim.identity.token_lifetime
    sim.identity.token_lifetime = 1
    try:
        tokens = RecordingTokens(account_for(sim))
        with GraphClient(tokens.account, tokens, sleep=RecordingSleep()) as client:
            client.get("/applications", params={"$top": "1"})
            old_token = tokens.issued[-1]
            # two seconds later on the one clock MSAL and the simulator both read (time.time), not waited for
            real_time = time.time
            monkeypatch.setattr(time, "time", lambda: real_time() + 2.0)
            with pytest.raises(GraphUnauthorized, match="expired"):
                GraphClient(account_for(sim), StaticToken(old_token), sleep=RecordingSleep()).get(
                    "/applications", params={"$top": "1"})
            client.get("/applications", params={"$top": "1"})
    finally:
        sim.identity.token_lifetime = original
    statuses = [r.status for r in recorded(sim, graph=4) if _is_graph(r)]
    assert len(token_requests(sim, graph=4)) == 2
    # the refused replay of the old token is the only 401: the client itself never sent an expired token
    assert statuses == [200, 401, 401, 200]


class RecordingTokens(TokenProvider):
    """The real provider, remembering every token it handed out."""

    def __init__(self, account):
        super().__init__(account)
        self.issued = []

    def token(self):
        self.issued.append(super().token())
        return self.issued[-1]


class StaticToken:
    """A token provider that always offers the same token (to replay an expired one)."""

    def __init__(self, token):
        self._token = token

    def token(self):
        return self._token

    def invalidate(self):
        pass


@pytest.mark.parametrize("fault", ["truncated_body", "connection_reset", "http_503"])
def test_transport_faults_are_retried_and_the_walk_is_complete(sim, fault):
    sim.set_fault(fault, route="/applications")
    policy = RetryPolicy(backoff_initial=0.05, jitter=0.05)
    with client_for(account_for(sim), policy=policy) as client:
        ids = [item["id"] for item in client.iter_items("/applications", params={"$top": "10", "$select": "id"})]
    assert set(ids) == application_ids(sim) and len(ids) == len(set(ids))
    assert client.stats.retries == 1


def test_persistent_connection_failure_is_a_transport_error(sim):
    sim.set_fault("connection_reset", count=None, route="/servicePrincipals")
    policy = RetryPolicy(max_attempts=3, backoff_initial=0.01, jitter=0.01)
    with client_for(account_for(sim), policy=policy) as client:
        with pytest.raises(GraphTransportError):
            client.get("/servicePrincipals")
    assert client.stats.requests == 3


# -- errors ----------------------------------------------------------------------------------------

def test_403_is_graph_forbidden_with_code_request_id_and_permission(sim):
    with client_for(account_for(sim, "limited")) as client:
        with pytest.raises(GraphForbidden) as caught:
            client.get("/auditLogs/signIns", params={"$filter": SIGNIN_FILTER}, api="beta")
    error = caught.value
    assert error.status == 403 and error.code == "Authorization_RequestDenied"
    served = [r for r in graph_requests(sim, client) if r.status == 403]
    assert len(served) == 1 and error.request_id == served[0].request_id
    assert "AuditLog.Read.All" in str(error)


def test_expired_delta_link_is_delta_token_expired(sim):
    with client_for(account_for(sim)) as client:
        pages = list(client.iter_delta("/applications/delta", params={"$select": "id,passwordCredentials"}))
        delta_link = pages[-1].delta_link
        assert delta_link and not any(page.delta_link for page in pages[:-1])
        ids = {item["id"] for page in pages for item in page.items}
        assert ids == application_ids(sim)
        assert list(client.iter_delta("/applications/delta", delta_link=delta_link))[-1].delta_link
        sim.expire_delta_tokens()
        with pytest.raises(DeltaTokenExpired):
            list(client.iter_delta("/applications/delta", delta_link=delta_link))


# -- $batch ----------------------------------------------------------------------------------------

def test_batch_answers_every_request(sim):
    sp_ids = [sp["id"] for sp in sim.tenant.iter_service_principals()][:25]
    requests_ = [{"id": str(n), "method": "GET", "url": f"/servicePrincipals/{sp_id}?$select=id,appId"}
                 for n, sp_id in enumerate(sp_ids)]
    with client_for(account_for(sim)) as client:
        answers = client.batch(requests_)
    assert len(answers) == len(sp_ids)
    assert all(answers[str(n)]["status"] == 200 and answers[str(n)]["body"]["id"] == sp_id
               for n, sp_id in enumerate(sp_ids))
    assert client.stats.requests == 2  # 20 + 5
