"""Response actions: the safety rules and the Graph calls they lead to (a small in-memory Graph).

The in-memory Graph answers the few routes the actions use, with the real typed errors, and records
every write, so each test proves both what the action said and what it asked Graph to change.
"""
import copy
import datetime
import re

import pytest

from connector.respond import actions
from connector.respond import cli as respond_cli
from connector.respond.actions import ResponseSettings, Target
from connector.checkpoint import MemoryCheckpointStore
from connector.errors import GraphForbidden, GraphNotFound

NOW = datetime.datetime(2026, 11, 28, 12, 0, tzinfo=datetime.timezone.utc)
TENANT = "11111111-1111-1111-1111-111111111111"
APP_ID = "22222222-2222-2222-2222-222222222222"
APP_OBJECT = "33333333-3333-3333-3333-333333333333"
SP_OBJECT = "44444444-4444-4444-4444-444444444444"
KEY_ON_APP = "55555555-5555-5555-5555-555555555555"
OTHER_KEY_ON_APP = "66666666-6666-6666-6666-666666666666"
KEY_ON_SP = "77777777-7777-7777-7777-777777777777"
UNKNOWN_KEY = "88888888-8888-8888-8888-888888888888"
COLLECTOR_APP_ID = "99999999-9999-9999-9999-999999999999"


def password(key_id, hint="abc", name="prod"):
    return {"keyId": key_id, "displayName": name, "hint": hint, "customKeyIdentifier": None,
            "startDateTime": "2026-01-01T00:00:00Z", "endDateTime": "2028-01-01T00:00:00Z",
            # Graph returns null here; a value would be a bug somewhere, and must never be copied.
            "secretText": "must-never-be-copied"}


class MemoryGraph:
    """Answers GET/POST/PATCH on applications and service principals like Graph does."""

    def __init__(self):
        self.applications = {APP_OBJECT: {
            "id": APP_OBJECT, "appId": APP_ID, "displayName": "Payroll sync",
            "passwordCredentials": [password(KEY_ON_APP), password(OTHER_KEY_ON_APP, hint="xyz", name="old")],
            "keyCredentials": [{"keyId": "aaaaaaaa-0000-0000-0000-000000000000", "type": "AsymmetricX509Cert",
                                "usage": "Verify", "key": "TUlJQ...", "displayName": "CN=payroll"}]}}
        self.service_principals = {SP_OBJECT: {
            "id": SP_OBJECT, "appId": APP_ID, "displayName": "Payroll sync", "accountEnabled": True,
            "passwordCredentials": [password(KEY_ON_SP, hint="spk")], "keyCredentials": []}}
        self.writes = []
        self.gets = []
        self.fail = {}  # (method, path regex) -> exception
        self.sign_in_activity = {}

    def _failure(self, method, path):
        for (fail_method, pattern), exc in self.fail.items():
            if fail_method == method and re.search(pattern, path):
                raise exc

    def _collection(self, name):
        return self.applications if name == "applications" else self.service_principals

    def _find(self, path):
        match = re.match(r"^/(applications|servicePrincipals)(?:/([0-9a-f-]+)|\(appId='([0-9a-f-]+)'\))$", path)
        collection = self._collection(match.group(1))
        if match.group(2):
            found = collection.get(match.group(2))
        else:
            found = next((o for o in collection.values() if o["appId"] == match.group(3)), None)
        if found is None:
            raise GraphNotFound(404, "Request_ResourceNotFound", f"Resource '{path}' does not exist",
                                "req-404", method="GET", path=path)
        return found

    def get(self, path, params=None, api="v1.0", headers=None):
        self.gets.append((path, params, api))
        self._failure("GET", path)
        if path == "/reports/appCredentialSignInActivities":
            key_id = re.search(r"keyId eq '([^']+)'", params["$filter"]).group(1)
            when = self.sign_in_activity.get(key_id)
            return {"value": [{"keyId": key_id, "signInActivity": {"lastSignInDateTime": when}}] if when else []}
        return copy.deepcopy(self._find(path))

    def post(self, path, json_body, api="v1.0"):
        self._failure("POST", path)
        self.writes.append(("POST", path, json_body))
        match = re.match(r"^/(applications|servicePrincipals)/([0-9a-f-]+)/removePassword$", path)
        holder = self._collection(match.group(1))[match.group(2)]
        holder["passwordCredentials"] = [c for c in holder["passwordCredentials"] if c["keyId"] != json_body["keyId"]]
        return None

    def patch(self, path, json_body, api="v1.0"):
        self._failure("PATCH", path)
        self.writes.append(("PATCH", path, json_body))
        self._find(path).update(json_body)


@pytest.fixture
def graph():
    return MemoryGraph()


@pytest.fixture
def journal():
    return actions.Journal(MemoryCheckpointStore())


SETTINGS = ResponseSettings(protected_app_ids=frozenset({COLLECTOR_APP_ID}), recent_use_days=7)


def target(**overrides):
    fields = {"tenant_id": TENANT, "app_id": APP_ID, "object_type": "application", "object_id": APP_OBJECT,
              "key_id": KEY_ON_APP, "app_name": "Payroll sync", "last_used": ""}
    fields.update(overrides)
    return Target.from_fields({k: v for k, v in fields.items() if v is not None}, actions.REMOVE_SECRET)


def remove(graph, journal, tgt=None, **kwargs):
    return actions.run_action(actions.REMOVE_SECRET, graph, tgt or target(), SETTINGS, journal=journal, now=NOW,
                              tenant_id=TENANT, **kwargs)


# --- targets -----------------------------------------------------------------------------------------
def test_target_needs_app_id_and_for_removal_a_key_id():
    with pytest.raises(actions.TargetError, match="no app_id"):
        Target.from_fields({"key_id": KEY_ON_APP}, actions.REMOVE_SECRET)
    with pytest.raises(actions.TargetError, match="no key_id"):
        Target.from_fields({"app_id": APP_ID}, actions.REMOVE_SECRET)
    assert Target.from_fields({"app_id": APP_ID}, actions.DISABLE_APP).key_id is None


def test_target_refuses_several_key_ids_in_one_result_and_non_guids():
    with pytest.raises(actions.TargetError, match="2 values of key_id"):
        Target.from_fields({"app_id": APP_ID, "key_id": [KEY_ON_APP, OTHER_KEY_ON_APP]}, actions.REMOVE_SECRET)
    with pytest.raises(actions.TargetError, match="not a GUID"):
        Target.from_fields({"app_id": "payroll", "key_id": KEY_ON_APP}, actions.REMOVE_SECRET)
    with pytest.raises(actions.TargetError, match="object_type"):
        Target.from_fields({"app_id": APP_ID, "key_id": KEY_ON_APP, "object_type": "user"}, actions.REMOVE_SECRET)
    # The same value twice (a multivalue field of duplicates) is one target.
    upper_key = "ABCDEF01-0000-0000-0000-000000000000"
    same = Target.from_fields({"app_id": APP_ID, "key_id": [upper_key, upper_key.lower()]}, actions.REMOVE_SECRET)
    assert same.key_id == upper_key.lower()


def test_target_tells_a_missing_last_used_from_an_empty_one():
    assert target(last_used="").last_used_known is True
    assert target(last_used=None).last_used_known is False


# --- settings ----------------------------------------------------------------------------------------
def test_settings_protect_listed_apps_and_every_configured_account(tmp_path):
    (tmp_path / "local").mkdir()
    (tmp_path / "local" / "ta_entra_app_secrets_settings.conf").write_text(
        "[response]\nprotected_app_ids = AAAAAAAA-0000-0000-0000-000000000001, bbbbbbbb-0000-0000-0000-000000000002\n"
        "recent_use_days = 30\n")

    class Account:
        client_id = COLLECTOR_APP_ID

    settings = ResponseSettings.load(str(tmp_path), [Account()])
    assert settings.protected_app_ids == {"aaaaaaaa-0000-0000-0000-000000000001",
                                          "bbbbbbbb-0000-0000-0000-000000000002", COLLECTOR_APP_ID}
    assert settings.recent_use_days == 30


def test_settings_default_to_seven_days_and_reject_nonsense(tmp_path):
    assert ResponseSettings.load(str(tmp_path)).recent_use_days == 7
    (tmp_path / "local").mkdir()
    (tmp_path / "local" / "ta_entra_app_secrets_settings.conf").write_text("[response]\nrecent_use_days = a week\n")
    with pytest.raises(actions.ConfigError, match="recent_use_days"):
        ResponseSettings.load(str(tmp_path))
    for value in ("0", "-3", "many"):
        (tmp_path / "local" / "ta_entra_app_secrets_settings.conf").write_text(
            f"[response]\nmax_rows_per_run = {value}\n")
        with pytest.raises(actions.ConfigError, match="max_rows_per_run .* 1 or more"):
            ResponseSettings.load(str(tmp_path))


def test_rows_past_the_limit_are_refused_with_the_setting_named():
    settings = ResponseSettings(max_rows_per_run=2)
    assert actions.over_limit_refusal(2, settings) is None
    assert "max_rows_per_run" in actions.over_limit_refusal(3, settings)


# --- remove a secret ----------------------------------------------------------------------------------
def test_remove_secret_from_the_application_object(graph, journal):
    outcome = remove(graph, journal)
    assert (outcome.outcome, outcome.status) == ("changed", "success")
    assert graph.writes == [("POST", f"/applications/{APP_OBJECT}/removePassword", {"keyId": KEY_ON_APP})]
    assert [c["keyId"] for c in graph.applications[APP_OBJECT]["passwordCredentials"]] == [OTHER_KEY_ON_APP]
    assert "cannot be restored" in outcome.message and "1 other secret(s)" in outcome.message
    # the snapshot is the object before the change, metadata only
    assert [c["keyId"] for c in outcome.snapshot["password_credentials"]] == [KEY_ON_APP, OTHER_KEY_ON_APP]
    assert "must-never-be-copied" not in repr(outcome.snapshot) and "TUlJQ" not in repr(outcome.snapshot)
    assert outcome.snapshot["key_credentials"][0]["type"] == "AsymmetricX509Cert"


def test_remove_secret_from_the_service_principal_object(graph, journal):
    outcome = remove(graph, journal, target(object_type="servicePrincipal", object_id=SP_OBJECT, key_id=KEY_ON_SP))
    assert outcome.outcome == "changed"
    assert graph.writes == [("POST", f"/servicePrincipals/{SP_OBJECT}/removePassword", {"keyId": KEY_ON_SP})]
    assert outcome.snapshot["account_enabled"] is True


def test_remove_without_object_type_finds_the_object_holding_the_key(graph, journal):
    outcome = remove(graph, journal, target(object_type=None, object_id=None, key_id=KEY_ON_SP))
    assert outcome.outcome == "changed", outcome.message
    assert graph.writes[0][1] == f"/servicePrincipals/{SP_OBJECT}/removePassword"


def test_dry_run_says_what_would_change_and_changes_nothing(graph, journal):
    outcome = remove(graph, journal, dry_run=True)
    assert (outcome.outcome, outcome.status) == ("dry_run", "success")
    assert graph.writes == []
    assert outcome.message.startswith("dry run: would remove secret 'prod'")
    assert KEY_ON_APP in outcome.message and "hint abc***" in outcome.message and "Nothing changed" in outcome.message
    assert journal.removed(TENANT, KEY_ON_APP) is None


def test_repeating_a_removal_is_success_and_says_so(graph, journal):
    assert remove(graph, journal).outcome == "changed"
    again = remove(graph, journal)
    assert (again.outcome, again.status) == ("already_done", "success")
    assert "already removed" in again.message
    assert len(graph.writes) == 1


def test_key_id_on_the_other_object_is_refused(graph, journal):
    outcome = remove(graph, journal, target(key_id=KEY_ON_SP))
    assert (outcome.outcome, outcome.status) == ("refused", "failure")
    assert f"is on the servicePrincipal object {SP_OBJECT}" in outcome.message
    assert graph.writes == []


def test_key_id_that_is_on_neither_object_is_refused(graph, journal):
    outcome = remove(graph, journal, target(key_id=UNKNOWN_KEY))
    assert outcome.outcome == "refused"
    assert f"key id {UNKNOWN_KEY} is not a secret of application 'Payroll sync'" in outcome.message
    assert graph.writes == []


def test_app_id_that_does_not_match_the_object_is_refused(graph, journal):
    other_app = "abababab-abab-abab-abab-abababababab"
    outcome = remove(graph, journal, target(app_id=other_app))
    assert outcome.outcome == "refused"
    assert f"belongs to app {APP_ID}, not to the finding's app {other_app}" in outcome.message
    assert graph.writes == []


def test_protected_app_is_refused_before_any_graph_call(graph, journal):
    outcome = remove(graph, journal, target(app_id=COLLECTOR_APP_ID))
    assert outcome.outcome == "refused" and "protected" in outcome.message
    assert graph.gets == [] and graph.writes == []


def test_finding_from_another_tenant_is_refused(graph, journal):
    outcome = remove(graph, journal, target(tenant_id="12121212-1212-1212-1212-121212121212"))
    assert outcome.outcome == "refused" and "tenant" in outcome.message
    assert graph.writes == []


def test_recently_used_secret_is_refused_with_its_last_use(graph, journal):
    outcome = remove(graph, journal, target(last_used="2026-11-26T09:30:00.1234567Z"))
    assert outcome.outcome == "refused"
    assert "last used 2026-11-26T09:30:00Z (2 days ago)" in outcome.message
    assert "within the last 7 days" in outcome.message and "force=1" in outcome.message
    assert graph.writes == []


def test_force_removes_a_recently_used_secret_and_says_so(graph, journal):
    outcome = remove(graph, journal, target(last_used="2026-11-28T11:00:00Z"), force=True)
    assert outcome.outcome == "changed" and outcome.forced
    assert "removed anyway because force is set" in outcome.message


def test_secret_used_before_the_window_is_removed(graph, journal):
    outcome = remove(graph, journal, target(last_used="2026-11-01T00:00:00Z"))
    assert outcome.outcome == "changed"
    assert "last used 2026-11-01T00:00:00Z (27 days ago)" in outcome.message


def test_without_last_used_the_last_use_comes_from_graph(graph, journal):
    graph.sign_in_activity[KEY_ON_APP] = "2026-11-27T12:00:00Z"
    outcome = remove(graph, journal, target(last_used=None))
    assert outcome.outcome == "refused" and "last used 2026-11-27T12:00:00Z" in outcome.message
    assert ("/reports/appCredentialSignInActivities", {"$filter": f"keyId eq '{KEY_ON_APP}'"}, "beta") in graph.gets


def test_when_graph_cannot_tell_the_last_use_removal_needs_force(graph, journal):
    graph.fail[("GET", "^/reports/")] = GraphForbidden(403, "Authorization_RequestDenied", "Insufficient privileges",
                                                       "req-403-report")
    refused = remove(graph, journal, target(last_used=None))
    assert refused.outcome == "refused" and "could not say when the secret was last used" in refused.message
    assert refused.graph_request_id == "req-403-report"
    forced = remove(graph, journal, target(last_used=None), force=True)
    assert forced.outcome == "changed" and "last use unknown" in forced.message


def test_missing_permission_is_reported_with_graph_code_and_request_id(graph, journal):
    graph.fail[("POST", "removePassword")] = GraphForbidden(
        403, "Authorization_RequestDenied", "Insufficient privileges to complete the operation.", "req-403",
        method="POST", path=f"/applications/{APP_OBJECT}/removePassword",
        hint="grant the application permission Application.ReadWrite.OwnedBy or Application.ReadWrite.All")
    outcome = remove(graph, journal)
    assert (outcome.outcome, outcome.status) == ("error", "failure")
    assert (outcome.graph_error_code, outcome.graph_request_id) == ("Authorization_RequestDenied", "req-403")
    assert "Application.ReadWrite.OwnedBy" in outcome.message
    assert journal.removed(TENANT, KEY_ON_APP) is None


def test_gone_object_is_an_error_unless_we_removed_the_secret_before(graph, journal):
    gone = target(object_id="abcdefab-0000-0000-0000-000000000000")
    outcome = remove(graph, journal, gone)
    assert outcome.outcome == "error" and outcome.graph_error_code == "Request_ResourceNotFound"
    assert outcome.graph_request_id == "req-404"


def test_unexpected_exception_text_is_not_copied_into_the_message(graph, journal):
    graph.fail[("GET", "^/applications")] = RuntimeError("client_secret=abc1Q~leaked")
    outcome = remove(graph, journal)
    assert outcome.outcome == "error" and "leaked" not in outcome.message and "RuntimeError" in outcome.message


# --- disable and enable -----------------------------------------------------------------------------
def run(action, graph, **target_fields):
    fields = {"tenant_id": TENANT, "app_id": APP_ID, "object_type": "application", "object_id": APP_OBJECT}
    fields.update(target_fields)
    return actions.run_action(action, graph, Target.from_fields(fields, action), SETTINGS, tenant_id=TENANT)


def test_disable_patches_the_service_principal_found_by_app_id(graph):
    outcome = run(actions.DISABLE_APP, graph)
    assert outcome.outcome == "changed" and outcome.object_id == SP_OBJECT
    assert graph.writes == [("PATCH", f"/servicePrincipals/{SP_OBJECT}", {"accountEnabled": False})]
    assert outcome.snapshot["account_enabled"] is True
    assert "entra_enable_app" in outcome.message


def test_disable_twice_is_success_and_enable_is_the_rollback(graph):
    run(actions.DISABLE_APP, graph)
    again = run(actions.DISABLE_APP, graph)
    assert (again.outcome, again.status) == ("already_done", "success") and "already disabled" in again.message
    enabled = run(actions.ENABLE_APP, graph, object_type="servicePrincipal", object_id=SP_OBJECT)
    assert enabled.outcome == "changed" and enabled.snapshot["account_enabled"] is False
    assert graph.service_principals[SP_OBJECT]["accountEnabled"] is True
    assert run(actions.ENABLE_APP, graph).outcome == "already_done"
    assert len(graph.writes) == 2


def test_disable_dry_run_changes_nothing(graph):
    tgt = Target.from_fields({"app_id": APP_ID, "tenant_id": TENANT}, actions.DISABLE_APP)
    outcome = actions.run_action(actions.DISABLE_APP, graph, tgt, SETTINGS, dry_run=True)
    assert outcome.outcome == "dry_run" and "would set accountEnabled=false" in outcome.message
    assert graph.writes == []


def test_disable_refuses_a_protected_app_but_enable_does_not(graph):
    graph.service_principals[SP_OBJECT]["appId"] = COLLECTOR_APP_ID
    graph.service_principals[SP_OBJECT]["accountEnabled"] = False
    assert run(actions.DISABLE_APP, graph, app_id=COLLECTOR_APP_ID).outcome == "refused"
    assert run(actions.ENABLE_APP, graph, app_id=COLLECTOR_APP_ID).outcome == "changed"


def test_disable_refuses_a_service_principal_of_another_app(graph):
    other = "abababab-abab-abab-abab-abababababab"
    outcome = run(actions.DISABLE_APP, graph, app_id=other, object_type="servicePrincipal", object_id=SP_OBJECT)
    assert outcome.outcome == "refused" and "not to the finding's app" in outcome.message
    assert graph.writes == []


def test_throttled_patch_is_reported_per_target(graph):
    from connector.errors import GraphThrottled
    graph.fail[("PATCH", "servicePrincipals")] = GraphThrottled(429, "TooManyRequests", "Please retry again later.",
                                                                 "req-429")
    outcome = run(actions.DISABLE_APP, graph)
    assert (outcome.outcome, outcome.graph_error_code) == ("error", "TooManyRequests")
    assert outcome.graph_request_id == "req-429"


# --- the audit record ------------------------------------------------------------------------------------
INVOCATION = {"user": "analyst1", "src": "sh1", "search_name": "Threat - CTD-000008 - Rule",
              "orig_sid": "scheduler__x", "orig_rid": "3", "result_id": "0"}


def test_audit_record_of_a_removal_carries_the_cim_change_fields(graph, journal):
    outcome = remove(graph, journal)
    event = actions.audit_fields(outcome, account_name="responder", graph_host="graph.microsoft.com",
                                 invocation=INVOCATION)
    assert {k: event[k] for k in ("action", "change_type", "command", "dest", "dvc", "object", "object_id",
                                  "object_attrs", "object_category", "status", "user", "src", "orig_sid",
                                  "orig_rid", "result_id", "vendor_product", "outcome", "orig_action_name")} == {
        "action": "deleted", "change_type": "application", "command": "entra_remove_secret", "dest": APP_ID,
        "dvc": "graph.microsoft.com", "object": "Payroll sync", "object_id": APP_OBJECT,
        "object_attrs": ["passwordCredentials"], "object_category": "application", "status": "success",
        "user": "analyst1", "src": "sh1", "orig_sid": "scheduler__x", "orig_rid": "3", "result_id": "0",
        "vendor_product": "Microsoft Entra ID", "outcome": "changed", "orig_action_name": "entra_remove_secret"}
    assert event["tenant_id"] == TENANT and event["account"] == "responder" and event["key_id"] == KEY_ON_APP
    assert event["snapshot"]["object_id"] == APP_OBJECT and event["result"] == outcome.message


def test_audit_record_of_a_disable_names_the_app_as_user_and_the_analyst_as_src_user(graph):
    event = actions.audit_fields(run(actions.DISABLE_APP, graph), invocation=INVOCATION)
    assert (event["action"], event["object_category"]) == ("modified", "user")
    assert event["object_attrs"] == ["accountEnabled"]
    assert (event["user"], event["src_user"]) == ("Payroll sync", "analyst1")


# --- the CLI -----------------------------------------------------------------------------------------
def cli(argv, graph, tmp_path, monkeypatch):
    import io

    from connector.cli import build_parser

    monkeypatch.delenv("SPLUNK_HOME", raising=False)
    monkeypatch.setenv("ENTRA_CLIENT_SECRET", "cli-secret-value-never-printed")
    args = build_parser().parse_args(["respond", *argv, "--tenant-id", TENANT, "--client-id", COLLECTOR_APP_ID,
                                      "--state-dir", str(tmp_path / "state")])
    out, err = io.StringIO(), io.StringIO()
    code = respond_cli.cli_respond(args, graph_factory=lambda account: graph, stdout=out, stderr=err)
    return code, out.getvalue(), err.getvalue()


def test_cli_remove_secret_prints_the_audit_record_and_repeats_harmlessly(graph, tmp_path, monkeypatch):
    import json

    argv = ["remove-secret", "--app-id", APP_ID, "--object-type", "application", "--object-id", APP_OBJECT,
            "--key-id", KEY_ON_APP, "--force"]
    graph.sign_in_activity[KEY_ON_APP] = "2026-11-28T10:00:00Z"
    code, out, err = cli(argv, graph, tmp_path, monkeypatch)
    event = json.loads(out)
    assert code == 0 and event["outcome"] == "changed" and event["forced"] is True
    assert event["command"] == "entra_remove_secret" and event["account"] == "cli"
    assert err.startswith("changed: removed: secret 'prod'")
    code, out, err = cli(argv, graph, tmp_path, monkeypatch)
    assert code == 0 and json.loads(out)["outcome"] == "already_done"
    assert "cli-secret-value-never-printed" not in out + err


def test_cli_refuses_the_account_it_signs_in_as_and_bad_targets(graph, tmp_path, monkeypatch):
    code, out, err = cli(["disable-app", "--app-id", COLLECTOR_APP_ID], graph, tmp_path, monkeypatch)
    assert code == 1 and "protected" in err and graph.writes == []
    code, out, err = cli(["disable-app", "--app-id", "nope"], graph, tmp_path, monkeypatch)
    assert code == 2 and "not a GUID" in err and out == ""


def test_cli_dry_run_disable(graph, tmp_path, monkeypatch):
    code, out, err = cli(["disable-app", "--app-id", APP_ID, "--dry-run"], graph, tmp_path, monkeypatch)
    assert code == 0 and err.startswith("dry_run: dry run: would set accountEnabled=false") and graph.writes == []


def test_secret_removed_by_someone_else_between_read_and_removal_is_success(graph, journal):
    graph.fail[("POST", "removePassword")] = GraphNotFound(404, "Request_ResourceNotFound", "No password credential",
                                                           "req-race")
    outcome = remove(graph, journal)
    assert (outcome.outcome, outcome.status, outcome.graph_request_id) == ("already_done", "success", "req-race")
    assert "removed meanwhile" in outcome.message


def test_gone_object_after_our_own_removal_is_already_done(graph, journal):
    assert remove(graph, journal).outcome == "changed"
    del graph.applications[APP_OBJECT]
    outcome = remove(graph, journal)
    assert (outcome.outcome, outcome.status) == ("already_done", "success")
    assert "no longer exists" in outcome.message


def test_dry_run_names_the_graph_request_it_would_send(graph, journal):
    assert f"(POST /applications/{APP_OBJECT}/removePassword keyId={KEY_ON_APP})" in \
        remove(graph, journal, dry_run=True).message
    tgt = Target.from_fields({"app_id": APP_ID, "tenant_id": TENANT}, actions.DISABLE_APP)
    outcome = actions.run_action(actions.DISABLE_APP, graph, tgt, SETTINGS, dry_run=True)
    assert f"(PATCH /servicePrincipals/{SP_OBJECT} accountEnabled=false)" in outcome.message
