"""The Accounts tab's save logic without Splunk: placeholders, refusals, the account a test signs in as."""

from connector.graph.permissions_check import PermissionReport
from connector.splunk import account_form

GUID = "11111111-2222-3333-4444-555555555555"


def test_an_unchanged_encrypted_field_keeps_the_stored_value_and_a_retyped_one_wins():
    stored = {"tenant_id": GUID, "client_secret": "stored-secret", "certificate": "", "cloud": "global"}
    payload = {"tenant_id": "contoso.onmicrosoft.com", "client_secret": "******", "cloud": "usgov"}
    assert account_form.effective_fields(payload, stored) == {
        "tenant_id": "contoso.onmicrosoft.com", "client_secret": "stored-secret", "certificate": "", "cloud": "usgov"}
    assert account_form.effective_fields({"client_secret": "new"}, stored)["client_secret"] == "new"
    # not encrypted: a literal ****** typed into a plain field is kept as typed (and then refused)
    assert account_form.effective_fields({"tenant_id": "******"}, stored)["tenant_id"] == "******"


def test_problems_come_before_any_sign_in_and_each_names_its_field():
    calls = []
    refusal, report = account_form.check_before_save(
        "a", {"tenant_id": "x", "client_id": GUID, "credential_type": "client_secret", "client_secret": "",
              "test_connection": "1"}, connection_test=lambda *args, **kwargs: calls.append(args))
    assert report is None and refusal.startswith("tenant_id ") and ". client_secret is empty" in refusal
    assert calls == [], "an account with problems is not signed in with"


def test_test_connection_runs_only_when_ticked_and_its_sentence_refuses_the_save():
    fields = {"tenant_id": GUID, "client_id": GUID, "credential_type": "client_secret", "client_secret": "s3cr3t-value"}
    seen = []

    def failing(account, role):
        seen.append((account.client_secret, role))
        return PermissionReport(account.name, problem="Account 'a': test connection failed: AADSTS7000215.")
    assert account_form.check_before_save("a", {**fields, "test_connection": "0"}, connection_test=failing) == \
        (None, account_form.NOT_TESTED)
    assert seen == []
    refusal, report = account_form.check_before_save("a", {**fields, "test_connection": "1"}, connection_test=failing)
    assert refusal.startswith("Account 'a': test connection failed") and "Untick Test connection" in refusal
    assert report is None and seen == [("s3cr3t-value", "either")]

    def passing(account, role):
        return PermissionReport(account.name, held=("Application.Read.All", "AuditLog.Read.All"))
    refusal, report = account_form.check_before_save("a", {**fields, "test_connection": "1"}, connection_test=passing,
                                                     today="2026-12-01 22:00 UTC")
    assert refusal is None
    assert report == ("2026-12-01 22:00 UTC: Account 'a' signed in and holds every Graph permission it needs "
                      "(Application.Read.All, AuditLog.Read.All).")


def test_pasted_pem_stays_in_memory_for_the_connection_test(tmp_path, monkeypatch):
    fields = {"tenant_id": GUID, "client_id": GUID, "credential_type": "certificate",
              "certificate": "-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n",
              "ca_bundle": "-----BEGIN CERTIFICATE-----\nBBBB\n-----END CERTIFICATE-----\n",
              "proxy_url": "proxy.example.net", "proxy_port": "3128", "proxy_username": "u", "proxy_password": "p@ss/word"}
    monkeypatch.setenv("TMPDIR", str(tmp_path))
    with account_form.account_for_connection_test("a", fields) as account:
        assert account.certificate_path is None and account.certificate_pem.strip() == fields["certificate"].strip()
        assert account.ca_pem and "BBBB" in account.ca_pem
        assert account.proxies["https"] == "http://u:p%40ss%2Fword@proxy.example.net:3128"
    assert list(tmp_path.iterdir()) == [], "no PEM file is written for a connection test"


def test_a_secret_pasted_into_the_wrong_field_is_not_quoted_back_on_the_page():
    secret = "Abc8Q~" + "x7" * 17
    refusal, _ = account_form.check_before_save(
        "a", {"tenant_id": GUID, "client_id": GUID, "credential_type": "client_secret", "client_secret": "s",
              "graph_host": secret})
    assert refusal.startswith("graph_host ") and "https URL" in refusal
    assert secret not in refusal and "8Q~" not in refusal
