"""What saving the Configuration page's Accounts tab does beyond UCC's own field validators: refuse an
account that cannot work, with one sentence per problem naming the field, and, when the admin ticked
"Test connection on save", sign in and refuse the save while Graph permissions are missing.

Plain functions over the form's fields, so they are tested without Splunk; the REST handler
(bin/ta_entra_app_secrets_account_validation.py, splunktaucclib's AdminExternalHandler) only feeds them.
"""
import contextlib

from connector import config
from connector.graph import permissions_check
from connector.logs import redact_text

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
        # the sentences quote what was typed (a host, a path): a secret pasted into the wrong field must not
        # come back on the page, so the refusal goes through the same redaction as every log line
        refusal = " ".join(problem if problem.endswith(".") else problem + "." for problem in problems)
        return redact_text(refusal), None
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
    """An Account for the fields as the form holds them: PEM text (certificate, CA bundle) stays in
    memory, as the input reads it (config.account_from_fields); nothing is written to disk."""
    yield config.account_from_fields(name, fields)


