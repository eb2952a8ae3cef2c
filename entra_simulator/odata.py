"""OData query options as Graph applies them: $select, $top, $filter, $count, $expand, $skiptoken.

Each collection declares what it supports (a QuerySpec); anything else is refused with Graph's 400,
never silently ignored. Skip tokens are opaque, HMAC-signed cursors: tampered or expired -> 400.
"""

from __future__ import annotations
import base64
import datetime
import hashlib
import hmac
import json
import re
import urllib.parse
from entra_simulator import timefmt
from dataclasses import dataclass, field

from entra_simulator.graph_errors import GraphError, bad_request

KNOWN_OPTIONS = ("$select", "$top", "$filter", "$count", "$expand", "$skiptoken", "$orderby", "$search",
                 "$deltatoken", "$skip", "$format")


@dataclass(frozen=True)
class QuerySpec:
    """What one collection accepts."""
    entity: str                                  # "microsoft.graph.application", for messages
    max_top: int | None = 999
    default_top: int = 100
    filters: dict = field(default_factory=dict)  # property path -> allowed operators ("eq", "ge", "any", "startswith")
    expand: tuple = ()
    count: bool = True
    unsupported_code: str = "Request_UnsupportedQuery"


@dataclass
class Query:
    select: list | None = None
    top: int | None = None
    filter: object = None        # parsed filter tree, or None
    filter_text: str | None = None
    count: bool = False
    expand: list = field(default_factory=list)
    skiptoken: str | None = None
    deltatoken: str | None = None

    def canonical(self):
        """The options a nextLink must carry forward, in a stable form for the signed cursor."""
        return {"select": self.select, "top": self.top, "filter": self.filter_text, "count": self.count,
                "expand": self.expand}


def parse_query_string(query_string):
    """Query string -> {option: value}; option names are case-insensitive, repeats are an error."""
    options = {}
    for name, value in urllib.parse.parse_qsl(query_string, keep_blank_values=True):
        key = name.lower()
        if not key.startswith("$") and "$" + key in KNOWN_OPTIONS:
            key = "$" + key  # Graph v1.0 accepts system query options without the dollar sign
        if key in options:
            raise bad_request(f"Query option '{name}' was specified more than once, but it must be specified "
                              "at most once.")
        options[key] = value
    return options


def parse(options, spec: QuerySpec):
    """Validate the options of one request against what the collection supports."""
    query = Query()
    for key, value in options.items():
        if key == "$select":
            query.select = [part.strip() for part in value.split(",") if part.strip()]
            if not query.select:
                raise bad_request("Invalid $select: the list of properties is empty.")
        elif key == "$top":
            query.top = parse_top(value, spec)
        elif key == "$filter":
            query.filter = parse_filter(value, spec)
            query.filter_text = value
        elif key == "$count":
            if value.lower() not in ("true", "false"):
                raise bad_request(f"Invalid value '{value}' for $count; expected true or false.")
            query.count = value.lower() == "true"
            if query.count and not spec.count:
                raise GraphError(400, spec.unsupported_code, "$count is not supported on this resource.")
        elif key == "$expand":
            query.expand = [part.strip() for part in value.split(",") if part.strip()]
            for name in query.expand:
                if name.split("(")[0] not in spec.expand:
                    raise GraphError(400, spec.unsupported_code,
                                     f"Expand of '{name}' is not supported on {spec.entity}.")
        elif key == "$skiptoken":
            query.skiptoken = value
        elif key == "$deltatoken":
            query.deltatoken = value
        elif key.startswith("$"):
            raise GraphError(400, spec.unsupported_code, f"Query option '{key}' is not supported on {spec.entity}.")
        # other parameters (e.g. api-version) are ignored, as Graph does
    return query


def parse_top(value, spec):
    try:
        top = int(value)
    except ValueError:
        raise bad_request(f"Invalid $top value '{value}': an integer is required.") from None
    if top < 1 or (spec.max_top is not None and top > spec.max_top):
        raise GraphError(400, spec.unsupported_code,
                         f"Invalid page size specified: '{top}'. Must be between 1 and {spec.max_top} inclusive.")
    return top


def apply_select(item, select, lenient=False):
    """Trim an item to the selected properties; `id` always comes back, as Graph does.

    An unknown property is a 400, except in `lenient` (directoryObject) collections such as owners,
    where each item is a user or a service principal and keeps the selected properties its type has.
    """
    if not select:
        return item
    trimmed = {}
    if "@odata.type" in item:
        trimmed["@odata.type"] = item["@odata.type"]
    if "id" in item:
        trimmed["id"] = item["id"]
    for name in select:
        if name in item:
            trimmed[name] = item[name]
        elif not lenient:
            raise bad_request(f"Could not find a property named '{name}' on type '{spec_entity(item)}'.")
    return trimmed


def spec_entity(item):
    return (item.get("@odata.type") or "#microsoft.graph.entity").lstrip("#")


# ---- $filter ---------------------------------------------------------------------------------
# A small OData filter grammar: comparisons, and/or/not, parentheses, startswith(), the collection
# lambda `signInEventTypes/any(t: t eq 'servicePrincipal')`, and the count of a relationship,
# `federatedIdentityCredentials/$count ne 0`. Trees are tuples:
#   ("cmp", path, op, value) ("and", a, b) ("or", a, b) ("not", a) ("startswith", path, value)
#   ("any", path, op, value) ("count", path, op, value)
# A QuerySpec allows a relationship's count with the operator name "$count".

# Counting a relationship is an advanced query: Graph answers it only with the ConsistencyLevel:
# eventual header *and* $count=true ("Getting empty collections (/$count eq 0, /$count ne 0) ... is
# supported only with advanced query parameters": MGD concepts/aad-advanced-queries.md).
ADVANCED_QUERY_HINT = ("Try adding $count=true query parameter and ConsistencyLevel:eventual header. "
                       "Refer to https://aka.ms/graph-docs/advanced-queries for more information")

_TOKEN = re.compile(r"""
    \s*(?:
      (?P<string>'(?:[^']|'')*')
    | (?P<datetime>\d{4}-\d{2}-\d{2}T[0-9:.]+(?:Z|[+-]\d{2}:\d{2})?)
    | (?P<guid>[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12})
    | (?P<number>-?\d+(?:\.\d+)?)
    | (?P<punct>[(),:])
    | (?P<word>[A-Za-z_][A-Za-z0-9_.]*(?:/[A-Za-z_][A-Za-z0-9_.]*)*(?:/\$count)?)
    )""", re.VERBOSE)
_COMPARISONS = ("eq", "ne", "gt", "ge", "lt", "le")


def _tokenize(text):
    tokens, position = [], 0
    while position < len(text):
        if text[position:].strip() == "":
            break
        match = _TOKEN.match(text, position)
        if not match or match.end() == position:
            raise bad_request(f"Invalid filter clause: syntax error at position {position} in '{text}'.")
        kind = match.lastgroup
        raw = match.group(kind)
        if kind == "string":
            tokens.append(("literal", raw[1:-1].replace("''", "'")))
        elif kind == "datetime":
            tokens.append(("literal", _parse_datetime(raw)))
        elif kind in ("guid",):
            tokens.append(("literal", raw))
        elif kind == "number":
            tokens.append(("literal", float(raw) if "." in raw else int(raw)))
        elif kind == "punct":
            tokens.append(("punct", raw))
        elif raw in ("true", "false", "null"):
            tokens.append(("literal", {"true": True, "false": False, "null": None}[raw]))
        else:
            tokens.append(("word", raw))
        position = match.end()
    return tokens


def _parse_datetime(text):
    try:
        return timefmt.parse(text)
    except ValueError:
        raise bad_request(f"Invalid filter clause: '{text}' is not a valid DateTimeOffset.") from None


class _FilterParser:
    def __init__(self, text, spec):
        self.text, self.spec = text, spec
        self.tokens = _tokenize(text)
        self.position = 0

    def error(self, message=None):
        return GraphError(400, self.spec.unsupported_code,
                          message or f"Invalid filter clause: '{self.text}'.")

    def peek(self, offset=0):
        index = self.position + offset
        return self.tokens[index] if index < len(self.tokens) else (None, None)

    def take(self, kind=None, value=None):
        token = self.peek()
        if token[0] is None or (kind and token[0] != kind) or (value is not None and token[1] != value):
            raise self.error()
        self.position += 1
        return token

    def parse(self):
        tree = self.expression()
        if self.position != len(self.tokens):
            raise self.error()
        return tree

    def expression(self):
        tree = self.conjunction()
        while self.peek() == ("word", "or"):
            self.take()
            tree = ("or", tree, self.conjunction())
        return tree

    def conjunction(self):
        tree = self.unary()
        while self.peek() == ("word", "and"):
            self.take()
            tree = ("and", tree, self.unary())
        return tree

    def unary(self):
        if self.peek() == ("word", "not"):
            self.take()
            return ("not", self.unary())
        if self.peek() == ("punct", "("):
            self.take()
            tree = self.expression()
            self.take("punct", ")")
            return tree
        return self.term()

    def term(self):
        _, word = self.take("word")
        if word.lower() == "startswith" and self.peek() == ("punct", "("):
            self.take()
            _, path = self.take("word")
            self.take("punct", ",")
            _, value = self.take("literal")
            self.take("punct", ")")
            self.allow(path, "startswith")
            return ("startswith", path, value)
        if word.endswith("/any") and self.peek() == ("punct", "("):
            path = word[:-len("/any")]
            self.take()
            _, variable = self.take("word")
            self.take("punct", ":")
            _, subject = self.take("word")
            _, operator = self.take("word")
            _, value = self.take("literal")
            self.take("punct", ")")
            if subject != variable or operator not in ("eq", "ne"):
                raise self.error()
            self.allow(path, "any")
            return ("any", path, operator, value)
        _, operator = self.take("word")
        if operator not in _COMPARISONS:
            raise self.error()
        _, value = self.take("literal")
        if word.endswith("/$count"):
            # documented only as "/$count eq 0" and "/$count ne 0" (empty or not)
            path = word[:-len("/$count")]
            self.allow(path, "$count")
            if operator not in ("eq", "ne") or value != 0 or isinstance(value, bool):
                raise self.error(f"Unsupported or invalid query filter clause specified for property '{path}' "
                                 f"of resource '{self.spec.entity}'.")
            return ("count", path, operator, value)
        self.allow(word, operator)
        return ("cmp", word, operator, value)

    def allow(self, path, operator):
        if operator not in self.spec.filters.get(path, ()):
            raise self.error(f"Unsupported or invalid query filter clause specified for property '{path}' "
                             f"of resource '{self.spec.entity}'.")


def parse_filter(text, spec):
    return _FilterParser(text, spec).parse()


def _resolve(item, path):
    value = item
    for part in path.split("/"):
        if not isinstance(value, dict):
            return None
        value = value.get(part)
    return value


def _compare(left, operator, right):
    if isinstance(right, datetime.datetime):
        if not left:
            return False
        left = _parse_datetime(left) if isinstance(left, str) else left
    elif isinstance(right, str) and isinstance(left, str):
        left, right = left.lower(), right.lower()  # Graph string comparisons are case-insensitive
    if operator == "eq":
        return left == right
    if operator == "ne":
        return left != right
    if left is None or right is None:
        return False
    return {"gt": left > right, "ge": left >= right, "lt": left < right, "le": left <= right}[operator]


def matches(tree, item, related=None):
    """Evaluate a parsed filter on one item. `related(item, name)` gives the members of a relationship
    (federatedIdentityCredentials: not a property of the item) for `name/$count` clauses."""
    if tree is None:
        return True
    kind = tree[0]
    if kind == "and":
        return matches(tree[1], item, related) and matches(tree[2], item, related)
    if kind == "or":
        return matches(tree[1], item, related) or matches(tree[2], item, related)
    if kind == "not":
        return not matches(tree[1], item, related)
    if kind == "count":
        members = related(item, tree[1]) if related else _resolve(item, tree[1])
        return _compare(sum(1 for _ in members or ()), tree[2], tree[3])
    if kind == "startswith":
        value = _resolve(item, tree[1])
        return isinstance(value, str) and value.lower().startswith(str(tree[2]).lower())
    if kind == "any":
        values = _resolve(item, tree[1]) or []
        return any(_compare(value, tree[2], tree[3]) for value in values)
    return _compare(_resolve(item, tree[1]), tree[2], tree[3])


def advanced_operator(tree):
    """The operator of the first clause that only an advanced query may use, or None."""
    if tree is None:
        return None
    if tree[0] in ("and", "or"):
        return advanced_operator(tree[1]) or advanced_operator(tree[2])
    if tree[0] == "not":
        return advanced_operator(tree[1])
    return tree[2] if tree[0] == "count" else None


def conjuncts(tree):
    """The clauses a filter requires all at once (top-level `and`s), for pushing ranges down."""
    if tree is None:
        return []
    if tree[0] == "and":
        return conjuncts(tree[1]) + conjuncts(tree[2])
    return [tree]


def equality_values(tree, path):
    """If the filter is `path eq X` (or several or-ed), the set of X (lowercased); else None."""
    if tree is None:
        return None
    if tree[0] == "cmp" and tree[1] == path and tree[2] == "eq":
        return {str(tree[3]).lower()}
    if tree[0] == "or":
        left, right = equality_values(tree[1], path), equality_values(tree[2], path)
        return None if left is None or right is None else left | right
    return None


# ---- skip and delta tokens ------------------------------------------------------------------

class TokenSigner:
    """Opaque cursors: base64url(JSON) + '.' + HMAC. Tampered -> None; callers decide on expiry."""

    def __init__(self, key: bytes):
        self._key = key

    def _mac(self, payload):
        return base64.urlsafe_b64encode(hmac.new(self._key, payload, hashlib.sha256).digest()[:18]).decode()

    def encode(self, data):
        payload = base64.urlsafe_b64encode(json.dumps(data, separators=(",", ":"), default=str).encode()).rstrip(b"=")
        return payload.decode() + "." + self._mac(payload)

    def decode(self, token):
        payload, _, mac = (token or "").partition(".")
        if not payload or not hmac.compare_digest(self._mac(payload.encode()), mac):
            return None
        try:
            return json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
        except ValueError:
            return None

