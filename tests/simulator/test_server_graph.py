"""Graph routes and query options, against the generated demo tenant."""
import concurrent.futures
import datetime

import pytest

from server_helpers import Graph, acquire, certificate_credential, error_code


@pytest.fixture
def graph(clean_simulator):
    return Graph(clean_simulator, "collector")


@pytest.mark.parametrize("collection, iterate", [("applications", "iter_applications"),
                                                 ("servicePrincipals", "iter_service_principals")])
def test_paging_walks_every_object_exactly_once(clean_simulator, graph, collection, iterate):
    sim = clean_simulator
    expected = [item["id"] for item in getattr(sim.tenant, iterate)()]
    items, pages = graph.walk(f"/{collection}?$top=7&$select=id,displayName")
    assert [item["id"] for item in items] == expected
    assert pages == -(-len(expected) // 7)
    assert len(set(expected)) == len(expected) == getattr(
        sim.tenant, "application_count" if collection == "applications" else "service_principal_count")


def test_default_page_is_100_and_next_link_carries_the_query(graph):
    body = graph.get("/applications?$select=id").json()
    assert len(body["value"]) == min(100, graph.sim.tenant.application_count)
    if "@odata.nextLink" in body:
        assert "$select=id" in body["@odata.nextLink"] and "$skiptoken=" in body["@odata.nextLink"]


def test_select_trims_fields_and_always_returns_id(graph):
    body = graph.get("/applications?$select=displayName,passwordCredentials&$top=5").json()
    assert body["@odata.context"].endswith("$metadata#applications(displayName,passwordCredentials)")
    for item in body["value"]:
        assert set(item) == {"id", "displayName", "passwordCredentials"}
    full = graph.get("/applications?$top=1").json()["value"][0]
    assert {"appId", "keyCredentials", "signInAudience"} <= set(full)


def test_select_of_an_unknown_property_is_400(graph):
    response = graph.get("/applications?$select=id,notAProperty")
    assert response.status_code == 400 and "notAProperty" in response.json()["error"]["message"]


@pytest.mark.parametrize("path, api, limit", [("/applications", "v1.0", 999), ("/servicePrincipals", "beta", 999),
                                              ("/auditLogs/signIns", "beta", 1000)])
def test_top_above_graphs_maximum_is_400(clean_simulator, path, api, limit):
    graph = Graph(clean_simulator, "collector")
    assert graph.get(f"{path}?$top={limit}", api=api).status_code == 200
    response = graph.get(f"{path}?$top={limit + 1}", api=api)
    assert response.status_code == 400
    assert str(limit) in response.json()["error"]["message"]


def test_get_by_id_and_by_app_id(graph):
    sim = graph.sim
    application = next(iter(sim.tenant.iter_applications()))
    by_id = graph.get(f"/applications/{application['id']}").json()
    by_app_id = graph.get(f"/applications(appId='{application['appId']}')").json()
    assert by_id["id"] == by_app_id["id"] == application["id"]
    assert by_id["@odata.context"].endswith("$metadata#applications/$entity")
    sp = graph.get(f"/servicePrincipals(appId='{application['appId']}')?$select=appId,accountEnabled")
    assert sp.status_code == 200 and sp.json()["appId"] == application["appId"]


def test_filters_the_add_on_sends(graph):
    sim = graph.sim
    application = next(iter(sim.tenant.iter_applications()))
    found = graph.get(f"/servicePrincipals?$filter=appId eq '{application['appId']}'").json()["value"]
    assert [sp["appId"] for sp in found] == [application["appId"]]
    graph_sp = graph.get("/servicePrincipals?$filter=displayName eq 'Microsoft Graph'"
                         "&$select=id,appId,appRoles").json()["value"]
    assert [sp["appId"] for sp in graph_sp] == ["00000003-0000-0000-c000-000000000000"]
    assert graph_sp[0]["appRoles"]


@pytest.mark.parametrize("query", ["$filter=notes eq 'x'", "$filter=displayName gt 'a'", "$filter=appId eq",
                                   "$orderby=displayName", "$search=\"displayName:a\""])
def test_unsupported_queries_fail_loudly(graph, query):
    response = graph.get(f"/applications?{query}")
    assert response.status_code == 400
    assert error_code(response) in ("Request_UnsupportedQuery", "Request_BadRequest")


def test_unknown_objects_routes_and_methods(graph):
    missing = graph.get("/applications/00000000-0000-4000-8000-000000000000")
    assert missing.status_code == 404 and error_code(missing) == "Request_ResourceNotFound"
    assert graph.get("/applicationz").status_code == 400
    assert graph.request("DELETE", "/applications").status_code == 405
    assert graph.get("/reports/appCredentialSignInActivities", api="v1.0").status_code == 400
    bad = graph.get("/applications")
    assert bad.headers["request-id"] and bad.headers["client-request-id"]


def test_count_needs_consistency_level(graph):
    sim = graph.sim
    assert graph.get("/applications/$count").status_code == 400
    count = graph.get("/applications/$count", headers={"ConsistencyLevel": "eventual"})
    assert count.headers["Content-Type"].startswith("text/plain")
    assert int(count.text) == sim.tenant.application_count
    body = graph.get("/servicePrincipals?$count=true&$top=1", headers={"ConsistencyLevel": "eventual"}).json()
    assert body["@odata.count"] == sim.tenant.service_principal_count


FEDERATED_HOLDERS = "/applications?$filter=federatedIdentityCredentials/$count ne 0&$select=id,appId,displayName"


def test_apps_with_federated_credentials_in_one_advanced_query(graph):
    """The documented advanced query: ConsistencyLevel: eventual and $count=true, on every page."""
    sim = graph.sim
    expected = [app["id"] for app in sim.tenant.iter_applications() if sim.tenant.federated_credentials(app["id"])]
    assert expected and len(expected) < sim.tenant.application_count
    eventual = {"ConsistencyLevel": "eventual"}
    items, pages = graph.walk(FEDERATED_HOLDERS + "&$count=true&$top=2", headers=eventual)
    assert [item["id"] for item in items] == expected and pages == -(-len(expected) // 2)
    assert all(set(item) == {"id", "appId", "displayName"} for item in items)
    first = graph.get(FEDERATED_HOLDERS + "&$count=true", headers=eventual).json()
    assert first["@odata.count"] == len(expected)
    empty = graph.walk("/applications?$filter=federatedIdentityCredentials/$count eq 0&$count=true&$select=id&$top=999",
                       headers=eventual)[0]
    assert len(empty) + len(expected) == sim.tenant.application_count


@pytest.mark.parametrize("query, headers", [("", {"ConsistencyLevel": "eventual"}), ("&$count=true", {}),
                                            ("&$count=false", {"ConsistencyLevel": "eventual"}), ("", {})])
def test_federated_count_filter_without_advanced_query_parameters_is_refused(graph, query, headers):
    response = graph.get(FEDERATED_HOLDERS + query, headers=headers)
    assert response.status_code == 400 and error_code(response) == "Request_UnsupportedQuery"
    message = response.json()["error"]["message"]
    assert "Operator 'ne' is not supported" in message and "ConsistencyLevel:eventual" in message


def test_federated_count_filter_next_link_needs_the_header_again(graph):
    eventual = {"ConsistencyLevel": "eventual"}
    next_link = graph.get(FEDERATED_HOLDERS + "&$count=true&$top=1", headers=eventual).json()["@odata.nextLink"]
    assert "%24count=true" in next_link or "$count=true" in next_link
    assert graph.get(next_link).status_code == 400
    assert graph.get(next_link, headers=eventual).status_code == 200


def test_federated_count_filter_inside_batch_takes_the_header_from_the_inner_request(graph):
    url = FEDERATED_HOLDERS.replace(" ", "%20") + "&$count=true"
    answers = graph.post("/$batch", json={"requests": [
        {"id": "1", "method": "GET", "url": url, "headers": {"ConsistencyLevel": "eventual"}},
        {"id": "2", "method": "GET", "url": url}]}).json()["responses"]
    status = {answer["id"]: answer["status"] for answer in answers}
    assert status == {"1": 200, "2": 400}


def test_tampered_or_foreign_skip_token_is_400(graph):
    next_link = graph.get("/applications?$top=2&$select=id").json()["@odata.nextLink"]
    head, token = next_link.split("$skiptoken=")
    tampered = head + "$skiptoken=" + token[:-2] + ("AA" if not token.endswith("AA") else "BB")
    assert graph.get(tampered).status_code == 400
    assert graph.get(next_link.replace("/applications?", "/servicePrincipals?")).status_code == 400
    assert graph.get(next_link.replace("$top=2", "$top=3")).status_code == 400
    assert graph.get(next_link).status_code == 200


def test_keys_of_certificates_are_null_in_lists(graph):
    for item in graph.walk("/applications?$top=999")[0]:
        assert all(cred["key"] is None for cred in item["keyCredentials"])


def test_sub_collections(graph):
    sim = graph.sim
    collector = sim.collector
    assignments = graph.get(f"/servicePrincipals/{collector.sp_object_id}/appRoleAssignments").json()["value"]
    assert assignments and all(a["principalId"] == collector.sp_object_id for a in assignments)
    owners = graph.get(f"/applications/{collector.app_object_id}/owners")
    assert owners.status_code == 200 and isinstance(owners.json()["value"], list)
    owned = next(app for app in sim.tenant.iter_applications() if sim.tenant.owners(app["id"]))
    selected = graph.get(f"/applications/{owned['id']}/owners?$select=id,displayName,userPrincipalName,appId")
    assert selected.status_code == 200, "directoryObject collections keep what each type has"
    assert [o["id"] for o in selected.json()["value"]] == [o["id"] for o in sim.tenant.owners(owned["id"])]
    assert all("appId" not in o for o in selected.json()["value"] if "userPrincipalName" in o)
    fics = graph.get(f"/applications(appId='{collector.client_id}')/federatedIdentityCredentials")
    assert fics.status_code == 200
    assert fics.json()["value"] == sim.tenant.federated_credentials(collector.app_object_id)


def test_role_assignments_by_principal_with_expanded_definition(graph):
    sim = graph.sim
    assignment = next(iter(sim.tenant.iter_role_assignments()))
    principal = assignment["principalId"]
    body = graph.get(f"/roleManagement/directory/roleAssignments?$filter=principalId eq '{principal}'"
                     "&$expand=roleDefinition").json()
    assert body["value"] and all(item["principalId"] == principal for item in body["value"])
    assert all(item["roleDefinition"]["id"] == item["roleDefinitionId"] for item in body["value"])
    expanded = graph.get(f"/roleManagement/directory/roleAssignments?$filter=principalId eq '{principal}'"
                         "&$expand=principal").json()["value"]
    assert all(item["principal"]["id"] == principal for item in expanded)
    definition = graph.get(f"/roleManagement/directory/roleDefinitions/{assignment['roleDefinitionId']}").json()
    assert definition["id"] == assignment["roleDefinitionId"] and definition["displayName"]


def test_beta_signins_are_interactive_unless_service_principal_events_are_asked_for(graph):
    default = graph.get("/auditLogs/signIns?$top=50", api="beta").json()["value"]
    assert all("interactiveUser" in item["signInEventTypes"] for item in default)
    wanted = "signInEventTypes/any(t: t eq 'servicePrincipal')"
    sp_events = graph.get(f"/auditLogs/signIns?$top=50&$filter={wanted}", api="beta").json()["value"]
    assert sp_events and all("servicePrincipal" in item["signInEventTypes"] for item in sp_events)
    assert all("servicePrincipalCredentialKeyId" in item for item in sp_events)
    stamps = [item["createdDateTime"] for item in sp_events]
    assert stamps == sorted(stamps, reverse=True), "newest first"


def test_signin_time_window_matches_the_generator(graph):
    sim = graph.sim
    newest = next(iter(sim.tenant.iter_signins()))["createdDateTime"]
    start = sim.tenant.now.replace(microsecond=0) - datetime.timedelta(days=2)
    start_text = start.strftime("%Y-%m-%dT%H:%M:%SZ")
    expected = [s["id"] for s in sim.tenant.iter_signins(start=start)
                if "servicePrincipal" in s["signInEventTypes"]]
    items, _pages = graph.walk(f"/auditLogs/signIns?$top=100&$filter=createdDateTime ge {start_text} and "
                               "signInEventTypes/any(t: t eq 'servicePrincipal')", api="beta")
    assert [item["id"] for item in items] == expected and newest


def test_v1_signins_have_no_service_principal_fields(graph):
    items = graph.get("/auditLogs/signIns?$top=20").json()["value"]
    assert items
    for item in items:
        assert not {"signInEventTypes", "servicePrincipalCredentialKeyId", "clientCredentialType"} & set(item)
    response = graph.get("/auditLogs/signIns?$filter=signInEventTypes/any(t: t eq 'servicePrincipal')")
    assert response.status_code == 400


def test_reports(graph):
    activities = graph.get("/reports/appCredentialSignInActivities?$top=5", api="beta").json()["value"]
    assert activities and {"keyId", "appId", "signInActivity"} <= set(activities[0])
    key_id = activities[0]["keyId"]
    filtered = graph.get(f"/reports/appCredentialSignInActivities?$filter=keyId eq '{key_id}'", api="beta").json()
    assert [item["keyId"] for item in filtered["value"]] == [key_id]
    audits = graph.get("/auditLogs/directoryAudits?$top=5").json()["value"]
    assert audits is not None


def test_limited_app_is_refused_sign_ins_and_the_collector_is_refused_writes(clean_simulator):
    sim = clean_simulator
    limited = Graph(sim, "limited")
    for path, api in (("/auditLogs/signIns", "beta"), ("/reports/appCredentialSignInActivities", "beta")):
        response = limited.get(path, api=api)
        assert response.status_code == 403 and error_code(response) == "Authorization_RequestDenied"
        assert response.json()["error"]["message"] == "Insufficient privileges to complete the operation."
    collector = Graph(sim, "collector")
    target = next(expected for expected in sim.tenant.expected_secrets() if expected.object_type == "application")
    response = collector.post(f"/applications/{target.object_id}/removePassword", json={"keyId": target.key_id})
    assert response.status_code == 403
    assert target.key_id in sim.state.password_key_ids("applications", target.object_id)


@pytest.mark.parametrize("object_type, collection", [("application", "applications"),
                                                     ("servicePrincipal", "servicePrincipals")])
def test_remove_password_on_either_object(clean_simulator, object_type, collection):
    sim = clean_simulator
    responder = Graph(sim, "responder")
    target = next(e for e in sim.tenant.expected_secrets()
                  if e.object_type == object_type and "collector_app" not in e.traits)
    response = responder.post(f"/{collection}/{target.object_id}/removePassword", json={"keyId": target.key_id})
    assert response.status_code == 204 and response.content == b""
    assert target.key_id not in sim.state.password_key_ids(collection, target.object_id)
    after = responder.get(f"/{collection}/{target.object_id}?$select=passwordCredentials").json()
    assert target.key_id not in [cred["keyId"] for cred in after["passwordCredentials"]]
    again = responder.post(f"/{collection}/{target.object_id}/removePassword", json={"keyId": target.key_id})
    assert again.status_code == 404


def test_patch_account_enabled(clean_simulator):
    sim = clean_simulator
    responder = Graph(sim, "responder")
    sp = next(iter(sim.tenant.iter_service_principals()))
    response = responder.patch(f"/servicePrincipals/{sp['id']}", json={"accountEnabled": False})
    assert response.status_code == 204
    assert sim.state.account_enabled(sp["id"]) is False
    assert responder.get(f"/servicePrincipals/{sp['id']}").json()["accountEnabled"] is False
    assert responder.patch(f"/servicePrincipals/{sp['id']}", json={"accountEnabled": "no"}).status_code == 400
    assert responder.request("PATCH", f"/servicePrincipals/{sp['id']}", data="accountEnabled=false",
                             headers={"Content-Type": "application/x-www-form-urlencoded"}).status_code == 400


SP_SIGNINS = "/auditLogs/signIns?$filter=signInEventTypes/any(t: t eq 'servicePrincipal')"


def test_run_time_sign_ins_are_served_newest_first_beside_the_generated_log(clean_simulator):
    sim = clean_simulator
    graph = Graph(sim, "collector")
    newest_generated = graph.get(SP_SIGNINS + "&$top=1", api="beta").json()["value"][0]
    collector = sim.collector
    record = sim.add_signin(collector.sp_object_id, key_id=collector.secret_key_id)
    first_two = graph.get(SP_SIGNINS + "&$top=2", api="beta").json()["value"]
    assert [item["id"] for item in first_two] == [record["id"], newest_generated["id"]]
    assert first_two[0]["servicePrincipalCredentialKeyId"] == collector.secret_key_id
    before = sim.tenant.now.strftime("%Y-%m-%dT%H:%M:%SZ")
    older = graph.get(SP_SIGNINS + f" and createdDateTime le {before}&$top=1", api="beta").json()["value"]
    assert older[0]["id"] != record["id"]
    sim.reset()
    assert graph.get(SP_SIGNINS + "&$top=1", api="beta").json()["value"][0]["id"] == newest_generated["id"]


def test_recorded_sign_ins_follow_the_token_requests(simulator_factory):
    sim = simulator_factory(record_signins=True)
    collector = sim.collector
    acquire(sim, "collector")                                              # its client secret
    acquire(sim, "collector", credential=certificate_credential(collector, "PS256"))
    acquire(sim, "collector", credential="a wrong secret")
    graph = Graph(sim, "responder")
    own = graph.get(SP_SIGNINS + f" and appId eq '{collector.client_id}'&$top=3", api="beta").json()["value"]
    assert [(item["status"]["errorCode"], item["servicePrincipalCredentialKeyId"]) for item in own][1:] == [
        (0, collector.certificate_key_id), (0, collector.secret_key_id)]
    assert own[0]["status"]["errorCode"] == 7000215
    assert own[2]["clientCredentialType"] == "clientSecret" and own[2]["ipAddress"] == "127.0.0.1"


def test_a_walk_survives_losing_its_cached_iterator_and_concurrent_walks_do_not_mix(clean_simulator):
    sim = clean_simulator
    expected = [item["id"] for item in sim.tenant.iter_service_principals()]
    graph = Graph(sim, "collector")
    ids, url = [], "/servicePrincipals?$top=9&$select=id"
    while url:
        body = graph.get(url).json()
        ids.extend(item["id"] for item in body["value"])
        url = body.get("@odata.nextLink")
        sim.pager.clear()  # as if evicted: the next page is rebuilt from the signed offset
    assert ids == expected
    with concurrent.futures.ThreadPoolExecutor(4) as pool:
        walks = list(pool.map(lambda top: Graph(sim, "collector").walk(f"/servicePrincipals?$top={top}&$select=id"),
                              (5, 7, 11, 13)))
    assert all([item["id"] for item in items] == expected for items, _pages in walks)
