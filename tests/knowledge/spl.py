"""Just enough SPL understanding to cross-check searches against the events and macros.

expand_macros() resolves `macro` and `macro(arg, ...)` calls from macros.conf (raising on an
unknown one) and records which macros a search used. analyze() walks the pipeline and reports
which fields the search reads from events and which fields its results carry at the end, for the
commands this app's searches use. An unknown command raises, so a new search cannot escape the
checks by using one.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field

MACRO_CALL = re.compile(r"`([A-Za-z_][\w]*)(?:\(([^`]*)\))?`")
TOKEN = re.compile(r"""
    (?P<string>"(?:[^"\\]|\\.)*")
  | (?P<fieldref>'[^']*')
  | (?P<number>\d+(?:\.\d+)?)
  | (?P<name>[A-Za-z_][\w.{}*:]*)
  | (?P<op>!=|<=|>=|==|=|<|>|\(|\)|,|\+|-|\*|/|%|\[|\])
  | (?P<space>\s+)
  | (?P<other>\S)
""", re.VERBOSE)
COMPARISON = {"=", "!=", "<", ">", "<=", ">=", "=="}
KEYWORDS = {"AND", "OR", "NOT", "IN", "LIKE", "TRUE", "FALSE", "NULL", "AS", "BY", "OVER"}
# Fields every Splunk event has, whatever the add-on writes.
BUILTIN_FIELDS = {"_time", "_raw", "_indextime", "host", "source", "sourcetype", "index", "eventtype",
                  "tag", "splunk_server", "linecount", "punct", "earliest", "latest"}
STATS_COMMANDS = {"stats", "eventstats", "streamstats", "chart", "timechart"}


class SplError(ValueError):
    pass


@dataclass
class Expansion:
    text: str
    macros_used: list[str] = field(default_factory=list)


def expand_macros(search: str, macros: dict, depth: int = 0) -> Expansion:
    if depth > 10:
        raise SplError(f"macro recursion too deep in {search!r}")
    used: list[str] = []

    def replace(match: re.Match) -> str:
        name, raw_args = match.group(1), match.group(2)
        args = [a.strip() for a in raw_args.split(",")] if raw_args is not None else []
        macro = macros.get((name, len(args)))
        if macro is None:
            raise SplError(f"search calls undefined macro `{name}` with {len(args)} argument(s)")
        used.append(name)
        inner = expand_macros(macro.expand(args), macros, depth + 1)
        used.extend(inner.macros_used)
        return inner.text

    return Expansion(MACRO_CALL.sub(replace, search), used)


def tokens(text: str) -> list[tuple[str, str]]:
    return [(m.lastgroup, m.group()) for m in TOKEN.finditer(text) if m.lastgroup != "space"]


def split_pipeline(search: str) -> list[str]:
    """Split on | outside quotes, parentheses and subsearch brackets."""
    parts, depth, current, quote = [], 0, [], None
    for char in search:
        if quote:
            current.append(char)
            if char == quote:
                quote = None
            continue
        if char in "\"'":
            quote = char
        elif char in "([":
            depth += 1
        elif char in ")]":
            depth -= 1
        elif char == "|" and depth == 0:
            parts.append("".join(current).strip())
            current = []
            continue
        current.append(char)
    parts.append("".join(current).strip())
    return [p for p in parts if p] if parts[0] else parts[1:]


@dataclass
class Analysis:
    read: set[str] = field(default_factory=set)          # fields the search reads from events
    output: set[str] | None = None                       # result columns; None: whole events


def analyze(search: str) -> Analysis:
    """Fields read from events and result fields of an (already macro-expanded) search."""
    state = _State()
    for index, command_text in enumerate(split_pipeline(search)):
        name, _, rest = command_text.partition(" ")
        name = name.lower()
        if index == 0 and name != "search":     # a search starts with an implicit "search"
            name, rest = "search", command_text
        handler = _HANDLERS.get(name)
        if handler is None:
            raise SplError(f"command {name!r} is not modelled (search: {search!r})")
        handler(state, rest)
    return Analysis(state.read, state.output)


class _State:
    def __init__(self):
        self.read: set[str] = set()
        self.defined: set[str] = set()
        self.output: set[str] | None = None

    def use(self, name: str) -> None:
        name = name.strip("'\"")
        if not name or "*" in name or name in self.defined or name.upper() in KEYWORDS:
            return
        if name in BUILTIN_FIELDS:
            return
        if self.output is not None and name not in self.output:
            raise SplError(f"field {name!r} is used after a command that dropped it")
        self.read.add(name)

    def define(self, name: str) -> None:
        name = name.strip("'\"")
        self.defined.add(name)
        if self.output is not None:
            self.output.add(name)


def _search_terms(state: _State, text: str) -> None:
    toks = tokens(text)
    for i, (kind, value) in enumerate(toks):
        if kind != "name" or value.upper() in KEYWORDS:
            continue
        following = toks[i + 1] if i + 1 < len(toks) else ("", "")
        if following[1] in COMPARISON or following[1].upper() == "IN":
            if value not in BUILTIN_FIELDS:
                state.use(value)


def _expression(state: _State, text: str) -> None:
    toks = tokens(text)
    for i, (kind, value) in enumerate(toks):
        following = toks[i + 1][1] if i + 1 < len(toks) else ""
        if kind == "fieldref":
            state.use(value)
        elif kind == "name" and following != "(" and value.upper() not in KEYWORDS:
            if value not in BUILTIN_FIELDS:
                state.use(value)


def _top_level_split(text: str, separator: str = ",") -> list[str]:
    parts, depth, current, quote = [], 0, [], None
    for char in text:
        if quote:
            current.append(char)
            quote = None if char == quote else quote
            continue
        if char in "\"'":
            quote = char
        elif char == "(":
            depth += 1
        elif char == ")":
            depth -= 1
        elif char == separator and depth == 0:
            parts.append("".join(current))
            current = []
            continue
        current.append(char)
    parts.append("".join(current))
    return [p.strip() for p in parts if p.strip()]


def _eval(state: _State, text: str) -> None:
    for assignment in _top_level_split(text):
        target, _, expression = assignment.partition("=")
        if not expression:
            raise SplError(f"eval without assignment: {assignment!r}")
        _expression(state, expression)
        state.define(target.strip())


def _where(state: _State, text: str) -> None:
    _expression(state, text)


def _names(text: str) -> list[str]:
    return [value for kind, value in tokens(text) if kind in ("name", "fieldref", "string")]


def _stats(command: str):
    def handle(state: _State, text: str) -> None:
        toks = tokens(text)
        outputs, by_fields, i = set(), [], 0
        while i < len(toks):
            kind, value = toks[i]
            upper = value.upper()
            if upper in ("BY", "OVER"):
                i += 1
                while i < len(toks) and toks[i][1].upper() not in ("BY", "OVER"):
                    if toks[i][0] in ("name", "fieldref"):
                        by_fields.append(toks[i][1].strip("'"))
                    i += 1
                continue
            if kind == "name" and i + 1 < len(toks) and toks[i + 1][1] == "=":   # option span=1d
                i += 3
                continue
            if kind == "name" and i + 1 < len(toks) and toks[i + 1][1] == "(":   # fn(field)
                close = next(j for j in range(i, len(toks)) if toks[j][1] == ")")
                arguments = [v for k, v in toks[i + 2:close] if k in ("name", "fieldref")]
                for argument in arguments:
                    state.use(argument)
                default = f"{value}({','.join(arguments)})"
                i = close + 1
                name = default
                if i + 1 < len(toks) and toks[i][1].upper() == "AS":
                    name = toks[i + 1][1]
                    i += 2
                outputs.add(name.strip("'\""))
                continue
            if kind == "name" and upper in ("COUNT", "C"):                      # bare count
                name = "count"
                if i + 2 < len(toks) and toks[i + 1][1].upper() == "AS":
                    name = toks[i + 2][1]
                    i += 2
                outputs.add(name)
            i += 1
        for name in by_fields:
            state.use(name)
        if command in ("eventstats", "streamstats"):
            for name in outputs:
                state.define(name)
        elif command == "stats":
            state.output = set(by_fields)
            for name in outputs | set(by_fields):
                state.define(name)
        else:                                  # chart/timechart: columns named by the data
            state.output = None
            state.defined |= outputs | {"_time"}
    return handle


def _table(state: _State, text: str) -> None:
    names = _names(text)
    for name in names:
        state.use(name)
    state.output = {n.strip("'\"") for n in names}


def _fields(state: _State, text: str) -> None:
    if text.strip().startswith("-"):
        for name in _names(text):
            if state.output is not None:
                state.output.discard(name)
        return
    _table(state, text.lstrip("+ "))


def _rename(state: _State, text: str) -> None:
    for pair in _top_level_split(text):
        match = re.match(r'^("?)(.+?)\1\s+as\s+("?)(.+?)\3$', pair.strip(), re.IGNORECASE)
        if not match:
            raise SplError(f"rename form not modelled: {pair!r}")
        state.use(match.group(2))
        if state.output is not None:
            state.output.discard(match.group(2))
        state.define(match.group(4))


OPTIONS = {"dedup": {"keepevents", "keepempty", "consecutive"}, "sort": {"limit"},
           "mvexpand": {"limit"}, "fillnull": {"value"}, "bin": {"span", "bins", "minspan", "start", "end"},
           "bucket": {"span", "bins", "minspan", "start", "end"}}


def _field_list_of(command: str):
    return lambda state, text: _field_list(state, text, OPTIONS[command], command)


def _field_list(state: _State, text: str, options: set, command: str) -> None:
    """dedup, sort, mvexpand, fillnull, bin: field names plus the command's own options.

    A `field=value` that is not one of the command's options is a search term written after a
    macro that ends in a command, which SPL would silently misread: raise.
    """
    toks = tokens(text)
    skip = 0
    for i, (kind, value) in enumerate(toks):
        if skip:
            skip -= 1
            continue
        if kind == "name" and i + 1 < len(toks) and toks[i + 1][1] in COMPARISON:
            if value not in options:
                raise SplError(f"{command}: {value}{toks[i + 1][1]}... is not an option of {command}")
            skip = 2
            continue
        if kind in ("name", "fieldref") and value.upper() not in ("SORTBY",):
            if i + 1 < len(toks) and toks[i + 1][1] == "(":              # num(field), ctime(field)
                continue
            state.use(value)


def _convert(state: _State, text: str) -> None:
    for match in re.finditer(r"\w+\(([^)]+)\)(?:\s+as\s+(\w+))?", text, re.IGNORECASE):
        state.use(match.group(1))
        if match.group(2):
            state.define(match.group(2))


def _head(state: _State, text: str) -> None:
    if text.strip() and not text.strip().isdigit():
        raise SplError(f"head form not modelled: {text!r}")


def _top(state: _State, text: str) -> None:
    before_by, _, after_by = text.partition(" by ")
    toks = tokens(before_by)
    names = []
    for i, (kind, value) in enumerate(toks):
        is_option = i + 1 < len(toks) and toks[i + 1][1] == "="
        is_option_value = i >= 1 and toks[i - 1][1] == "="
        if kind == "name" and not is_option and not is_option_value:
            names.append(value)
    by_names = [n for k, n in tokens(after_by) if k == "name"]
    for name in names + by_names:
        state.use(name)
    state.output = set(names + by_names) | {"count", "percent"}
    state.defined |= state.output


_HANDLERS = {
    "search": _search_terms,
    "where": _where,
    "eval": _eval,
    "table": _table,
    "fields": _fields,
    "rename": _rename,
    "dedup": _field_list_of("dedup"),
    "sort": _field_list_of("sort"),
    "mvexpand": _field_list_of("mvexpand"),
    "fillnull": _field_list_of("fillnull"),
    "convert": _convert,
    "head": _head,
    "top": _top,
    "bin": _field_list_of("bin"),
    "bucket": _field_list_of("bucket"),
    **{command: _stats(command) for command in STATS_COMMANDS},
}
