"""dev.py's step for the dashboard tests: `npm ci` once per package-lock.json, chromium from apt."""
import importlib.util
from pathlib import Path

import pytest

DEV = Path(__file__).resolve().parents[2] / "dev.py"


@pytest.fixture
def dev(tmp_path, monkeypatch):
    spec = importlib.util.spec_from_file_location("dev_under_test", DEV)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    project = tmp_path / "dashboards"
    (project / "node_modules").mkdir(parents=True)
    (project / "package-lock.json").write_text('{"lockfileVersion": 3}')
    chromium = tmp_path / "chromium"
    chromium.write_text("")
    monkeypatch.setattr(module, "DASHBOARD_TOOLS", str(project))
    monkeypatch.setattr(module, "CHROMIUM", str(chromium))
    monkeypatch.setattr(module.shutil, "which", lambda name: f"/usr/bin/{name}")
    module.calls = []

    class Finished:
        returncode = 0
    monkeypatch.setattr(module.subprocess, "run", lambda command, **kwargs: module.calls.append(command) or Finished)
    monkeypatch.setattr(module, "apt_install", lambda *packages: module.calls.append(["apt", *packages]) or True)
    return module


def test_npm_ci_runs_again_only_when_the_lock_file_changes(dev):
    dev.setup_dashboard_tools()
    dev.setup_dashboard_tools()
    assert [c[1] for c in dev.calls] == ["ci"]
    Path(dev.DASHBOARD_TOOLS, "package-lock.json").write_text('{"lockfileVersion": 3, "changed": true}')
    dev.setup_dashboard_tools()
    assert [c[1] for c in dev.calls] == ["ci", "ci"]


def test_a_missing_chromium_is_installed_with_apt(dev):
    Path(dev.CHROMIUM).unlink()
    dev.setup_dashboard_tools()
    assert ["apt", "chromium"] in dev.calls


def test_a_failed_npm_ci_stops_with_a_message(dev, monkeypatch, capsys):
    class Failed:
        returncode = 1
    monkeypatch.setattr(dev.subprocess, "run", lambda command, **kwargs: Failed)
    with pytest.raises(SystemExit):
        dev.setup_dashboard_tools()
    assert "npm ci failed" in capsys.readouterr().err
    assert not Path(dev.DASHBOARD_TOOLS, "node_modules", dev.MARKER).exists(), "no marker after a failure"
