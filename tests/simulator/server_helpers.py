"""Clients for the simulator tests: real MSAL for tokens, requests for Graph, the CA passed per request.

REQUESTS_CA_BUNDLE is set on these machines and would beat a session's `verify`, so MSAL gets a session
with trust_env=False and Graph calls pass verify= each time (shared/docs/simulator-notes.md).
"""
import msal
import requests

GRAPH_SCOPE = "https://graph.microsoft.com/.default"


def http_session(sim):
    session = requests.Session()
    session.trust_env = False
    session.verify = sim.ca_path
    return session


def msal_app(sim, identity, credential, authority=None):
    return msal.ConfidentialClientApplication(
        identity.client_id, client_credential=credential, authority=authority or sim.authority,
        instance_discovery=False, http_client=http_session(sim))


def certificate_credential(identity, algorithm="RS256"):
    """MSAL's two certificate forms: SHA-1 thumbprint (RS256, x5t) or the certificate itself (PS256, x5t#S256)."""
    with open(identity.certificate_path, encoding="utf-8") as handle:
        private_key = handle.read()
    if algorithm == "RS256":
        return {"private_key": private_key, "thumbprint": identity.thumbprint_sha1}
    return {"private_key": private_key, "public_certificate": identity.certificate_pem}


def acquire(sim, name="collector", credential=None, scope=GRAPH_SCOPE):
    identity = sim.identities[name]
    result = msal_app(sim, identity, credential or identity.secret).acquire_token_for_client([scope])
    return result


def token(sim, name="collector", credential=None):
    result = acquire(sim, name, credential)
    assert "access_token" in result, result.get("error_description")
    return result["access_token"]


class Graph:
    """A bare Graph caller: no retries, no paging help, so tests see exactly what the server sends."""

    def __init__(self, sim, name="collector", access_token=None):
        self.sim = sim
        self.session = requests.Session()
        self.session.trust_env = False
        self.access_token = access_token or token(sim, name)

    def url(self, path, api="v1.0"):
        return path if path.startswith("https://") else f"{self.sim.base_url}/{api}{path}"

    def request(self, method, path, api="v1.0", headers=None, **kwargs):
        headers = {"Authorization": f"Bearer {self.access_token}", **(headers or {})}
        return self.session.request(method, self.url(path, api), headers=headers, verify=self.sim.ca_path,
                                    timeout=30, **kwargs)

    def get(self, path, api="v1.0", **kwargs):
        return self.request("GET", path, api, **kwargs)

    def post(self, path, json=None, api="v1.0", **kwargs):
        return self.request("POST", path, api, json=json, **kwargs)

    def patch(self, path, json=None, api="v1.0", **kwargs):
        return self.request("PATCH", path, api, json=json, **kwargs)

    def walk(self, path, api="v1.0", **kwargs):
        """Every item of a collection, following nextLink verbatim; returns (items, pages)."""
        items, pages, url = [], 0, self.url(path, api)
        while url:
            response = self.get(url, **kwargs)
            assert response.status_code == 200, response.text
            body = response.json()
            items.extend(body["value"])
            pages += 1
            url = body.get("@odata.nextLink")
        return items, pages


def error_code(response):
    return response.json()["error"]["code"]
