"""Every generated object matches Microsoft's documented shape, and the validator catches what is wrong."""
import copy
import re
import itertools
from datetime import datetime, timedelta, timezone

import pytest

from entra_simulator import shapes, signins
from entra_simulator.ids import Kind
from entra_simulator.model import generate_tenant
from entra_simulator.shapes import validate

NOW = datetime(2026, 11, 28, 12, 0, 0, tzinfo=timezone.utc)


@pytest.fixture(scope="module")
def demo(tmp_path_factory):
    return generate_tenant("demo", seed=7, now=NOW, workdir=str(tmp_path_factory.mktemp("demo")))


def _problems(resource, objects, limit=None):
    found, count = [], 0
    for item in itertools.islice(objects, limit):
        count += 1
        found.extend(f"{resource} {item.get('id')}: {problem}" for problem in validate(resource, item))
    return count, found


def _check_tenant(tenant, applications, service_principals, sign_ins):
    problems, counts = [], {}
    for resource, objects in (("application", applications), ("servicePrincipal", service_principals),
                              ("signIn", sign_ins),
                              ("appCredentialSignInActivity", tenant.iter_credential_activities()),
                              ("directoryAudit", tenant.iter_directory_audits()),
                              ("unifiedRoleAssignment", tenant.iter_role_assignments()),
                              ("unifiedRoleDefinition", tenant.iter_role_definitions())):
        objects = list(objects)
        counts[resource], found = _problems(resource, objects)
        problems += found
        if resource == "application":
            for app in objects:
                problems += _problems("federatedIdentityCredential", tenant.federated_credentials(app["id"]))[1]
                problems += _problems("directoryObject", tenant.owners(app["id"]))[1]
        if resource == "servicePrincipal":
            for sp in objects:
                problems += _problems("appRoleAssignment", tenant.app_role_assignments(sp["id"]))[1]
                problems += _problems("directoryObject", tenant.owners(sp["id"]))[1]
    return counts, problems


def test_demo_validates_completely(demo):
    counts, problems = _check_tenant(demo, demo.iter_applications(), demo.iter_service_principals(),
                                     demo.iter_signins())
    assert problems == []
    assert counts["signIn"] == demo.signin_count and counts["application"] == demo.application_count
    assert counts["directoryAudit"] > 0 and counts["appCredentialSignInActivity"] > 0
    run_time = demo.make_signin(demo.identities["collector"].sp_object_id, sequence=9)
    assert validate("signIn", run_time) == []


def test_medium_sample_validates(tmp_path):
    tenant = generate_tenant("medium", seed=11, now=NOW, workdir=str(tmp_path))
    apps = [tenant.application(tenant.codec.guid(Kind.APPLICATION, i)) for i in range(0, tenant.application_count, 25)]
    sps = [tenant.service_principal(tenant.codec.guid(Kind.SERVICE_PRINCIPAL, i))
           for i in range(0, tenant.service_principal_count, 25)]
    older = tenant.iter_signins(NOW - timedelta(days=20), NOW - timedelta(days=19))
    sign_ins = itertools.chain(itertools.islice(tenant.iter_signins(), 1500), older)
    counts, problems = _check_tenant(tenant, apps, sps, sign_ins)
    assert problems == []
    assert counts["application"] == 200 and counts["signIn"] > 2000


def test_large_sample_validates(tmp_path):
    tenant = generate_tenant("large", seed=7, now=NOW, workdir=str(tmp_path))
    ends = list(range(150)) + list(range(tenant.application_count - 150, tenant.application_count))
    apps = [tenant.application(tenant.codec.guid(Kind.APPLICATION, i)) for i in ends]
    sps = [tenant.service_principal(tenant.codec.guid(Kind.SERVICE_PRINCIPAL, i))
           for i in ends + list(range(tenant.application_count, tenant.service_principal_count, 10))]
    sign_ins = itertools.chain(itertools.islice(tenant.iter_signins(), 400),
                               itertools.islice(tenant.iter_signins(end=NOW - timedelta(days=29, hours=23)), 400))
    for resource, objects in (("application", apps), ("servicePrincipal", sps), ("signIn", sign_ins)):
        count, problems = _problems(resource, objects)
        assert problems == [] and count >= 300


def test_sign_in_records_carry_exactly_the_documented_properties():
    assert set(signins._TEMPLATE) == shapes.SIGN_IN_DOCUMENTED
    assert shapes.SIGN_IN_DOCUMENTED <= set(shapes.SHAPES["signIn"].properties)


# ---- the validator rejects what Graph would never send ------------------------------------------------
@pytest.fixture(scope="module")
def sample(demo):
    app = next(a for a in demo.iter_applications() if a["passwordCredentials"] and a["keyCredentials"])
    record = next(r for r in demo.iter_signins() if r["clientCredentialType"] == "clientSecret")
    return app, record


def _mutated(original, change):
    value = copy.deepcopy(original)
    change(value)
    return value


@pytest.mark.parametrize("change, expected", [
    (lambda a: a.update(secretValue="x"), "secretValue: not a documented application property"),
    (lambda a: a.pop("signInAudience"), "signInAudience: missing"),
    (lambda a: a.update(appId="not-a-guid"), "appId: expected guid"),
    (lambda a: a.update(id=a["id"].upper()), "id: expected guid"),
    (lambda a: a.update(passwordCredentials=None), "passwordCredentials: documented as not nullable"),
    (lambda a: a["passwordCredentials"][0].update(endDateTime="2021-03-01T00:00:00-8:00"),
     "passwordCredentials[0].endDateTime: expected datetime"),
    (lambda a: a["passwordCredentials"][0].update(keyId="{%s}" % a["passwordCredentials"][0]["keyId"]),
     "passwordCredentials[0].keyId: expected guid"),
    (lambda a: a["keyCredentials"][0].update(type="Certificate"), "keyCredentials[0].type: 'Certificate' is not one of"),
    (lambda a: a["passwordCredentials"][0].update(expires="2030"), "passwordCredentials[0].expires: not a documented"),
    (lambda a: a.update(signInAudience="Everyone"), "signInAudience: 'Everyone' is not one of"),
    (lambda a: a.update(owners=[]), "owners: relationship returned without $expand"),
    (lambda a: a.update(isFallbackPublicClient="false"), "isFallbackPublicClient: expected bool"),
    (lambda a: a["web"].update(redirectUris="https://x"), "web.redirectUris: expected a collection"),
])
def test_validator_reports_defects_in_an_application(sample, change, expected):
    app, _ = sample
    assert validate("application", app) == []
    problems = validate("application", _mutated(app, change))
    assert any(problem.startswith(expected) for problem in problems), problems


@pytest.mark.parametrize("change, expected", [
    (lambda r: r.update(clientCredentialType="password"), "clientCredentialType: 'password' is not one of"),
    (lambda r: r["status"].update(errorCode="0"), "status.errorCode: expected int"),
    (lambda r: r.update(createdDateTime="2024-01-14 17:43:26"), "createdDateTime: expected datetime"),
    (lambda r: r.update(servicePrincipalCredentialKeyId="abc"), "servicePrincipalCredentialKeyId: expected guid_or_empty"),
    (lambda r: r.update(signInEventTypes=["service"]), "signInEventTypes[0]: 'service' is not one of"),
    (lambda r: r.update(authenticationProtocol="oAuth2,telepathy"), "authenticationProtocol: 'oAuth2,telepathy' is not a"),
    (lambda r: r.pop("servicePrincipalCredentialKeyId"), "servicePrincipalCredentialKeyId: missing"),
    (lambda r: r.update(credentialKeyId="x"), "credentialKeyId: not a documented signIn property"),
    (lambda r: r["location"]["geoCoordinates"].update(latitude="47.6"), "location.geoCoordinates.latitude: expected number"),
])
def test_validator_reports_defects_in_a_sign_in(sample, change, expected):
    _, record = sample
    assert validate("signIn", record) == []
    problems = validate("signIn", _mutated(record, change))
    assert any(problem.startswith(expected) for problem in problems), problems


def test_select_requires_exactly_the_selected_properties(sample):
    app, _ = sample
    trimmed = {key: app[key] for key in ("id", "appId", "passwordCredentials")}
    assert validate("application", trimmed, selected=["id", "appId", "passwordCredentials"]) == []
    assert validate("application", trimmed, selected=["id", "appId", "passwordCredentials", "keyCredentials"]) == \
        ["keyCredentials: missing ($select)"]
    assert validate("application", trimmed) != []    # without $select every default property is expected


def test_directory_objects_are_checked_as_their_odata_type(demo):
    owner = next(o for a in demo.iter_applications() for o in demo.owners(a["id"]))
    assert validate("directoryObject", owner) == []
    assert validate("directoryObject", {**owner, "@odata.type": "#microsoft.graph.printer"}) != []
    assert any("mail" in p for p in validate("directoryObject", {k: v for k, v in owner.items() if k != "mail"}))


def test_unknown_resource_names_fail_loudly():
    with pytest.raises(KeyError):
        validate("application2", {})


def test_documented_odd_report_form_keeps_the_facts_and_is_flagged(demo):
    from entra_simulator.doc_examples import credential_activity_as_in_docs
    from entra_simulator import timefmt

    activity = next(a for a in demo.iter_credential_activities() if a["keyType"] == "clientSecret")
    odd = credential_activity_as_in_docs(activity)
    assert odd["keyType"] == "secret" and "expirationDateTime" not in odd and "createdDateTime" not in odd
    assert re.match(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d-8:00$", odd["signInActivity"]["lastSignInDateTime"])
    # same instant: a tolerant parser that reads "-8:00" as -08:00 gets the canonical time back
    repaired = odd["signInActivity"]["lastSignInDateTime"].replace("-8:00", "-08:00")
    assert timefmt.parse(repaired) == timefmt.parse(activity["signInActivity"]["lastSignInDateTime"])
    assert odd["keyId"] == activity["keyId"] and odd["id"] == activity["id"]
    problems = validate("appCredentialSignInActivity", odd)
    assert any(p.startswith("expirationDate:") for p in problems)
    assert any(p.startswith("keyType:") for p in problems)
