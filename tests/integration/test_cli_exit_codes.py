"""Exit codes a script can rely on (README "CLI"), through the real command against the simulator.
scan/demo: 0 no finding, 1 findings, 2 usage or configuration error, 3 failed or partial.
respond: 0 done, 1 refused or failed, 2 usage or configuration error. Errors always on stderr."""
import json

import pytest

from connector import scan_cli
from connector.cli import main
from connector.scan import RunSummary


def account_flags(sim, identity, certificate=True):
    flags = ["--tenant-id", sim.tenant_id, "--client-id", identity.client_id, "--authority-host", sim.base_url,
             "--graph-host", sim.base_url, "--ca-bundle", sim.ca_path]
    return flags + (["--certificate", identity.certificate_path] if certificate else [])


@pytest.fixture
def no_secret_env(monkeypatch):
    monkeypatch.delenv("ENTRA_CLIENT_SECRET", raising=False)
    monkeypatch.delenv("SPLUNK_HOME", raising=False)


def test_scan_partial_is_3_and_names_each_error_on_stderr(simulator, tmp_path, capsys, no_secret_env):
    simulator.reset()
    code = main(["scan", *account_flags(simulator, simulator.limited), "--state-dir", str(tmp_path / "s"),
                 "--output", str(tmp_path / "events.jsonl"), "--signin-lookback-hours", "1"])
    out = capsys.readouterr()
    assert code == 3
    assert "status partial" in out.out and "SEVERITY" in out.out      # the findings it has are still shown
    assert "error in signins" in out.err and "AuditLog.Read.All" in out.err and "error in" not in out.out


def test_scan_configuration_errors_are_2_with_one_sentence(simulator, tmp_path, capsys, no_secret_env):
    missing = str(tmp_path / "missing.pem")
    flags = account_flags(simulator, simulator.collector, certificate=False)
    assert main(["scan", *flags, "--certificate", missing, "--state-dir", str(tmp_path / "s")]) == 2
    err = capsys.readouterr().err
    assert err.startswith("entra-app-secrets: error: ") and missing in err and "Traceback" not in err
    assert main(["scan", *account_flags(simulator, simulator.collector), "--signin-lookback-hours", "0"]) == 2
    assert "signin_lookback_hours must be between 1 and 720" in capsys.readouterr().err
    (tmp_path / "a-file").write_text("")
    assert main(["scan", *flags, "--log-file", str(tmp_path / "a-file" / "scan.log")]) == 2
    assert "--log-file" in capsys.readouterr().err
    with pytest.raises(SystemExit) as usage:
        main(["scan", "--no-such-flag"])
    assert usage.value.code == 2 and "(see --help)" in capsys.readouterr().err


def test_scan_without_findings_is_0(simulator, tmp_path, capsys, monkeypatch, no_secret_env):
    """A tenant without client secrets: no simulator tenant has none, so the run's summary is given."""
    def clean_run(account, store, writer, settings, observer=None):
        return RunSummary(run_id="r", account=account.name, counts={"findings": 0})
    monkeypatch.setattr(scan_cli, "run_scan", clean_run)
    code = main(["scan", *account_flags(simulator, simulator.collector), "--state-dir", str(tmp_path / "s"),
                 "--output", str(tmp_path / "events.jsonl")])
    assert code == 0 and "findings 0" in capsys.readouterr().out


def test_respond_codes(simulator, tmp_path, capsys, no_secret_env):
    simulator.reset()
    own = {identity.client_id for identity in simulator.identities.values()}
    target = next(e for e in simulator.tenant.expected_secrets() if e.object_type == "application"
                  and e.app_id not in own and "disabled_service_principal" not in e.traits)
    common = ["--app-id", target.app_id, "--state-dir", str(tmp_path / "s")]
    try:
        # dry run: nothing changes, 0
        code = main(["respond", "disable-app", *account_flags(simulator, simulator.responder), *common, "--dry-run"])
        out = capsys.readouterr()
        assert code == 0 and json.loads(out.out)["outcome"] == "dry_run" and "dry_run: dry run" in out.err, out
        # Graph refuses the change (the limited app may only read): 1, the audit record says why
        code = main(["respond", "disable-app", *account_flags(simulator, simulator.limited), *common])
        out = capsys.readouterr()
        assert code == 1 and json.loads(out.out)["status"] == "failure" and "\nerror: " in "\n" + out.err
        # no certificate and no $ENTRA_CLIENT_SECRET: 2, nothing sent
        code = main(["respond", "disable-app", *account_flags(simulator, simulator.responder, certificate=False),
                     *common])
        out = capsys.readouterr()
        assert code == 2 and "ENTRA_CLIENT_SECRET" in out.err and out.out == ""
    finally:
        simulator.reset()
