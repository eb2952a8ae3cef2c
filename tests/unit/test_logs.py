"""Log redaction and log destinations, asserted on the bytes the real logger writes."""
import base64
import hashlib
import io
import re
import json
import logging
import logging.handlers

import pytest

from connector import logs

JWT = ("eyJ0eXAiOiJKV1QiLCJhbGciOiJSUzI1NiIsIng1dCI6Im5PbzNaRHJPRFhFSzFqS1doWHNsSFJfS1hFZyJ9"
       ".eyJhdWQiOiJodHRwczovL2dyYXBoLm1pY3Jvc29mdC5jb20iLCJpc3MiOiJodHRwczovL3N0cy53aW5kb3dzLm5ldC8ifQ"
       ".TWlzc2luZ1NpZ25hdHVyZUJ5dGVzRm9yVGhpc1Rlc3RPbmx5")
ENTRA_SECRET = "Xy78Q~k2Vd9.fB_Rq4mNw-aZ7tHcLe3pUo1sGi5jY"[:40]
OLD_STYLE_SECRET = "p@ssw0rd-that-has-no-known-shape+/="
PEM_KEY = ("-----BEGIN PRIVATE KEY-----\nMIIEvQIBADANBgkqhkiG9w0BAQEFAASCBKcwggSjAgEAAoIBAQDPRIVATEKEYBYTES\n"
           "c2VjcmV0a2V5bWF0ZXJpYWw=\n-----END PRIVATE KEY-----")
RSA_KEY = "-----BEGIN RSA PRIVATE KEY-----\nMIIEowIBAAKCAQEArsaKEYBYTES\n-----END RSA PRIVATE KEY-----"
ENCRYPTED_KEY = ("-----BEGIN ENCRYPTED PRIVATE KEY-----\nMIIFHDBOBgkqhkiG9w0BBQ0wENCRYPTED\n"
                 "-----END ENCRYPTED PRIVATE KEY-----")
SESSION_KEY = "192ad5d6Zq^y0ZE5GeS8jXbSHh3u_GZ0QmNe^aMx0nq3PjfHklL2k9"
# Token shapes Entra issues that are not "eyJ..." JWTs (values made up, shapes as issued):
# an opaque access token (Microsoft accounts, some resources): "EwA".."EwD" + base64 of a binary blob
OPAQUE_ACCESS_TOKEN = "EwBwA8l6BAAUbDba3x2OMJElkF7gJ4z/VbCPEz0AAf6h" + base64.b64encode(
    hashlib.sha512(b"opaque access token").digest() * 6).decode()
# refresh tokens: today "0.A" + base64url segments joined by dots; the documented sample form "AwABAAAA..."
REFRESH_TOKEN = ("0.AXEAv4j5cvGGr0GRqy180BHbR8pNb3k2lQ1WbQvX7nZ4o2txAHs." + "AgABAAEAAAD--DLA3VO7QrddgJg7WevrAgDs_wUA9P-"
                 + base64.urlsafe_b64encode(hashlib.sha512(b"refresh").digest() * 4).decode().rstrip("="))
LEGACY_REFRESH_TOKEN = "AwABAAAAvPM1KaPlrEqdFSBzjqfTGAMxZGUTdM0t4B4" + base64.b64encode(
    hashlib.sha512(b"legacy refresh").digest() * 3).decode()
# a JWT whose header JSON has a space after "{": base64url "eyAi...", not "eyJ"
SPACED_JWT = ("eyAiYWxnIjogIlJTMjU2IiwgInR5cCI6ICJKV1QiLCAia2lkIjogIm5PbzNaRHJPRFhFSzFqS1doWHNsSFJfS1hFZyIgfQ"
              ".eyJhdWQiOiJodHRwczovL2dyYXBoLm1pY3Jvc29mdC5jb20ifQ.U2lnbmF0dXJlQnl0ZXNPZlRoZVNwYWNlZEhlYWRlcg")
# an unsigned JWT ({"alg":"none"}): segments too short for the three-segment rule
UNSIGNED_JWT = "eyJhbGciOiJub25lIn0.eyJhcHBpZCI6IjEyMyJ9.c2ln"
# Entra's client secret format: 3 characters (the hint), "8Q~", 34 more
BRIEF_FORM_SECRET = "abc8Q~" + "Zx9.Kp_2mN~wQ7rT-vY3uB6iO1sD4fG8hJ0k"[:34]
BASIC_CREDENTIALS = "c3ZjLWNvbGxlY3RvcjpXaW50ZXIyMDI2IQ=="
SAS_SIGNATURE = "q4Wz%2BkL0r9XvJmN2pQe7%2FtY5%3D"
STORAGE_ACCOUNT_KEY = base64.b64encode(hashlib.sha512(b"storage account key").digest()).decode()
GUID = "3fa85f64-5717-4562-b3fc-2c963f66afa6"
THUMBPRINT = "A1B2C3D4E5F60718293A4B5C6D7E8F9012345678"


@pytest.fixture
def captured():
    """Configure the real pipeline into a buffer; yields a function returning the parsed lines."""
    buffer = io.StringIO()
    logs.configure_logging("DEBUG", stream=buffer)

    def lines():
        return [json.loads(line) for line in buffer.getvalue().splitlines()]
    lines.raw = buffer
    yield lines
    logs.reset_logging()


# (what, how it is logged as keyword arguments, the secret material that must not appear)
SHAPE_CASES = [
    ("bearer token in a header line", {"detail": f"GET /v1.0/applications Authorization: Bearer {JWT}"}, JWT),
    ("bare JWT access token", {"detail": f"token cached {JWT} for graph"}, JWT),
    ("bearer with an opaque token", {"detail": "sent Bearer abcdEFGH1234.opaque-token_value"},
     "abcdEFGH1234.opaque-token_value"),
    ("client assertion in a form body",
     {"body": "client_assertion_type=urn%3Aietf%3Aparams&client_assertion=" + JWT + "&scope=x"}, JWT),
    ("client_secret in a form body",
     {"body": f"grant_type=client_credentials&client_secret={OLD_STYLE_SECRET}&scope=https%3A%2F%2Fgraph"},
     OLD_STYLE_SECRET),
    ("client_secret in a URL", {"url": f"https://login.example/token?client_id={GUID}&client_secret=s3cr3tValue99"},
     "s3cr3tValue99"),
    ("access_token in JSON text", {"response": '{"token_type": "Bearer", "access_token": "opaque.AT-123456"}'},
     "opaque.AT-123456"),
    ("refresh_token in JSON text", {"response": "{'refresh_token': 'RT-0.AAAA-refresh-value'}"},
     "RT-0.AAAA-refresh-value"),
    ("PKCS#8 private key", {"detail": "loaded " + PEM_KEY + " from disk"}, "PRIVATEKEYBYTES"),
    ("RSA private key", {"detail": RSA_KEY}, "MIIEowIBAAKCAQEArsaKEYBYTES"),
    ("encrypted private key", {"detail": ENCRYPTED_KEY}, "MIIFHDBOBgkqhkiG9w0BBQ0wENCRYPTED"),
    ("unterminated private key", {"detail": "-----BEGIN EC PRIVATE KEY-----\nMHcCAQEEIEC-key-bytes"},
     "MHcCAQEEIEC-key-bytes"),
    ("Entra client secret anywhere", {"detail": f"app created with secret {ENTRA_SECRET}, hint Xy7"}, ENTRA_SECRET),
    ("Entra client secret in a list", {"values": ["ok", ENTRA_SECRET]}, ENTRA_SECRET),
    ("password in a proxy URL", {"proxy": "https://svc-proxy:Pr0xy!Pass@proxy.corp:3128"}, "Pr0xy!Pass"),
    ("password with an @ in a URL", {"detail": "via http://svc:p@ss@w0rd@proxy.corp:3128/ ok"}, "ss@w0rd"),
    ("Splunk session key in modular input XML",
     {"stdin": f"<input><server_uri>https://127.0.0.1:8089</server_uri><session_key>{SESSION_KEY}</session_key>"},
     SESSION_KEY),
    ("Splunk session key in an Authorization header", {"detail": f"Authorization: Splunk {SESSION_KEY}"},
     SESSION_KEY),
    ("sessionKey parameter", {"detail": f"POST sessionKey={SESSION_KEY}"}, SESSION_KEY),
    ("api token header", {"detail": "X-Api-Token: 9f8e7d6c5b4a"}, "9f8e7d6c5b4a"),
    ("secret pair after a prose label", {"detail": "request failed: X-Api-Token: 9f8e7d6c5b4a"}, "9f8e7d6c5b4a"),
    ("opaque access token anywhere", {"detail": f"cached {OPAQUE_ACCESS_TOKEN} until 10:00"}, OPAQUE_ACCESS_TOKEN),
    ("Authorization Bearer with an opaque access token",
     {"detail": f"Authorization: Bearer {OPAQUE_ACCESS_TOKEN}"}, OPAQUE_ACCESS_TOKEN),
    ("Basic credentials in an Authorization header", {"detail": f"Authorization: Basic {BASIC_CREDENTIALS}"},
     BASIC_CREDENTIALS),
    ("MSAL refresh token anywhere", {"detail": f"redeemed {REFRESH_TOKEN} for graph"}, REFRESH_TOKEN),
    ("refresh token of the documented sample form", {"detail": f"got {LEGACY_REFRESH_TOKEN}"}, LEGACY_REFRESH_TOKEN),
    ("refresh token in a form body", {"body": f"grant_type=refresh_token&refresh_token={REFRESH_TOKEN}&scope=x"},
     REFRESH_TOKEN),
    ("JWT with a spaced header anywhere", {"detail": f"assertion {SPACED_JWT} rejected"}, SPACED_JWT),
    ("unsigned JWT anywhere", {"detail": f"token {UNSIGNED_JWT} has no signature"}, UNSIGNED_JWT),
    ("Entra client secret in its documented format", {"detail": f"new secret {BRIEF_FORM_SECRET}"}, BRIEF_FORM_SECRET),
    ("client_assertion JWT in a form body", {"body": f"client_assertion={SPACED_JWT}&client_id={GUID}"}, SPACED_JWT),
    ("SAS signature in a URL",
     {"url": f"https://acct.blob.core.windows.net/c/b.csv?sv=2022-11-02&sr=b&sp=r&sig={SAS_SIGNATURE}&se=2026"},
     SAS_SIGNATURE),
    ("storage account key in a connection string",
     {"detail": f"DefaultEndpointsProtocol=https;AccountName=acct;AccountKey={STORAGE_ACCOUNT_KEY};EndpointSuffix=x"},
     STORAGE_ACCOUNT_KEY),
]
CASES = {case[0]: case for case in SHAPE_CASES}

# Each redaction rule and a case only it catches: with the rule switched off, that case leaks.
RULE_WITNESSES = [
    ("_PEM_PRIVATE_KEY", "RSA private key"),
    ("_AUTHORIZATION_VALUE", "Basic credentials in an Authorization header"),
    ("_BEARER", "bearer with an opaque token"),
    ("_URL_PASSWORD", "password in a proxy URL"),
    ("_QUOTED_PAIR", "access_token in JSON text"),
    ("_BARE_PAIR", "client_secret in a form body"),
    ("_XML_ELEMENT", "Splunk session key in modular input XML"),
    ("_JWT", "unsigned JWT anywhere"),
    ("_THREE_SEGMENT_TOKEN", "JWT with a spaced header anywhere"),
    ("_ENTRA_CLIENT_SECRET", "Entra client secret in its documented format"),
    ("_OPAQUE_ACCESS_TOKEN", "opaque access token anywhere"),
    ("_REFRESH_TOKEN", "MSAL refresh token anywhere"),
    ("_SECRET_NAMES", "SAS signature in a URL"),
]


@pytest.mark.parametrize("what, fields, material", SHAPE_CASES, ids=[case[0] for case in SHAPE_CASES])
def test_secret_material_never_reaches_the_log(captured, what, fields, material):
    logs.get_logger("connector.test").info("test.event", **fields)
    written = captured.raw.getvalue()
    assert material not in written, what
    assert logs.REDACTED in written
    assert len(captured()) == 1, "one JSON line per event"


def _leaks(case):
    _what, fields, material = case
    return material in repr(logs.redact(fields))


@pytest.mark.parametrize("rule, witness", RULE_WITNESSES, ids=[rule for rule, _ in RULE_WITNESSES])
def test_every_redaction_rule_is_needed(monkeypatch, rule, witness):
    assert not _leaks(CASES[witness])
    never = () if rule == "_SECRET_NAMES" else re.compile(r"(?!)")
    monkeypatch.setattr(logs, rule, never)
    assert _leaks(CASES[witness]), f"{witness!r} is still redacted without {rule}: the rule proves nothing"


def test_every_rule_has_a_witness():
    # a rule added to logs.py without a case only it catches is a rule no test would miss
    rules = {name for name, value in vars(logs).items() if isinstance(value, re.Pattern)}
    assert len(rules) >= 12
    assert rules - {rule for rule, _ in RULE_WITNESSES} == set()


def test_the_sas_and_account_key_names_do_not_hide_cim_fields():
    kept = {"signature": "Microsoft Entra app with client secrets", "signature_id": "CTD-000008",
            "key_id": GUID, "sign_in_audience": "AzureADMyOrg", "sigma": "1.5"}
    assert logs.redact(kept) == kept


@pytest.mark.parametrize("key", ["secret", "client_secret", "password", "token", "refresh_token", "assertion",
                                 "client_assertion", "private_key", "privateKey", "session_key", "sessionKey",
                                 "authorization", "Authorization", "secretText", "ENTRA_CLIENT_SECRET"])
def test_values_under_secret_named_keys_are_replaced_whole(captured, key):
    # no recognisable shape: only the key name can tell
    logs.get_logger("connector.test").info("test.event", nested={"outer": [{key: "plainword"}]}, **{key: "x y z"})
    line = captured()[0]
    assert line[key] == logs.REDACTED
    assert line["nested"]["outer"][0][key] == logs.REDACTED


def test_findings_fields_survive(captured):
    """Over-redaction would destroy the findings: ids, hints, thumbprints and times stay readable."""
    finding = {
        "id": GUID, "key_id": "0d9b8c4e-7c3f-4b3e-9e0f-2d8c1a3b4c5d", "object_id": GUID, "app_id": GUID,
        "secret_hint": "Xy7", "hint": "a~Q", "thumbprint": THUMBPRINT,
        "customKeyIdentifier": "nOo3ZDrODXEK1jKWhXslHR_KXEg", "start_time": "2024-05-01T10:20:30Z",
        "end_time": "2299-12-31T23:59:59.9999999Z", "app_name": "Payroll Sync (prod)",
        "tokenIssuerType": "AzureAD", "clientCredentialType": "clientSecret", "passwordCredentials": [
            {"keyId": GUID, "hint": "Xy7", "displayName": "rotation 2024", "secretText": None}],
        "counts": {"secrets": 12, "credentials": 30}, "has_secret": True, "never_expires": False,
        "src": "203.0.113.7", "nextLink": "https://graph.microsoft.com/v1.0/applications?$top=999&$skiptoken=RFNwdAIA",
        "description": "Remove the client secret: rotate to a certificate.", "session_key_set": "yes",
        "request_id": "b0a4d2f1-0a5e-4d3c-9a8b-7c6d5e4f3a2b", "url": "https://graph.microsoft.com/v1.0/me",
    }
    logs.get_logger("connector.test").info("finding.written", **finding)
    line = captured()[0]
    for key, value in finding.items():
        assert line[key] == value, key
    assert logs.REDACTED not in captured.raw.getvalue()


def test_exception_text_and_library_records_are_redacted(captured):
    log = logs.get_logger("connector.test")
    try:
        raise RuntimeError(f"token endpoint said no to client_secret={OLD_STYLE_SECRET} Bearer {JWT}")
    except RuntimeError:
        log.exception("auth.failed")
    # msal and urllib3 log through stdlib logging, with %-style arguments
    logging.getLogger("msal.application").debug("posting %s to %s", f"client_assertion={JWT}",
                                                 "https://user:hunter2x@login.example")
    written = captured.raw.getvalue()
    for material in (OLD_STYLE_SECRET, JWT, "hunter2x"):
        assert material not in written
    first, second = captured()
    assert first["event"] == "auth.failed" and "RuntimeError" in first["exception"]
    assert second["logger"] == "msal.application" and second["level"] == "debug"
    assert "https://user:[REDACTED]@login.example" in second["event"]


def test_redact_and_redact_text_are_the_same_rules_for_other_modules():
    event = {"message": f"Bearer {JWT}", "list": [ENTRA_SECRET, 3, None], "client_secret": "x",
             "has_secret": True, "count": 4}
    cleaned = logs.redact(event)
    assert cleaned == {"message": "Bearer [REDACTED]", "list": [logs.REDACTED, 3, None],
                       "client_secret": logs.REDACTED, "has_secret": True, "count": 4}
    assert event["client_secret"] == "x", "redact returns a copy"
    text = f"client_secret={OLD_STYLE_SECRET}; Authorization: Bearer {JWT}"
    once = logs.redact_text(text)
    assert logs.redact_text(once) == once, "redacting twice changes nothing"
    assert logs.redact(ValueError(f"bad {ENTRA_SECRET}")) == f"bad {logs.REDACTED}"


def test_level_filters_and_bad_level_is_refused():
    buffer = io.StringIO()
    logs.configure_logging("warning", stream=buffer)
    try:
        log = logs.get_logger("connector.test")
        log.info("quiet")
        log.warning("loud")
        assert [json.loads(line)["event"] for line in buffer.getvalue().splitlines()] == ["loud"]
    finally:
        logs.reset_logging()
    with pytest.raises(ValueError, match="VERBOSE"):
        logs.configure_logging("VERBOSE")


def test_no_level_given_takes_the_environment_setting(monkeypatch):
    buffer = io.StringIO()
    monkeypatch.setenv(logs.LOG_LEVEL_ENV, "error")
    logs.configure_logging(None, stream=buffer)
    try:
        logs.get_logger("connector.test").warning("dropped")
        logs.get_logger("connector.test").error("kept")
    finally:
        logs.reset_logging()
    assert [json.loads(line)["event"] for line in buffer.getvalue().splitlines()] == ["kept"]


def test_under_splunk_logs_go_to_a_rotating_file(tmp_path, monkeypatch):
    monkeypatch.setenv("SPLUNK_HOME", str(tmp_path))
    monkeypatch.setattr(logs, "MAX_LOG_BYTES", 400)
    path = logs.configure_logging("INFO", splunk_log_name="Modinput Scan")
    try:
        assert path == str(tmp_path / "var" / "log" / "splunk" / "ta_entra_app_secrets_modinput_scan.log")
        log = logs.get_logger("connector.test")
        for number in range(10):
            log.info("harvest.page", number=number, token=JWT)
        configured_again = logs.configure_logging("INFO", splunk_log_name="Modinput Scan")
        assert configured_again == path
        assert sum(1 for h in logging.getLogger().handlers if isinstance(h, logging.handlers.RotatingFileHandler)) == 1
    finally:
        logs.reset_logging()
    files = sorted((tmp_path / "var" / "log" / "splunk").iterdir())
    assert len(files) > 1, "rotated at MAX_LOG_BYTES"
    written = b"".join(f.read_bytes() for f in files)
    assert JWT.encode() not in written
    numbers = sorted(json.loads(line)["number"] for f in files for line in f.read_text().splitlines())
    assert numbers == list(range(10))


def test_without_splunk_home_logs_go_to_stderr(monkeypatch, capsys):
    monkeypatch.delenv("SPLUNK_HOME", raising=False)
    assert logs.configure_logging("INFO", splunk_log_name="scan") is None
    try:
        logs.get_logger("connector.test").info("cli.started", password="hunter22")
    finally:
        logs.reset_logging()
    err = capsys.readouterr().err
    assert json.loads(err.splitlines()[-1])["password"] == logs.REDACTED


def test_unconfigured_get_logger_still_redacts(capsys):
    logs.reset_logging()
    try:
        logs.get_logger("connector.test").warning("early", detail=f"Bearer {JWT}")
    finally:
        logs.reset_logging()
    err = capsys.readouterr().err
    assert JWT not in err and "early" in err


def test_stderr_logging_follows_the_current_stderr(monkeypatch):
    """Configured while one stderr was in place, records still reach the stderr of the moment."""
    import io
    import sys

    from connector.logs import configure_logging, get_logger, reset_logging

    first, second = io.StringIO(), io.StringIO()
    monkeypatch.setattr(sys, "stderr", first)
    configure_logging("INFO")
    try:
        first.close()
        monkeypatch.setattr(sys, "stderr", second)
        get_logger("probe").info("probe.after_swap")
    finally:
        reset_logging()
    records = [json.loads(line) for line in second.getvalue().splitlines()]
    assert [record["event"] for record in records] == ["probe.after_swap"]
