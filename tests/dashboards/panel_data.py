"""Answer each dashboard panel's search from events, so Splunk's dashboard framework can render the
page with no splunkd: every `ds.search` / `ds.chain` becomes a `ds.test` data source holding the
rows the search returns over the events.

The searches run through the knowledge tests' SPL interpreter (tests/knowledge/spl_eval.py), with the
commands the dashboards use on top of it (bin, mvexpand, timechart, chart, fillnull, convert), after the
page's own macros are expanded, its input tokens are set to their default values and the events are
cut to the page's default time range, as Splunk would run the page on load.
"""
from __future__ import annotations

import copy
import math
import re
import time
from datetime import datetime, timezone

from knowledge import spl_eval
from knowledge.spl import expand_macros, split_pipeline
from knowledge.spl_eval import SplRuntimeError

TOKEN = re.compile(r"\$([A-Za-z_][\w.]*)\$")
# Splunk's timechart picks the smallest of these spans that gives at most 100 buckets (bins=100).
NICE_SPANS = [1, 5, 10, 30, 60, 300, 600, 1800, 3600, 86400, 7 * 86400, 30 * 86400]
SPAN_UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400, "w": 7 * 86400}


# ------------------------------------------------------------------------------ the page's context
def input_defaults(definition: dict) -> dict:
    """token -> default value of every input ("*" when an input has none, as an empty text box)."""
    defaults = {}
    for spec in definition.get("inputs", {}).values():
        options = spec["options"]
        defaults[options["token"]] = options.get("defaultValue", "*")
    return defaults


def time_range(definition: dict, now: float) -> tuple[float, float]:
    """(earliest, latest) epoch of the page's global time picker at its default value."""
    for spec in definition.get("inputs", {}).values():
        if spec["type"] == "input.timerange":
            earliest, _, latest = spec["options"]["defaultValue"].partition(",")
            return _relative(earliest, now), _relative(latest, now)
    raise SplRuntimeError("the page has no time range input")


def _relative(spec: str, now: float) -> float:
    spec = spec.strip()
    if spec == "now":
        return now
    return spl_eval._relative_time(now, spec)


def full_query(data_sources: dict, ds_id: str) -> str:
    spec = data_sources[ds_id]
    if spec["type"] == "ds.chain":
        return full_query(data_sources, spec["options"]["extend"]) + " " + spec["options"]["query"]
    return spec["options"]["query"]


def substitute_tokens(query: str, values: dict) -> str:
    def value(match):
        name = match.group(1)
        if name not in values:
            raise SplRuntimeError(f"token ${name}$ has no input")
        return str(values[name])
    return TOKEN.sub(value, query)


# ------------------------------------------------------------------------------ running a search
def run_search(query: str, rows: list, now: float, earliest: float, latest: float, macros: dict) -> list:
    """The rows a (macro-using) panel search returns over events within [earliest, latest)."""
    text = expand_macros(query, macros).text
    in_range = [copy.deepcopy(r) for r in rows if earliest <= r["_time"] < latest]
    context = {"earliest": earliest, "latest": latest}
    for index, command_text in enumerate(split_pipeline(text)):
        name, _, rest = command_text.partition(" ")
        if index == 0 and name.lower() != "search":
            name, rest = "search", command_text
        if name.lower() in REPORTING:
            in_range = REPORTING[name.lower()](in_range, rest.strip(), context)
            continue
        handler = spl_eval.COMMANDS.get(name.lower())
        if handler is None:
            raise SplRuntimeError(f"command {name} not modelled")
        in_range = handler(in_range, rest.strip(), now)
        for row in in_range:            # `stats ... by _time` gives _time back as a field value
            if isinstance(row.get("_time"), list):
                row["_time"] = float(row["_time"][0])
    return in_range


def _bucket_span(text: str, context: dict) -> tuple[str, int]:
    match = re.search(r"\bspan=(\d+)([smhdw]?)(?=\s|$)", text)
    if match:
        return text.replace(match.group(0), ""), int(match.group(1)) * SPAN_UNITS[match.group(2) or "s"]
    width = context["latest"] - context["earliest"]
    return text, next(s for s in NICE_SPANS if width / s <= 100)


def _timechart(rows, text, context):
    """timechart [span=N<unit>] agg(field) [as name] ... [by field]: one row per bucket over the
    whole range (empty buckets too), one column per aggregation or per value of the by field."""
    text, span = _bucket_span(text, context)
    aggregations, by_fields = spl_eval._parse_stats(text)
    if len(by_fields) > 1:
        raise SplRuntimeError("timechart takes one by field")
    start = math.floor(context["earliest"] / span) * span
    buckets = {}
    for row in rows:
        buckets.setdefault(math.floor(row["_time"] / span) * span, []).append(row)
    series = sorted({v for r in rows for v in spl_eval._values(r, by_fields[0])}) if by_fields else []
    results = []
    bucket = start
    while bucket < context["latest"]:
        members = buckets.get(bucket, [])
        result = {"_time": bucket}
        for function, field, alias in aggregations:
            if by_fields:
                for name in series:
                    chosen = [r for r in members if name in spl_eval._values(r, by_fields[0])]
                    result[name] = _aggregate_or_zero(function, field, chosen)
            else:
                result[alias] = _aggregate_or_zero(function, field, members)
        results.append(result)
        bucket += span
    return results


def _aggregate_or_zero(function, field, rows):
    value = spl_eval._aggregate(function, field, rows)
    if value is None:
        return ["0"] if function in ("count", "dc", "sum") else None
    return value


def _bin(rows, text, context):
    """bin _time span=N[unit]: each event's _time moved to the start of its bucket."""
    text, span = _bucket_span(text, context)
    if text.split() != ["_time"]:
        raise SplRuntimeError(f"bin form not modelled: {text}")
    for row in rows:
        row["_time"] = math.floor(row["_time"] / span) * span
    return rows


def _mvexpand(rows, text, context):
    """mvexpand field: one row per value of a multivalue field (rows without a value are dropped)."""
    name = text.strip()
    return [dict(row, **{name: [value]}) for row in rows for value in spl_eval._values(row, name)]


def _chart(rows, text, context):
    """chart agg(field) over X by Y: one row per X value, one column per Y value."""
    match = re.fullmatch(r"(.+?)\s+over\s+(\S+)(?:\s+by\s+(\S+))?", text, re.IGNORECASE)
    if not match:
        raise SplRuntimeError(f"chart form not modelled: {text}")
    aggregations, _ = spl_eval._parse_stats(match.group(1))
    over, by = match.group(2), match.group(3)
    groups = spl_eval._groups(rows, [over])
    series = sorted({v for r in rows for v in spl_eval._values(r, by)}) if by else []
    results = []
    for (over_value,), members in sorted(groups.items()):
        result = {over: [over_value]}
        for function, field, alias in aggregations:
            if by:
                for name in series:
                    chosen = [r for r in members if name in spl_eval._values(r, by)]
                    result[name] = _aggregate_or_zero(function, field, chosen)
            else:
                result[alias] = _aggregate_or_zero(function, field, members)
        results.append(result)
    return results


def _fillnull(rows, text, context):
    value, names = "0", text.split()
    match = re.match(r'value=(?:"([^"]*)"|(\S+))\s*(.*)', text)
    if match:
        value = match.group(1) if match.group(1) is not None else match.group(2)
        names = match.group(3).split()
    if not names:
        names = sorted({name for row in rows for name in row if name != "_time"})
    for row in rows:
        for name in names:
            if not row.get(name):
                row[name] = [value]
    return rows


def _convert(rows, text, context):
    """convert ctime(field) ...: epoch to Splunk's default time format (%m/%d/%Y %H:%M:%S), in UTC."""
    for function, name in re.findall(r"(\w+)\((\w+)\)", text):
        if function != "ctime":
            raise SplRuntimeError(f"convert {function} not modelled")
        for row in rows:
            values = [spl_eval._number(v) for v in spl_eval._values(row, name)]
            if values and values[0] is not None:
                row[name] = [time.strftime("%m/%d/%Y %H:%M:%S", time.gmtime(values[0]))]
    return rows


REPORTING = {"bin": _bin, "mvexpand": _mvexpand, "timechart": _timechart, "chart": _chart, "fillnull": _fillnull, "convert": _convert}


# ------------------------------------------------------------------------------ the test definition
def columns_of(rows: list) -> dict:
    """Search results in the framework's JSON-columns shape: {fields: [{name}], columns: [[...], ...]}.
    A multivalue field is a list, a single value a string, _time an ISO time, a missing value null."""
    names = []
    for row in rows:
        names += [n for n in row if n not in names]
    columns = [[_cell(row, name) for row in rows] for name in names]
    return {"fields": [{"name": name} for name in names], "columns": columns}


def _cell(row, name):
    if name == "_time":
        return datetime.fromtimestamp(row["_time"], tz=timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.000+00:00") \
            if "_time" in row else None
    values = row.get(name)
    if not values:
        return None
    return values[0] if len(values) == 1 else list(values)


def with_test_data_sources(definition: dict, rows: list, now: float, macros: dict) -> tuple[dict, dict]:
    """(a copy of the definition whose data sources are ds.test with the searches' results,
    {data source id: number of result rows})."""
    earliest, latest = time_range(definition, now)
    tokens = input_defaults(definition)
    rendered = copy.deepcopy(definition)
    counts = {}
    for ds_id, spec in definition["dataSources"].items():
        query = substitute_tokens(full_query(definition["dataSources"], ds_id), tokens)
        results = run_search(query, rows, now, earliest, latest, macros)
        counts[ds_id] = len(results)
        rendered["dataSources"][ds_id] = {"type": "ds.test", "name": spec.get("name", ds_id),
                                          "options": {"data": columns_of(results)}}
    rendered.get("defaults", {}).get("dataSources", {}).pop("ds.search", None)
    return rendered, counts
