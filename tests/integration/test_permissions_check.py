"""Test connection against the simulator: over real HTTPS with MSAL, the app's held Graph permissions
come from its own service principal's app role assignments and are compared with the needs."""

from connector.graph.permissions_check import COLLECTOR_NEEDS, RESPONDER_NEEDS, run_connection_test
from entra_simulator.profiles import IDENTITY_ROLES
from simulated_accounts import account_for


def test_collector_holds_every_collector_permission(clean_simulator):
    report = run_connection_test(account_for(clean_simulator, "collector"))
    assert report.ok, report.sentence()
    assert set(report.held) == set(IDENTITY_ROLES["collector"])
    assert "holds every Graph permission it needs" in report.sentence()
    # the held list was read from Graph: the app's service principal, then its assignments
    paths = [request.path for request in clean_simulator.requests]
    sp = clean_simulator.collector.sp_object_id
    assert any(f"/servicePrincipals/{sp}/appRoleAssignments" in path for path in paths), paths


def test_limited_identity_is_told_exactly_what_is_missing(clean_simulator):
    report = run_connection_test(account_for(clean_simulator, "limited"))
    assert not report.ok and not report.problem
    assert report.held == ("Application.Read.All",)
    assert [need.purpose for need in report.missing] == [need.purpose for need in COLLECTOR_NEEDS[1:]]
    sentence = report.sentence()
    for permission in ("AuditLog.Read.All", "Directory.Read.All", "RoleManagement.Read.Directory"):
        assert permission in sentence
    assert "grant admin consent" in sentence and sentence.count(".") >= 1


def test_responder_role_needs_a_write_permission(clean_simulator):
    collector = run_connection_test(account_for(clean_simulator, "collector"), role="responder")
    assert collector.missing == RESPONDER_NEEDS, "a read-only collector cannot answer for responses"
    assert "Application.ReadWrite.OwnedBy" in collector.sentence()
    responder = run_connection_test(account_for(clean_simulator, "responder", secret=True), role="responder")
    assert responder.ok, responder.sentence()
    assert "Application.ReadWrite.All" in responder.held


def test_a_refused_sign_in_is_a_sentence_not_a_traceback_and_leaks_no_secret(clean_simulator):
    app = clean_simulator.identities["collector"]
    wrong = "Wr0ng~" + app.secret[6:]
    account = account_for(clean_simulator, "collector", certificate_path=None).with_secret(wrong)
    report = run_connection_test(account)
    assert not report.ok and report.problem.startswith("Account 'collector': test connection failed:")
    assert wrong not in report.sentence() and app.secret not in report.sentence()


def test_an_app_that_cannot_read_its_own_service_principal(clean_simulator, monkeypatch):
    """No Application.Read.All at all: Graph answers 403 and the report names the permission."""
    class Refusing:
        def __enter__(self):
            return self

        def __exit__(self, *exc):
            return False

        def get(self, path, params=None):  # noqa: D401 (the client interface)
            from connector.errors import GraphError
            raise GraphError(403, "Authorization_RequestDenied", "Insufficient privileges to complete the operation.",
                             method="GET", path=path)
    account = account_for(clean_simulator, "limited")
    report = run_connection_test(account, open_client=lambda _account: Refusing())
    assert report.missing == COLLECTOR_NEEDS and "lacks Application.Read.All" in report.sentence()


def test_the_needs_match_the_readme_permission_table():
    import os
    import re
    readme = open(os.path.join(os.path.dirname(__file__), "..", "..", "README.md"), encoding="utf-8").read()
    table = re.search(r"^### Graph permissions\n(.*?)(?=^#)", readme, re.M | re.S)
    assert table, "README has a '### Graph permissions' table"
    for need in COLLECTOR_NEEDS + RESPONDER_NEEDS:
        assert need.satisfied_by[0] in table.group(1), need


def test_either_role_accepts_a_collector_or_a_responder_and_names_the_collector_needs_otherwise(clean_simulator):
    assert run_connection_test(account_for(clean_simulator, "collector"), role="either").ok
    assert run_connection_test(account_for(clean_simulator, "responder", secret=True), role="either").ok
    limited = run_connection_test(account_for(clean_simulator, "limited"), role="either")
    assert not limited.ok and "AuditLog.Read.All" in limited.sentence()
