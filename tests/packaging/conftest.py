"""The app tarball, built once per test session (a ucc-gen build takes most of a minute)."""
import pytest

from devtools import package_app as package


@pytest.fixture(scope="session")
def app_tarball(tmp_path_factory):
    return package.build_package(str(tmp_path_factory.mktemp("dist")))
