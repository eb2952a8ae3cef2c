"""Build the Splunk app tarball: dist/TA-entra-app-secrets-<version>.tar.gz (`python3 dev.py package`).

A development step, not part of the installed CLI: it reads the checkout (default/, bin/, ...), which a
`pip install .` does not carry.

The tarball holds one folder, TA-entra-app-secrets/, with the Splunk app files from the checkout,
`lib/connector/`, and the runtime dependencies vendored under `lib/` (bin scripts put `../lib` first on
sys.path).

The Configuration and Inputs pages come from UCC (`ucc-gen build`, splunk-add-on-ucc-framework, installed
by dev.py into .venv-ucc): it reads `globalConfig.json` and a `package/` source folder and writes the app
with its generated REST handlers (bin/ta_entra_app_secrets_rh_*.py, restmap.conf, web.conf), the UI
(appserver/static/js, configuration.xml, inputs.xml), openapi.json and app.manifest. The repository keeps
one copy of each source: `package/` is staged in a temporary folder from the repository's app folders, and
everything ucc-gen generates stays a build product. Files in the repository win over generated ones
(ucc-gen copies the source last). ucc-gen is given no lib/requirements.txt, so it installs nothing: lib/
is filled by the vendoring below, which also pins what the generated handlers import (splunktaucclib,
solnlib, defusedxml). The build number ucc-gen writes (app.conf [install] build, the UI's cache-busting
token) is pinned to a digest of the version and globalConfig.json, so two builds of one tree are
byte-identical and a new release still busts browsers' caches.

What is vendored and what is not:

- Pure-Python wheels only, chosen for Python 3.9 (`--platform any --implementation py`), so the same
  lib/ works under Splunk's Python 3.9 and 3.13 on every OS. A compiled wheel is built for one
  interpreter ABI and one platform, and AppInspect flags binaries outside bin/.
- `cryptography` (and its `cffi`/`pycparser`) is compiled, so it is NOT vendored: msal imports it
  only to sign a certificate assertion, and Splunk's own Python ships it. Secret-based sign-in needs
  nothing from Splunk.
- `urllib3` stays below 2: urllib3 2 refuses to import on Pythons built against OpenSSL older than
  1.1.1, which some Splunk 9 builds are.
- splunk-sdk has no wheel on PyPI; it is pure Python, so it is built from its sdist.
- solnlib is pinned at 7.0.0: 8.x declares grpcio and OpenTelemetry (compiled, 20+ MB); every wheel is
  installed `--no-deps` from the pinned list, and the packaging tests import every generated handler
  from lib/ alone. PySocks (splunktaucclib, SOCKS
  proxies only) is not vendored either: the Proxy tab offers http proxies only.

The simulator, tests, benchmarks and dev tools are never copied: only the folders listed below are.
Entries are sorted with fixed owners, modes and times, so two builds of one tree are byte-identical.
"""
import configparser
import gzip
import hashlib
import json
import os
import shutil
import subprocess
import sys
import tarfile
import tempfile

from connector import APP_ID
from connector.logs import configure_logging, get_logger, redact_text

REPO_ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))  # devtools/ sits at the checkout's top
APP_FOLDERS = ("default", "bin", "metadata", "README", "static", "appserver")
APP_FILES = ("LICENSE", "README.md", "README.txt", "app.manifest")
GLOBAL_CONFIG = "globalConfig.json"   # UCC's one source of the Configuration and Inputs pages
UCC_VENV = os.path.join(REPO_ROOT, ".venv-ucc")   # dev.py installs splunk-add-on-ucc-framework there
# ucc-gen stamps app.conf [install] build and the UI's asset URLs with int(time.time()); pin it
UCC_RUNNER = ("import sys; from splunk_add_on_ucc_framework import global_config, main; "
              "build = sys.argv.pop(1); global_config.GlobalConfig.build_time = property(lambda self: build); "
              "sys.argv[0] = 'ucc-gen'; sys.exit(main.main())")

# Pure-Python wheels for Python 3.9+: the runtime dependencies and theirs, each named and pinned so
# a release ships exactly what the tests imported on Python 3.9 and 3.13. Raise a pin deliberately
# (the newest release that still supports Python 3.9) and run the packaging tests.
WHEEL_REQUIREMENTS = (
    "msal==1.39.0",
    "PyJWT==2.15.1",               # msal: client assertions
    "requests==2.32.5",            # the last requests for Python 3.9
    "urllib3==1.26.20",            # requests; below 2 on purpose, see the module docstring
    "certifi==2026.10.19.post1",   # requests
    "idna==3.20",                  # requests
    "charset-normalizer==3.5.3",   # requests (its py3-none-any wheel is pure Python)
    "tenacity==9.1.2",
    "structlog==25.5.0",
    "typing-extensions==4.16.0",   # structlog on Python < 3.11
    "deprecation==2.1.0",          # splunk-sdk
    "packaging==26.3",             # deprecation
    # accounts and settings through splunkd (connector/splunk/settings.py); 7.0.0 is the newest without
    # OpenTelemetry and grpcio (compiled), supports Python 3.9, and satisfies splunktaucclib (solnlib>=5)
    "solnlib==7.0.0",
    "sortedcontainers==2.4.0",     # solnlib (imported by its package __init__)
    "defusedxml==0.7.1",           # solnlib; splunktaucclib's handler parses splunkd's XML with it
    "splunktaucclib==8.2.0",       # the REST handlers ucc-gen generates (and ours, bin/*_validation.py)
)
# no wheel on PyPI, pure Python: built locally from the sdist (3.x needs Python 3.13)
SDIST_REQUIREMENTS = ("splunk-sdk==2.1.1",)
# compiled, supplied by Splunk's own Python; documented in the README ("Python dependencies")
PROVIDED_BY_SPLUNK = ("cryptography", "cffi", "pycparser")
VENDOR_PYTHON_VERSION = "3.9"

# names never copied into the app, wherever they are
EXCLUDED_NAMES = {"__pycache__", "local", "local.meta", ".DS_Store", ".git", ".gitignore", ".gitkeep"}
EXCLUDED_SUFFIXES = (".pyc", ".pyo", ".swp", "~")
COMPILED_SUFFIXES = (".so", ".pyd", ".dylib", ".dll", ".exe", ".a", ".lib")

DIR_MODE, FILE_MODE = 0o755, 0o644  # AppInspect fails an execute bit outside bin/; 644 is fine in bin/
FIXED_MTIME = int(os.environ.get("SOURCE_DATE_EPOCH", "315532800"))  # 1980-01-01: reproducible builds

log = get_logger(__name__)


class PackagingError(Exception):
    """The app cannot be packaged; the message says what to fix."""


def read_app_version(source_dir=REPO_ROOT):
    """The version from default/app.conf [id], checked against [launcher] (both must agree)."""
    conf = configparser.ConfigParser(interpolation=None)
    path = os.path.join(source_dir, "default", "app.conf")
    if not conf.read(path, encoding="utf-8"):
        raise PackagingError(f"{path} is missing")
    version = conf.get("id", "version", fallback=None)
    if not version:
        raise PackagingError(f"{path} has no [id] version")
    launcher_version = conf.get("launcher", "version", fallback=version)
    if launcher_version != version:
        raise PackagingError(f"{path}: [launcher] version {launcher_version} differs from [id] version {version}")
    return version


def build_package(output_dir="dist", *, source_dir=REPO_ROOT, vendor_cache_dir=None):
    """Build the tarball and return its path."""
    version = read_app_version(source_dir)
    os.makedirs(output_dir, exist_ok=True)
    target = os.path.join(output_dir, f"{APP_ID}-{version}.tar.gz")
    with tempfile.TemporaryDirectory(prefix="ta-package-") as staging:
        app_dir = os.path.join(staging, APP_ID)
        _ucc_build(source_dir, staging, version, app_dir)
        lib_dir = os.path.join(app_dir, "lib")
        _vendor_dependencies(lib_dir, vendor_cache_dir or os.path.join(source_dir, ".cache", "vendor"))
        _copy_tree(os.path.join(source_dir, "connector"), os.path.join(lib_dir, "connector"))
        _refuse_compiled_files(lib_dir)
        _write_tarball(staging, APP_ID, target)
    log.info("package.built", path=target, version=version, bytes=os.path.getsize(target))
    return target


def _ucc_build(source_dir, staging, version, app_dir):
    """Stage package/ from the checkout, run ucc-gen on it and move its output to app_dir."""
    python = os.path.join(UCC_VENV, "Scripts" if os.name == "nt" else "bin",
                          "python.exe" if os.name == "nt" else "python")
    if not os.path.exists(python):
        raise PackagingError(f"ucc-gen is not installed in {UCC_VENV}: run `python3 dev.py package`, which installs it")
    config_source = os.path.join(source_dir, GLOBAL_CONFIG)
    if not os.path.isfile(config_source):
        raise PackagingError(f"{config_source} is missing: UCC builds the Configuration and Inputs pages from it")
    ucc_root = os.path.join(staging, "ucc")
    package_dir = os.path.join(ucc_root, "package")
    _copy_app_files(source_dir, package_dir)
    if not os.path.isfile(os.path.join(package_dir, "app.manifest")):
        raise PackagingError(f"app.manifest is missing from {source_dir}; ucc-gen and Splunk Cloud need it")
    # ucc-gen rewrites the globalConfig it is given (version, schema upgrades): give it a copy
    config = os.path.join(ucc_root, GLOBAL_CONFIG)
    shutil.copyfile(config_source, config)
    with open(config_source, "rb") as handle:
        build_number = str(int(hashlib.sha256(version.encode() + b"\0" + handle.read()).hexdigest()[:7], 16))
    output = os.path.join(ucc_root, "output")
    result = subprocess.run(
        [python, "-c", UCC_RUNNER, build_number, "build", "--source", package_dir, "--config", config,
         "--ta-version", version, "--output", output],
        capture_output=True, text=True, check=False, cwd=ucc_root,
        env=dict(os.environ, PYTHONDONTWRITEBYTECODE="1"))
    if result.returncode != 0:
        lines = [line for line in (result.stdout + result.stderr).splitlines() if "ERROR" in line] or \
            (result.stderr or result.stdout).splitlines() or [f"exit code {result.returncode}"]
        raise PackagingError(f"ucc-gen build failed: {redact_text(lines[-1])}")
    built = os.path.join(output, APP_ID)
    if not os.path.isdir(built):
        raise PackagingError(f"ucc-gen wrote no {APP_ID}/ folder; check meta.name in {GLOBAL_CONFIG}")
    _check_manifest(built, version)
    _copy_tree(built, app_dir)


def _check_manifest(built, version):
    with open(os.path.join(built, "app.manifest"), encoding="utf-8") as handle:
        manifest = json.load(handle)
    identity = manifest["info"]["id"]
    if (identity["name"], identity["version"]) != (APP_ID, version):
        raise PackagingError(f"app.manifest names {identity['name']} {identity['version']}, not {APP_ID} {version}")


def _copy_app_files(source_dir, app_dir):
    os.makedirs(app_dir)
    for folder in APP_FOLDERS:
        if os.path.isdir(os.path.join(source_dir, folder)):
            _copy_tree(os.path.join(source_dir, folder), os.path.join(app_dir, folder))
    for name in APP_FILES:
        if os.path.isfile(os.path.join(source_dir, name)):
            shutil.copyfile(os.path.join(source_dir, name), os.path.join(app_dir, name))
    for required in ("default/app.conf", "metadata/default.meta"):
        if not os.path.isfile(os.path.join(app_dir, required)):
            raise PackagingError(f"{required} is missing from {source_dir}")


def _is_excluded(name):
    return name in EXCLUDED_NAMES or name.endswith(EXCLUDED_SUFFIXES)


def _copy_tree(source, destination):
    shutil.copytree(source, destination, ignore=lambda _dir, names: [n for n in names if _is_excluded(n)],
                    dirs_exist_ok=True)


# --- vendoring -----------------------------------------------------------------------------------------
def _requirements_key():
    text = "\n".join((VENDOR_PYTHON_VERSION, *WHEEL_REQUIREMENTS, "--sdist--", *SDIST_REQUIREMENTS))
    return hashlib.sha256(text.encode()).hexdigest()[:16]


def _vendor_dependencies(lib_dir, cache_root):
    """Fill lib_dir with the vendored packages, from a cache keyed by the requirement lists."""
    cached = os.path.join(cache_root, _requirements_key())
    if not os.path.isfile(os.path.join(cached, ".complete")):
        # install beside the cache and rename, so two builds at once never see half a cache
        fresh = f"{cached}.tmp-{os.getpid()}"
        _pip_install_into(fresh)
        if not os.path.isfile(os.path.join(cached, ".complete")):
            shutil.rmtree(cached, ignore_errors=True)  # left half-done by an interrupted older build
        try:
            os.rename(fresh, cached)
        except OSError:  # another build finished first; its copy is as good as ours
            shutil.rmtree(fresh, ignore_errors=True)
    _copy_tree(cached, lib_dir)
    os.remove(os.path.join(lib_dir, ".complete"))


def _pip_install_into(directory):
    shutil.rmtree(directory, ignore_errors=True)
    pip = [sys.executable, "-m", "pip", "install", "--quiet", "--disable-pip-version-check",
           "--no-deps", "--no-compile", "--target", directory]
    _run(pip + ["--only-binary=:all:", "--platform", "any", "--python-version", VENDOR_PYTHON_VERSION,
                "--implementation", "py", *WHEEL_REQUIREMENTS])
    _run(pip + ["--no-binary=:all:", *SDIST_REQUIREMENTS])
    # console scripts written for this machine's interpreter, and the packages' own test suites:
    # Splunk never runs them
    shutil.rmtree(os.path.join(directory, "bin"), ignore_errors=True)
    for root, dirs, _files in os.walk(directory):
        for name in [d for d in dirs if d in ("tests", "test")]:
            shutil.rmtree(os.path.join(root, name))
            dirs.remove(name)
    with open(os.path.join(directory, ".complete"), "w", encoding="utf-8") as marker:
        marker.write("\n".join((*WHEEL_REQUIREMENTS, *SDIST_REQUIREMENTS)) + "\n")


def _run(command):
    result = subprocess.run(command, capture_output=True, text=True, check=False)
    if result.returncode != 0:
        lines = [line for line in (result.stderr or result.stdout).splitlines()
                 if line.strip() and "is ignored" not in line]
        reason = lines[-1] if lines else f"exit code {result.returncode}"
        # pip prints index URLs, which may carry credentials
        raise PackagingError(f"vendoring the dependencies with pip failed: {redact_text(reason)}")


def _refuse_compiled_files(lib_dir):
    for root, _dirs, files in os.walk(lib_dir):
        for name in files:
            if name.endswith(COMPILED_SUFFIXES):
                raise PackagingError(f"compiled file {os.path.relpath(os.path.join(root, name), lib_dir)} "
                                     "would be vendored; it breaks on other platforms and fails AppInspect")


# --- tarball -------------------------------------------------------------------------------------------
def _tar_entries(staging, top):
    """(archive name, path on disk) for every directory and file, sorted, directories first."""
    yield top, os.path.join(staging, top)
    for root, dirs, files in os.walk(os.path.join(staging, top)):
        dirs.sort()
        for name in dirs + sorted(files):
            path = os.path.join(root, name)
            yield os.path.relpath(path, staging).replace(os.sep, "/"), path


def _tar_info(name, path):
    info = tarfile.TarInfo(name)
    info.mtime = FIXED_MTIME
    info.uid = info.gid = 0
    info.uname = info.gname = ""
    if os.path.isdir(path):
        info.type, info.mode = tarfile.DIRTYPE, DIR_MODE
    else:
        info.type, info.mode, info.size = tarfile.REGTYPE, FILE_MODE, os.path.getsize(path)
    return info


def _write_tarball(staging, top, target):
    partial = target + ".partial"
    with open(partial, "wb") as raw, \
            gzip.GzipFile(filename="", mode="wb", fileobj=raw, mtime=FIXED_MTIME) as zipped, \
            tarfile.open(fileobj=zipped, mode="w", format=tarfile.PAX_FORMAT) as tar:
        for name, path in _tar_entries(staging, top):
            info = _tar_info(name, path)
            if info.isdir():
                tar.addfile(info)
            else:
                with open(path, "rb") as handle:
                    tar.addfile(info, handle)
    os.replace(partial, target)


def main(argv=None):
    """`python -m devtools.package_app [--output DIR] [--source DIR]`: print the tarball path; 1 with a
    reason on failure."""
    import argparse

    parser = argparse.ArgumentParser(prog="package_app", description="Build the Splunk app tarball with the "
                                     "runtime dependencies vendored under lib/.")
    parser.add_argument("--output", metavar="DIR", default="dist", help="folder for the tarball (default dist)")
    parser.add_argument("--source", metavar="DIR", default=REPO_ROOT, help="the checkout to package (default: this one)")
    parser.add_argument("--log-level", default="WARNING", help="log level of the build's own messages")
    args = parser.parse_args(argv)
    configure_logging(args.log_level)
    try:
        path = build_package(args.output, source_dir=args.source)
    except PackagingError as error:
        print(f"package_app: {error}", file=sys.stderr)
        return 1
    print(path)
    return 0


if __name__ == "__main__":
    sys.exit(main())
