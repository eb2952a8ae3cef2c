"""The Splunk app tarball: what is in it, how it is laid out, and what AppInspect says about it.

The checks are generic on purpose: they keep holding as inputs, alert actions and dashboards land.
"""
import ast
import glob
import json
import os
import re
import shutil
import subprocess
import sys
import tarfile

import pytest

import connector
from devtools import package_app as package
from connector.conf_files import parse_conf_text

REPO_ROOT = package.REPO_ROOT
APP = "TA-entra-app-secrets"
APPINSPECT = os.path.join(REPO_ROOT, ".venv-appinspect", "bin", "splunk-appinspect")
# at the app's top level or directly under lib/
NEVER_PACKAGED = {"entra_simulator", "tests", "test", "bench", "dev.py", "setup.py", ".ci", ".venv", ".git",
                  "local", "Makefile", "pytest.ini", "dist", ".cache", "bin"}
NEVER_ANYWHERE = {"__pycache__", "local.meta", "tests", "entra_simulator"}
HEAVY_TIMEOUT = 600


@pytest.fixture(scope="module")
def built(app_tarball):
    path = app_tarball
    with tarfile.open(path) as tar:
        members = {member.name: member for member in tar.getmembers()}
        # app files and lib/connector as bytes; the rest of lib/ is only listed
        texts = {name: tar.extractfile(member).read() for name, member in members.items()
                 if member.isfile() and (not name.startswith(f"{APP}/lib/")
                                         or name.startswith(f"{APP}/lib/connector/"))}
    return {"path": path, "members": members, "texts": texts}


def _conf(text):
    """{stanza: {key: value}} by Splunk's own parsing rules (connector.splunk.splunkd), without [default]."""
    stanzas = parse_conf_text(text.decode("utf-8"))
    stanzas.pop("default", None)
    return stanzas


def test_tarball_is_named_for_the_version_and_holds_one_app_folder(built):
    assert os.path.basename(built["path"]) == f"{APP}-{connector.__version__}.tar.gz"
    assert {name.split("/")[0] for name in built["members"]} == {APP}


def test_every_version_agrees(built):
    app_conf = _conf(built["texts"][f"{APP}/default/app.conf"])
    setup_version = subprocess.run([sys.executable, "setup.py", "--version"], cwd=REPO_ROOT, check=True,
                                   capture_output=True, text=True).stdout.strip().splitlines()[-1]
    assert app_conf["id"]["version"] == app_conf["launcher"]["version"] == connector.__version__ == setup_version
    assert app_conf["id"]["name"] == app_conf["package"]["id"] == APP


def test_app_layout_and_vendored_lib(built):
    names = set(built["members"])
    for required in ("default/app.conf", "metadata/default.meta", "LICENSE", "static/appIcon.png",
                     "static/appIcon_2x.png", "lib/connector/__init__.py", "lib/connector/logs.py",
                     "lib/msal/__init__.py", "lib/requests/__init__.py", "lib/splunklib/__init__.py",
                     "lib/structlog/__init__.py", "lib/tenacity/__init__.py", "lib/jwt/__init__.py"):
        assert f"{APP}/{required}" in names, required
    assert f"{APP}/README.md" in names or f"{APP}/README.txt" in names
    for folder in ("bin", "default", "README", "static", "appserver"):
        if os.path.isdir(os.path.join(REPO_ROOT, folder)):
            source = {os.path.relpath(os.path.join(root, f), REPO_ROOT).replace(os.sep, "/")
                      for root, _dirs, files in os.walk(os.path.join(REPO_ROOT, folder)) for f in files
                      if "__pycache__" not in root and not f.endswith(".pyc")}
            assert {f"{APP}/{s}" for s in source} <= names, f"{folder}/ copied whole"


def test_ucc_built_the_configuration_and_inputs_pages(built):
    """ucc-gen's output is in the tarball (and only there: the repository holds globalConfig.json)."""
    names = set(built["members"])
    for generated in ("app.manifest", "default/restmap.conf", "default/web.conf", "default/data/ui/views/configuration.xml",
                      "default/data/ui/views/inputs.xml", "bin/import_declare_test.py",
                      "bin/ta_entra_app_secrets_rh_account.py", "bin/ta_entra_app_secrets_rh_settings.py",
                      "bin/ta_entra_app_secrets_rh_entra_app_secrets.py", "appserver/static/openapi.json",
                      "appserver/static/js/build/globalConfig.json", "lib/splunktaucclib/__init__.py",
                      "lib/solnlib/__init__.py"):
        assert f"{APP}/{generated}" in names, generated
        assert not os.path.exists(os.path.join(REPO_ROOT, generated)) or generated == "app.manifest", \
            f"{generated} is a build product and must not be committed"
    restmap = _conf(built["texts"][f"{APP}/default/restmap.conf"])
    handlers = {name: keys for name, keys in restmap.items() if name.startswith("admin_external:")}
    assert set(handlers) == {"admin_external:ta_entra_app_secrets_account", "admin_external:ta_entra_app_secrets_settings",
                             "admin_external:ta_entra_app_secrets_entra_app_secrets"}
    for name, keys in handlers.items():
        assert (keys["python.version"], keys["python.required"]) == ("python3", "3.13"), name
        assert f"{APP}/bin/{keys['handlerfile']}" in names, name
    account_handler = built["texts"][f"{APP}/bin/ta_entra_app_secrets_rh_account.py"].decode()
    assert "from ta_entra_app_secrets_account_validation import AccountHandler" in account_handler
    # every encrypted field of the storage contract is encrypted by the generated handler
    for field in ("client_secret", "certificate", "proxy_password"):
        assert re.search(rf"'{field}',\s*required=False,\s*encrypted=True", account_handler), field
    manifest = json.loads(built["texts"][f"{APP}/app.manifest"])
    assert manifest["info"]["id"] == {"group": None, "name": APP, "version": connector.__version__}
    nav = built["texts"][f"{APP}/default/data/ui/nav/default.xml"].decode()
    assert '<view name="configuration"' in nav and '<view name="inputs"' in nav


def test_the_build_leaves_the_checkout_alone(built):
    """ucc-gen rewrites the globalConfig.json it is given and writes output/ next to it: it gets copies."""
    with open(os.path.join(REPO_ROOT, package.GLOBAL_CONFIG), encoding="utf-8") as handle:
        config = json.load(handle)
    assert "_uccVersion" not in config["meta"] and config["meta"]["version"] == "0.0.0", \
        "the version comes from default/app.conf at build time, never written back"
    assert not os.path.exists(os.path.join(REPO_ROOT, "output"))
    assert not os.path.exists(os.path.join(REPO_ROOT, "package"))


def test_missing_ucc_gen_or_global_config_says_what_to_run(tmp_path, monkeypatch):
    monkeypatch.setattr(package, "UCC_VENV", str(tmp_path / "no-venv"))
    with pytest.raises(package.PackagingError, match=r"ucc-gen is not installed .*python3 dev.py package"):
        package.build_package(str(tmp_path / "dist"))
    monkeypatch.undo()
    (tmp_path / "src" / "default").mkdir(parents=True)
    (tmp_path / "src" / "default" / "app.conf").write_text("[id]\nversion = 1.0.0\n")
    with pytest.raises(package.PackagingError, match="globalConfig.json is missing"):
        package.build_package(str(tmp_path / "dist"), source_dir=str(tmp_path / "src"))


def test_the_build_number_is_pinned_to_the_version_and_the_pages(built):
    app_conf = _conf(built["texts"][f"{APP}/default/app.conf"])
    build = app_conf["install"]["build"]
    assert build.isdigit() and app_conf["package"]["check_for_updates"] == "false"
    base_html = built["texts"][f"{APP}/appserver/templates/base.html"].decode()
    assert build in base_html, "the UI's cache-busting token is the same build number"


def test_response_settings_and_actions_are_for_admins_only(built):
    meta = _conf(built["texts"][f"{APP}/metadata/default.meta"])
    admins_only = "read : [ admin, sc_admin ], write : [ admin, sc_admin ]"
    actions = [name for name, keys in _conf(built["texts"][f"{APP}/default/alert_actions.conf"]).items()
               if keys.get("is_custom") == "1"]
    assert actions
    for stanza in ["ta_entra_app_secrets_settings/response"] + [f"alert_actions/{name}" for name in actions]:
        assert meta[stanza]["access"] == admins_only, stanza
    assert meta[""]["access"] == "read : [ * ], write : [ admin, sc_admin ]"


def test_nothing_that_must_stay_out_is_packaged(built):
    for name in built["members"]:
        parts = name.split("/")
        assert not set(parts) & NEVER_ANYWHERE, name
        if len(parts) > 1:
            assert parts[1] not in NEVER_PACKAGED - {"bin"}, name
        if len(parts) > 2 and parts[1] == "lib":
            assert parts[2] not in NEVER_PACKAGED | set(package.PROVIDED_BY_SPLUNK), name
        assert not name.endswith((".pyc", ".pyo") + package.COMPILED_SUFFIXES), name


def test_modes_owners_and_times_are_fixed(built):
    for member in built["members"].values():
        assert member.mode == (0o755 if member.isdir() else 0o644), member.name
        assert (member.uid, member.gid, member.mtime) == (0, 0, package.FIXED_MTIME), member.name
        assert member.isdir() or member.isfile(), f"{member.name}: links are not allowed in an app"


def test_building_twice_gives_the_same_bytes(tmp_path):
    # from a snapshot of the sources, so an edit in the working tree between two builds cannot interfere
    snapshot = tmp_path / "source"
    for folder in (*package.APP_FOLDERS, "connector"):
        if os.path.isdir(os.path.join(REPO_ROOT, folder)):
            shutil.copytree(os.path.join(REPO_ROOT, folder), snapshot / folder)
    for name in (*package.APP_FILES, package.GLOBAL_CONFIG):
        if os.path.isfile(os.path.join(REPO_ROOT, name)):
            shutil.copyfile(os.path.join(REPO_ROOT, name), snapshot / name)
    cache = os.path.join(REPO_ROOT, ".cache", "vendor")
    first = package.build_package(str(tmp_path / "one"), source_dir=str(snapshot), vendor_cache_dir=cache)
    second = package.build_package(str(tmp_path / "two"), source_dir=str(snapshot), vendor_cache_dir=cache)
    with open(first, "rb") as one, open(second, "rb") as two:
        assert one.read() == two.read()


def test_every_runtime_requirement_is_vendored_or_comes_from_splunk():
    runtime = {_name(req) for req in _setup_runtime_requirements()}
    vendored = {_name(req) for req in package.WHEEL_REQUIREMENTS + package.SDIST_REQUIREMENTS}
    assert runtime, "setup.py declares runtime requirements"
    assert runtime <= vendored | set(package.PROVIDED_BY_SPLUNK), runtime - vendored


def _setup_runtime_requirements():
    """RUNTIME from setup.py, read without running setup()."""
    with open(os.path.join(REPO_ROOT, "setup.py"), encoding="utf-8") as handle:
        tree = ast.parse(handle.read())
    for node in tree.body:
        if isinstance(node, ast.Assign) and any(getattr(t, "id", None) == "RUNTIME" for t in node.targets):
            return ast.literal_eval(node.value)
    raise AssertionError("setup.py has no RUNTIME list")


def _name(requirement):
    return re.split(r"[\s<>=!~;\[]", requirement, maxsplit=1)[0].lower().replace("_", "-")


def _find_python(minor):
    """An interpreter for Python 3.<minor> (on PATH or under pyenv), or None."""
    candidates = [shutil.which(f"python3.{minor}"),
                  *sorted(glob.glob(os.path.expanduser(f"~/.pyenv/versions/3.{minor}.*/bin/python3")))]
    for candidate in filter(None, candidates):
        probe = subprocess.run([candidate, "-c", "import sys; print(sys.version_info[1])"],
                               capture_output=True, text=True)
        if probe.returncode == 0 and probe.stdout.strip() == str(minor):
            return candidate
    return None


# Splunk 9 runs Python 3.9, Splunk 10 adds 3.13; both are tried when this machine has them
SPLUNK_PYTHONS = {"this": sys.executable, "3.9": _find_python(9), "3.13": _find_python(13)}


@pytest.fixture(scope="module")
def extracted(built, tmp_path_factory):
    target = tmp_path_factory.mktemp("app")
    with tarfile.open(built["path"]) as tar:
        tar.extractall(target, filter="data")
    return target / APP


@pytest.mark.parametrize("python", SPLUNK_PYTHONS, ids=[f"python-{name}" for name in SPLUNK_PYTHONS])
def test_vendored_lib_imports_every_module_on_a_bare_interpreter(extracted, python):
    """lib/ alone (no site-packages) imports every connector module and solnlib; only cryptography comes from
    Splunk."""
    interpreter = SPLUNK_PYTHONS[python]
    if interpreter is None:
        pytest.skip(f"no Python {python} on this machine")
    lib = str(extracted / "lib")
    probe = ("import sys, pkgutil, importlib; sys.path.insert(0, sys.argv[1]); "
             "import msal, requests, urllib3, splunklib.client, splunklib.modularinput, structlog, tenacity, jwt; "
             "import solnlib.conf_manager, solnlib.credentials; "
             "import connector, connector.splunk.settings, connector.splunk.modinput, connector.splunk.alert_action; "
             "[importlib.import_module('connector.' + m.name) for m in pkgutil.iter_modules(connector.__path__)]; "
             "assert all(m.__file__.startswith(sys.argv[1]) for m in (msal, requests, structlog, connector, solnlib)); "
             "from connector.logs import configure_logging, get_logger; configure_logging('INFO'); "
             "get_logger('probe').info('probe.logged', body='client_secret=hunter2hunter2'); "
             "print(connector.__version__, urllib3.__version__)")
    result = subprocess.run([interpreter, "-I", "-S", "-c", probe, lib], capture_output=True, text=True)
    assert result.returncode == 0, result.stderr[-2000:]
    logged = json.loads(result.stderr.strip().splitlines()[-1])
    assert logged["event"] == "probe.logged" and logged["body"] == "client_secret=[REDACTED]", \
        "the vendored structlog runs the same redacting pipeline"
    version, urllib3_version = result.stdout.split()
    assert version == connector.__version__, "lib/connector reads the version from the app's default/app.conf"
    assert urllib3_version.startswith("1."), "urllib3 2 refuses Pythons built on OpenSSL < 1.1.1"


@pytest.mark.parametrize("python", SPLUNK_PYTHONS, ids=[f"python-{name}" for name in SPLUNK_PYTHONS])
def test_graph_timestamps_parse_the_same_on_every_splunk_python(extracted, python):
    """Python 3.9's fromisoformat reads only 3 or 6 fractional digits; Graph sends 0 to 7 of them."""
    interpreter = SPLUNK_PYTHONS[python]
    if interpreter is None:
        pytest.skip(f"no Python {python} on this machine")
    spellings = {"2021-09-09T19:50:29.3086381Z": "2021-09-09T19:50:29.308638+00:00",
                 "2024-01-14T17:43:26Z": "2024-01-14T17:43:26+00:00",
                 "2024-01-14T17:43:26.5Z": "2024-01-14T17:43:26.500000+00:00",
                 "2021-03-01T00:00:00-8:00": "2021-03-01T08:00:00+00:00"}
    probe = ("import sys, json; sys.path.insert(0, sys.argv[1]); from connector.times import parse_time; "
             "print(json.dumps({t: parse_time(t) and parse_time(t).isoformat() for t in json.loads(sys.argv[2])}))")
    result = subprocess.run([interpreter, "-I", "-S", "-c", probe, str(extracted / "lib"), json.dumps(list(spellings))],
                            capture_output=True, text=True)
    assert result.returncode == 0, result.stderr[-2000:]
    assert json.loads(result.stdout) == spellings


@pytest.mark.parametrize("python", SPLUNK_PYTHONS, ids=[f"python-{name}" for name in SPLUNK_PYTHONS])
def test_modular_inputs_answer_scheme_from_the_packaged_app(extracted, python):
    """splunkd's first call to a modular input script: `<script> --scheme`, run from the installed app."""
    interpreter = SPLUNK_PYTHONS[python]
    if interpreter is None:
        pytest.skip(f"no Python {python} on this machine")
    inputs_conf = extracted / "default" / "inputs.conf"
    scripts = [extracted / "bin" / f"{stanza}.py" for stanza in
               (_conf(inputs_conf.read_bytes()) if inputs_conf.exists() else {}) if "://" not in stanza]
    for script in scripts:
        result = subprocess.run([interpreter, "-I", "-S", str(script), "--scheme"], capture_output=True,
                                text=True, timeout=60, cwd=extracted / "bin")
        assert result.returncode == 0, f"{script.name}: {result.stderr[-2000:]}"
        assert result.stdout.lstrip().startswith("<scheme>"), f"{script.name}: {result.stdout[:300]}"


def _bin_scripts(built):
    return {name: text for name, text in built["texts"].items()
            if re.fullmatch(rf"{APP}/bin/[^/]+\.py", name)}


def test_bin_scripts_put_lib_first_and_are_python3(built):
    # ucc-gen's own module that puts lib/ first, checked by running it below
    scripts = {name: text for name, text in _bin_scripts(built).items() if not name.endswith("/import_declare_test.py")}
    for name, text in scripts.items():
        tree = ast.parse(text, filename=name)  # Python 3 syntax or it raises
        assert not text.startswith(b"#!") or b"python3" in text.splitlines()[0], f"{name}: python3 shebang"
        assert _lib_inserted_before_other_imports(tree), (
            f"{name}: sys.path.insert(0, <app>/lib) must come before anything is imported "
            "(only os, sys and __future__ may be imported earlier)")


def _lib_inserted_before_other_imports(tree):
    for statement in tree.body:
        if _is_lib_path_insert(statement) or _is_plain_import(statement, ("import_declare_test",)):
            return True
        if isinstance(statement, (ast.Import, ast.ImportFrom)) and \
                not _is_plain_import(statement, ("os", "sys", "__future__")):
            return False
    return False


def _is_plain_import(statement, allowed):
    if isinstance(statement, ast.Import):
        return all(alias.name in allowed for alias in statement.names)
    return isinstance(statement, ast.ImportFrom) and statement.module in allowed


def _is_lib_path_insert(statement):
    source = ast.unparse(statement)
    return source.startswith("sys.path.insert(0,") and "'lib'" in source


def test_ucc_import_declare_test_puts_the_apps_lib_first(extracted):
    """The UCC-generated handlers start with `import import_declare_test`: after it, the app's lib/ comes
    before everything that was on sys.path (Splunk's own site-packages included)."""
    probe = ("import sys; sys.path.insert(0, sys.argv[1]); before = list(sys.path); import import_declare_test; "
             "print(sys.path.index(sys.argv[2]), min(sys.path.index(p) for p in before if p in sys.path))")
    bin_dir, lib_dir = str(extracted / "bin"), str(extracted / "lib")
    result = subprocess.run([sys.executable, "-I", "-c", probe, bin_dir, lib_dir], capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    lib_position, first_other = map(int, result.stdout.split())
    assert lib_position < first_other


def test_script_stanzas_name_python3_and_a_required_version(built):
    """AppInspect fails a script stanza without python.version/python.required (future failure, 4.4.0)."""
    stanzas = []
    for conf_name, is_script in (("alert_actions.conf", lambda name, keys: keys.get("is_custom") == "1"),
                                 ("inputs.conf", lambda name, keys: "://" not in name)):
        text = built["texts"].get(f"{APP}/default/{conf_name}")
        conf = _conf(text) if text is not None else {}
        stanzas += [(conf_name, name, keys) for name, keys in conf.items() if is_script(name, keys)]
    for conf_name, name, keys in stanzas:
        assert keys.get("python.version") == "python3", f"{conf_name} [{name}]"
        assert keys.get("python.required"), f"{conf_name} [{name}]"


def test_appinspect_cloud_checks_pass(built, tmp_path, capsys):
    if not os.path.exists(APPINSPECT):
        message = f"{APPINSPECT} is missing: run `python3 dev.py test`, which installs splunk-appinspect there"
        if os.environ.get("ENTRA_REQUIRE_ALL") or os.environ.get("CI"):
            pytest.fail(message)
        pytest.skip(message)
    report_path = tmp_path / "appinspect.json"
    result = subprocess.run(
        [APPINSPECT, "inspect", built["path"], "--mode", "precert", "--included-tags", "cloud",
         "--skip-trusted-libraries-update", "--output-file", str(report_path), "--ci"],
        capture_output=True, text=True, timeout=HEAVY_TIMEOUT, cwd=tmp_path)
    if not report_path.exists():
        hint = " (python-magic needs Debian's libmagic1: run `python3 dev.py test`)" if "magic" in result.stderr else ""
        pytest.fail(f"splunk-appinspect wrote no report{hint}: {result.stderr[-1500:]}")
    report = json.loads(report_path.read_text())
    summary = report["summary"]
    problems, warnings = _findings(report)
    with capsys.disabled():
        print(f"\nAppInspect summary: {summary}")
        for line in warnings:
            print(f"  AppInspect warning: {line}")
    assert (summary["failure"], summary["error"], summary["future_failure"]) == (0, 0, 0), "\n".join(problems)


def _findings(report):
    problems, warnings = [], []
    for app_report in report["reports"]:
        for group in app_report["groups"]:
            for check in group["checks"]:
                messages = [m.get("message", "") for m in check.get("messages", [])]
                line = f"{check['result']} {check['name']}: " + " | ".join(message[:300] for message in messages[:5])
                if check["result"] in ("failure", "error", "future_failure"):
                    problems.append(line)
                elif check["result"] == "warning":
                    warnings.append(line)
    return problems, warnings


def test_package_command_prints_the_path_and_explains_failures(tmp_path, capsys, monkeypatch):
    main = package.main
    assert main(["--output", str(tmp_path)]) == 0
    printed = capsys.readouterr().out.strip()
    assert printed == os.path.join(str(tmp_path), f"{APP}-{connector.__version__}.tar.gz") and os.path.isfile(printed)

    def broken(*_args, **_kwargs):
        raise package.PackagingError("default/app.conf has no [id] version")
    monkeypatch.setattr(package, "build_package", broken)
    assert main(["--output", str(tmp_path)]) == 1
    assert "default/app.conf has no [id] version" in capsys.readouterr().err


def test_missing_app_conf_version_is_reported(tmp_path):
    (tmp_path / "default").mkdir()
    (tmp_path / "default" / "app.conf").write_text("[id]\nname = x\n")
    with pytest.raises(package.PackagingError, match=r"no \[id\] version"):
        package.read_app_version(str(tmp_path))
    (tmp_path / "default" / "app.conf").write_text("[id]\nversion = 1.0.0\n[launcher]\nversion = 1.0.1\n")
    with pytest.raises(package.PackagingError, match="differs"):
        package.read_app_version(str(tmp_path))


def test_compiled_files_are_refused(tmp_path):
    (tmp_path / "pkg").mkdir()
    (tmp_path / "pkg" / "_speedups.cpython-311-x86_64-linux-gnu.so").write_bytes(b"\x7fELF")
    with pytest.raises(package.PackagingError, match="compiled file pkg/_speedups"):
        package._refuse_compiled_files(str(tmp_path))


@pytest.mark.parametrize("python", SPLUNK_PYTHONS, ids=[f"python-{name}" for name in SPLUNK_PYTHONS])
def test_a_ca_pasted_as_pem_is_trusted_and_host_names_still_checked_with_the_vendored_urllib3(extracted, python):
    """The CA bundle pasted on the Accounts tab is trusted from memory (PemTrustAdapter). The urllib3 1.26
    in lib/ sends no server name for an IP address, which a host-name-checking context refuses: the
    connection must work, and a certificate issued for another name must still be refused."""
    import http.server
    import ssl
    import threading

    import trustme

    interpreter = SPLUNK_PYTHONS[python]
    if interpreter is None:
        pytest.skip(f"no Python {python} on this machine")
    ca = trustme.CA()
    probe = ("import sys; sys.path.insert(0, sys.argv[1]); from connector.graph.auth import PinnedSession; "
             "session = PinnedSession(ca_pem=sys.argv[2])\n"
             "try:\n    print(session.get(sys.argv[3], timeout=10).status_code)\n"
             "except Exception as error:\n    print(type(error).__name__, error)")
    answers = {}
    for name in ("127.0.0.1", "elsewhere.example"):
        context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        ca.issue_cert(name).configure_cert(context)
        server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), http.server.SimpleHTTPRequestHandler)
        server.socket = context.wrap_socket(server.socket, server_side=True)
        thread = threading.Thread(target=server.serve_forever, daemon=True)
        thread.start()
        try:
            result = subprocess.run([interpreter, "-I", "-S", "-c", probe, str(extracted / "lib"),
                                     ca.cert_pem.bytes().decode(), f"https://127.0.0.1:{server.server_port}/"],
                                    capture_output=True, text=True, timeout=60, cwd=str(extracted))
        finally:
            server.shutdown()
            server.server_close()
        assert result.returncode == 0, result.stderr[-2000:]
        answers[name] = result.stdout.strip()
    assert answers["127.0.0.1"] in ("200", "404"), answers
    assert answers["elsewhere.example"].startswith("SSLError") and "127.0.0.1" in answers["elsewhere.example"], answers
