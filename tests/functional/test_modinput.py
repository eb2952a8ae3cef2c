"""bin/entra_app_secrets.py driven exactly as splunkd drives it: --scheme, --validate-arguments with the
<items> XML, and the <input> XML on stdin with a checkpoint_dir, server_uri and session_key, answering a
<stream> of events. The accounts live only in a fake splunkd (no local/ folder): here as a heavy
forwarder keeps them, certificate_path on disk. Its events must be the ones `entra-app-secrets scan`
writes for the same tenant."""
import json
import os
import shutil
import subprocess
import sys
import xml.etree.ElementTree as ET
from xml.sax.saxutils import escape

import pytest

from fakes.splunkd import FakeSplunkd

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
SCRIPT = os.path.join(REPO, "bin", "entra_app_secrets.py")
LOOKBACK = "48"
# fields that differ between two runs by construction, not by what was harvested
VOLATILE = {"run_id", "started", "duration_s", "requests", "throttled", "retries", "signin_lag_s",
            "age_days", "days_to_expiry", "account"}


SESSION_KEY = "FAKE_SESSION_KEY"


@pytest.fixture
def app_dir(tmp_path, simulator, splunkd):
    """A Splunk app folder as splunkd sees it: bin/ with the script and nothing else; its accounts are in
    the fake splunkd the input XML points at."""
    app = tmp_path / "etc" / "apps" / "TA-entra-app-secrets"
    (app / "bin").mkdir(parents=True)
    shutil.copy(SCRIPT, app / "bin" / "entra_app_secrets.py")
    collector = simulator.collector
    splunkd.confs.load_default("TA-entra-app-secrets", os.path.join(REPO, "default"))
    conf = "ta_entra_app_secrets_account"
    splunkd.confs.put("TA-entra-app-secrets", conf, "sim", {
        "tenant_id": simulator.tenant_id, "client_id": collector.client_id, "authority_host": simulator.base_url,
        "graph_host": simulator.base_url, "ca_bundle": simulator.ca_path,
        "certificate_path": collector.certificate_path})
    splunkd.confs.put("TA-entra-app-secrets", conf, "broken_cert", {
        "tenant_id": simulator.tenant_id, "client_id": collector.client_id,
        "certificate_path": str(tmp_path / "missing.pem")})
    _SPLUNKD[str(app)] = splunkd
    yield app
    del _SPLUNKD[str(app)]


_SPLUNKD = {}   # app folder -> the fake splunkd of that test


def at(app):
    """server_uri and session_key as splunkd hands them to the input."""
    return {"server_uri": _SPLUNKD[str(app)].server_uri, "session_key": SESSION_KEY}


SPLUNKD = None
CHECKPOINTS = "ta_entra_app_secrets_checkpoints"


@pytest.fixture(autouse=True)
def splunkd(tmp_path):
    """The splunkd that starts the input: its conf endpoints and storage/passwords hold the accounts, its KV
    store the checkpoints."""
    global SPLUNKD
    SPLUNKD = FakeSplunkd(session_key=SESSION_KEY).start(tmp_path / "splunkd-tls")
    yield SPLUNKD
    SPLUNKD.stop()
    SPLUNKD = None


def checkpoint_names(fake):
    return sorted(doc["checkpoint"] for doc in fake.kvstore.documents(CHECKPOINTS) if doc["kind"] == "manifest")


def run_script(app, *args, stdin=""):
    env = {key: value for key, value in os.environ.items() if key != "SPLUNK_HOME"}
    return subprocess.run([sys.executable, str(app / "bin" / "entra_app_secrets.py"), *args], input=stdin,
                          capture_output=True, text=True, env=env, timeout=120)


def input_xml(checkpoint_dir, params, server_uri=None, session_key=None):
    server_uri = server_uri or SPLUNKD.server_uri
    session_key = SPLUNKD.session_key if session_key is None else session_key
    param_xml = "".join(f'<param name="{escape(k)}">{escape(v)}</param>' for k, v in params.items())
    return (f'<?xml version="1.0" encoding="UTF-8"?><input><server_host>splunk-hf1</server_host>'
            f"<server_uri>{escape(server_uri)}</server_uri><session_key>{escape(session_key)}</session_key>"
            f"<checkpoint_dir>{escape(str(checkpoint_dir))}</checkpoint_dir><configuration>"
            f'<stanza name="entra_app_secrets://sim" app="TA-entra-app-secrets">{param_xml}'
            f'<param name="interval">3600</param><param name="index">security</param>'
            f'<param name="host">splunk-hf1</param><param name="disabled">0</param>'
            f"<param name=\"python.version\">python3</param></stanza></configuration></input>")


def validation_xml(params, server_uri="https://127.0.0.1:1", session_key="FAKE_SESSION_KEY"):
    param_xml = "".join(f'<param name="{escape(k)}">{escape(v)}</param>' for k, v in params.items())
    return (f"<items><server_host>splunk-hf1</server_host><server_uri>{escape(server_uri)}</server_uri>"
            f"<session_key>{escape(session_key)}</session_key><checkpoint_dir>/tmp</checkpoint_dir>"
            f'<item name="sim">{param_xml}</item></items>')


def stream_events(stdout):
    root = ET.fromstring(stdout)
    assert root.tag == "stream"
    events = []
    for element in root.findall("event"):
        assert element.get("stanza") == "entra_app_secrets://sim"
        events.append({"sourcetype": element.findtext("sourcetype"), "index": element.findtext("index"),
                       "host": element.findtext("host"), "time": float(element.findtext("time")),
                       "event": json.loads(element.findtext("data"))})
    return events


def comparable(events):
    """(sourcetype, body without volatile fields) sorted, for comparing two runs' output."""
    def strip(value):
        if isinstance(value, dict):
            return {k: strip(v) for k, v in value.items() if k not in VOLATILE}
        return value
    return sorted((e["sourcetype"], json.dumps(strip(e["event"]), sort_keys=True)) for e in events)


def test_scheme_names_the_parameters(app_dir):
    result = run_script(app_dir, "--scheme")
    assert result.returncode == 0, result.stderr
    scheme = ET.fromstring(result.stdout)
    args = {arg.get("name"): arg for arg in scheme.iter("arg")}
    assert set(args) == {"account", "signin_lookback_hours", "signin_overlap_minutes", "posture_mode",
                         "snapshot_interval_hours"}
    assert args["account"].findtext("required_on_create") == "true"
    assert args["signin_lookback_hours"].findtext("data_type") == "number"
    assert args["signin_overlap_minutes"].findtext("data_type") == "number"
    assert "default 60" in args["signin_overlap_minutes"].findtext("description")
    assert scheme.findtext("use_external_validation") == "true"


@pytest.mark.parametrize("params,message", [
    ({"account": "nope"}, "account 'nope' does not exist: add it in Splunk Web (Configuration > Accounts) or name "
                          "one of: broken_cert, sim"),
    ({"account": "broken_cert"}, "cannot be read"),
    ({"account": "sim", "signin_lookback_hours": "many"}, "signin_lookback_hours must be a whole number"),
    ({"account": "sim", "signin_lookback_hours": "0"}, "between 1 and 720"),
    ({"account": "sim", "signin_overlap_minutes": "an hour"},
     "signin_overlap_minutes must be a whole number of minutes between 1 and 240, not 'an hour'"),
    ({"account": "sim", "signin_overlap_minutes": "0"}, "signin_overlap_minutes must be between 1 and 240 minutes"),
    ({"account": "sim", "signin_overlap_minutes": "1440"}, "signin_overlap_minutes must be between 1 and 240 minutes"),
    ({"account": "sim", "posture_mode": "sometimes"}, "posture_mode must be one of full, changes"),
    ({}, "account is required"),
])
def test_validate_arguments_says_what_to_fix(app_dir, params, message):
    result = run_script(app_dir, "--validate-arguments", stdin=validation_xml(params, **at(app_dir)))
    assert result.returncode == 1
    error = ET.fromstring(result.stdout).findtext("message")
    assert message in error, error


def test_validate_arguments_accepts_a_good_stanza(app_dir):
    result = run_script(app_dir, "--validate-arguments",
                        stdin=validation_xml({"account": "sim", "signin_lookback_hours": "24",
                                              "signin_overlap_minutes": "120"}, **at(app_dir)))
    assert result.returncode == 0 and result.stdout == "", (result.stdout, result.stderr)


def test_overlap_reaches_the_scan_settings_from_the_stanza_and_the_command_line():
    from connector.cli import build_parser
    from connector.scan_cli import settings_from_args
    from connector.splunk.modinput import input_settings
    assert input_settings({"account": "sim"}).signin_overlap_minutes == 60
    assert input_settings({"account": "sim", "signin_overlap_minutes": " 90 "}).signin_overlap_minutes == 90
    args = build_parser().parse_args(["scan", "--signin-overlap-minutes", "120"])
    assert settings_from_args(args).signin_overlap_minutes == 120
    assert settings_from_args(build_parser().parse_args(["scan"])).signin_overlap_minutes == 60


def test_cli_refuses_an_overlap_out_of_range(simulator, tmp_path, capsys):
    from connector.cli import main
    code = main(["scan", "--tenant-id", simulator.tenant_id, "--client-id", simulator.collector.client_id,
                 "--certificate", simulator.collector.certificate_path, "--signin-overlap-minutes", "0",
                 "--state-dir", str(tmp_path / "s"), "--log-level", "ERROR"])
    assert code == 2
    assert "signin_overlap_minutes must be between 1 and 240 minutes, not 0" in capsys.readouterr().err


def test_stream_gives_the_events_scan_gives_and_a_second_run_repeats_no_signin(app_dir, simulator, tmp_path):
    simulator.reset()
    checkpoint_dir = tmp_path / "checkpoints"
    checkpoint_dir.mkdir()
    params = {"account": "sim", "signin_lookback_hours": LOOKBACK}
    first = run_script(app_dir, stdin=input_xml(checkpoint_dir, params, **at(app_dir)))
    assert first.returncode == 0, first.stderr
    events = stream_events(first.stdout)
    assert {e["index"] for e in events} == {"security"} and {e["host"] for e in events} == {"splunk-hf1"}
    kinds = {e["sourcetype"] for e in events}
    assert kinds == {"entra:app:finding", "entra:app:credential", "entra:signin:serviceprincipal", "entra:harvest"}
    # under splunkd the checkpoints are in the KV store, not in the node's checkpoint_dir
    assert checkpoint_names(SPLUNKD) == ["sim.inventory", "sim.posture", "sim.signins"]
    assert os.listdir(checkpoint_dir) == []

    # the same tenant through the command line, as an admin would run it
    output = tmp_path / "scan.jsonl"
    collector = simulator.collector
    cli = subprocess.run(
        [sys.executable, "-m", "connector.cli", "scan", "--tenant-id", simulator.tenant_id,
         "--client-id", collector.client_id, "--certificate", collector.certificate_path,
         "--authority-host", simulator.base_url, "--graph-host", simulator.base_url, "--ca-bundle", simulator.ca_path,
         "--state-dir", str(tmp_path / "cli-state"), "--signin-lookback-hours", LOOKBACK, "--output", str(output),
         "--log-level", "WARNING"], capture_output=True, text=True, timeout=120, cwd=REPO)
    assert cli.returncode == 1, cli.stderr   # 1: findings
    assert "findings" in cli.stdout and "SEVERITY" in cli.stdout
    scanned = [json.loads(line) for line in output.read_text(encoding="utf-8").splitlines()]
    assert comparable(events) == comparable(scanned)

    second = run_script(app_dir, stdin=input_xml(checkpoint_dir, params, **at(app_dir)))
    assert second.returncode == 0, second.stderr
    again = stream_events(second.stdout)
    assert not [e for e in again if e["sourcetype"] == "entra:signin:serviceprincipal"]
    findings = [e for e in again if e["sourcetype"] == "entra:app:finding"]
    assert len(findings) == len([e for e in events if e["sourcetype"] == "entra:app:finding"])
    assert SPLUNKD.session_key not in first.stdout + first.stderr + second.stdout + second.stderr


def test_changes_mode_writes_only_what_changed_after_the_snapshot(app_dir, simulator, tmp_path):
    simulator.reset()
    checkpoint_dir = tmp_path / "checkpoints"
    checkpoint_dir.mkdir()
    params = {"account": "sim", "signin_lookback_hours": LOOKBACK, "posture_mode": "changes"}
    first = stream_events(run_script(app_dir, stdin=input_xml(checkpoint_dir, params, **at(app_dir))).stdout)
    assert [e for e in first if e["sourcetype"] == "entra:app:finding"]
    second = stream_events(run_script(app_dir, stdin=input_xml(checkpoint_dir, params, **at(app_dir))).stdout)
    assert [e["sourcetype"] for e in second] == ["entra:harvest"]
    assert second[0]["event"]["mode"] == "changes"


def test_an_unknown_account_at_run_time_is_logged_not_crashed(app_dir, tmp_path):
    result = run_script(app_dir, stdin=input_xml(tmp_path, {"account": "gone"}, **at(app_dir)))
    assert result.returncode == 0
    assert "ERROR entra_app_secrets://sim: account 'gone' does not exist" in result.stderr


def test_a_corrupt_checkpoint_is_reported_with_what_to_do(app_dir, tmp_path):
    # a manifest whose only generation does not match its digest: nothing trustworthy to resume from
    SPLUNKD.kvstore.put(CHECKPOINTS, {"_key": "m:sim.posture", "kind": "manifest", "checkpoint": "sim.posture",
                                      "current": {"generation": "g1", "chunks": 0, "inline": "{not json",
                                                  "sha256": "0" * 64, "bytes": 9}, "previous": None})
    result = run_script(app_dir, stdin=input_xml(tmp_path, {"account": "sim"}))
    assert result.returncode == 0
    assert "checkpoint sim.posture in KV-store collection ta_entra_app_secrets_checkpoints is damaged" in result.stderr
    assert "sendalert entra_reset_checkpoint param.account=" in result.stderr
    assert "Traceback" not in result.stderr


