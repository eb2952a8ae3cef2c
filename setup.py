"""Packaging for the TA-entra-app-secrets core and its CLI.

The version lives in one place, default/app.conf [id] version, so the Splunk app and the Python
package can never disagree.
"""
import configparser
import os

from setuptools import find_packages, setup

HERE = os.path.dirname(os.path.abspath(__file__))


def app_version():
    conf = configparser.ConfigParser(interpolation=None)
    conf.read(os.path.join(HERE, "default", "app.conf"), encoding="utf-8")
    return conf["id"]["version"]


# What the add-on needs at run time. In the Splunk app they are vendored under lib/ (devtools/package_app.py
# lists them with their own dependencies); cryptography, which msal needs, comes from Splunk's Python.
RUNTIME = [
    "msal>=1.31,<2",
    "requests>=2.31,<3",
    "splunk-sdk>=2.1,<3",
    "tenacity>=8.2,<10",
    "structlog>=23.1",
    # accounts and settings through splunkd's REST API, encrypted fields as UCC stores them; 8.x adds
    # OpenTelemetry and grpcio (compiled), which a pure-Python lib/ cannot carry
    "solnlib>=7.0,<8",
]

# The CLI's live progress line (connector/console.py). Only the command a person runs at a terminal uses
# it, never the Splunk side, so it is an extra, not vendored into the app's lib/; without it the CLI
# works, only without the live line. rich rather than tqdm: one line with several named counters and a
# spinner for a run whose total is unknown, and it re-prints log lines above the live line.
CLI = ["rich>=13"]

setup(
    name="ta-entra-app-secrets",
    version=app_version(),
    description="Splunk add-on: Microsoft Entra apps with client secrets (CTD-000008)",
    license="Apache-2.0",
    packages=find_packages(include=["connector", "connector.*", "entra_simulator", "entra_simulator.*"]),
    python_requires=">=3.9",
    install_requires=RUNTIME,
    extras_require={
        "cli": CLI,
        "test": ["pytest>=7", "pytest-timeout", "trustme>=1.1", "cryptography>=41",
                 "addonfactory-splunk-conf-parser-lib>=1.0", *CLI],
        "bench": [],
        # Microsoft's own Graph SDKs read everything the simulator serves (tests/simulator/test_sdk_fidelity.py)
        # and are the baseline of bench/bench_sdk_baseline.py; never needed by the add-on itself.
        "fidelity": ["msgraph-sdk>=1.65,<2", "msgraph-beta-sdk>=1.66,<2", "azure-identity>=1.27,<2"],
    },
    entry_points={"console_scripts": ["entra-app-secrets = connector.cli:main"]},
)
