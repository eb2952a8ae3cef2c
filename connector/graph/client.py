"""The one Microsoft Graph client: URLs, paging, delta and $batch over one retrying transport.

Every Graph request the add-on makes goes through `GraphClient`, so throttling, error mapping, request
accounting and redaction are decided once. The work is split by job: `graph/transport.py` sends and
retries one request (tenacity, the policy in `graph/throttle.py`), `graph/batch.py` sends $batch chunks,
this module builds URLs and walks pages. Contract: docs/ARCHITECTURE.md "GraphClient contract".
Wire facts: ../shared/docs/graph-wire-facts.md (paging 1.5, delta 1.6, $batch 5, throttling 6, errors 7).
"""
import time
from dataclasses import dataclass
from typing import Optional
from urllib.parse import urlsplit

from connector.graph.auth import TokenProvider, session_for
from connector.graph.batch import BATCH_LIMIT, BatchSender
from connector.graph.throttle import RetryPolicy
from connector.graph.transport import GraphTransport, RequestStats, path_of
from connector.errors import GraphError

DEFAULT_TIMEOUT = (10, 60)  # (connect, read) seconds


@dataclass
class Page:
    items: list
    next_link: Optional[str] = None
    delta_link: Optional[str] = None


class GraphClient:
    def __init__(self, account, token_provider, *, session=None, policy=None, sleep=time.sleep,
                 timeout=DEFAULT_TIMEOUT):
        self.account = account
        self._tokens = token_provider
        self._session = session if session is not None else session_for(account, timeout)
        self._base = account.graph_root
        self._origin = _origin(self._base)
        self.stats = RequestStats()
        self._transport = GraphTransport(token_provider, self._session, verify=account.verify, timeout=timeout,
                                         policy=policy or RetryPolicy(), sleep=sleep, stats=self.stats)
        self._batches = BatchSender(self._transport)

    # -- single requests ---------------------------------------------------------------------------
    def get(self, path, params=None, api="v1.0", headers=None):
        return self._transport.request("GET", self._url(path, api), params=params, headers=headers).body

    def post(self, path, json_body, api="v1.0"):
        """POST a JSON body; the answer's JSON, or None for 204 No Content."""
        return self._transport.request("POST", self._url(path, api), json_body=json_body, idempotent=False).body

    def patch(self, path, json_body, api="v1.0"):
        self._transport.request("PATCH", self._url(path, api), json_body=json_body, idempotent=False)

    # -- collections -------------------------------------------------------------------------------
    def iter_pages(self, path, params=None, api="v1.0", headers=None):
        """Pages of a collection, following @odata.nextLink verbatim (its query already carries params)."""
        url, query = path, params
        while url:
            page = _page_of(self.get(url, params=query, api=api, headers=headers))
            yield page
            if page.next_link is not None and page.next_link == url:
                raise GraphError(None, "nextLinkLoop", "Graph answered a nextLink pointing at the same page",
                                 method="GET", path=path_of(url))
            url, query = page.next_link, None

    def iter_items(self, path, params=None, api="v1.0", headers=None):
        for page in self.iter_pages(path, params=params, api=api, headers=headers):
            yield from page.items

    def iter_delta(self, path, delta_link=None, params=None, api="v1.0"):
        """Pages of a delta round, from the start (path + params) or from a saved deltaLink.

        The last page carries `delta_link`, to save for the next round. An expired or unknown link
        raises DeltaTokenExpired: the caller starts again from `path`.
        """
        if delta_link:
            return self.iter_pages(delta_link, api=api)
        return self.iter_pages(path, params=params, api=api)

    def batch(self, requests_, api="v1.0"):
        """Send requests through JSON $batch, 20 at a time; {id: {"status", "headers", "body"}} for every id.

        Inner 429/503/504 answers are sent again in a new batch after the longest inner Retry-After;
        when the retry budget is spent their last answer is returned as it is.
        """
        return self._batches.send(requests_, self._url("/$batch", api))

    # -- lifetime ----------------------------------------------------------------------------------
    def close(self):
        """Close the pooled connections, the token provider's included."""
        self._session.close()
        close_tokens = getattr(self._tokens, "close", None)
        if close_tokens is not None:
            close_tokens()

    def __enter__(self):
        return self

    def __exit__(self, *exc_info):
        self.close()

    def _url(self, path, api):
        if path.startswith(("https://", "http://")):
            # Links come from Graph's answers; the token must never follow one to another host.
            if _origin(path) != self._origin:
                raise GraphError(None, "unexpectedHost", f"refusing to send the token to {_origin(path)} "
                                 f"(Graph host is {self._origin})", method="GET", path=path_of(path))
            return path
        if api not in ("v1.0", "beta"):
            raise ValueError(f"api must be 'v1.0' or 'beta', not {api!r}")
        return f"{self._base}/{api}/{path.lstrip('/')}"


def _page_of(body):
    if not isinstance(body, dict):
        return Page(items=[])
    next_link = body.get("@odata.nextLink")
    delta_link = body.get("@odata.deltaLink")
    value = body.get("value")
    if isinstance(value, list):
        return Page(items=value, next_link=next_link, delta_link=delta_link)
    # Some report filters answer a bare object instead of {"value": [...]} (graph-wire-facts §2.4).
    item = {key: val for key, val in body.items() if not key.startswith("@odata.")}
    return Page(items=[item] if item else [], next_link=next_link, delta_link=delta_link)


def _origin(url):
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}".lower()


__all__ = ["BATCH_LIMIT", "GraphClient", "Page", "RequestStats"]


def open_client(account):
    """The Graph client for an account (MSAL token provider over the account's pinned session)."""
    return GraphClient(account, TokenProvider(account, session_for(account)))
