"""The Python side of the dashboard checks: load the shipped views, and call the Node scripts next to
this file (validate.js: Splunk's schema; render.js: Splunk's dashboard framework in Chromium).

`python3 dev.py test` installs the Node packages (`npm ci` here) and Debian's chromium; run alone,
the tests say what is missing (and fail instead of skipping under ENTRA_REQUIRE_ALL, as CI runs).
"""
from __future__ import annotations

import json
import os
import shutil
import subprocess
import tempfile
import xml.etree.ElementTree as ET
from pathlib import Path

HERE = Path(__file__).resolve().parent
REPO = HERE.parents[1]
VIEWS_DIR = REPO / "default" / "data" / "ui" / "views"
SCREENSHOTS_DIR = REPO / "docs" / "screenshots"
CHROMIUM = os.environ.get("CHROMIUM_PATH", "/usr/bin/chromium")
NODE_TIMEOUT_S = 300


class ToolMissing(RuntimeError):
    pass


def load_views() -> dict:
    """{view name: the Dashboard Studio definition inside its <definition> CDATA}."""
    return {path.stem: json.loads(ET.parse(path).getroot().findtext("definition"))
            for path in sorted(VIEWS_DIR.glob("*.xml"))}


def missing_tools(need_browser: bool) -> str | None:
    """What is missing to run the scripts, as a sentence that says how to get it; None when ready."""
    if not shutil.which("node"):
        return "node is missing: install Node.js 18 or later (Debian: apt-get install nodejs npm)"
    if not (HERE / "node_modules" / "@splunk" / "dashboard-core").is_dir():
        return f"the dashboard test packages are missing: run `python3 dev.py test` (it runs `npm ci` in {HERE})"
    if need_browser and not os.path.exists(CHROMIUM):
        return f"{CHROMIUM} is missing: run `python3 dev.py test` as root (apt-get install chromium) or set CHROMIUM_PATH"
    return None


def _node(script: str, *arguments: str, stdin: str | None = None) -> dict:
    result = subprocess.run(["node", str(HERE / script), *arguments], input=stdin, capture_output=True,
                            text=True, timeout=NODE_TIMEOUT_S, cwd=HERE)
    if result.returncode != 0:
        raise RuntimeError(f"node {script} failed (exit {result.returncode}): {result.stderr[-3000:]}")
    return json.loads(result.stdout)


def validate(definitions: dict) -> dict:
    """{name: {"migrated": bool, "errors": [...]}} from Splunk's schema (validate.js)."""
    return _node("validate.js", stdin=json.dumps(definitions))


def render(pages: dict, screenshot_dir: Path | None = None, schema_check: dict | None = None) -> dict:
    """Render {name: definition with ds.test data sources}, and check `schema_check`'s definitions
    against the schema the framework builds from its preset; see render.js for the report's shape."""
    with tempfile.TemporaryDirectory() as work:
        request = Path(work) / "request.json"
        request.write_text(json.dumps({"pages": pages, "schemaCheck": schema_check or {},
                                       "screenshotDir": str(screenshot_dir) if screenshot_dir else None}))
        return _node("render.js", str(request))
