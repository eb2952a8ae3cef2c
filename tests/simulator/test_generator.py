"""The tenant generator: determinism, ground truth, every demo case, O(1) lookups, bounded memory."""
import gc
import itertools
import json
import random
import re
import time
import uuid
from collections import defaultdict
from datetime import datetime, timedelta, timezone

import pytest
import base64

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization

from entra_simulator import catalog
from entra_simulator.ids import Kind
from entra_simulator.model import TRAITS, generate_tenant

NOW = datetime(2026, 11, 28, 12, 0, 0, tzinfo=timezone.utc)
WIRE_FACTS_HIGH_RISK_ROLE_IDS = {   # graph-wire-facts.md section 4
    "9e3f62cf-ca93-4989-b6ce-bf83c28f9fe8", "06b708a9-e830-4db3-a914-8e69da51d44f",
    "1bfefb4e-e0b5-418b-a88f-73c46d2cc8e9", "18a4783c-866b-4cc7-a460-3d5e5662c884",
    "19dbc75e-c2e2-444c-a770-ec69d8559fc7", "741f803b-c850-494e-b5df-cde7c675a1ca",
    "62a82d76-70ea-41e2-9197-370581804d09", "dbaae8cf-10b5-4b86-a4a1-f871c94c6695",
    "89c8469c-83ad-45f7-8ff2-6e3d4285709e", "01c0a623-fc9b-48e9-b794-0756f8e8f067",
    "e2a3a72e-5f79-4c64-b1b1-878b674786c9", "810c84a8-4a9e-49e6-bf7d-12d183f40d01",
    "b633e1c5-b582-4048-a93e-9f11b44c7e96", "75359482-378d-4052-8f01-80520e7db3cd",
    "9492366f-7969-46a4-8d15-ed1a20078fff", "a82116e5-55eb-4c41-a434-62fe8a61c773",
    "7ab1d382-f21e-4acd-a863-ba3e13f7da61", "df021288-bdef-4463-88db-98f22de89214",
    "dc890d15-9560-4a4c-9b7f-a736ec74ec40",
}
GUID = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$")


@pytest.fixture(scope="module")
def demo(tmp_path_factory):
    return generate_tenant("demo", seed=7, now=NOW, workdir=str(tmp_path_factory.mktemp("demo")))


@pytest.fixture(scope="module")
def demo_signins(demo):
    return list(demo.iter_signins())


@pytest.fixture(scope="module")
def medium(tmp_path_factory):
    return generate_tenant("medium", seed=11, now=NOW, workdir=str(tmp_path_factory.mktemp("medium")))


@pytest.fixture(scope="module")
def large(tmp_path_factory):
    return generate_tenant("large", seed=7, now=NOW, workdir=str(tmp_path_factory.mktemp("large")))


def _secrets_of(tenant, expected):
    holder = tenant.application(expected.object_id) if expected.object_type == "application" \
        else tenant.service_principal(expected.object_id)
    return holder, {c["keyId"]: c for c in (holder or {}).get("passwordCredentials", [])}


# ---- determinism -----------------------------------------------------------------------------------
def test_same_seed_gives_identical_objects_and_identities(demo, tmp_path):
    again = generate_tenant("demo", seed=7, now=NOW, workdir=str(tmp_path))
    assert again.tenant_id == demo.tenant_id
    assert list(again.iter_applications()) == list(demo.iter_applications())
    assert list(again.iter_service_principals()) == list(demo.iter_service_principals())
    assert list(itertools.islice(again.iter_signins(), 300)) == list(itertools.islice(demo.iter_signins(), 300))
    assert list(again.iter_directory_audits()) == list(demo.iter_directory_audits())
    for name, identity in demo.identities.items():
        other = again.identities[name]
        assert (other.client_id, other.thumbprint_sha1, other.secret, other.certificate_pem) == \
               (identity.client_id, identity.thumbprint_sha1, identity.secret, identity.certificate_pem)


def test_other_seed_gives_other_ids(demo, tmp_path):
    other = generate_tenant("demo", seed=8, now=NOW, workdir=str(tmp_path))
    assert other.tenant_id != demo.tenant_id
    ids = {a["id"] for a in demo.iter_applications()}
    assert not ids & {a["id"] for a in other.iter_applications()}
    assert other.identities["collector"].thumbprint_sha1 != demo.identities["collector"].thumbprint_sha1


def test_medium_objects_are_a_function_of_seed_and_index(medium, tmp_path):
    again = generate_tenant("medium", seed=11, now=NOW, workdir=str(tmp_path))
    for index in (3, 1234, 4999):
        object_id = medium.codec.guid(Kind.APPLICATION, index)
        assert again.application(object_id) == medium.application(object_id) is not None
        assert next(itertools.islice(medium.iter_applications(), index, None))["id"] == object_id


# ---- ground truth ----------------------------------------------------------------------------------
def test_every_expected_secret_exists_on_the_named_object(demo, medium):
    for tenant in (demo, medium):
        count = 0
        for expected in tenant.expected_secrets():
            holder, secrets = _secrets_of(tenant, expected)
            assert holder is not None, expected
            assert expected.key_id in secrets, expected
            assert holder["appId"] == expected.app_id
            assert expected.traits <= TRAITS
            assert ("used" in expected.traits) != ("unused" in expected.traits)
            count += 1
        total = sum(len(a["passwordCredentials"]) for a in tenant.iter_applications()) + \
            sum(len(s["passwordCredentials"]) for s in tenant.iter_service_principals())
        assert count == total     # and nothing else has a secret


def test_ground_truth_agrees_with_the_sign_in_log(demo, demo_signins):
    successes, attempts = defaultdict(list), defaultdict(int)
    for record in demo_signins:
        key_id = record["servicePrincipalCredentialKeyId"]
        if key_id:
            attempts[key_id] += 1
            if record["status"]["errorCode"] == 0:
                successes[key_id].append(record)
    for expected in demo.expected_secrets():
        used = successes.get(expected.key_id, [])
        assert ("used" in expected.traits) == bool(used), expected
        assert ("unused" in expected.traits) == (attempts[expected.key_id] == 0), expected
        assert ("many_source_ips" in expected.traits) == (len({r["ipAddress"] for r in used}) >= 5), expected
        for record in used:   # a secret signs in only while valid, only as its own app
            assert record["appId"] == expected.app_id
            holder, secrets = _secrets_of(demo, expected)
            credential = secrets[expected.key_id]
            assert credential["startDateTime"][:19] <= record["createdDateTime"][:19] <= credential["endDateTime"][:19]


def test_credential_activity_report_matches_the_log(demo, demo_signins):
    last = {}
    for record in demo_signins:       # newest first: the first one seen per keyId is the last use
        key_id = record["servicePrincipalCredentialKeyId"]
        if key_id and record["status"]["errorCode"] == 0:
            last.setdefault(key_id, record)
    report = {a["keyId"]: a for a in demo.iter_credential_activities()}
    assert set(report) == set(last)
    for key_id, activity in report.items():
        assert activity["signInActivity"]["lastSignInDateTime"] == last[key_id]["createdDateTime"]
        assert activity["signInActivity"]["lastSignInRequestId"] == last[key_id]["id"]
        assert activity["appId"] == last[key_id]["appId"]


def test_traits_are_computed_from_the_credential_facts(demo):
    for expected in demo.expected_secrets():
        _, secrets = _secrets_of(demo, expected)
        credential = secrets[expected.key_id]
        end = credential["endDateTime"]
        assert ("never_expires" in expected.traits) == end.startswith(("2299-", "9999-"))
        assert ("expired" in expected.traits) == (end[:19] < NOW.strftime("%Y-%m-%dT%H:%M:%S"))
        assert ("on_service_principal" in expected.traits) == (expected.object_type == "servicePrincipal")


# ---- the demo shows every case -----------------------------------------------------------------------
def test_demo_covers_every_trait_and_case(demo, demo_signins):
    traits = set().union(*(e.traits for e in demo.expected_secrets()))
    assert traits == TRAITS
    applications = list(demo.iter_applications())
    service_principals = list(demo.iter_service_principals())
    assert 40 <= len(applications) <= 60
    names = [a["displayName"] for a in applications]
    assert any(set("<>&\"'") <= set(n) for n in names), "XML metacharacters"
    assert any(any(ord(c) < 32 for c in n) for n in names), "control characters"
    assert any(len(n) == 256 for n in names), "256-character name"
    assert any(any(ord(c) > 0x3000 for c in n) for n in names), "non-Latin script"
    ends = {c["endDateTime"] for a in applications for c in a["passwordCredentials"]}
    assert "2299-12-31T05:00:00Z" in ends and "9999-12-31T23:59:59.9999999Z" in ends
    assert any(len(a["passwordCredentials"]) >= 3 for a in applications), "several secrets on one app"
    assert any(s["passwordCredentials"] for s in service_principals), "secret on a service principal object"
    assert any(k["type"] == "AsymmetricX509Cert" for a in applications for k in a["keyCredentials"])
    assert any(k["type"] == "Symmetric" for a in applications for k in a["keyCredentials"])
    assert any(demo.federated_credentials(a["id"]) for a in applications)
    assert {"AzureADMultipleOrgs", "AzureADandPersonalMicrosoftAccount"} <= {a["signInAudience"] for a in applications}
    assert any(s["accountEnabled"] is False for s in service_principals)
    assert any(s["servicePrincipalType"] == "ManagedIdentity" for s in service_principals)
    assert any(s["appOwnerOrganizationId"] not in (demo.tenant_id, catalog.MICROSOFT_SERVICES_TENANT_ID, None)
               for s in service_principals), "third-party multi-tenant service principal"
    assert {r["clientCredentialType"] for r in demo_signins} >= {
        "clientSecret", "certificate", "federatedIdentityCredential", "managedIdentity", "none"}
    assert any(r["status"]["errorCode"] == 7000215 for r in demo_signins)
    assert any(r["signInEventTypes"] == ["interactiveUser"] for r in demo_signins)
    audits = list(demo.iter_directory_audits())
    assert {"Update application – Certificates and secrets management ", "Add service principal credentials"} <= \
        {a["activityDisplayName"] for a in audits}
    assert any(p["newValue"] == "[]" for a in audits for p in a["targetResources"][0]["modifiedProperties"]), "removal"


def test_demo_permissions_resolve_through_the_graph_service_principal(demo):
    graph = demo.service_principal_by_app_id(catalog.MICROSOFT_GRAPH_APP_ID)
    assert graph["id"] == demo.microsoft_graph_sp_id
    role_names = {role["id"]: role["value"] for role in graph["appRoles"]}
    assert WIRE_FACTS_HIGH_RISK_ROLE_IDS - {"dc890d15-9560-4a4c-9b7f-a736ec74ec40"} <= set(role_names)
    exchange = demo.service_principal_by_app_id(catalog.EXCHANGE_ONLINE_APP_ID)
    resources = {graph["id"]: role_names, exchange["id"]: {r["id"]: r["value"] for r in exchange["appRoles"]}}
    granted = set()
    for sp in demo.iter_service_principals():
        for assignment in demo.app_role_assignments(sp["id"]):
            assert assignment["principalId"] == sp["id"]
            granted.add(resources[assignment["resourceId"]][assignment["appRoleId"]])
    assert {"Application.ReadWrite.All", "AppRoleAssignment.ReadWrite.All", "RoleManagement.ReadWrite.Directory",
            "Mail.Read", "full_access_as_app", "Group.Read.All"} <= granted
    roles = {a["roleDefinitionId"] for a in demo.iter_role_assignments()}
    assert catalog.GLOBAL_ADMINISTRATOR in roles and catalog.PRIVILEGED_ROLE_ADMINISTRATOR in roles
    for assignment in demo.iter_role_assignments():
        assert demo.role_assignment(assignment["id"]) == assignment
        assert demo.role_definition(assignment["roleDefinitionId"])["templateId"] == assignment["roleDefinitionId"]
        assert list(demo.iter_role_assignments(assignment["principalId"]))


def test_identity_apps_exist_with_real_certificate_and_secret(demo):
    assert set(demo.identities) == {"collector", "responder", "limited"}
    for identity in demo.identities.values():
        app = demo.application_by_app_id(identity.client_id)
        sp = demo.service_principal_by_app_id(identity.client_id)
        assert app["id"] == identity.app_object_id and sp["id"] == identity.sp_object_id
        secret = {c["keyId"]: c for c in app["passwordCredentials"]}[identity.secret_key_id]
        assert secret["hint"] == identity.secret[:3] and secret["secretText"] is None
        assert 16 <= len(identity.secret) <= 64 and identity.secret[3:6] == "8Q~"
        key = {c["keyId"]: c for c in app["keyCredentials"]}[identity.certificate_key_id]
        assert key["customKeyIdentifier"] == base64.b64encode(bytes.fromhex(identity.thumbprint_sha1)).decode()
        with open(identity.certificate_path, "rb") as handle:
            pem = handle.read()
        private_key = serialization.load_pem_private_key(pem, password=None)
        certificate = x509.load_pem_x509_certificate(pem)
        assert private_key.key_size >= 2048
        assert certificate.public_key().public_numbers() == private_key.public_key().public_numbers()
        assert certificate.fingerprint(hashes.SHA1()).hex() == identity.thumbprint_sha1
        assert certificate.fingerprint(hashes.SHA256()).hex() == identity.thumbprint_sha256
        assert identity.certificate_pem.encode() in pem
        granted = {catalog.GRAPH_ROLE_BY_VALUE[v].id for v in identity.roles}
        assert {a["appRoleId"] for a in demo.app_role_assignments(identity.sp_object_id)} == granted
        assert identity.secret not in repr(identity)
    assert "Application.ReadWrite.All" in demo.identities["responder"].roles
    assert demo.identities["limited"].roles == ("Application.Read.All",)
    assert set(demo.identities["collector"].roles) == {
        "Application.Read.All", "AuditLog.Read.All", "Directory.Read.All", "RoleManagement.Read.Directory"}


# ---- sign-in log -----------------------------------------------------------------------------------
def test_sign_ins_are_newest_first_and_windows_are_exact(demo, demo_signins):
    assert len(demo_signins) == demo.signin_count
    times = [r["createdDateTime"] for r in demo_signins]
    assert times == sorted(times, reverse=True)
    assert len({r["id"] for r in demo_signins}) == len(demo_signins)
    start, end = NOW - timedelta(days=9, hours=3), NOW - timedelta(days=2, minutes=17)
    window = list(demo.iter_signins(start, end))
    low, high = start.strftime("%Y-%m-%dT%H:%M:%SZ"), end.strftime("%Y-%m-%dT%H:%M:%SZ")
    assert window == [r for r in demo_signins if low <= r["createdDateTime"] <= high]
    assert list(demo.iter_signins(NOW, None)) == []
    record = demo_signins[100]
    assert demo.signin(record["id"]) == record


def test_make_signin_adds_a_run_time_record(demo):
    sp = demo.service_principal_by_app_id(demo.identities["collector"].client_id)
    when = NOW + timedelta(minutes=5)
    record = demo.make_signin(sp["id"], key_id=demo.identities["collector"].secret_key_id, when=when, sequence=1)
    assert record["createdDateTime"] == "2026-11-28T12:05:00Z"
    assert record["servicePrincipalCredentialKeyId"] == demo.identities["collector"].secret_key_id
    assert record["clientCredentialType"] == "clientSecret" and record["status"]["errorCode"] == 0
    assert record["servicePrincipalId"] == sp["id"] and record["signInEventTypes"] == ["servicePrincipal"]
    other = demo.make_signin(sp["id"], when=when, sequence=2)
    assert other["id"] != record["id"]
    added = str(uuid.uuid4())       # a secret created by addPassword at run time
    assert demo.make_signin(sp["id"], key_id=added, sequence=3)["servicePrincipalCredentialKeyId"] == added
    failed = demo.make_signin(sp["id"], success=False, ip_address="203.0.113.9", sequence=4)
    assert failed["status"]["errorCode"] == 7000215 and failed["ipAddress"] == "203.0.113.9"
    assert all(r["id"] != record["id"] for r in demo.iter_signins())


# ---- sizes, lookups, memory ---------------------------------------------------------------------------
def test_medium_has_its_size_and_every_trait(medium):
    assert medium.application_count == 5_000 and medium.signin_count == 50_000
    assert medium.service_principal_count > medium.application_count
    traits = set().union(*(e.traits for e in medium.expected_secrets()))
    assert traits == TRAITS
    assert sum(1 for _ in medium.iter_applications()) == 5_000


def test_lookups_by_id_are_constant_time(large):
    assert large.application_count == 100_000 and large.signin_count == 1_000_000
    assert large.service_principal_count >= 100_000
    rng = random.Random(3)
    indexes = [rng.randrange(large.application_count) for _ in range(300)]
    started = time.perf_counter()
    for index in indexes:
        object_id = large.codec.guid(Kind.APPLICATION, index)
        app = large.application(object_id)
        assert app["id"] == object_id and GUID.match(object_id)
        assert large.application_by_app_id(app["appId"])["id"] == object_id
        assert large.service_principal_by_app_id(app["appId"])["appId"] == app["appId"]
    per_lookup = (time.perf_counter() - started) / (3 * len(indexes))
    print(f"\nlarge tenant: {per_lookup * 1e6:.0f} us per lookup by id/appId")
    assert per_lookup < 0.01
    newest = next(large.iter_signins())
    assert large.signin(newest["id"]) == newest
    assert large.application(str(uuid.uuid4())) is None
    assert large.service_principal(large.identities["collector"].app_object_id) is None   # wrong kind
    assert large.application("not-a-guid") is None


def _resident_bytes():
    with open("/proc/self/status") as status:
        line = next(line for line in status if line.startswith("VmRSS:"))
    return int(line.split()[1]) * 1024


def test_large_iteration_streams_with_bounded_memory(large):
    """Walking 10x more objects must not cost memory: each object is built, handed out and dropped."""
    def walk(count):
        started = time.perf_counter()
        apps = sum(1 for _ in itertools.islice(large.iter_applications(), count))
        newest = sum(1 for _ in itertools.islice(large.iter_signins(), count))
        oldest = sum(1 for _ in itertools.islice(large.iter_signins(end=NOW - timedelta(days=29)), count))
        assert apps == newest == oldest == count
        return 3 * count / (time.perf_counter() - started)

    gc.collect()
    walk(600)          # warms the plan cache and the interpreter's free lists
    before = _resident_bytes()
    rate = walk(6_000)
    grown = _resident_bytes() - before
    print(f"\nlarge tenant: {rate:,.0f} objects/s; resident memory grew {grown / 2**20:.1f} MiB over "
          f"18,000 objects (apps, newest and oldest sign-ins)")
    # keeping the objects would cost > 60 MiB (about 3.5 KiB of JSON per object as Python dicts)
    assert grown < 24 * 2**20


def test_large_sign_in_window_maps_to_an_index_range(large):
    everything = large.signin_index_range()
    assert len(everything) == 1_000_000
    start, end = NOW - timedelta(days=3), NOW - timedelta(days=3) + timedelta(minutes=10)
    window = list(large.iter_signins(start, end))
    assert 100 < len(window) < 1_000
    low, high = start.strftime("%Y-%m-%dT%H:%M:%SZ"), end.strftime("%Y-%m-%dT%H:%M:%SZ")
    assert all(low <= r["createdDateTime"] <= high for r in window)
    span = large.signin_index_range(start, end)
    before, after = large.signin_at(span.start - 1), large.signin_at(span.stop)
    assert before["createdDateTime"] < low and after["createdDateTime"] > high


def test_json_round_trips(demo):
    for obj in itertools.chain(demo.iter_applications(), demo.iter_service_principals(),
                               itertools.islice(demo.iter_signins(), 50)):
        assert json.loads(json.dumps(obj)) == obj


def test_event_type_filter_matches_filtering_the_records(demo, demo_signins):
    for wanted in ({"servicePrincipal"}, {"managedIdentity", "interactiveUser"}):
        filtered = list(demo.iter_signins(event_types=wanted))
        assert filtered == [r for r in demo_signins if set(r["signInEventTypes"]) & wanted]
        assert filtered


@pytest.mark.skipif(not __import__("os").environ.get("ENTRA_SIM_FULL_WALK"),
                    reason="walks all 100,000 applications and 1,000,000 sign-ins (minutes); set ENTRA_SIM_FULL_WALK=1")
def test_full_walk_of_the_large_tenant_keeps_peak_memory_bounded(large):
    import resource

    started = time.perf_counter()
    applications = sum(1 for _ in large.iter_applications())
    middle = time.perf_counter()
    sign_ins = sum(1 for _ in large.iter_signins())
    ended = time.perf_counter()
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
    print(f"\nfull walk: {applications:,} applications in {middle - started:.0f} s, {sign_ins:,} sign-ins in "
          f"{ended - middle:.0f} s; peak RSS of the test process {peak / 2**20:.0f} MiB")
    assert applications == 100_000 and sign_ins == 1_000_000
    assert peak < 400 * 2**20
