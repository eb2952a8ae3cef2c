#!/usr/bin/env python3
"""Set up a checkout and run it: the only thing a fresh machine needs is python3 (3.9 or later).

    python3 dev.py demo       create .venv, install the project, run the demo against the simulator
    python3 dev.py test       the same, plus .venv-appinspect, libmagic1, the CIM data models, the
                              dashboard tests' npm packages and chromium, then the whole test suite;
                              exits with pytest's exit code
    python3 dev.py test -- -k logs    extra arguments after "--" go to pytest (or to the demo)
    python3 dev.py package    the same setup as demo, plus .venv-ucc (ucc-gen, which builds the
                              Configuration and Inputs pages), then build dist/TA-entra-app-secrets-<version>.tar.gz
    python3 dev.py screenshots  the test setup, then render every dashboard page with Splunk's dashboard
                              framework in headless Chromium into docs/screenshots/

Standard library only. Each step leaves a marker and is skipped while the marker is up to date, so
a second run starts the tests in seconds.
"""
import ctypes.util
import hashlib
import os
import shutil
import subprocess
import sys

ROOT = os.path.dirname(os.path.abspath(__file__))
VENV = os.path.join(ROOT, ".venv")
APPINSPECT_VENV = os.path.join(ROOT, ".venv-appinspect")
# AppInspect pins an old structlog, so it lives in a venv of its own
APPINSPECT_REQUIREMENT = "splunk-appinspect>=4.3.1,<5"
UCC_VENV = os.path.join(ROOT, ".venv-ucc")
# ucc-gen (the build of the Configuration and Inputs pages) pins its own jsonschema, jinja2, PyYAML...:
# a venv of its own, pinned exactly so every build generates the same pages and REST handlers
UCC_REQUIREMENT = "splunk-add-on-ucc-framework==6.6.0"
CIM_FETCHER = os.path.join(ROOT, "tests", "knowledge", "cim_models.py")
DASHBOARD_TOOLS = os.path.join(ROOT, "tests", "dashboards")     # the Node project of the dashboard tests
CHROMIUM = "/usr/bin/chromium"
MINIMUM_PYTHON = (3, 9)
MARKER = ".dev-installed"
DEMO_FOUND_FINDINGS = 1   # entra-app-secrets exit code: the run found findings (README "CLI")


def say(message):
    print(f"dev.py: {message}", file=sys.stderr, flush=True)


def fail(message):
    say(message)
    sys.exit(2)


def run(command, **kwargs):
    say("$ " + " ".join(command))
    result = subprocess.run(command, cwd=ROOT, **kwargs)
    if result.returncode != 0:
        fail(f"command failed with exit code {result.returncode}: {' '.join(command)}")


def venv_python(venv):
    folder, name = ("Scripts", "python.exe") if os.name == "nt" else ("bin", "python")
    return os.path.join(venv, folder, name)


def is_root():
    return hasattr(os, "geteuid") and os.geteuid() == 0


def apt_install(*packages):
    """Install Debian packages when we are root on a Debian-like system; False when we cannot."""
    if not (is_root() and shutil.which("apt-get")):
        return False
    env = dict(os.environ, DEBIAN_FRONTEND="noninteractive")
    for command in (["apt-get", "update", "-qq"], ["apt-get", "install", "-y", "-qq", *packages]):
        say("$ " + " ".join(command))
        if subprocess.run(command, cwd=ROOT, env=env).returncode != 0:
            return False  # the caller says what to install by hand
    return True


# --- virtual environments ------------------------------------------------------------------------------
def ensure_venv(venv):
    if os.path.exists(venv_python(venv)):
        return
    if _make_venv(venv):
        return
    # Debian and Ubuntu ship venv/ensurepip apart from python3, as python3-venv or python3.X-venv
    debian_packages = ("python3-venv", f"python3.{sys.version_info.minor}-venv")
    for debian_package in debian_packages:
        if apt_install(debian_package) and _make_venv(venv):
            return
    fail(f"cannot create {venv}: Python's venv module or ensurepip is missing. "
         f"Install it (Debian/Ubuntu: apt-get install {' '.join(debian_packages)}) and run this again.")


def _make_venv(venv):
    shutil.rmtree(venv, ignore_errors=True)
    result = subprocess.run([sys.executable, "-m", "venv", venv], cwd=ROOT, capture_output=True, text=True)
    if result.returncode == 0 and os.path.exists(venv_python(venv)):
        return True
    shutil.rmtree(venv, ignore_errors=True)
    return False


def install_once(venv, fingerprint, pip_arguments):
    """pip install into venv unless the marker says the same fingerprint was installed already."""
    marker = os.path.join(venv, MARKER)
    if _read(marker) == fingerprint:
        return
    run([venv_python(venv), "-m", "pip", "install", "--quiet", "--disable-pip-version-check", *pip_arguments])
    with open(marker, "w", encoding="utf-8") as handle:
        handle.write(fingerprint)


def _read(path):
    try:
        with open(path, encoding="utf-8") as handle:
            return handle.read()
    except OSError:
        return None


def _fingerprint(*parts):
    digest = hashlib.sha256()
    for part in parts:
        digest.update(part.encode() + b"\0")
    return digest.hexdigest()


def setup_project(extras="test"):
    """.venv with the project installed editable and the given extras (the tests add Microsoft's SDKs)."""
    ensure_venv(VENV)
    with open(os.path.join(ROOT, "setup.py"), encoding="utf-8") as handle:
        setup_text = handle.read()
    pip_arguments = ["-e", f".[{extras}]"]
    install_once(VENV, _fingerprint(setup_text, sys.version, *pip_arguments), pip_arguments)


def setup_appinspect():
    ensure_venv(APPINSPECT_VENV)
    install_once(APPINSPECT_VENV, _fingerprint(APPINSPECT_REQUIREMENT, sys.version), [APPINSPECT_REQUIREMENT])
    if ctypes.util.find_library("magic"):
        return
    if not apt_install("libmagic1"):
        say("WARNING: splunk-appinspect needs the libmagic library and it is missing. "
            "Install it (Debian/Ubuntu: apt-get install libmagic1; macOS: brew install libmagic); "
            "until then the AppInspect test fails.")


def setup_ucc():
    """.venv-ucc with ucc-gen, which devtools/package_app.py runs."""
    ensure_venv(UCC_VENV)
    install_once(UCC_VENV, _fingerprint(UCC_REQUIREMENT, sys.version), [UCC_REQUIREMENT])


def fetch_cim_models():
    """The CIM data-model JSONs for the knowledge tests (the knowledge tests own the fetcher)."""
    if not os.path.exists(CIM_FETCHER):
        return
    result = subprocess.run([venv_python(VENV), CIM_FETCHER], cwd=ROOT)
    if result.returncode != 0:
        say("WARNING: could not fetch the CIM data models; the knowledge tests will say why.")


# --- dashboard tests: Splunk's dashboard framework from npm, Debian's chromium ---------------------------
def setup_dashboard_tools():
    """`npm ci` in tests/dashboards (once per package-lock.json) and chromium (apt-get when missing)."""
    lock = os.path.join(DASHBOARD_TOOLS, "package-lock.json")
    if not os.path.exists(lock):
        return
    npm = shutil.which("npm")
    if not (npm and shutil.which("node")):
        say("WARNING: node and npm are missing (Debian/Ubuntu: apt-get install nodejs npm; Node 18 or later); "
            "until then the dashboard tests fail.")
    else:
        marker = os.path.join(DASHBOARD_TOOLS, "node_modules", MARKER)
        fingerprint = _fingerprint(_read(lock) or "")
        if _read(marker) != fingerprint:
            say(f"$ npm ci (in {DASHBOARD_TOOLS})")
            result = subprocess.run([npm, "ci", "--no-audit", "--no-fund", "--loglevel=error"], cwd=DASHBOARD_TOOLS)
            if result.returncode != 0:
                fail(f"npm ci failed in {DASHBOARD_TOOLS} with exit code {result.returncode}")
            with open(marker, "w", encoding="utf-8") as handle:
                handle.write(fingerprint)
    if not os.path.exists(CHROMIUM) and not apt_install("chromium"):
        say(f"WARNING: {CHROMIUM} is missing (Debian: apt-get install chromium); until then the dashboard "
            "render test fails.")


# --- commands ------------------------------------------------------------------------------------------
def command_demo(extra):
    setup_project()
    entry = os.path.join(os.path.dirname(venv_python(VENV)), "entra-app-secrets")
    code = subprocess.run([entry, "demo", *extra], cwd=ROOT).returncode
    # the CLI's 1 means "findings": the demo tenant always has them, so the quick start succeeded
    return 0 if code == DEMO_FOUND_FINDINGS else code


def command_test(extra):
    setup_project("test,fidelity")
    setup_appinspect()
    setup_ucc()  # the packaging tests build the app with ucc-gen
    fetch_cim_models()
    setup_dashboard_tools()
    # ENTRA_REQUIRE_ALL turns "skipped because a tool is missing" into a failure
    env = dict(os.environ, ENTRA_REQUIRE_ALL="1")
    return subprocess.run([venv_python(VENV), "-m", "pytest", *extra], cwd=ROOT, env=env).returncode


def command_package(extra):
    setup_project()
    setup_ucc()
    return subprocess.run([venv_python(VENV), "-m", "devtools.package_app", *extra], cwd=ROOT).returncode


def command_screenshots(extra):
    setup_project("test,fidelity")
    setup_dashboard_tools()
    script = os.path.join(DASHBOARD_TOOLS, "screenshots.py")
    return subprocess.run([venv_python(VENV), script, *extra], cwd=ROOT).returncode


COMMANDS = {"demo": command_demo, "test": command_test, "package": command_package,
            "screenshots": command_screenshots}


def main(argv):
    if sys.version_info < MINIMUM_PYTHON:
        fail(f"Python {'.'.join(map(str, MINIMUM_PYTHON))} or later is needed; this is {sys.version.split()[0]}")
    if not argv or argv[0] not in COMMANDS:
        print(__doc__.strip(), file=sys.stderr)
        return 2
    extra = argv[1:]
    if extra and extra[0] == "--":
        extra = extra[1:]
    return COMMANDS[argv[0]](extra)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
