"""Offline CIM compliance of one search-time event against Splunk's published data models.

What PSA's CIM tests assert with SPL on a live Splunk, asserted here on the event's fields:
for every dataset the event's tags map it to, each required and recommended field is present and
non-empty, conditional fields are present when their condition holds, values respect
expected_values and the validity rules the models state, and fields reserved for ES asset and
identity correlation (CommonFields.json, not_allowed_* types) are absent.
"""
from __future__ import annotations

import re
from dataclasses import dataclass

from .search_time import SearchTimeEvent

NOT_ALLOWED = {"not_allowed_in_props", "not_allowed_in_search_and_props"}


@dataclass(frozen=True)
class Dataset:
    model: str
    name: str
    path: str                  # "Change/All_Changes/Account_Management"
    fields: tuple[dict, ...]   # own fields plus every ancestor's
    recommended: tuple[str, ...]


def applicable_datasets(tags: set[str], models: dict, recommended: dict, event_fields: dict | None = None
                        ) -> list[Dataset]:
    """Datasets whose tag sets the event's tags satisfy, walking children only under a match.

    With the event's fields, a child dataset whose constraint is a plain `field="value"` test (or an
    OR of them, e.g. Failed_Authentication's action="failure") must hold as well."""
    found: list[Dataset] = []

    def walk(model_name: str, node: dict, inherited: tuple, path: str, is_root: bool) -> None:
        if not any(set(tag_set) <= tags for tag_set in node.get("tags", [])):
            return
        constraint = node.get("search_constraints", "")
        if event_fields is not None and not is_root and not _constraint_holds(constraint, event_fields):
            return
        fields = inherited + tuple(node.get("fields", []))
        per_model = recommended.get(model_name, {})
        key = "BaseEvent" if is_root else node["name"]
        found.append(Dataset(model_name, node["name"], f"{path}/{node['name']}", fields,
                             tuple(per_model.get(key, []))))
        for child in node.get("child_dataset", []):
            walk(model_name, child, fields, f"{path}/{node['name']}", False)

    for model_name, model in models.items():
        for root in model["objects"]:
            walk(model_name, root, (), model_name, True)
    return found


_SIMPLE_TERM = re.compile(r'^(NOT\s+)?(\w+)="?([^"\s]*)"?$')


def _constraint_holds(constraint: str, fields: dict) -> bool:
    alternatives = [term.strip() for term in constraint.split(" OR ")]
    parsed = [_SIMPLE_TERM.match(term) for term in alternatives]
    if not constraint or not all(parsed) or any(m.group(2) == "tag" for m in parsed):
        return True       # tag constraints were matched above; anything richer: assume it holds
    for match in parsed:
        hit = match.group(3) in fields.get(match.group(2), [])
        if hit != bool(match.group(1)):
            return True
    return False


def models_for_tags(tags: set[str], models: dict) -> set[str]:
    return {d.model for d in applicable_datasets(tags, models, {})}


def cim_problems(event: SearchTimeEvent, dataset: Dataset, common_fields: list[dict]) -> list[str]:
    problems = []
    where = f"{dataset.path} ({event.sourcetype}, eventtypes {event.eventtypes})"
    for spec in dataset.fields:
        name, kind = spec["name"], spec["type"]
        values = [v for v in event.fields.get(name, []) if v != ""]
        needed = kind == "required" or name in dataset.recommended
        if kind == "conditional" and _condition_holds(spec.get("condition", ""), event):
            needed = True
        if kind == "conditional" and name in dataset.recommended and not _condition_holds(
                spec.get("condition", ""), event):
            needed = False       # recommended only where its condition holds
        if needed and not values:
            problems.append(f"{where}: {kind} field {name!r} missing or empty")
        if kind in NOT_ALLOWED and name in event.fields:
            problems.append(f"{where}: field {name!r} must not be extracted by an add-on")
        expected = spec.get("expected_values")
        if expected and values:
            bad = [v for v in values if v not in expected]
            if bad:
                problems.append(f"{where}: {name}={bad} not in expected values {expected}")
        if spec.get("validity") and values and not _valid(spec, values, event):
            problems.append(f"{where}: {name}={values} fails the model's validity rule "
                            f"{spec['validity']!r}")
    for spec in common_fields:
        if spec["type"] in NOT_ALLOWED and spec["name"] in event.fields and spec["name"] != "tag":
            problems.append(f"{where}: {spec['name']!r} is reserved for ES asset/identity correlation")
    return problems


def _condition_holds(condition: str, event: SearchTimeEvent) -> bool:
    """Conditions in the models are ANDed `field=value` / `field=*` terms."""
    if not condition:
        return True
    for term in condition.split():
        name, _, expected = term.partition("=")
        expected = expected.strip('"')
        values = event.fields.get(name, [])
        if expected == "*":
            if not values:
                return False
        elif expected not in values:
            return False
    return True


_NO_DOUBLE_QUOTE = re.compile(r"^if\(like\((\w+),'%\\\"%'\),null\(\),\1\)$")


def _valid(spec: dict, values: list[str], event: SearchTimeEvent) -> bool:
    rule = spec["validity"].replace(" ", "")
    if _NO_DOUBLE_QUOTE.match(rule):
        return not any('"' in v for v in values)
    if spec["name"] == "object_category":
        # (tag=="account" AND object_category=="user") OR (tag!="account" AND object_category!="user")
        is_account = "account" in event.tags
        return all((v == "user") == is_account for v in values)
    if spec["name"] == "reason":
        return event.value("action") in ("success", "failure")
    if spec["name"] in ("duration", "response_time"):
        return all(_is_number(v) and 0 < float(v) < 3600 for v in values)
    raise ValueError(f"validity rule of {spec['name']} not modelled: {spec['validity']}")


def _is_number(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True
