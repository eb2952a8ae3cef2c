"""Sign-in: an app-only Graph token for an account, from MSAL's confidential client.

Certificate first (MSAL signs a PS256 client assertion with the SHA-256 thumbprint), client secret
otherwise. MSAL keeps the token in its in-memory cache for its lifetime.

TLS and proxy: MSAL gets our own requests.Session with trust_env=False. With trust_env on, requests
lets REQUESTS_CA_BUNDLE / CURL_CA_BUNDLE and the proxy variables override whatever verify= MSAL or
we set, so an account's ca_bundle would be silently ignored (simulator-notes.md). The proxy therefore
comes only from the account.
"""
import re
import ssl

import msal
import requests
from requests.adapters import HTTPAdapter

from connector.errors import AuthenticationError, ConfigError, scrub
from connector.logs import get_logger

DEFAULT_TIMEOUT = (10, 30)  # (connect, read) seconds for the token endpoint
_AADSTS = re.compile(r"\bAADSTS(\d+)\b")
_TRACE_SUFFIX = re.compile(r"\s*\bTrace ID:")


def _log():
    return get_logger("connector.graph.auth")


class PinnedSession(requests.Session):
    """A requests.Session whose verify, proxies and timeout cannot be overridden by the environment."""

    def __init__(self, *, verify=True, proxies=None, timeout=DEFAULT_TIMEOUT, ca_pem=None):
        super().__init__()
        self.trust_env = False
        self.verify = verify
        self.proxies = dict(proxies or {})
        self.timeout = timeout
        if ca_pem:
            # a CA bundle pasted as PEM text is trusted from memory: no file, nothing left behind
            self.mount("https://", PemTrustAdapter(ca_pem))

    def request(self, method, url, **kwargs):
        kwargs.setdefault("timeout", self.timeout)
        # verify is passed explicitly too, so a caller's verify=None cannot fall back to anything else.
        if kwargs.get("verify") is None:
            kwargs["verify"] = self.verify
        return super().request(method, url, **kwargs)


class PemTrustAdapter(HTTPAdapter):
    """HTTPS that trusts exactly the CA certificates of some PEM text (direct and through a proxy)."""

    def __init__(self, ca_pem, **kwargs):
        self._context = ssl.create_default_context(cadata=ca_pem)
        # urllib3 matches the host name itself whenever the context does not (1.26 and 2.x alike), and the
        # urllib3 1.26 that lib/ vendors sends no server name for an IP address, which a context that checks
        # host names refuses ("check_hostname requires server_hostname"). Certificates are still required.
        self._context.check_hostname = False
        self._context.verify_mode = ssl.CERT_REQUIRED
        super().__init__(**kwargs)

    def init_poolmanager(self, *args, **kwargs):
        kwargs["ssl_context"] = self._context
        return super().init_poolmanager(*args, **kwargs)

    def proxy_manager_for(self, proxy, **kwargs):
        kwargs["ssl_context"] = self._context
        return super().proxy_manager_for(proxy, **kwargs)


def session_for(account, timeout=DEFAULT_TIMEOUT):
    """The HTTP session an account's traffic goes through: its CA bundle, its proxy, nothing from the environment."""
    return PinnedSession(verify=account.verify, proxies=account.proxies, timeout=timeout,
                         ca_pem=getattr(account, "ca_pem", None))


class TokenProvider:
    """App-only access tokens for one account. `.token()` is cheap while MSAL's cached token is valid."""

    def __init__(self, account, http_client=None):
        self.account = account
        self._http_client = http_client
        self._app = None

    @property
    def auth_method(self):
        return self.account.auth_method

    def token(self):
        """The current access token; a new one from the token endpoint when the cached one expired."""
        app = self._application()
        try:
            result = app.acquire_token_for_client(scopes=[self.account.graph_scope])
        except requests.RequestException as exc:
            raise self._unreachable(exc) from None
        except msal.exceptions.MsalServiceError as exc:  # MSAL raises it for an HTTP 5xx answer
            raise AuthenticationError(None, self._scrub(
                f"token endpoint {self.account.login_host} failed ({exc}); try again later")) from None
        except ValueError as exc:  # MSAL: non-JSON answer, or a token endpoint that is not https
            raise AuthenticationError(None, self._scrub(f"unusable answer from the token endpoint: {exc}")) from None
        if "access_token" not in result:
            raise self._refused(result)
        if result.get("token_source") == "identity_provider":
            _log().info("auth.token_acquired", account=self.account.name, auth_method=self.auth_method,
                        expires_in=result.get("expires_in"))
        return result["access_token"]

    def invalidate(self):
        """Forget the cached token so the next `.token()` asks the token endpoint (after a 401)."""
        # Not msal's remove_tokens_for_client(): it looks up authority aliases on Microsoft's
        # discovery endpoint first. The cache only ever holds this client's app-only tokens.
        if self._app is not None:
            cache = self._app.token_cache
            for access_token in list(cache.search(msal.TokenCache.CredentialType.ACCESS_TOKEN)):
                cache.remove_at(access_token)

    def close(self):
        if self._http_client is not None:
            self._http_client.close()

    # -- internals -------------------------------------------------------------------------------
    def _application(self):
        # Built on first use: MSAL fetches the OpenID configuration in its constructor, and a
        # provider must be creatable without touching the network.
        if self._app is None:
            if self._http_client is None:
                self._http_client = session_for(self.account)
            credential = self._credential()
            try:
                self._app = msal.ConfidentialClientApplication(
                    self.account.client_id,
                    client_credential=credential,
                    authority=self.account.authority,
                    http_client=self._http_client,
                    # For a private or simulated authority host, never ask Microsoft's public
                    # instance-discovery endpoint about it.
                    instance_discovery=False if self.account.has_custom_authority else None,
                    token_cache=msal.TokenCache(),
                )
            except requests.RequestException as exc:
                raise self._unreachable(exc) from None
            except ValueError as exc:
                # MSAL raises ValueError when the OpenID configuration cannot be fetched (unknown
                # tenant, wrong host) or a certificate cannot be used.
                raise AuthenticationError(
                    _aadsts_in(str(exc)),
                    self._scrub(f"cannot use authority {self.account.authority}: {exc}")) from None
        return self._app

    def _credential(self):
        if self.account.auth_method == "certificate":
            from connector.config import account_certificate

            # PEM text from storage/passwords, or a certificate_path on a heavy forwarder; held in memory only
            material = account_certificate(self.account)
            # private_key + public_certificate without a thumbprint: MSAL signs PS256 with x5t#S256.
            return {"private_key": material.private_key_pem, "public_certificate": material.certificate_pem}
        if self.account.client_secret:
            return self.account.client_secret
        raise ConfigError(f"account {self.account.name!r} has neither a certificate nor a client secret")

    def _refused(self, result):
        description = result.get("error_description") or result.get("error") or "no token in the answer"
        # Entra appends "Trace ID: ... Correlation ID: ... Timestamp: ..." (on new lines, or not): drop them.
        message = _TRACE_SUFFIX.split(description, maxsplit=1)[0].strip()
        codes = result.get("error_codes") or []
        code = f"AADSTS{codes[0]}" if codes else _aadsts_in(description)
        message = _AADSTS.sub("", message, count=1).lstrip(": ").strip() or message
        _log().warning("auth.token_refused", account=self.account.name, auth_method=self.auth_method,
                    aadsts_code=code, error=result.get("error"), correlation_id=result.get("correlation_id"))
        return AuthenticationError(code, self._scrub(message), error=result.get("error"),
                                   correlation_id=result.get("correlation_id"))

    def _unreachable(self, exc):
        return AuthenticationError(None, self._scrub(
            f"token endpoint {self.account.login_host} unreachable: {type(exc).__name__}: {exc}"))

    def _scrub(self, text):
        return scrub(text, secrets=(self.account.client_secret,))


def _aadsts_in(text):
    match = _AADSTS.search(text or "")
    return f"AADSTS{match.group(1)}" if match else None
