"""What saving the Configuration page's Accounts tab does beyond UCC's own field validators: refuse an
account that cannot work, with one sentence per problem naming the field, and, when the admin ticked
"Test connection on save", sign in and refuse the save while Graph permissions are missing.

Plain functions over the form's fields, so they are tested without Splunk; the REST handler
(bin/ta_entra_app_secrets_account_validation.py, splunktaucclib's AdminExternalHandler) only feeds them.
"""
import contextlib
import os
import tempfile
from urllib.parse import quote

from connector import config
from connector.graph import permissions_check

# the Accounts tab's encrypted fields (globalConfig.json "encrypted": true), stored in storage/passwords
ENCRYPTED_FIELDS = ("client_secret", "certificate", "proxy_password")
PLACEHOLDER = "******"     # what splunktaucclib shows, and the form sends back, for a stored secret
TRUE_VALUES = ("1", "true", "t", "yes", "y")


def effective_fields(payload, stored=None):
    """The account as it will be once saved. On edit the form sends `******` for an encrypted field the
    admin did not retype (splunktaucclib keeps the stored value then): take that value from `stored`
    (the stanza read back with its secrets decrypted)."""
    merged = dict(stored or {})
    for key, value in payload.items():
        if key in ENCRYPTED_FIELDS and value == PLACEHOLDER:
            continue
        merged[key] = value
    return merged


NOT_TESTED = "Not tested at the last save (Test connection on save was off)."


def check_before_save(name, fields, *, now=None, connection_test=None, today=None):
    """(refusal, connection report): refusal is None when the account may be saved, else what to fix,
    one sentence per problem; the report is what the Accounts table shows as the last connection test
    (the held and missing Graph permissions), stored with the account as `connection_report`."""
    problems = config.account_problems(fields, now=now)
    if problems:
        return " ".join(problems), None
    if str(fields.get("test_connection") or "").strip().lower() not in TRUE_VALUES:
        return None, NOT_TESTED
    connection_test = connection_test or permissions_check.run_connection_test
    with account_for_connection_test(name, fields) as account:
        # an account is a collector or a response account: holding what either needs is enough
        report = connection_test(account, role="either")
    if not report.ok:
        return report.sentence() + " Untick Test connection on save to save the account anyway.", None
    return None, f"{today or _today()}: {report.sentence()}"


def _today():
    import datetime
    return datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC")


@contextlib.contextmanager
def account_for_connection_test(name, fields):
    """An Account for the fields as the form holds them. PEM text (certificate, CA bundle) goes to 0600
    files that are removed when the test ends, because this branch's Account reads files; the
    splunkd-config branch's `account_from_fields` (PEM in memory) is used when it exists."""
    from_fields = getattr(config, "account_from_fields", None)
    if from_fields is not None:
        yield from_fields(name, fields)
        return
    with tempfile.TemporaryDirectory(prefix="ta-entra-test-connection-") as folder:
        os.chmod(folder, 0o700)
        values = {"tenant_id": fields.get("tenant_id", ""), "client_id": fields.get("client_id", ""),
                  "cloud": (fields.get("cloud") or "global").lower(),
                  "authority_host": fields.get("authority_host") or None, "graph_host": fields.get("graph_host") or None}
        certificate = fields.get("certificate") or ""
        if fields.get("credential_type", "certificate") == "certificate":
            values["certificate_path"] = (_private_file(folder, "certificate.pem", certificate) if certificate
                                          else fields.get("certificate_path") or None)
        ca_bundle = (fields.get("ca_bundle") or "").strip()
        if ca_bundle:
            values["ca_bundle"] = _private_file(folder, "ca.pem", ca_bundle) if ca_bundle.startswith("-----BEGIN") \
                else ca_bundle
        values["proxy"] = _proxy_url(fields)
        account = config.Account(name=name, **values)
        if not values.get("certificate_path"):
            account = account.with_secret(fields.get("client_secret") or "")
        yield account


def _private_file(folder, name, text):
    path = os.path.join(folder, name)
    descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(descriptor, "w", encoding="utf-8") as handle:
        handle.write(text)
    return path


def _proxy_url(fields):
    host = (fields.get("proxy_url") or "").strip()
    if not host:
        return None
    if "://" not in host:
        host = f"http://{host}"
    port = (fields.get("proxy_port") or "").strip()
    user = (fields.get("proxy_username") or "").strip()
    if user:
        secret = quote(fields.get("proxy_password") or "", safe="")
        scheme, rest = host.split("://", 1)
        host = f"{scheme}://{quote(user, safe='')}:{secret}@{rest}"
    return f"{host}:{port}" if port else host
