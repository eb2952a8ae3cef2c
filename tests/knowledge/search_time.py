"""A small model of what Splunk does to one of our events at search time.

Order, as in Splunk: KV_MODE=json extraction -> FIELDALIAS -> EVAL (calculated fields, evaluated
side by side from the same input) -> eventtypes -> tags. Only the setting forms this add-on uses
are modelled; anything else raises, so a new props or eventtype form cannot slip by untested.

Field values are lists of strings (Splunk fields are multivalue); a field with no value is absent.
"""
from __future__ import annotations

import re
import shlex
from dataclasses import dataclass, field

Fields = dict[str, list[str]]


def json_fields(obj: dict) -> Fields:
    """Fields Splunk's JSON extraction gives for one JSON object.

    Nested objects become "a.b", arrays "a{}" (and "a{}.b" for arrays of objects). JSON null
    gives no value; true/false become the strings "true"/"false".
    """
    fields: Fields = {}

    def add(name: str, value) -> None:
        if value is None:
            return
        if isinstance(value, bool):
            value = "true" if value else "false"
        fields.setdefault(name, []).append(str(value))

    def walk(prefix: str, value) -> None:
        if isinstance(value, dict):
            for key, inner in value.items():
                walk(f"{prefix}.{key}" if prefix else key, inner)
        elif isinstance(value, list):
            for item in value:
                walk(f"{prefix}{{}}", item)
        else:
            add(prefix, value)

    walk("", obj)
    return fields


_FIELDALIAS = re.compile(r'^\s*("?)([^"\s]+)\1\s+AS\s+("?)([^"\s]+)\3\s*$', re.IGNORECASE)
_EVAL_FIELD_REF = re.compile(r"^'([^']+)'$")
_EVAL_STRING = re.compile(r'^"([^"]*)"$')


def apply_props(fields: Fields, props: dict[str, str]) -> Fields:
    """FIELDALIAS then EVAL, for the forms this add-on uses."""
    result = dict(fields)
    for key, value in props.items():
        if key.startswith("FIELDALIAS-"):
            for pair in re.split(r",\s*", value):
                match = _FIELDALIAS.match(pair)
                if not match:
                    raise ValueError(f"unsupported FIELDALIAS form: {key} = {value}")
                source, target = match.group(2), match.group(4)
                if source in fields:
                    result[target] = list(fields[source])
    aliased = dict(result)
    for key, value in props.items():
        if key.startswith("EVAL-"):
            target = key[len("EVAL-"):]
            values = _evaluate(value.strip(), aliased, key)
            if values:
                result[target] = values
            else:
                result.pop(target, None)
    return result


def _evaluate(expression: str, fields: Fields, key: str) -> list[str]:
    if match := _EVAL_FIELD_REF.match(expression):
        return list(fields.get(match.group(1), []))
    if match := _EVAL_STRING.match(expression):
        return [match.group(1)]
    raise ValueError(f"unsupported EVAL form (keep EVALs simple): {key} = {expression}")


@dataclass(frozen=True)
class Term:
    field: str
    value: str
    negated: bool

    def matches(self, fields: Fields) -> bool:
        pattern = re.compile("^" + re.escape(self.value).replace(r"\*", ".*") + "$", re.IGNORECASE)
        hit = any(pattern.match(v) for v in fields.get(self.field, []))
        return hit != self.negated


@dataclass(frozen=True)
class EventtypeSearch:
    """An eventtype search made of ANDed `field="value"`, `field!="value"`, `NOT field="value"`."""
    terms: tuple[Term, ...]

    @classmethod
    def parse(cls, search: str) -> "EventtypeSearch":
        terms, negate_next = [], False
        for token in shlex.split(search, posix=False):
            if token.upper() == "NOT":
                negate_next = True
                continue
            match = re.match(r'^([A-Za-z_][\w.{}]*)(!?=)"?([^"]*)"?$', token)
            if not match or token.upper() in ("OR", "AND"):
                raise ValueError(f"unsupported eventtype search term {token!r} in {search!r}")
            negated = (match.group(2) == "!=") != negate_next
            terms.append(Term(match.group(1), match.group(3), negated))
            negate_next = False
        return cls(tuple(terms))

    def matches(self, fields: Fields) -> bool:
        return all(term.matches(fields) for term in self.terms)


@dataclass
class SearchTimeEvent:
    sourcetype: str
    fields: Fields
    eventtypes: list[str] = field(default_factory=list)
    tags: set[str] = field(default_factory=set)

    def value(self, name: str) -> str | None:
        values = self.fields.get(name)
        return values[0] if values else None


class SearchTime:
    """props + eventtypes + tags of the app, applied to HEC-shaped events."""

    def __init__(self, props: dict, eventtypes: dict, tags: dict):
        self.props = props
        self.eventtypes = {name: EventtypeSearch.parse(stanza["search"])
                           for name, stanza in eventtypes.items()}
        self.tags = {}
        for stanza, settings in tags.items():
            kind, _, name = stanza.partition("=")
            if kind != "eventtype":
                raise ValueError(f"tags.conf stanza {stanza!r}: only eventtype=... is used here")
            self.tags[name] = {tag for tag, state in settings.items() if state == "enabled"}

    def process(self, hec_event: dict) -> SearchTimeEvent:
        raw = hec_event["event"]
        if not isinstance(raw, dict):
            raise ValueError("the add-on writes JSON objects as _raw")
        sourcetype = hec_event["sourcetype"]
        stanza = self.props.get(sourcetype)
        if stanza is None:
            raise KeyError(f"props.conf has no stanza for sourcetype {sourcetype}")
        if stanza.get("KV_MODE") != "json":
            raise ValueError(f"{sourcetype}: this model only knows KV_MODE = json")
        fields = json_fields(raw)
        # Default fields Splunk adds from the event's metadata; they may override none of _raw's.
        fields.update({"sourcetype": [sourcetype], "source": [hec_event["source"]],
                       "host": [hec_event["host"]]})
        fields = apply_props(fields, stanza)
        event = SearchTimeEvent(sourcetype, fields)
        event.eventtypes = [name for name, search in self.eventtypes.items() if search.matches(fields)]
        for name in event.eventtypes:
            event.tags |= self.tags.get(name, set())
        event.fields["eventtype"] = list(event.eventtypes)
        if event.tags:
            event.fields["tag"] = sorted(event.tags)
        return event
