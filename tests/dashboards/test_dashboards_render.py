"""The shipped Dashboard Studio views, checked with Splunk's own packages from npm:

- each definition passes @splunk/dashboard-definition's schema after the framework's own
  migrateToTabsLayout (validate.js);
- each definition passes the stricter schema the framework builds from the Enterprise view-only
  preset (every visualization's and input's own option schema), checked in the browser;
- each page renders in headless Chromium with @splunk/dashboard-core and @splunk/dashboard-presets
  (render.js), its panels answered from the events the add-on's scan and response actions write for
  the simulator's demo tenant: no visualization is in an error state, the framework reports no
  validation error, and each panel shows data exactly where its search has results.
"""
import copy
import os

import pytest

from . import browser, rendered

ERROR_PROBE = "zz_error_probe"      # a page made to fail, to prove the checks see a failure


def require_tools(need_browser):
    missing = browser.missing_tools(need_browser)
    if missing:
        if os.environ.get("ENTRA_REQUIRE_ALL") or os.environ.get("CI"):
            pytest.fail(missing)
        pytest.skip(missing)


@pytest.fixture(scope="module")
def schema_report():
    require_tools(need_browser=False)
    views = browser.load_views()
    broken = copy.deepcopy(next(iter(views.values())))
    next(iter(broken["visualizations"].values()))["titel"] = "a misspelt key"
    return browser.validate({**views, ERROR_PROBE: broken})


@pytest.mark.parametrize("name", sorted(browser.load_views()))
def test_definition_passes_splunks_schema_after_migration(schema_report, name):
    report = schema_report[name]
    assert report["migrated"], name
    assert report["errors"] == [], f"{name} fails @splunk/dashboard-definition's schema: {report['errors']}"


def test_the_schema_check_reports_a_broken_definition(schema_report):
    assert schema_report[ERROR_PROBE]["errors"], "a visualization with an unknown key must not pass"
    assert any("titel" in error for error in schema_report[ERROR_PROBE]["errors"])


@pytest.fixture(scope="module")
def render_report():
    require_tools(need_browser=True)
    pages, counts = rendered.pages_with_data()
    probe = {"dataSources": {"ds_failing": {"type": "ds.test", "options": {"error": "probe failure",
                                                                             "errorLevel": "error"}}},
             "visualizations": {"viz_failing": {"type": "splunk.table", "title": "probe",
                                                "dataSources": {"primary": "ds_failing"}}},
             "layout": {"type": "grid", "options": {"width": 1440, "height": 200},
                        "structure": [{"item": "viz_failing", "type": "block",
                                       "position": {"x": 0, "y": 0, "w": 1440, "h": 200}}]}}
    views = browser.load_views()
    bad_option = copy.deepcopy(views["entra_app_secrets_overview"])
    bad_option["visualizations"]["viz_expiring"]["options"]["count"] = "ten"
    report = browser.render({**pages, ERROR_PROBE: probe}, schema_check={**views, ERROR_PROBE: bad_option})
    return pages, counts, report


@pytest.mark.parametrize("name", sorted(browser.load_views()))
def test_definition_passes_the_schema_the_framework_builds_from_its_preset(render_report, name):
    _, _, report = render_report
    assert report["presetSchemaErrors"][name] == [], f"{name}: {report['presetSchemaErrors'][name]}"


def test_the_preset_schema_check_reports_a_wrong_option(render_report):
    _, _, report = render_report
    errors = report["presetSchemaErrors"][ERROR_PROBE]
    assert "/visualizations/viz_expiring/options/count: must be number" in errors


def test_the_render_check_sees_an_error_state(render_report):
    _, _, report = render_report
    state = report["pages"][ERROR_PROBE]["visualizations"]["viz_failing"]
    assert state["status"] == "Error" and state["message"] == "probe failure"


@pytest.mark.parametrize("name", sorted(browser.load_views()))
def test_page_renders_every_panel_without_error(render_report, name):
    pages, _, report = render_report
    page = report["pages"][name]
    assert page["validationErrors"] == [], f"the framework rejects {name}: {page['validationErrors']}"
    assert page["pageErrors"] == [], f"{name} raised in the browser: {page['pageErrors']}"
    assert set(page["visualizations"]) == set(pages[name]["visualizations"]), "every visualization rendered"
    placed = {item["item"]: item["position"] for item in pages[name]["layout"]["structure"]}
    for viz_id, state in page["visualizations"].items():
        assert state["status"] != "Error", f"{name}/{viz_id} shows an error: {state['message']}"
        # as wide and high as the layout places it (a panel the grid never sized is a blank strip)
        assert state["width"] >= 0.9 * placed[viz_id]["w"] and state["height"] >= 0.9 * placed[viz_id]["h"], \
            (name, viz_id, state["width"], state["height"], placed[viz_id])


@pytest.mark.parametrize("name", sorted(browser.load_views()))
def test_page_shows_data_where_the_events_have_data(render_report, name):
    pages, counts, report = render_report
    definition = pages[name]
    empty = []
    for viz_id, state in report["pages"][name]["visualizations"].items():
        spec = definition["visualizations"][viz_id]
        ds_id = spec["dataSources"]["primary"]
        rows = counts[name][ds_id]
        if rows == 0:
            empty.append(viz_id)
            assert state["placeholder"] or state["status"] == "Warning", f"{name}/{viz_id} has no data to show"
            continue
        assert not state["placeholder"] and state["status"] is None, f"{name}/{viz_id}: {rows} rows not shown"
        assert state["contentWidth"] >= 0.8 * state["width"], f"{name}/{viz_id} is drawn narrower than its panel"
        if spec["type"] == "splunk.table":
            shown = state["tableRows"] - 1          # the header is a row too
            assert shown == min(rows, spec.get("options", {}).get("count", 10)), f"{name}/{viz_id}"
        elif spec["type"] == "splunk.singlevalue":
            columns = definition["dataSources"][ds_id]["options"]["data"]["columns"]
            assert state["singleValue"] == str(columns[-1][-1]), f"{name}/{viz_id}"
        else:
            assert state["chartMarks"] > 0, f"{name}/{viz_id} drew nothing"
    assert len(empty) <= len(definition["visualizations"]) // 4, f"{name}: most panels are empty: {empty}"
