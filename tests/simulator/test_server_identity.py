"""Sign-in as MSAL does it: secrets, certificate assertions (RS256 and PS256), and Entra's errors."""
import base64
import dataclasses
import json
import logging
import time
import uuid

import jwt
import pytest
import requests
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from server_helpers import GRAPH_SCOPE, Graph, acquire, certificate_credential, msal_app, token


def token_endpoint(sim, tenant=None):
    return f"{sim.base_url}/{tenant or sim.tenant_id}/oauth2/v2.0/token"


def post_token(sim, form, tenant=None):
    return requests.post(token_endpoint(sim, tenant), data=form, verify=sim.ca_path, timeout=10)


def assertion(identity, audience, key=None, algorithm="RS256", lifetime=600, **overrides):
    with open(identity.certificate_path, "rb") as handle:
        signing_key = key or serialization.load_pem_private_key(handle.read(), None)
    now = int(time.time())
    claims = {"aud": audience, "iss": identity.client_id, "sub": identity.client_id, "jti": str(uuid.uuid4()),
              "iat": now, "exp": now + lifetime, **overrides}
    thumbprint = base64.urlsafe_b64encode(bytes.fromhex(identity.thumbprint_sha1)).decode()
    return jwt.encode(claims, signing_key, algorithm=algorithm, headers={"x5t": thumbprint})


def assertion_form(identity, signed):
    return {"grant_type": "client_credentials", "client_id": identity.client_id, "scope": GRAPH_SCOPE,
            "client_assertion_type": "urn:ietf:params:oauth:client-assertion-type:jwt-bearer",
            "client_assertion": signed}


def aadsts(response_or_result):
    body = response_or_result if isinstance(response_or_result, dict) else response_or_result.json()
    return body["error_codes"][0]


@pytest.mark.parametrize("method", ["secret", "RS256", "PS256"])
def test_msal_gets_a_token_that_graph_accepts(clean_simulator, method):
    sim = clean_simulator
    identity = sim.collector
    credential = identity.secret if method == "secret" else certificate_credential(identity, method)
    access_token = token(sim, "collector", credential)
    response = Graph(sim, access_token=access_token).get("/applications?$top=1")
    assert response.status_code == 200
    assert len(response.json()["value"]) == 1
    token_requests = [r for r in sim.requests if r.route == "POST /{tenant}/oauth2/v2.0/token"]
    assert [(r.status, r.app) for r in token_requests] == [(200, identity.client_id)]


def test_tenant_may_be_named_by_its_domain(clean_simulator):
    sim = clean_simulator
    app = msal_app(sim, sim.collector, certificate_credential(sim.collector, "PS256"),
                   authority=f"{sim.base_url}/{sim.tenant.domain}")
    assert "access_token" in app.acquire_token_for_client([GRAPH_SCOPE])


def test_discovery_documents(clean_simulator):
    sim = clean_simulator
    config = requests.get(f"{sim.base_url}/{sim.tenant_id}/v2.0/.well-known/openid-configuration",
                          verify=sim.ca_path, timeout=10).json()
    assert config["token_endpoint"] == token_endpoint(sim)
    assert config["issuer"] == f"{sim.base_url}/{sim.tenant_id}/v2.0"
    instance = requests.get(f"{sim.base_url}/common/discovery/instance",
                            params={"api-version": "1.1",
                                    "authorization_endpoint": f"{sim.base_url}/{sim.tenant_id}/oauth2/v2.0/authorize"},
                            verify=sim.ca_path, timeout=10).json()
    assert instance["tenant_discovery_endpoint"].startswith(f"{sim.base_url}/{sim.tenant_id}/")


def test_wrong_secret_is_aadsts7000215(clean_simulator):
    result = acquire(clean_simulator, "collector", credential="not-the-secret")
    assert result["error"] == "invalid_client" and aadsts(result) == 7000215
    assert result["error_description"].startswith("AADSTS7000215: ")
    assert {"timestamp", "trace_id", "correlation_id"} <= set(result)


def test_unknown_app_is_aadsts700016(clean_simulator):
    sim = clean_simulator
    response = post_token(sim, {"grant_type": "client_credentials", "client_id": str(uuid.uuid4()),
                                "client_secret": "whatever", "scope": GRAPH_SCOPE})
    assert response.status_code == 400 and aadsts(response) == 700016
    assert response.json()["error"] == "unauthorized_client"


def test_unknown_tenant_is_aadsts90002_for_msal_and_the_token_endpoint(clean_simulator):
    sim = clean_simulator
    unknown = str(uuid.uuid4())
    with pytest.raises(ValueError) as raised:
        msal_app(sim, sim.collector, sim.collector.secret, authority=f"{sim.base_url}/{unknown}")
    assert "AADSTS90002" in str(raised.value.__context__)
    response = post_token(sim, {"grant_type": "client_credentials", "client_id": sim.collector.client_id,
                                "client_secret": sim.collector.secret, "scope": GRAPH_SCOPE}, tenant=unknown)
    assert response.status_code == 400 and aadsts(response) == 90002


@pytest.mark.parametrize("scope", ["https://graph.microsoft.com/User.Read",
                                   "https://graph.microsoft.com/.default offline_access",
                                   "https://management.azure.com/.default"])
def test_scope_other_than_one_graph_default_is_aadsts70011(clean_simulator, scope):
    sim = clean_simulator
    response = post_token(sim, {"grant_type": "client_credentials", "client_id": sim.collector.client_id,
                                "client_secret": sim.collector.secret, "scope": scope})
    assert response.status_code == 400 and aadsts(response) == 70011
    assert response.json()["error"] == "invalid_scope"


def test_assertion_signed_by_another_key_is_aadsts700027(clean_simulator):
    sim = clean_simulator
    stranger = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    response = post_token(sim, assertion_form(sim.collector, assertion(sim.collector, token_endpoint(sim), stranger)))
    assert response.status_code == 401 and aadsts(response) == 700027
    assert "signature" in response.json()["error_description"]


def test_assertion_checks_audience_expiry_issuer_and_thumbprint(clean_simulator):
    sim = clean_simulator
    identity = sim.collector
    good = assertion(identity, token_endpoint(sim))
    assert post_token(sim, assertion_form(identity, good)).status_code == 200
    unpadded = jwt.encode(jwt.decode(good, options={"verify_signature": False}),
                          serialization.load_pem_private_key(open(identity.certificate_path, "rb").read(), None),
                          algorithm="RS256",
                          headers={"x5t": base64.urlsafe_b64encode(bytes.fromhex(identity.thumbprint_sha1))
                                   .decode().rstrip("=")})
    assert post_token(sim, assertion_form(identity, unpadded)).status_code == 200, "x5t without padding"
    wrong_audience = assertion(identity, f"{sim.base_url}/other/oauth2/v2.0/token")
    assert aadsts(post_token(sim, assertion_form(identity, wrong_audience))) == 700027
    expired = assertion(identity, token_endpoint(sim), lifetime=-3600)
    assert aadsts(post_token(sim, assertion_form(identity, expired))) == 700024
    other_issuer = assertion(identity, token_endpoint(sim), iss=sim.responder.client_id)
    assert aadsts(post_token(sim, assertion_form(identity, other_issuer))) == 700021
    # the responder's certificate is not registered on the collector
    responder_signed = assertion(sim.responder, token_endpoint(sim), iss=identity.client_id, sub=identity.client_id)
    assert aadsts(post_token(sim, assertion_form(identity, responder_signed))) == 700027


def test_expired_token_gets_invalid_authentication_token(simulator_factory):
    sim = simulator_factory(token_lifetime=1)
    graph = Graph(sim)
    assert graph.get("/applications?$top=1").status_code == 200
    time.sleep(1.1)
    response = graph.get("/applications?$top=1")
    assert response.status_code == 401
    assert response.json()["error"]["code"] == "InvalidAuthenticationToken"
    assert response.headers["request-id"] == response.json()["error"]["innerError"]["request-id"]


def test_missing_or_forged_bearer_token_is_401(clean_simulator):
    sim = clean_simulator
    session = requests.Session()
    missing = session.get(f"{sim.base_url}/v1.0/applications", verify=sim.ca_path, timeout=10)
    guessed = jwt.encode({"appid": sim.collector.client_id, "exp": time.time() + 60},
                         "a-guessed-signing-key-of-32-bytes!")
    forged = session.get(f"{sim.base_url}/v1.0/applications", verify=sim.ca_path, timeout=10,
                         headers={"Authorization": f"Bearer {guessed}"})
    for response in (missing, forged):
        assert response.status_code == 401
        assert response.json()["error"]["code"] == "InvalidAuthenticationToken"


def test_removed_secret_no_longer_signs_in_and_an_added_one_does(clean_simulator):
    sim = clean_simulator
    responder = Graph(sim, "responder")
    collector = sim.collector
    added = responder.post(f"/applications/{collector.app_object_id}/addPassword",
                           json={"passwordCredential": {"displayName": "rotation"}})
    assert added.status_code == 200
    new_secret = added.json()["secretText"]
    assert new_secret and added.json()["hint"] == new_secret[:3]
    removed = responder.post(f"/applications/{collector.app_object_id}/removePassword",
                             json={"keyId": collector.secret_key_id})
    assert removed.status_code == 204
    assert aadsts(acquire(sim, "collector")) == 7000215
    assert "access_token" in acquire(sim, "collector", credential=new_secret)


def test_disabled_service_principal_cannot_sign_in(clean_simulator):
    sim = clean_simulator
    sim.state.set_account_enabled(sim.limited.sp_object_id, False)
    result = acquire(sim, "limited")
    assert aadsts(result) == 7000112


def test_no_secret_or_token_reaches_the_request_log_or_the_simulator_log(clean_simulator, caplog):
    sim = clean_simulator
    caplog.set_level(logging.DEBUG, logger="entra_simulator")
    access_token = token(sim, "collector")
    token(sim, "collector", certificate_credential(sim.collector, "PS256"))
    acquire(sim, "collector", credential="wrong-secret-value")
    Graph(sim, access_token=access_token).get("/applications?$top=1")
    recorded = json.dumps([dataclasses.asdict(record) for record in sim.requests]) + caplog.text
    for secret in (sim.collector.secret, access_token, "wrong-secret-value", "client_assertion", "Bearer"):
        assert secret not in recorded
