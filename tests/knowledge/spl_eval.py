"""A tiny SPL interpreter for the commands and eval functions this app's searches use.

It runs a (macro-expanded) search over events given as {field: [values]} plus "_time", so the
logic of the correlation searches (first seen, time windows, thresholds) can be tested on events
made from the samples. It follows Splunk's rules where they matter here: search terms match
values case-insensitively with * wildcards, stats drops events without a value for a by field,
comparisons are numeric when both sides are numbers, a multivalue field compares true when any
value does, and null propagates through arithmetic. Anything else raises.
"""
from __future__ import annotations

import math
import re
import time
from datetime import datetime

from .spl import split_pipeline, tokens

Row = dict  # field -> list[str] (and "_time" -> float)


class SplRuntimeError(ValueError):
    pass


def run(search: str, events: list[Row], now: float) -> list[Row]:
    rows = [dict(e) for e in events]
    for index, command_text in enumerate(split_pipeline(search)):
        name, _, rest = command_text.partition(" ")
        if index == 0 and name.lower() != "search":
            name, rest = "search", command_text
        handler = COMMANDS.get(name.lower())
        if handler is None:
            raise SplRuntimeError(f"command {name} not modelled")
        rows = handler(rows, rest.strip(), now)
    return rows


# ---------------------------------------------------------------------------------------- values
def _values(row: Row, name: str) -> list:
    if name == "_time":
        return [row["_time"]] if "_time" in row else []
    return list(row.get(name, []))


def _number(value):
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return float(value)
    try:
        return float(value)
    except (TypeError, ValueError):
        return None


def _scalar(value):
    if isinstance(value, list):
        return value[0] if value else None
    return value


# ---------------------------------------------------------------------------------- search terms
def _wildcard_match(pattern: str, value) -> bool:
    regex = "^" + re.escape(str(pattern)).replace(r"\*", ".*") + "$"
    return re.match(regex, str(value), re.IGNORECASE) is not None


class _TermParser:
    """search-command boolean expression: implicit AND, OR, NOT, parentheses, field OP value, IN."""

    def __init__(self, text: str):
        self.toks = [t for t in tokens(text)]
        self.pos = 0

    def peek(self, offset=0):
        index = self.pos + offset
        return self.toks[index] if index < len(self.toks) else (None, None)

    def take(self):
        tok = self.peek()
        self.pos += 1
        return tok

    def parse(self):
        node = self.parse_or()
        if self.pos != len(self.toks):
            raise SplRuntimeError(f"search terms not understood near {self.toks[self.pos:]}")
        return node

    def parse_or(self):
        left = self.parse_and()
        while self.peek()[1] and self.peek()[1].upper() == "OR":
            self.take()
            right = self.parse_and()
            left = (lambda a, b: lambda row: a(row) or b(row))(left, right)
        return left

    def parse_and(self):
        parts = [self.parse_not()]
        while self.peek()[1] is not None and self.peek()[1] != ")" and self.peek()[1].upper() != "OR":
            if self.peek()[1].upper() == "AND":
                self.take()
            parts.append(self.parse_not())
        return lambda row: all(part(row) for part in parts)

    def parse_not(self):
        if self.peek()[1] and self.peek()[1].upper() == "NOT":
            self.take()
            inner = self.parse_not()
            return lambda row: not inner(row)
        return self.parse_primary()

    def parse_primary(self):
        kind, value = self.take()
        if value == "(":
            node = self.parse_or()
            if self.take()[1] != ")":
                raise SplRuntimeError("unbalanced parentheses in search")
            return node
        if kind != "name":
            raise SplRuntimeError(f"search term {value!r} not modelled")
        operator = self.peek()[1]
        if operator and operator.upper() == "IN":
            self.take()
            choices = self._list()
            return lambda row: any(_wildcard_match(c, v) for v in _values(row, value) for c in choices)
        if operator in ("=", "!=", "<", ">", "<=", ">="):
            self.take()
            literal = self._literal()
            return _comparison(value, operator, literal)
        raise SplRuntimeError(f"free-text search term {value!r} not modelled")

    def _literal(self):
        kind, value = self.take()
        if value == "-":
            return "-" + self.take()[1]
        return value[1:-1] if kind == "string" else value

    def _list(self):
        if self.take()[1] != "(":
            raise SplRuntimeError("IN needs a list")
        items = []
        while self.peek()[1] != ")":
            kind, value = self.take()
            if value != ",":
                items.append(value[1:-1] if kind == "string" else value)
        self.take()
        return items


def _comparison(field, operator, literal):
    def test(row):
        if field == "index":
            return True                       # the interpreter runs over one index
        values = _values(row, field)
        if operator == "=":
            return any(_wildcard_match(literal, v) for v in values)
        if operator == "!=":
            return bool(values) and not any(_wildcard_match(literal, v) for v in values)
        return any(_compare(v, operator, literal) for v in values)
    return test


def _compare(left, operator, right) -> bool:
    a, b = _number(left), _number(right)
    if a is None or b is None:
        a, b = str(left), str(right)
    return {"<": a < b, ">": a > b, "<=": a <= b, ">=": a >= b, "==": a == b, "=": a == b, "!=": a != b}[operator]


def _search(rows, text, now):
    test = _TermParser(text).parse()
    return [row for row in rows if test(row)]


# ----------------------------------------------------------------------------- eval expressions
class _Expr:
    """Recursive descent over eval/where expressions."""
    PRECEDENCE = [("OR",), ("AND",), ("=", "==", "!=", "<", ">", "<=", ">=", "LIKE"), ("+", "-", "."),
                  ("*", "/", "%")]

    def __init__(self, text: str):
        self.toks = tokens(text)
        self.pos = 0

    def peek(self):
        return self.toks[self.pos] if self.pos < len(self.toks) else (None, None)

    def take(self):
        tok = self.peek()
        self.pos += 1
        return tok

    def parse(self):
        node = self.level(0)
        if self.pos != len(self.toks):
            raise SplRuntimeError(f"expression not understood near {self.toks[self.pos:]}")
        return node

    def level(self, depth):
        if depth == len(self.PRECEDENCE):
            return self.unary()
        left = self.level(depth + 1)
        while self.peek()[1] is not None and self.peek()[1].upper() in self.PRECEDENCE[depth]:
            operator = self.take()[1].upper()
            right = self.level(depth + 1)
            left = (lambda op, a, b: lambda row, now: _binary(op, a(row, now), b(row, now)))(operator, left, right)
        return left

    def unary(self):
        kind, value = self.peek()
        if value and value.upper() == "NOT":
            self.take()
            inner = self.unary()
            return lambda row, now: _not(inner(row, now))
        if value == "-":
            self.take()
            inner = self.unary()
            return lambda row, now: None if _number(inner(row, now)) is None else -_number(inner(row, now))
        return self.primary()

    def primary(self):
        kind, value = self.take()
        if value == "(":
            node = self.level(0)
            self.take()
            return node
        if kind == "number":
            return lambda row, now, v=float(value): v
        if kind == "string":
            text = value[1:-1].replace('\\"', '"').replace("\\\\", "\\")
            return lambda row, now, v=text: v
        if kind == "fieldref":
            return _field(value[1:-1])
        if kind == "name" and self.peek()[1] == "(":
            self.take()
            args = []
            while self.peek()[1] != ")":
                args.append(self.level(0))
                if self.peek()[1] == ",":
                    self.take()
            self.take()
            return _function(value.lower(), args)
        if kind == "name":
            if value.upper() in ("TRUE", "FALSE"):
                return lambda row, now, v=value.upper() == "TRUE": v
            return _field(value)
        raise SplRuntimeError(f"expression token {value!r} not modelled")


def _field(name):
    def get(row, now):
        values = _values(row, name)
        if not values:
            return None
        return values if len(values) > 1 else values[0]
    return get


def _not(value):
    return None if value is None else not value


def _binary(operator, left, right):
    if operator == "AND":
        return bool(left) and bool(right)
    if operator == "OR":
        return bool(left) or bool(right)
    if left is None or right is None:
        return None if operator in ("+", "-", "*", "/", "%", ".") else False
    if operator in ("=", "==", "!=", "<", ">", "<=", ">="):
        lefts = left if isinstance(left, list) else [left]
        hits = [_compare(v, "==" if operator == "=" else operator, right) for v in lefts]
        return any(hits) if operator != "!=" else all(hits)
    if operator == ".":
        return f"{_scalar(left)}{_scalar(right)}"
    a, b = _number(_scalar(left)), _number(_scalar(right))
    if operator == "+" and (a is None or b is None):
        return f"{_scalar(left)}{_scalar(right)}"
    if a is None or b is None:
        return None
    return {"+": a + b, "-": a - b, "*": a * b, "/": a / b if b else None, "%": a % b if b else None}[operator]


def _relative_time(epoch, spec):
    match = re.fullmatch(r"([+-]\d+)(s|m|h|d)?(?:@(s|m|h|d))?", spec)
    if not match:
        raise SplRuntimeError(f"relative_time spec {spec!r} not modelled")
    seconds = {"s": 1, "m": 60, "h": 3600, "d": 86400}
    value = epoch + int(match.group(1)) * seconds[match.group(2) or "s"]
    if match.group(3):
        unit = seconds[match.group(3)]
        value = math.floor(value / unit) * unit
    return value


def _strptime(text, fmt):
    if text is None:
        return None
    try:
        parsed = datetime.strptime(str(text), fmt)
    except ValueError:
        return None
    if parsed.tzinfo is None:
        raise SplRuntimeError("strptime without a zone would use the search head's local time")
    return parsed.timestamp()


def _function(name, args):
    def call(row, now):
        values = [arg(row, now) for arg in args]
        if name == "if":
            return values[1] if values[0] else values[2]
        if name == "case":
            for condition, result in zip(values[::2], values[1::2]):
                if condition:
                    return result
            return None
        if name in ("null",):
            return None
        if name == "true":
            return True
        if name == "now":
            return now
        if name == "isnull":
            return values[0] is None
        if name == "isnotnull":
            return values[0] is not None
        if name == "coalesce":
            return next((v for v in values if v is not None), None)
        if name == "round":
            number = _number(_scalar(values[0]))
            return None if number is None else round(number, int(values[1]) if len(values) > 1 else 0)
        if name == "relative_time":
            return _relative_time(_number(values[0]), values[1])
        if name == "replace":
            return None if values[0] is None else re.sub(values[1], values[2], str(values[0]))
        if name == "strptime":
            return _strptime(values[0], values[1])
        if name == "strftime":
            return time.strftime(values[1], time.gmtime(_number(values[0])))
        if name == "mvcount":
            return None if values[0] is None else len(values[0]) if isinstance(values[0], list) else 1
        if name == "mvfind":
            items = values[0] if isinstance(values[0], list) else [values[0]]
            return next((i for i, v in enumerate(items) if v is not None and re.search(values[1], str(v))), None)
        raise SplRuntimeError(f"eval function {name} not modelled")
    return call


def _as_values(value):
    if value is None:
        return None
    if isinstance(value, list):
        return [str(v) for v in value]
    if isinstance(value, bool):
        return ["true" if value else "false"]
    if isinstance(value, float) and value.is_integer():
        return [str(int(value))]
    return [str(value)]


def _eval(rows, text, now):
    from .spl import _top_level_split
    assignments = []
    for part in _top_level_split(text):
        target, _, expression = part.partition("=")
        assignments.append((target.strip(), _Expr(expression).parse()))
    for row in rows:
        for target, expression in assignments:
            value = expression(row, now)
            if target == "_time":
                row["_time"] = _number(value)
                continue
            values = _as_values(value)
            if values is None:
                row.pop(target, None)
            else:
                row[target] = values
    return rows


def _where(rows, text, now):
    expression = _Expr(text).parse()
    return [row for row in rows if expression(row, now)]


# ------------------------------------------------------------------------------------ stats & co
_AGGREGATION = re.compile(r"(\w+)\(([^)]*)\)(?:\s+as\s+(\w+))?|(count)(?:\s+as\s+(\w+))?", re.IGNORECASE)


def _parse_stats(text):
    parts = re.split(r"\s+by\s+", text, maxsplit=1, flags=re.IGNORECASE)
    head, by = parts[0], parts[1] if len(parts) > 1 else ""
    aggregations = []
    for match in _AGGREGATION.finditer(head):
        if match.group(4):
            aggregations.append(("count", None, match.group(5) or "count"))
        else:
            function, field, alias = match.group(1).lower(), match.group(2).strip(), match.group(3)
            aggregations.append((function, field, alias or f"{function}({field})"))
    by_fields = [f for f in re.split(r"[\s,]+", by.strip()) if f] if by else []
    return aggregations, by_fields


def _aggregate(function, field, rows):
    if function == "count":
        return [str(len(rows))] if field is None else [str(sum(len(_values(r, field)) for r in rows))]
    values = [v for r in rows for v in _values(r, field)]
    if not values:
        return None if function != "dc" else ["0"]
    if function == "dc":
        return [str(len(set(map(str, values))))]
    if function == "values":
        return sorted(set(map(str, values)))
    numbers = [_number(v) for v in values if _number(v) is not None]
    if function in ("min", "max", "sum"):
        if not numbers:
            return None
        result = {"min": min, "max": max, "sum": sum}[function](numbers)
        return _as_values(result)
    if function in ("earliest", "latest"):
        ordered = sorted((r for r in rows if _values(r, field)), key=lambda r: r["_time"])
        chosen = ordered[0] if function == "earliest" else ordered[-1]
        return _as_values(_values(chosen, field)[0] if field != "_time" else chosen["_time"])
    raise SplRuntimeError(f"stats function {function} not modelled")


def _groups(rows, by_fields):
    groups = {}
    for row in rows:
        keys = [_values(row, f) for f in by_fields]
        if any(not k for k in keys):
            continue                           # Splunk drops events without a by-field value
        key = tuple(str(k[0]) for k in keys)   # single-valued by fields in this app
        groups.setdefault(key, []).append(row)
    return groups


def _stats(rows, text, now):
    aggregations, by_fields = _parse_stats(text)
    results = []
    for key, members in _groups(rows, by_fields).items():
        result = {f: [k] for f, k in zip(by_fields, key)}
        for function, field, alias in aggregations:
            value = _aggregate(function, field, members)
            if value is not None:
                result[alias] = value
        results.append(result)
    return results


def _eventstats(rows, text, now):
    aggregations, by_fields = _parse_stats(text)
    for members in _groups(rows, by_fields).values():
        for function, field, alias in aggregations:
            value = _aggregate(function, field, members)
            for row in members:
                if value is not None:
                    row[alias] = value
    return rows


def _rename(rows, text, now):
    pairs = [re.split(r"\s+as\s+", p.strip(), flags=re.IGNORECASE) for p in text.split(",")]
    for row in rows:
        for old, new in pairs:
            if old in row:
                row[new] = row.pop(old)
    return rows


def _table(rows, text, now):
    names = [n for n in re.split(r"[\s,]+", text) if n]
    return [{n: row[n] for n in names if n in row} for row in rows]


def _dedup(rows, text, now):
    names = text.split()
    seen, kept = set(), []
    for row in sorted(rows, key=lambda r: -r.get("_time", 0)):   # events come newest first
        key = tuple(tuple(_values(row, n)) for n in names)
        if any(not k for k in key) or key in seen:
            continue
        seen.add(key)
        kept.append(row)
    return kept


def _sort(rows, text, now):
    keys = re.findall(r"([+-]?)\s*([\w.{}]+)", text)
    for direction, name in reversed(keys):
        def key(row, name=name):
            value = _scalar(_values(row, name))
            number = _number(value)
            return (value is None, 0 if number is not None else 1, number if number is not None else str(value))
        rows = sorted(rows, key=key, reverse=direction == "-")
    return rows


def _head(rows, text, now):
    return rows[:int(text or 10)]


COMMANDS = {"sort": _sort, "head": _head,
            "search": _search, "where": _where, "eval": _eval, "stats": _stats, "eventstats": _eventstats,
            "rename": _rename, "table": _table, "fields": _table, "dedup": _dedup}
