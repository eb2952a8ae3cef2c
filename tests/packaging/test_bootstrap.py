"""The newcomer's path: README quick start, dev.py and .ci/run agree and behave."""
import ast
import importlib.util
import os
import re
import subprocess
import sys

import pytest

REPO_ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
README = os.path.join(REPO_ROOT, "README.md")
DEV = os.path.join(REPO_ROOT, "dev.py")
CI_RUN = os.path.join(REPO_ROOT, ".ci", "run")


def _read(path):
    with open(path, encoding="utf-8") as handle:
        return handle.read()


def _section(markdown, heading):
    match = re.search(rf"^## {re.escape(heading)}\n(.*?)(?=^## |\Z)", markdown, re.M | re.S)
    assert match, f"README has no '## {heading}' section"
    return match.group(1)


def _quick_start_commands():
    block = re.search(r"^```[^\n]*\n(.*?)^```", _section(_read(README), "Quick start"), re.M | re.S)
    assert block, "Quick start has a code block"
    return [line.strip() for line in block.group(1).splitlines() if line.strip()]


@pytest.fixture
def dev():
    spec = importlib.util.spec_from_file_location("dev_under_test", DEV)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_quick_start_is_exactly_two_commands():
    assert _quick_start_commands() == ["python3 dev.py demo", "python3 dev.py test"]


def test_readme_has_the_sections_other_parts_fill_in():
    markdown = _read(README)
    for heading in ("Quick start", "Install into Splunk", "Configure an account", "Inputs",
                    "Using it in Splunk (dashboards, ES content)", "Response actions", "Troubleshooting",
                    "Uninstall", "Deployment"):
        _section(markdown, heading)
    assert "CTD-000008" in _section(markdown, "Why: CTD-000008")


def test_ci_runs_exactly_the_readme_test_command():
    script = _read(CI_RUN)
    lines = script.splitlines()
    assert lines[0] == "#!/usr/bin/env bash"
    assert "set -euo pipefail" in lines
    commands = [line for line in lines[1:] if line.strip() and not line.startswith("#")
                and not line.startswith(("set ", "cd "))]
    assert commands == [_quick_start_commands()[1]]
    assert os.access(CI_RUN, os.X_OK), ".ci/run is executable"


def test_dev_py_needs_only_the_standard_library():
    tree = ast.parse(_read(DEV))
    imported = {alias.name.split(".")[0] for node in ast.walk(tree) if isinstance(node, ast.Import)
                for alias in node.names}
    imported |= {node.module.split(".")[0] for node in ast.walk(tree)
                 if isinstance(node, ast.ImportFrom) and node.module}
    assert imported and imported <= set(sys.stdlib_module_names), imported - set(sys.stdlib_module_names)


@pytest.mark.parametrize("argv", [[], ["deploy"]])
def test_dev_py_without_a_known_command_prints_usage_and_exits_2(argv):
    result = subprocess.run([sys.executable, DEV, *argv], capture_output=True, text=True, timeout=60)
    assert result.returncode == 2
    assert "python3 dev.py demo" in result.stderr and "python3 dev.py test" in result.stderr


def test_install_runs_again_only_when_its_fingerprint_changes(dev, tmp_path, monkeypatch):
    calls = []
    monkeypatch.setattr(dev, "run", lambda command, **kwargs: calls.append(command))
    venv = str(tmp_path)
    dev.install_once(venv, "fingerprint-1", ["-e", ".[test]"])
    dev.install_once(venv, "fingerprint-1", ["-e", ".[test]"])
    assert len(calls) == 1 and calls[0][-2:] == ["-e", ".[test]"]
    dev.install_once(venv, "fingerprint-2", ["-e", ".[test]"])
    assert len(calls) == 2


def test_test_command_requires_everything_and_passes_pytest_arguments(dev, monkeypatch):
    steps, runs = [], []
    for step in ("setup_project", "setup_appinspect", "setup_ucc", "fetch_cim_models", "setup_dashboard_tools"):
        monkeypatch.setattr(dev, step, lambda *args, step=step: steps.append((step, *args)))

    class Finished:
        returncode = 5
    monkeypatch.setattr(dev.subprocess, "run", lambda command, **kwargs: runs.append((command, kwargs)) or Finished)
    assert dev.main(["test", "--", "-k", "logs"]) == 5, "dev.py returns pytest's exit code"
    # the tests also install Microsoft's Graph SDKs (the fidelity extra: tests/simulator/test_sdk_fidelity.py)
    # the packaging tests build the app with ucc-gen, so the tests install it too
    assert steps == [("setup_project", "test,fidelity"), ("setup_appinspect",), ("setup_ucc",), ("fetch_cim_models",),
                     ("setup_dashboard_tools",)]
    (command, kwargs), = runs
    assert command[1:] == ["-m", "pytest", "-k", "logs"]
    assert kwargs["env"]["ENTRA_REQUIRE_ALL"] == "1" and kwargs["cwd"] == REPO_ROOT


def test_missing_venv_support_names_the_debian_packages(dev, tmp_path, monkeypatch, capsys):
    monkeypatch.setattr(dev, "_make_venv", lambda venv: False)
    monkeypatch.setattr(dev, "apt_install", lambda *packages: False)
    with pytest.raises(SystemExit) as exit_info:
        dev.ensure_venv(str(tmp_path / "venv"))
    assert exit_info.value.code == 2
    assert f"apt-get install python3-venv python3.{sys.version_info.minor}-venv" in capsys.readouterr().err


def test_package_command_installs_the_pinned_ucc_gen_before_building(dev, monkeypatch):
    steps, installs = [], []
    monkeypatch.setattr(dev, "setup_project", lambda *args: steps.append("setup_project"))
    monkeypatch.setattr(dev, "ensure_venv", lambda venv: steps.append(("ensure_venv", venv)))
    monkeypatch.setattr(dev, "install_once", lambda venv, fingerprint, args: installs.append((venv, args)))

    class Finished:
        returncode = 0
    monkeypatch.setattr(dev.subprocess, "run", lambda command, **kwargs: steps.append(command[1:3]) or Finished)
    assert dev.main(["package"]) == 0
    assert steps == ["setup_project", ("ensure_venv", dev.UCC_VENV), ["-m", "devtools.package_app"]]
    assert installs == [(dev.UCC_VENV, [dev.UCC_REQUIREMENT])]
    assert re.fullmatch(r"splunk-add-on-ucc-framework==\d+\.\d+\.\d+", dev.UCC_REQUIREMENT), \
        "ucc-gen is pinned exactly: another version generates other handlers and pages"


@pytest.mark.parametrize("cli_code, expected", [(0, 0), (1, 0), (2, 2), (3, 3)])
def test_the_demo_quick_start_succeeds_when_the_demo_finds_what_it_shows(dev, monkeypatch, cli_code, expected):
    """entra-app-secrets exits 1 when it finds findings, which the demo tenant always has: the quick start
    then succeeded. A configuration error (2) or a failed scan (3) still fails it."""
    class Finished:
        returncode = cli_code
    monkeypatch.setattr(dev, "setup_project", lambda *args: None)
    monkeypatch.setattr(dev.subprocess, "run", lambda command, **kwargs: Finished)
    assert dev.command_demo([]) == expected
