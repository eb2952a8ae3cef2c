"""Dashboard Studio views and the nav: structure Splunk requires, searches that use the index macro
and emitted fields, tokens that are defined, drilldowns that land on real dashboards."""
import json
import re
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

from .spl import analyze, expand_macros
from .splunk_conf import DEFAULT_DIR

VIEWS_DIR = DEFAULT_DIR / "data" / "ui" / "views"
NAV = DEFAULT_DIR / "data" / "ui" / "nav" / "default.xml"
APP_ID = "TA-entra-app-secrets"
INPUT_TYPES = {"input.timerange", "input.text", "input.dropdown"}
VIZ_TYPES = {"splunk.singlevalue", "splunk.pie", "splunk.line", "splunk.column", "splunk.bar", "splunk.table",
             "splunk.area", "splunk.markdown"}
TOKEN = re.compile(r"\$([A-Za-z_][\w.]*)\$")
# Panels each dashboard must have (issue 5): words their titles carry.
REQUIRED_PANELS = {
    "entra_app_secrets_overview": ["by severity", "trend", "migrat", "expiring", "unused for 90 days",
                                   "service principal objects", "blast radius", "in use and by whom", "risk factor",
                                   "by country", "credential status"],
    "entra_app_secrets_app_detail": ["timeline", "per key id", "source ips", "countries", "permissions and roles",
                                     "response history", "owners", "risk score and factors"],
    "entra_app_secrets_changes": ["secrets added", "response actions", "first seen"],
    "entra_app_secrets_collection_health": ["last run per account", "requests", "throttling", "errors", "lag"],
}


def load(path: Path):
    root = ET.parse(path).getroot()
    return root, json.loads(root.findtext("definition"))


def views():
    return sorted(VIEWS_DIR.glob("*.xml"))


def test_the_dashboards_exist():
    assert {p.stem for p in views()} == set(REQUIRED_PANELS)


@pytest.mark.parametrize("path", views(), ids=lambda p: p.stem)
def test_dashboard_studio_wrapper_and_structure(path):
    root, definition = load(path)
    assert root.tag == "dashboard" and root.get("version") == "2" and root.get("theme") in ("dark", "light")
    assert root.findtext("label").strip()
    visualizations, data_sources = definition["visualizations"], definition["dataSources"]
    inputs = definition.get("inputs", {})
    for input_id, spec in inputs.items():
        assert spec["type"] in INPUT_TYPES, input_id
        for ds_id in spec.get("dataSources", {}).values():
            assert data_sources[ds_id]["type"] == "ds.search", input_id
    for viz_id, viz in visualizations.items():
        assert viz["type"] in VIZ_TYPES, viz_id
        assert viz["dataSources"]["primary"] in data_sources, viz_id
    for ds_id, ds in data_sources.items():
        assert ds["type"] in ("ds.search", "ds.chain"), ds_id
        if ds["type"] == "ds.chain":
            assert data_sources[ds["options"]["extend"]]["type"] == "ds.search", ds_id
    layout = definition["layout"]
    assert layout["type"] in ("grid", "absolute")
    placed = [item["item"] for item in layout["structure"]]
    assert sorted(placed) == sorted(visualizations), "every visualization placed exactly once"
    assert set(layout.get("globalInputs", [])) == set(inputs)
    used = {ds for item in (*visualizations.values(), *inputs.values()) for ds in item.get("dataSources", {}).values()}
    chained = {ds["options"]["extend"] for ds in data_sources.values() if ds["type"] == "ds.chain"}
    assert set(data_sources) == used | chained, "no unused data source"


def full_query(data_sources, ds_id):
    ds = data_sources[ds_id]
    if ds["type"] == "ds.chain":
        return full_query(data_sources, ds["options"]["extend"]) + " " + ds["options"]["query"]
    return ds["options"]["query"]


@pytest.mark.parametrize("path", views(), ids=lambda p: p.stem)
def test_every_panel_search_uses_the_index_macro_and_emitted_fields(path, macros, emitted_fields):
    _, definition = load(path)
    data_sources = definition["dataSources"]
    input_tokens = {i["options"]["token"] for i in definition.get("inputs", {}).values()}
    for ds_id in data_sources:
        query = full_query(data_sources, ds_id)
        tokens = set(TOKEN.findall(query))
        assert {t.split(".")[0] for t in tokens} <= input_tokens, (ds_id, tokens)
        expansion = expand_macros(TOKEN.sub("x", query), macros)
        assert "entra_app_secrets_index" in expansion.macros_used, ds_id
        unknown = analyze(expansion.text).read - emitted_fields
        assert not unknown, f"{path.stem}/{ds_id} reads fields no sourcetype emits: {sorted(unknown)}"


@pytest.mark.parametrize("path", views(), ids=lambda p: p.stem)
def test_required_panels_are_there(path):
    _, definition = load(path)
    titles = " | ".join(v.get("title", "") for v in definition["visualizations"].values()).lower()
    for words in REQUIRED_PANELS[path.stem]:
        assert words in titles, f"{path.stem} lacks a panel about {words!r}"


@pytest.mark.parametrize("path", views(), ids=lambda p: p.stem)
def test_drilldowns_land_on_dashboards_with_the_token(path, macros):
    _, definition = load(path)
    data_sources = definition["dataSources"]
    for viz_id, viz in definition["visualizations"].items():
        for handler in viz.get("eventHandlers", []):
            assert handler["type"] == "drilldown.linkToDashboard"
            options = handler["options"]
            assert options["app"] == APP_ID
            target_root, target = load(VIEWS_DIR / f"{options['dashboard']}.xml")
            target_tokens = {i["options"]["token"] for i in target.get("inputs", {}).values()}
            output = analyze(expand_macros(full_query(data_sources, viz["dataSources"]["primary"]),
                                           macros).text).output
            for token in options["tokens"]:
                assert token["token"] in target_tokens
                row_field = re.fullmatch(r"\$row\.(\w+)\.value\$", token["value"]).group(1)
                assert output is None or row_field in output, (viz_id, row_field)


def _ucc_generated_views():
    """configuration.xml and inputs.xml are written by ucc-gen at build time from globalConfig.json."""
    pages = json.loads((DEFAULT_DIR.parent / "globalConfig.json").read_text(encoding="utf-8"))["pages"]
    return {name for name in ("configuration", "inputs") if name in pages}


@pytest.mark.parametrize("path", views(), ids=lambda p: p.stem)
def test_every_page_filters_on_the_account(path):
    """An analyst looks at one tenant at a time: every page has the account (tenant) picker and
    every search that reads events is narrowed by it."""
    _, definition = load(path)
    inputs = {i["options"]["token"]: i for i in definition["inputs"].values()}
    assert inputs["account"]["type"] == "input.dropdown" and inputs["account"]["options"]["defaultValue"] == "*"
    picker_sources = {ds for i in definition["inputs"].values() for ds in i.get("dataSources", {}).values()}
    for ds_id, ds in definition["dataSources"].items():
        if ds["type"] == "ds.search" and ds_id not in picker_sources:
            assert 'account="$account$"' in ds["options"]["query"], ds_id


def test_nav_lists_every_dashboard():
    nav = ET.parse(NAV).getroot()
    listed = {view.get("name") for view in nav.iter("view")}
    assert {p.stem for p in views()} | _ucc_generated_views() <= listed
    assert {v for v in listed if v != "search"} <= {p.stem for p in views()} | _ucc_generated_views()
    assert sum(1 for v in nav.iter("view") if v.get("default") == "true") == 1
