"""console: log rendering by where the logs go, the live progress line, errors on stderr; rich stays a
CLI-only library (never imported by the Splunk side, never vendored)."""
import argparse
import ast
import io
import json
import logging
import os

import pytest

from connector import console
from connector.logs import get_logger, reset_logging
from connector.scan import EXIT_CLEAN, EXIT_FAILED, EXIT_FINDINGS, EXIT_USAGE, RunSummary
from connector.scanning.context import ProgressReport

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


class Terminal(io.StringIO):
    def isatty(self):
        return True


def args(**values):
    return argparse.Namespace(**{"log_level": None, "log_format": "auto", "log_file": None, **values})


@pytest.fixture(autouse=True)
def _reset_logging():
    yield
    reset_logging()


def _log_line(stream, monkeypatch, namespace):
    monkeypatch.setattr("sys.stderr", stream)
    chosen = console.setup_logging(namespace, stream)
    get_logger("probe").warning("probe.event", client_secret="hunter2hunter2", count=3)
    return chosen, stream.getvalue()


def test_text_at_a_terminal_json_elsewhere_and_when_asked(monkeypatch):
    chosen, text = _log_line(Terminal(), monkeypatch, args())
    assert chosen == "text" and "probe.event" in text and not text.lstrip().startswith("{")
    assert "hunter2hunter2" not in text and "[REDACTED]" in text
    chosen, piped = _log_line(io.StringIO(), monkeypatch, args())
    assert chosen == "json" and json.loads(piped.splitlines()[-1])["event"] == "probe.event"
    chosen, asked = _log_line(Terminal(), monkeypatch, args(log_format="json"))
    assert chosen == "json" and json.loads(asked.splitlines()[-1])["count"] == 3
    chosen, text_piped = _log_line(io.StringIO(), monkeypatch, args(log_format="text"))
    assert chosen == "text" and "probe.event" in text_piped


def test_a_log_file_gets_json_and_the_terminal_stays_clean(monkeypatch, tmp_path):
    path = tmp_path / "scan.log"
    terminal = Terminal()
    chosen, shown = _log_line(terminal, monkeypatch, args(log_file=str(path)))
    logging.getLogger().handlers[-1].flush()
    assert chosen == "json" and shown == ""
    record = json.loads(path.read_text(encoding="utf-8").splitlines()[-1])
    assert record["event"] == "probe.event" and record["client_secret"] == "[REDACTED]"


def test_default_level_is_warning_at_a_terminal_and_info_elsewhere(monkeypatch):
    for stream, expected in ((Terminal(), logging.WARNING), (io.StringIO(), logging.INFO)):
        monkeypatch.setattr("sys.stderr", stream)
        console.setup_logging(args(), stream)
        assert logging.getLogger().level == expected
    console.setup_logging(args(log_level="DEBUG"), Terminal())
    assert logging.getLogger().level == logging.DEBUG


def test_errors_go_to_stderr_as_one_line():
    stderr = io.StringIO()
    console.error("tenant_id 'x' is not a GUID or a domain", stderr)
    assert stderr.getvalue() == "entra-app-secrets: error: tenant_id 'x' is not a GUID or a domain\n"


def report(**counts):
    base = {"applications": 0, "service_principals": 0, "credentials": 0, "signins_new": 0, "findings": 0}
    return ProgressReport(phase="applications_reading", counts={**base, **counts}, requests=12, throttled=2,
                          throttle_wait_s=3.25)


def test_progress_line_names_objects_requests_and_throttling():
    line = console.progress_line(report(applications=40, service_principals=2, signins_new=7, findings=3))
    assert line.startswith("42 objects") and "7 sign-ins" in line and "3 findings" in line
    assert "12 Graph requests" in line and "2 throttled, 3.2s waiting" in line
    quiet = console.progress_line(ProgressReport(phase="x", counts={}, requests=1))
    assert "throttled" not in quiet and quiet.startswith("0 objects")


def test_the_progress_display_draws_at_a_terminal_only():
    terminal = Terminal()
    with console.ProgressDisplay(terminal) as display:
        display(report(applications=40))
        assert display.enabled and display._progress is not None
    assert display._progress is None and display.reports == 1
    piped = io.StringIO()
    with console.ProgressDisplay(piped) as display:
        display(report(applications=40))
    assert not display.enabled and piped.getvalue() == ""


def test_without_rich_the_display_does_nothing(monkeypatch):
    import builtins
    real_import = builtins.__import__

    def no_rich(name, *a, **k):
        if name.startswith("rich"):
            raise ImportError(name)
        return real_import(name, *a, **k)
    monkeypatch.setattr(builtins, "__import__", no_rich)
    terminal = Terminal()
    with console.ProgressDisplay(terminal) as display:
        display(report())
    assert not display.enabled and terminal.getvalue() == ""


@pytest.mark.parametrize("status, findings, configuration, code", [
    ("success", 0, False, EXIT_CLEAN), ("success", 4, False, EXIT_FINDINGS), ("partial", 0, False, EXIT_FAILED),
    ("partial", 4, False, EXIT_FAILED), ("failure", 0, False, EXIT_FAILED), ("failure", 0, True, EXIT_USAGE)])
def test_exit_codes_a_script_can_rely_on(status, findings, configuration, code):
    summary = RunSummary(run_id="r", account="a", status=status, counts={"findings": findings},
                         configuration_error=configuration)
    assert summary.exit_code == code
    assert (EXIT_CLEAN, EXIT_FINDINGS, EXIT_USAGE, EXIT_FAILED) == (0, 1, 2, 3)


def _imports_of(path):
    with open(path, encoding="utf-8") as handle:
        tree = ast.parse(handle.read())
    return {alias.name.split(".")[0] for node in ast.walk(tree) if isinstance(node, ast.Import) for alias in node.names} | {
        node.module.split(".")[0] for node in ast.walk(tree) if isinstance(node, ast.ImportFrom) and node.module}


def test_rich_is_a_cli_only_library():
    from devtools import package_app
    users = sorted(os.path.relpath(os.path.join(folder, name), ROOT)
                   for folder, _dirs, files in os.walk(os.path.join(ROOT, "connector")) for name in files
                   if name.endswith(".py") and "rich" in _imports_of(os.path.join(folder, name)))
    assert users == [os.path.join("connector", "console.py")]
    assert not any(req.lower().startswith("rich") for req in package_app.WHEEL_REQUIREMENTS)
    with open(os.path.join(ROOT, "connector", "console.py"), encoding="utf-8") as handle:
        top_level = ast.parse(handle.read()).body
    # imported inside the display only: lib/ imports every connector module without rich
    assert not any(isinstance(node, (ast.Import, ast.ImportFrom)) and "rich" in ast.dump(node) for node in top_level)


def test_a_log_file_in_the_current_folder_works_and_an_unwritable_one_is_a_config_error(monkeypatch, tmp_path):
    from connector.errors import ConfigError
    monkeypatch.chdir(tmp_path)
    console.setup_logging(args(log_file="scan.log"), Terminal())
    get_logger("probe").warning("probe.here")
    logging.getLogger().handlers[-1].flush()
    assert "probe.here" in (tmp_path / "scan.log").read_text(encoding="utf-8")
    (tmp_path / "a-file").write_text("")
    with pytest.raises(ConfigError, match="--log-file"):
        console.setup_logging(args(log_file=str(tmp_path / "a-file" / "scan.log")), Terminal())
