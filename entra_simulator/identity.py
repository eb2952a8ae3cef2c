"""The Microsoft identity platform, as MSAL's confidential client uses it (graph-wire-facts.md section 9).

- `/{tenant}/v2.0/.well-known/openid-configuration` (OIDC discovery),
- `/common/discovery/instance` (instance discovery),
- `POST /{tenant}/oauth2/v2.0/token`: client-credentials grant with a client secret in the form body
  or a certificate assertion (private_key_jwt, RS256 with `x5t` or PS256 with `x5t#S256`).

Errors carry Entra's OAuth2 shape and AADSTS codes. Access tokens are JWTs signed with a key that only
this process knows; they carry the app's roles and a revocation generation so that tests can revoke
every token issued so far.
"""

from __future__ import annotations
import base64
import datetime
import hmac
import secrets
import threading
import time
import uuid
from dataclasses import dataclass

import jwt
from cryptography import x509

from entra_simulator.graph_errors import unauthenticated
from entra_simulator.state import APPLICATIONS, SERVICE_PRINCIPALS

ASSERTION_TYPE = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"
GRAPH_APP_ID = "00000003-0000-0000-c000-000000000000"
# Resources a `.default` scope may name: Microsoft Graph in each cloud, plus the simulator itself.
GRAPH_RESOURCES = ("https://graph.microsoft.com", "https://graph.microsoft.us", "https://dod-graph.microsoft.us",
                   "https://microsoftgraph.chinacloudapi.cn", GRAPH_APP_ID)
ASSERTION_ALGORITHMS = ("RS256", "PS256")


class EntraError(Exception):
    """An OAuth2 error from the token endpoint: HTTP status, `error`, AADSTS code and description."""

    def __init__(self, status, error, code, description):
        super().__init__(f"AADSTS{code}: {description}")
        self.status, self.error, self.code, self.description = status, error, code, description

    def body(self, correlation_id=None):
        trace_id = str(uuid.uuid4())
        correlation_id = correlation_id or str(uuid.uuid4())
        timestamp = datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M:%SZ")
        return {"error": self.error,
                # Microsoft's documented sample separates these with CRLF
                "error_description": f"AADSTS{self.code}: {self.description}\r\nTrace ID: {trace_id}\r\n"
                                     f"Correlation ID: {correlation_id}\r\nTimestamp: {timestamp}",
                "error_codes": [self.code], "timestamp": timestamp, "trace_id": trace_id,
                "correlation_id": correlation_id,
                "error_uri": f"https://login.microsoftonline.com/error?code={self.code}"}


@dataclass(frozen=True)
class Grant:
    """Who is calling Graph, read from a valid access token."""
    client_id: str
    roles: frozenset
    sp_object_id: str | None


def _strip_padding(text):
    return (text or "").rstrip("=")


def _b64url(raw: bytes):
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


class IdentityPlatform:
    def __init__(self, tenant, state, token_lifetime=3600, signing_key=None, on_sign_in=None):
        self.tenant = tenant
        self._on_sign_in = on_sign_in  # (identity, key_id or None, success) for each client-credentials attempt
        self.state = state
        self.token_lifetime = token_lifetime
        self._signing_key = signing_key or secrets.token_bytes(32)
        self._generation = 0
        self._lock = threading.Lock()
        self._public_keys = {}
        self._identities = {identity.client_id.lower(): identity for identity in tenant.identities.values()}

    # ---- tenants and discovery ---------------------------------------------------------------
    def knows_tenant(self, segment):
        return (segment or "").lower() in (self.tenant.tenant_id.lower(), (self.tenant.domain or "").lower())

    def _require_tenant(self, segment):
        if not self.knows_tenant(segment):
            raise EntraError(400, "invalid_tenant", 90002,
                             f"Tenant '{segment}' not found. Check to make sure you have the correct tenant ID and "
                             "are signing into the correct cloud. Check with your subscription administrator, this "
                             "may happen if there are no active subscriptions for the tenant.")

    def openid_configuration(self, base_url, segment):
        self._require_tenant(segment)
        root = f"{base_url}/{self.tenant.tenant_id}"
        return {
            "token_endpoint": f"{root}/oauth2/v2.0/token",
            "token_endpoint_auth_methods_supported": ["client_secret_post", "private_key_jwt", "client_secret_basic"],
            "jwks_uri": f"{root}/discovery/v2.0/keys",
            "response_modes_supported": ["query", "fragment", "form_post"],
            "subject_types_supported": ["pairwise"],
            "id_token_signing_alg_values_supported": ["RS256"],
            "response_types_supported": ["code", "id_token", "code id_token", "id_token token"],
            "scopes_supported": ["openid", "profile", "email", "offline_access"],
            "issuer": f"{root}/v2.0",
            "request_uri_parameter_supported": False,
            "userinfo_endpoint": f"{base_url}/oidc/userinfo",
            "authorization_endpoint": f"{root}/oauth2/v2.0/authorize",
            "device_authorization_endpoint": f"{root}/oauth2/v2.0/devicecode",
            "http_logout_supported": True,
            "frontchannel_logout_supported": True,
            "end_session_endpoint": f"{root}/oauth2/v2.0/logout",
            "claims_supported": ["sub", "iss", "aud", "exp", "iat", "auth_time", "acr", "nonce", "tid", "ver"],
            "tenant_region_scope": "EU",
            "cloud_instance_name": "microsoftonline.com",
            "cloud_graph_host_name": "graph.windows.net",
            "msgraph_host": "graph.microsoft.com",
            "rbac_url": "https://pas.windows.net",
        }

    def instance_discovery(self, base_url, authorization_endpoint):
        host = base_url.split("://", 1)[-1]
        tenant = "common"
        if authorization_endpoint:
            parts = authorization_endpoint.split("://", 1)[-1].split("/")
            tenant = parts[1] if len(parts) > 1 and parts[1] else "common"
        return {"tenant_discovery_endpoint": f"{base_url}/{tenant}/v2.0/.well-known/openid-configuration",
                "api-version": "1.1",
                "metadata": [{"preferred_network": host, "preferred_cache": host, "aliases": [host]}]}

    # ---- token endpoint ----------------------------------------------------------------------
    def token(self, base_url, segment, form):
        """Answer the client-credentials grant; `form` is the parsed body. Returns the JSON body."""
        self._require_tenant(segment)
        if form.get("grant_type") != "client_credentials":
            raise EntraError(400, "unsupported_grant_type", 70003,
                             "The app requested an unsupported grant type "
                             f"'{form.get('grant_type') or ''}'.")
        client_id = (form.get("client_id") or "").strip()
        if not client_id:
            raise EntraError(400, "invalid_request", 900144,
                             "The request body must contain the following parameter: 'client_id'.")
        self._check_scope(base_url, form.get("scope"))
        identity = self._identities.get(client_id.lower())
        if identity is None and self.tenant.application_by_app_id(client_id) is None:
            raise EntraError(400, "unauthorized_client", 700016,
                             f"Application with identifier '{client_id}' was not found in the directory "
                             f"'{self.tenant.domain or self.tenant.tenant_id}'. This can happen if the application "
                             "has not been installed by the administrator of the tenant or consented to by any user "
                             "in the tenant. You may have sent your authentication request to the wrong tenant.")
        try:
            key_id = self._check_credential(base_url, segment, client_id, identity, form)
        except EntraError as error:
            if identity is not None and error.code == 7000215:
                self._signed_in(identity, None, False)
            raise
        if self.state.account_enabled(identity.sp_object_id) is False:
            raise EntraError(400, "unauthorized_client", 7000112,
                             f"Application '{client_id}'({identity.display_name}) is disabled.")
        self._signed_in(identity, key_id, True)
        return self._issue(identity)

    def _signed_in(self, identity, key_id, success):
        if self._on_sign_in is not None:
            self._on_sign_in(identity, key_id, success)

    def _check_credential(self, base_url, segment, client_id, identity, form):
        """Check the secret or the assertion; returns the keyId of the credential that was used."""
        if form.get("client_assertion"):
            if form.get("client_assertion_type") != ASSERTION_TYPE:
                raise EntraError(400, "invalid_request", 700027,
                                 "The client_assertion_type parameter is missing or invalid.")
            self._check_assertion(base_url, segment, client_id, identity, form["client_assertion"])
            return identity.certificate_key_id
        if form.get("client_secret"):
            return self._check_secret(client_id, identity, form["client_secret"])
        raise EntraError(401, "invalid_client", 7000218,
                         "The request body must contain the following parameter: 'client_assertion' or "
                         "'client_secret'.")

    def _check_scope(self, base_url, scope):
        scopes = (scope or "").split()
        if not scopes:
            raise EntraError(400, "invalid_scope", 70011,
                             "The provided request must include a 'scope' input parameter.")
        accepted = {f"{resource}/.default" for resource in GRAPH_RESOURCES + (base_url,)}
        for requested in scopes:
            if requested.rstrip("/").lower() not in {value.lower() for value in accepted}:
                raise EntraError(400, "invalid_scope", 70011,
                                 "The provided value for the input parameter 'scope' is not valid. "
                                 f"The scope {scope} is not valid. The client credentials flow only accepts "
                                 "a single scope of the form <resource>/.default.")
        if len(scopes) != 1:
            raise EntraError(400, "invalid_scope", 70011,
                             f"The provided value for the input parameter 'scope' is not valid. The scope {scope} "
                             "is not valid. Only one resource/.default scope is allowed.")

    def _bad_secret(self, client_id):
        return EntraError(401, "invalid_client", 7000215,
                          "Invalid client secret provided. Ensure the secret being sent in the request is the client "
                          f"secret value, not the client secret ID, for a secret added to app '{client_id}'.")

    def _check_secret(self, client_id, identity, secret):
        if identity is None:
            raise self._bad_secret(client_id)
        owners = (identity.app_object_id, identity.sp_object_id)
        live_keys = (set(self.state.password_key_ids(APPLICATIONS, identity.app_object_id))
                     | set(self.state.password_key_ids(SERVICE_PRINCIPALS, identity.sp_object_id)))
        if identity.secret and hmac.compare_digest(identity.secret.encode(), secret.encode()):
            if identity.secret_key_id in live_keys:
                return identity.secret_key_id
            raise self._bad_secret(client_id)  # the secret was removed: Entra no longer knows it
        added = self.state.added_secret_owner(secret)
        if added and added[0] in owners and added[1] in live_keys:
            return added[1]
        raise self._bad_secret(client_id)

    def _public_key(self, identity):
        key = self._public_keys.get(identity.client_id)
        if key is None:
            pem = identity.certificate_pem
            key = x509.load_pem_x509_certificate(pem.encode() if isinstance(pem, str) else pem).public_key()
            self._public_keys[identity.client_id] = key
        return key

    def _check_assertion(self, base_url, segment, client_id, identity, assertion):
        def invalid(code, description, status=401):
            return EntraError(status, "invalid_client", code, description)

        try:
            header = jwt.get_unverified_header(assertion)
        except jwt.PyJWTError:
            raise invalid(700027, "Client assertion is not a valid JWT.") from None
        if header.get("alg") not in ASSERTION_ALGORITHMS:
            raise invalid(700027, f"Client assertion uses an unsupported algorithm '{header.get('alg')}'.")
        if identity is None or not identity.certificate_pem:
            raise invalid(700027, "The certificate with identifier used to sign the client assertion is not "
                                  f"registered on application. [Reason - The key was not found.] App Id '{client_id}'.")
        sha1 = _b64url(bytes.fromhex(identity.thumbprint_sha1))
        sha256 = _b64url(bytes.fromhex(identity.thumbprint_sha256))
        if _strip_padding(header.get("x5t#S256")) != sha256 and _strip_padding(header.get("x5t")) != sha1:
            raise invalid(700027, "The certificate with identifier used to sign the client assertion is not "
                                  f"registered on application. [Reason - The key was not found.] App Id '{client_id}'.")
        audiences = [f"{base_url}/{tenant}/oauth2/v2.0/token" for tenant in
                     {segment, self.tenant.tenant_id, self.tenant.domain} if tenant]
        try:
            claims = jwt.decode(assertion, self._public_key(identity), algorithms=[header["alg"]],
                                audience=audiences, options={"require": ["exp", "aud", "iss", "sub"]}, leeway=300)
        except jwt.ExpiredSignatureError:
            raise invalid(700024, "Client assertion is not within its valid time range.") from None
        except jwt.InvalidAudienceError:
            raise invalid(700027, "Client assertion audience claim does not match the token endpoint "
                                  f"'{audiences[0]}'.") from None
        except jwt.InvalidSignatureError:
            raise invalid(700027, "Client assertion failed signature validation.") from None
        except jwt.PyJWTError as error:
            raise invalid(700027, f"Client assertion is invalid: {error.__class__.__name__}.") from None
        if claims.get("iss") != client_id or claims.get("sub") != client_id:
            raise invalid(700021, "Client assertion application identifier doesn't match 'client_id' parameter.")
        if not claims.get("jti"):
            raise invalid(700027, "Client assertion is missing the 'jti' claim.")

    def _issue(self, identity):
        now = time.time()
        claims = {"aud": "https://graph.microsoft.com", "iss": f"https://sts.windows.net/{self.tenant.tenant_id}/",
                  "iat": int(now), "nbf": int(now) - 1, "exp": now + self.token_lifetime,
                  "appid": identity.client_id, "app_displayname": identity.display_name, "idtyp": "app",
                  "oid": identity.sp_object_id, "sub": identity.sp_object_id, "tid": self.tenant.tenant_id,
                  "roles": list(identity.roles), "uti": _b64url(secrets.token_bytes(16)), "ver": "1.0",
                  "xms_sim_gen": self._generation}
        token = jwt.encode(claims, self._signing_key, algorithm="HS256")
        lifetime = max(int(self.token_lifetime), 1)
        return {"token_type": "Bearer", "expires_in": lifetime, "ext_expires_in": lifetime, "access_token": token}

    # ---- Graph side ---------------------------------------------------------------------------
    def revoke_all(self):
        """Every access token issued so far stops working (a 'revoke sessions' in the middle of a walk)."""
        with self._lock:
            self._generation += 1

    def authenticate(self, authorization):
        """`Authorization` header -> Grant, or Graph's 401 InvalidAuthenticationToken."""
        scheme, _, token = (authorization or "").partition(" ")
        if scheme.lower() != "bearer" or not token.strip():
            raise unauthenticated("Access token is empty.")
        try:
            claims = jwt.decode(token.strip(), self._signing_key, algorithms=["HS256"],
                                options={"verify_exp": False, "verify_aud": False, "verify_iat": False,
                                         "verify_nbf": False})
        except jwt.PyJWTError:
            raise unauthenticated("Access token validation failure. Invalid audience or signature.") from None
        if time.time() >= claims.get("exp", 0):
            raise unauthenticated("Lifetime validation failed, the token is expired.")
        if claims.get("xms_sim_gen") != self._generation:
            raise unauthenticated("Access token has been revoked.")
        return Grant(client_id=claims.get("appid"), roles=frozenset(claims.get("roles") or ()),
                     sp_object_id=claims.get("oid"))
