"""TA-entra-app-secrets core: find Microsoft Entra apps that authenticate with client secrets (CTD-000008)."""
import configparser
import os

APP_ID = "TA-entra-app-secrets"


def _read_version():
    # default/app.conf is the one place the version is kept; in the packaged app lib/connector sits
    # two levels below the app root, in a checkout one level below.
    here = os.path.dirname(os.path.abspath(__file__))
    for root in (os.path.dirname(here), os.path.dirname(os.path.dirname(here))):
        path = os.path.join(root, "default", "app.conf")
        if os.path.isfile(path):
            conf = configparser.ConfigParser(interpolation=None)
            conf.read(path, encoding="utf-8")
            return conf["id"]["version"]
    try:
        from importlib.metadata import version
        return version("ta-entra-app-secrets")
    except Exception:  # noqa: BLE001 - an unknown version must not stop the add-on
        return "0+unknown"


__version__ = _read_version()
