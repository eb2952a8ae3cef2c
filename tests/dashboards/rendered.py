"""Every shipped page with its panels answered from the demo tenant's events (see panel_data.py)."""
from __future__ import annotations

from knowledge.splunk_conf import macro_definitions

from . import browser, demo_events, panel_data

AFTER_LAST_EVENT_S = 60      # "now" for the page: a minute after the newest event, as after a scan


def pages_with_data() -> tuple[dict, dict]:
    """({view name: definition with ds.test data sources}, {view name: {data source id: row count}})."""
    rows = demo_events.search_rows(demo_events.generate_hec_events())
    now = max(row["_time"] for row in rows) + AFTER_LAST_EVENT_S
    macros = macro_definitions()
    pages, counts = {}, {}
    for name, definition in browser.load_views().items():
        pages[name], counts[name] = panel_data.with_test_data_sources(definition, rows, now, macros)
    return pages, counts
