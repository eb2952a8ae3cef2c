"""Server-side paging: signed skip tokens and a small cache of open iterators.

The tenant hands out lazy iterators, so a page deep into a 100,000-object collection must not
re-generate everything before it. The cursor in `$skiptoken` says where the walk is (offset, the
query it belongs to, when it was issued, signed). The iterator that produced the previous page is kept
under that token in a bounded LRU cache; the next request continues it. If it was evicted (or the
simulator restarted), the walk re-creates the iterator and skips to the offset: slower, same answer.
"""

from __future__ import annotations
import collections
import itertools
import threading
import time
import urllib.parse

from entra_simulator.graph_errors import GraphError, bad_request
from entra_simulator.odata import TokenSigner

EXPIRED_PAGE_TOKEN = ("Directory_ExpiredPageToken",
                      "The specified page token value has expired and can no longer be included in your request.")


def expired_page_token():
    return GraphError(400, *EXPIRED_PAGE_TOKEN)


class Pager:
    def __init__(self, signer: TokenSigner, ttl_s=3600.0, cache_size=32, clock=time.time):
        self.signer = signer
        self.ttl_s = ttl_s
        self._clock = clock
        self._cache = collections.OrderedDict()
        self._cache_size = cache_size
        self._lock = threading.Lock()
        self.expired_before = 0.0  # tokens issued before this instant are expired (expire_next_link fault)

    def issue(self, cursor):
        return self.signer.encode({**cursor, "iat": self._clock()})

    def read(self, token, route_key, query_key):
        """Decode a skip token for this route and query; 400 when tampered, foreign or expired."""
        cursor = self.signer.decode(token)
        if cursor is None or cursor.get("route") != route_key:
            raise bad_request("Invalid skip token: it is malformed or was not issued for this request.")
        if cursor.get("query") != query_key:
            raise bad_request("The query options of this request differ from those the skip token was issued "
                              "for; follow @odata.nextLink exactly as returned.")
        issued = cursor.get("iat", 0)
        if issued < self.expired_before or self._clock() - issued > self.ttl_s:
            raise expired_page_token()
        return cursor

    def expire_all(self):
        self.expired_before = self._clock() + 1e-6

    def page(self, token, cursor, make_iterator, size):
        """(items of this page, the iterator positioned after them or None when the walk is done)."""
        offset = cursor.get("offset", 0) if cursor else 0
        with self._lock:
            iterator = self._cache.pop(token, None) if token else None
        if iterator is None:
            iterator = itertools.islice(make_iterator(), offset, None)
        items = list(itertools.islice(iterator, size))
        following = next(iterator, _END)
        if following is _END:
            return items, None
        return items, itertools.chain((following,), iterator)

    def remember(self, token, iterator):
        with self._lock:
            self._cache[token] = iterator
            while len(self._cache) > self._cache_size:
                self._cache.popitem(last=False)

    def clear(self):
        with self._lock:
            self._cache.clear()


_END = object()


def link(base_url, api, path, options):
    """An absolute Graph URL, as nextLink and deltaLink are."""
    query = urllib.parse.urlencode(options, safe="$,()'=:/", quote_via=urllib.parse.quote)
    return f"{base_url}/{api}{path}" + (f"?{query}" if query else "")
