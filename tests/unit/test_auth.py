"""TokenProvider against a scripted identity provider: what MSAL sends, caching, errors, and the session it uses.

The fake answers MSAL's two calls (OpenID discovery GET, token POST) as Entra does and records every
request, so the tests prove what was asked, not only what came back. Real TLS and a real token
endpoint are covered by tests/integration/test_graph_against_simulator.py.
"""
import base64
import json

import jwt
import pytest
import requests
import structlog
import trustme
from requests.adapters import BaseAdapter

from connector.graph.auth import PinnedSession, TokenProvider, session_for
from connector.config import Account, read_certificate
from connector.errors import AuthenticationError, ConfigError

TENANT = "0b1f5c8e-2c4d-4a5e-9f10-7a6b5c4d3e2f"
CLIENT = "5e6f7a8b-9c0d-4e1f-8a2b-3c4d5e6f7a8b"
SECRET = "abc8Q~fake-secret-value-for-tests-only_0123"
AADSTS7000215 = ("AADSTS7000215: Invalid client secret provided. Ensure the secret being sent in the request is the "
                 "client secret value, not the client secret ID, for a secret added to app '" + CLIENT + "'.\r\n"
                 "Trace ID: 7d3c2b1a-0000-4000-8000-000000000001\r\nCorrelation ID: "
                 "9f8e7d6c-0000-4000-8000-000000000002\r\nTimestamp: 2026-01-02 03:04:05Z")


class FakeResponse:
    def __init__(self, status_code, body, headers=None):
        self.status_code = status_code
        self.text = body if isinstance(body, str) else json.dumps(body)
        self.headers = headers or {"Content-Type": "application/json"}


class FakeIdentityProvider:
    """The http_client MSAL is given: answers discovery and token requests, records them."""

    def __init__(self, host="https://login.microsoftonline.com"):
        self.host = host
        self.gets, self.posts = [], []
        self.token_answers = []  # queued (status, body); default is a fresh token per POST

    def get(self, url, params=None, headers=None, **kwargs):
        self.gets.append(url)
        if url.endswith("/v2.0/.well-known/openid-configuration"):
            base = f"{self.host}/{TENANT}"
            return FakeResponse(200, {"authorization_endpoint": f"{base}/oauth2/v2.0/authorize",
                                      "token_endpoint": f"{base}/oauth2/v2.0/token",
                                      "issuer": f"{self.host}/{TENANT}/v2.0"})
        if url.startswith("https://login.microsoftonline.com/common/discovery/instance"):
            # MSAL's authority-alias lookup for Microsoft's own hosts (graph-wire-facts §9, call 3)
            aliases = ["login.microsoftonline.com", "login.windows.net", "login.microsoft.com", "sts.windows.net"]
            return FakeResponse(200, {"tenant_discovery_endpoint": "", "api-version": "1.1", "metadata": [
                {"preferred_network": "login.microsoftonline.com", "preferred_cache": "login.windows.net",
                 "aliases": aliases}]})
        return FakeResponse(404, {"error": "not_found"})

    def post(self, url, params=None, data=None, headers=None, **kwargs):
        self.posts.append({"url": url, "data": dict(data or {}), "headers": dict(headers or {})})
        if self.token_answers:
            status, body = self.token_answers.pop(0)
            if isinstance(status, Exception):
                raise status
            return FakeResponse(status, body)
        return FakeResponse(200, {"token_type": "Bearer", "expires_in": 3599,
                                  "access_token": f"eyJ0eXAiOiJKV1QifQ.eyJuIjoi{len(self.posts)}In0.sig"})

    def close(self):
        pass


@pytest.fixture(scope="module")
def certificate_file(tmp_path_factory):
    leaf = trustme.CA(key_type=trustme.KeyType.RSA).issue_cert("collector", key_type=trustme.KeyType.RSA)
    path = tmp_path_factory.mktemp("cert") / "collector.pem"
    leaf.private_key_and_cert_chain_pem.write_to_path(str(path))
    return str(path)


def secret_account(**overrides):
    values = dict(name="prod", tenant_id=TENANT, client_id=CLIENT)
    values.update(overrides)
    return Account(**values).with_secret(SECRET)


def test_secret_is_sent_in_the_form_and_the_token_is_cached():
    idp = FakeIdentityProvider()
    provider = TokenProvider(secret_account(), http_client=idp)
    first = provider.token()
    assert provider.token() == first
    assert len(idp.posts) == 1
    post = idp.posts[0]
    assert post["url"] == f"https://login.microsoftonline.com/{TENANT}/oauth2/v2.0/token"
    assert post["data"]["client_secret"] == SECRET
    assert post["data"]["grant_type"] == "client_credentials"
    assert post["data"]["scope"] == "https://graph.microsoft.com/.default"
    assert "client_assertion" not in post["data"]
    assert provider.auth_method == "secret"


def test_invalidate_forces_a_new_token():
    idp = FakeIdentityProvider()
    provider = TokenProvider(secret_account(), http_client=idp)
    first = provider.token()
    provider.invalidate()
    second = provider.token()
    assert len(idp.posts) == 2 and second != first


def test_certificate_signs_a_ps256_assertion_with_the_sha256_thumbprint(certificate_file):
    idp = FakeIdentityProvider()
    account = Account(name="prod", tenant_id=TENANT, client_id=CLIENT, certificate_path=certificate_file)
    provider = TokenProvider(account, http_client=idp)
    provider.token()
    form = idp.posts[0]["data"]
    assert "client_secret" not in form
    assert form["client_assertion_type"] == "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"
    assertion = form["client_assertion"]
    header = jwt.get_unverified_header(assertion)
    assert header["alg"] == "PS256"
    material = read_certificate(certificate_file)
    expected = base64.urlsafe_b64encode(bytes.fromhex(material.sha256_thumbprint)).decode().rstrip("=")
    assert header["x5t#S256"].rstrip("=") == expected
    public_key = jwt.PyJWK.from_dict(json.loads(jwt.algorithms.RSAAlgorithm.to_jwk(
        _public_key(material.certificate_pem)))).key
    claims = jwt.decode(assertion, public_key, algorithms=["PS256"], audience=idp.posts[0]["url"])
    assert claims["iss"] == claims["sub"] == CLIENT
    assert provider.auth_method == "certificate"


def _public_key(certificate_pem):
    from cryptography import x509
    return x509.load_pem_x509_certificate(certificate_pem.encode()).public_key()


def test_custom_authority_never_calls_microsoft_public_hosts():
    idp = FakeIdentityProvider(host="https://127.0.0.1:8443")
    account = secret_account(authority_host="https://127.0.0.1:8443", graph_host="https://127.0.0.1:8443")
    TokenProvider(account, http_client=idp).token()
    called = idp.gets + [post["url"] for post in idp.posts]
    assert called and all(url.startswith("https://127.0.0.1:8443/") for url in called)
    assert idp.posts[0]["url"] == f"https://127.0.0.1:8443/{TENANT}/oauth2/v2.0/token"


def test_custom_authority_error_path_never_calls_microsoft_public_hosts():
    idp = FakeIdentityProvider(host="https://127.0.0.1:8443")
    idp.token_answers.append((401, {"error": "invalid_client", "error_description": AADSTS7000215,
                                    "error_codes": [7000215]}))
    provider = TokenProvider(secret_account(authority_host="https://127.0.0.1:8443"), http_client=idp)
    with pytest.raises(AuthenticationError):
        provider.token()
    provider.invalidate()
    assert all(url.startswith("https://127.0.0.1:8443/") for url in idp.gets + [p["url"] for p in idp.posts])


def test_sovereign_cloud_uses_its_login_host_and_graph_scope():
    idp = FakeIdentityProvider(host="https://login.microsoftonline.us")
    TokenProvider(secret_account(cloud="dod"), http_client=idp).token()
    assert idp.posts[0]["url"].startswith("https://login.microsoftonline.us/")
    assert idp.posts[0]["data"]["scope"] == "https://dod-graph.microsoft.us/.default"


def test_bad_secret_becomes_authentication_error_with_the_aadsts_code_and_no_secret():
    idp = FakeIdentityProvider()
    idp.token_answers.append((401, {"error": "invalid_client", "error_description": AADSTS7000215,
                                    "error_codes": [7000215], "correlation_id": "9f8e7d6c-0000-4000-8000-000000000002"}))
    with structlog.testing.capture_logs() as logs:
        with pytest.raises(AuthenticationError) as caught:
            TokenProvider(secret_account(), http_client=idp).token()
    error = caught.value
    assert error.aadsts_code == "AADSTS7000215"
    assert error.error == "invalid_client"
    assert "Invalid client secret provided" in str(error)
    assert "Trace ID" not in error.message and "Timestamp" not in error.message
    assert str(error).startswith("AADSTS7000215: Invalid client secret provided.")
    assert SECRET not in str(error) and SECRET not in repr(error.args)
    assert SECRET not in json.dumps(logs, default=str)
    assert any(entry["event"] == "auth.token_refused" and entry["aadsts_code"] == "AADSTS7000215" for entry in logs)


def test_trace_suffix_on_the_same_line_is_dropped_too():
    idp = FakeIdentityProvider()
    idp.token_answers.append((400, {"error": "unauthorized_client", "error_codes": [700016], "error_description":
                                    "AADSTS700016: Application with identifier 'x' was not found. Trace ID: t "
                                    "Correlation ID: c Timestamp: 2026-01-02 03:04:05Z"}))
    with pytest.raises(AuthenticationError) as caught:
        TokenProvider(secret_account(), http_client=idp).token()
    assert str(caught.value) == "AADSTS700016: Application with identifier 'x' was not found."


def test_a_secret_echoed_by_the_token_endpoint_is_scrubbed_from_the_error():
    idp = FakeIdentityProvider()
    idp.token_answers.append((400, {"error": "invalid_request",
                                    "error_description": f"AADSTS90000: bad value {SECRET} in client_secret"}))
    with pytest.raises(AuthenticationError) as caught:
        TokenProvider(secret_account(), http_client=idp).token()
    assert caught.value.aadsts_code == "AADSTS90000"
    assert SECRET not in str(caught.value)


def test_token_endpoint_5xx_is_an_authentication_error():
    idp = FakeIdentityProvider()
    idp.token_answers.append((503, "Service Unavailable"))
    with pytest.raises(AuthenticationError, match="failed .*try again later") as caught:
        TokenProvider(secret_account(), http_client=idp).token()
    assert caught.value.aadsts_code is None


def test_unreachable_token_endpoint_is_an_authentication_error():
    idp = FakeIdentityProvider()
    idp.token_answers.append((requests.ConnectionError("connection refused"), None))
    with pytest.raises(AuthenticationError, match="unreachable: ConnectionError"):
        TokenProvider(secret_account(), http_client=idp).token()


def test_unknown_tenant_at_discovery_is_an_authentication_error():
    class NoSuchTenant(FakeIdentityProvider):
        def get(self, url, **kwargs):
            self.gets.append(url)
            return FakeResponse(400, {"error": "invalid_tenant",
                                      "error_description": "AADSTS90002: Tenant 'x' not found."})
    with pytest.raises(AuthenticationError, match="cannot use authority"):
        TokenProvider(secret_account(), http_client=NoSuchTenant()).token()


def test_no_credential_is_a_config_error():
    account = Account(name="prod", tenant_id=TENANT, client_id=CLIENT)
    with pytest.raises(ConfigError, match="neither a certificate nor a client secret"):
        TokenProvider(account, http_client=FakeIdentityProvider()).token()


def test_creating_a_provider_touches_no_network():
    idp = FakeIdentityProvider()
    TokenProvider(secret_account(), http_client=idp)
    assert idp.gets == [] and idp.posts == []


# -- the session MSAL and Graph traffic go through ----------------------------------------------------

class RecordingAdapter(BaseAdapter):
    """A requests transport that records the settings each request was really sent with."""

    def __init__(self):
        super().__init__()
        self.sent = []

    def send(self, request, stream=False, timeout=None, verify=True, cert=None, proxies=None):
        self.sent.append({"verify": verify, "timeout": timeout, "proxies": proxies, "url": request.url})
        response = requests.Response()
        response.status_code = 200
        response._content = b"{}"
        response.request = request
        return response

    def close(self):
        pass


def test_session_pins_ca_bundle_proxy_and_timeout_whatever_the_environment_says(monkeypatch, tmp_path):
    monkeypatch.setenv("REQUESTS_CA_BUNDLE", "/etc/ssl/certs/some-other-bundle.pem")
    monkeypatch.setenv("CURL_CA_BUNDLE", "/etc/ssl/certs/some-other-bundle.pem")
    monkeypatch.setenv("HTTPS_PROXY", "http://env-proxy.invalid:3128")
    ca = tmp_path / "ca.pem"
    ca.write_text("placeholder")
    session = session_for(secret_account(ca_bundle=str(ca), proxy="http://proxy.example.net:8080"))
    assert isinstance(session, PinnedSession) and session.trust_env is False
    adapter = RecordingAdapter()
    session.mount("https://", adapter)
    session.get("https://login.example.net/x")
    session.get("https://login.example.net/y", verify=None)
    for sent in adapter.sent:
        assert sent["verify"] == str(ca)
        assert sent["timeout"] == (10, 30)
        assert sent["proxies"].get("https") == "http://proxy.example.net:8080"


def test_session_without_ca_bundle_uses_default_trust_not_the_environment(monkeypatch):
    monkeypatch.setenv("REQUESTS_CA_BUNDLE", "/etc/ssl/certs/some-other-bundle.pem")
    session = session_for(secret_account())
    adapter = RecordingAdapter()
    session.mount("https://", adapter)
    session.get("https://login.example.net/x")
    assert adapter.sent[0]["verify"] is True
    assert not adapter.sent[0]["proxies"]



def test_a_pasted_ca_is_trusted_and_host_names_are_still_checked():
    """PemTrustAdapter's context leaves host-name matching to urllib3 (check_hostname off), which matches
    it itself: a certificate issued for another name is refused (this venv's urllib3; the packaging tests
    prove the same for the urllib3 vendored in lib/)."""
    import http.server
    import ssl
    import threading

    import requests
    import trustme

    ca = trustme.CA()
    answers = {}
    for name in ("127.0.0.1", "elsewhere.example"):
        context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        ca.issue_cert(name).configure_cert(context)
        server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), http.server.SimpleHTTPRequestHandler)
        server.socket = context.wrap_socket(server.socket, server_side=True)
        threading.Thread(target=server.serve_forever, daemon=True).start()
        try:
            session = PinnedSession(ca_pem=ca.cert_pem.bytes().decode())
            answers[name] = session.get(f"https://127.0.0.1:{server.server_port}/", timeout=10).status_code
        except requests.exceptions.SSLError as error:
            answers[name] = str(error)
        finally:
            server.shutdown()
            server.server_close()
    assert answers["127.0.0.1"] in (200, 404)
    assert "hostname" in answers["elsewhere.example"] and "127.0.0.1" in answers["elsewhere.example"]
