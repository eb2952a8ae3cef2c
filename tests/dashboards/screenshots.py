"""Regenerate docs/screenshots/: every dashboard page rendered by Splunk's dashboard framework in
headless Chromium, with the panels answered from the add-on's scan of the simulator's demo tenant
(the same pages the render test checks).

    python3 dev.py screenshots          # installs what it needs first
"""
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))     # tests/: the knowledge helpers

from dashboards import browser, rendered  # noqa: E402


def main() -> int:
    missing = browser.missing_tools(need_browser=True)
    if missing:
        print(missing, file=sys.stderr)
        return 2
    pages, _ = rendered.pages_with_data()
    browser.SCREENSHOTS_DIR.mkdir(parents=True, exist_ok=True)
    report = browser.render(pages, browser.SCREENSHOTS_DIR)
    for name, page in report["pages"].items():
        errors = [v for v, state in page["visualizations"].items() if state["status"] == "Error"]
        print(f"{browser.SCREENSHOTS_DIR / (name + '.png')}: {len(page['visualizations'])} panels"
              + (f", errors in {errors}" if errors else ""))
    return 0


if __name__ == "__main__":
    sys.exit(main())
