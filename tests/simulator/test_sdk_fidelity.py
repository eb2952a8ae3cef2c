"""An independent check of the simulator's JSON: Microsoft's own Graph SDKs read everything it serves.

`msgraph-sdk` (v1.0) and `msgraph-beta-sdk` (beta) deserialise Graph responses into typed kiota models,
signing in with azure-identity's CertificateCredential (MSAL underneath). They walk every collection the
add-on reads, following `@odata.nextLink` with the SDK's PageIterator. For every response the test keeps
the raw JSON the simulator sent (an httpx response hook on the SDK's own client) and asserts that:

- the SDK parsed it without error, and writing the typed model back out gives the same JSON (GUIDs,
  datetimes, enums such as clientCredentialType compared as values). kiota turns an enum value it does
  not know, or a datetime it cannot read, into None without a word, so this round trip is what catches
  them; a malformed GUID raises;
- no property lands in a model's `additional_data`, i.e. the simulator serves no property that
  Microsoft's models for that resource do not define;
- the counts equal the generator's, and the key fields (passwordCredentials keyIds, hints, endDateTime,
  sign-in credential key ids) carry the values the generated tenant holds.

Needs the `fidelity` extra (`pip install -e .[test,fidelity]`; `python3 dev.py test` installs it).
"""
import asyncio
import datetime as dt
import json
import os
import re
import ssl
import urllib.parse
import uuid
from dataclasses import dataclass, field
from enum import Enum

import pytest

_MISSING = [name for name in ("msgraph", "msgraph_beta", "azure.identity", "httpx")
            if not __import__("importlib.util").util.find_spec(name.split(".")[0])]
if _MISSING:
    _MESSAGE = f"needs the fidelity extra ({', '.join(_MISSING)} missing): pip install -e .[test,fidelity]"
    if os.environ.get("ENTRA_REQUIRE_ALL") or os.environ.get("CI"):
        pytest.fail(_MESSAGE, pytrace=False)
    pytest.skip(_MESSAGE, allow_module_level=True)

import httpx  # noqa: E402
from connector import times  # noqa: E402
from connector.graph.streams import signin_filter  # noqa: E402
from azure.identity import CertificateCredential  # noqa: E402
from kiota_abstractions.base_request_configuration import RequestConfiguration  # noqa: E402
from kiota_abstractions.serialization import Parsable  # noqa: E402
from kiota_serialization_json.json_parse_node import JsonParseNode  # noqa: E402
from kiota_serialization_json.json_serialization_writer import JsonSerializationWriter  # noqa: E402
from msgraph import GraphRequestAdapter, GraphServiceClient  # noqa: E402
from msgraph.generated.models.application import Application  # noqa: E402
from msgraph_beta import GraphRequestAdapter as BetaGraphRequestAdapter  # noqa: E402
from msgraph_beta import GraphServiceClient as BetaGraphServiceClient  # noqa: E402
from msgraph_beta.generated.models.client_credential_type import ClientCredentialType  # noqa: E402
from msgraph_beta.generated.models.sign_in import SignIn  # noqa: E402
from msgraph_core import APIVersion, GraphClientFactory  # noqa: E402
from msgraph_core.authentication import AzureIdentityAuthenticationProvider  # noqa: E402
from msgraph_core.tasks.page_iterator import PageIterator  # noqa: E402

# The last days of the service-principal sign-in log, in small pages: the beta SDK spends ~25 ms reading
# each signIn (its Entity.get_field_deserializers runs ~2,400 imports per object), so the whole demo log
# (~1,300 records) would cost half a minute. test_shapes.py validates every generated record.
SIGNIN_WINDOW = dt.timedelta(days=3)
SIGNIN_PAGE = 50
# The simulator accepts Microsoft Graph's own resource, which is what the SDK asks for by default.
GRAPH_SCOPE = "https://graph.microsoft.com/.default"
# Small pages so that the walk follows nextLinks on the demo tenant.
DIRECTORY_PAGE = 10
# Collection-level annotations the SDK keeps outside the items (nextLink) or drops (context).
COLLECTION_ANNOTATIONS = {"@odata.context", "@odata.nextLink", "@odata.deltaLink", "@odata.count"}


# Properties the simulator serves that the SDK models lack, because Microsoft's own example responses
# show them. Anything else in a model's additional_data fails the walk.
EXAMPLE_ONLY_PROPERTIES = {
    # deprecated, still in the v1.0 "List unifiedRoleAssignments" example (shapes.py example_only)
    "UnifiedRoleAssignment.resourceScope": "rbacapplication-list-roleassignments.md example",
    # initiatedBy.user is an auditUserIdentity in the directoryAudit examples; served without @odata.type,
    # the SDK reads it as the base userIdentity, which has none of these
    "UserIdentity.userType": "directoryaudit-list.md example",
    "UserIdentity.homeTenantId": "auditUserIdentity property",
    "UserIdentity.homeTenantName": "auditUserIdentity property",
    "AuditUserIdentity.userType": "directoryaudit-list.md example (beta)",
}


# ---- the SDK pointed at the simulator ----------------------------------------------------------------
@dataclass
class Exchange:
    """One Graph response: what the simulator sent and what the SDK made of it."""
    name: str
    url: str
    raw: dict
    typed: Parsable


@dataclass
class Walk:
    exchanges: list = field(default_factory=list)

    def of(self, name):
        return [exchange for exchange in self.exchanges if exchange.name == name]

    def items(self, name):
        """(raw item, typed item) pairs of every page of one walk."""
        for exchange in self.of(name):
            assert len(exchange.raw["value"]) == len(exchange.typed.value), exchange.url
            yield from zip(exchange.raw["value"], exchange.typed.value)


class SdkSession:
    """The v1.0 and beta GraphServiceClients on one httpx client that records every raw response body."""

    def __init__(self, simulator):
        self._responses = []
        self.credential = CertificateCredential(
            simulator.tenant_id, simulator.collector.client_id, simulator.collector.certificate_path,
            authority=simulator.base_url, disable_instance_discovery=True,
            # azure-core passes this per request, so REQUESTS_CA_BUNDLE cannot override it
            connection_verify=simulator.ca_path)
        # trust_env off: SSL_CERT_FILE and proxy variables stay out of it; the simulator's CA is the one trusted
        self.http = httpx.AsyncClient(verify=ssl.create_default_context(cafile=simulator.ca_path),
                                      trust_env=False, event_hooks={"response": [self._keep]})
        host = urllib.parse.urlsplit(simulator.base_url).hostname
        self.v1 = self._client(GraphServiceClient, GraphRequestAdapter, APIVersion.v1, simulator, host)
        self.beta = self._client(BetaGraphServiceClient, BetaGraphRequestAdapter, APIVersion.beta, simulator, host)
        self.walk = Walk()

    def _client(self, client_class, adapter_class, version, simulator, host):
        http = GraphClientFactory.create_with_default_middleware(api_version=version, client=self.http)
        auth = AzureIdentityAuthenticationProvider(self.credential, scopes=[GRAPH_SCOPE], allowed_hosts=[host])
        adapter = adapter_class(auth, http)
        adapter.base_url = f"{simulator.base_url}/{version.value}"
        return client_class(request_adapter=adapter)

    async def _keep(self, response):
        await response.aread()
        self._responses.append((str(response.request.url), response.status_code, response.content))

    def _record(self, name, typed):
        (url, status, body), = self._responses     # exactly one HTTP exchange per SDK call
        self._responses.clear()
        assert status == 200, f"{name}: {url} answered {status}: {body[:300]!r}"
        self.walk.exchanges.append(Exchange(name, url, json.loads(body), typed))

    async def get(self, name, builder, **query):
        """One GET through a request builder; query options as the builder's QueryParameters names."""
        config = None
        if query:
            # each builder has its own dataclass, e.g. ApplicationsRequestBuilder.ApplicationsRequestBuilderGetQueryParameters
            parameters = getattr(type(builder), f"{type(builder).__name__}GetQueryParameters")
            config = RequestConfiguration(query_parameters=parameters(**query))
        typed = await builder.get(request_configuration=config)
        self._record(name, typed)
        return typed

    async def walk_pages(self, name, builder, **query):
        """Every page of a collection, following nextLink with the SDK's PageIterator."""
        first = await self.get(name, builder, **query)
        iterator = PageIterator(first, builder.request_adapter)
        while iterator.current_page.odata_next_link:
            page = await iterator.next()
            self._record(name, _PageTyped(page))
            iterator.current_page = page

    async def close(self):
        await self.http.aclose()
        self.credential.close()


@dataclass
class _PageTyped:
    """PageIterator hands back a PageResult; keep the same face as a collection response."""
    page: object

    @property
    def value(self):
        return self.page.value

    @property
    def odata_next_link(self):
        return self.page.odata_next_link


async def walk_tenant(simulator, tenant):
    session = SdkSession(simulator)
    v1, beta = session.v1, session.beta
    try:
        await session.walk_pages("applications", v1.applications, top=DIRECTORY_PAGE)
        await session.walk_pages("servicePrincipals", v1.service_principals, top=DIRECTORY_PAGE)
        federated_app = _application_with_federated_credentials(tenant)
        application = v1.applications.by_application_id(federated_app)
        await session.walk_pages("federatedIdentityCredentials", application.federated_identity_credentials)
        await session.walk_pages("owners", application.owners)
        principal = v1.service_principals.by_service_principal_id(simulator.collector.sp_object_id)
        await session.walk_pages("appRoleAssignments", principal.app_role_assignments)
        # with the role definitions expanded, as the add-on reads them (connector/streams.py)
        await session.walk_pages("roleAssignments", v1.role_management.directory.role_assignments,
                                 expand=["roleDefinition"])
        await session.walk_pages("directoryAudits", v1.audit_logs.directory_audits)
        await session.walk_pages("directoryAuditsBeta", beta.audit_logs.directory_audits)
        lower, upper = signin_window(tenant)
        await session.walk_pages("signIns", beta.audit_logs.sign_ins,
                                 filter=signin_filter(times.iso(lower), times.iso(upper)), top=SIGNIN_PAGE)
        await session.walk_pages("appCredentialSignInActivities", beta.reports.app_credential_sign_in_activities)
        return session.walk, federated_app
    finally:
        await session.close()


def signin_window(tenant):
    return tenant.now - SIGNIN_WINDOW, tenant.now


def _application_with_federated_credentials(tenant):
    return next(app["id"] for app in tenant.iter_applications() if tenant.federated_credentials(app["id"]))


@pytest.fixture(scope="module")
def sdk_walk(simulator):
    simulator.reset()
    try:
        walk, federated_app = asyncio.run(walk_tenant(simulator, simulator.tenant))
        return {"walk": walk, "federated_app": federated_app, "counters": simulator.counters}
    finally:
        simulator.reset()


# ---- comparing typed models with the raw JSON ---------------------------------------------------------
class _FlagsEnumWriter(JsonSerializationWriter):
    """kiota's JSON writer, except that it writes flags enums back the way Graph sends them.

    The beta models read a flags enum (signIn.authenticationProtocol, incomingTokenType,
    crossTenantAccessType: "none" or "a,b") into a list of enum members, then hand that list to
    write_enum_value, which silently drops it (msgraph-beta-sdk 1.66, kiota-serialization-json 1.16)."""

    def write_enum_value(self, key, value):
        if isinstance(value, list) and all(isinstance(member, Enum) for member in value):
            self.write_str_value(key, ",".join(member.value for member in value))
        else:
            super().write_enum_value(key, value)

    def _create_new_writer(self):
        writer = super()._create_new_writer()
        writer.__class__ = _FlagsEnumWriter
        return writer


def serialised(model):
    """The typed model written back to JSON by kiota's own writer."""
    writer = _FlagsEnumWriter()
    writer.write_object_value(None, model)
    return json.loads(writer.get_serialized_content())


_TIMESTAMP = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d(:\d\d(\.\d+)?)?(Z|[+-]\d{1,2}:\d\d)?$")


def _instant(text):
    """A Graph timestamp as an aware datetime: `Z`, offsets such as `-8:00`, up to 7 fractional digits."""
    match = re.match(r"^(.*?T\d\d:\d\d(?::\d\d)?)(\.\d+)?(Z|[+-]\d{1,2}:\d\d)?$", text)
    head, fraction, zone = match.groups()
    zone = "+00:00" if zone in (None, "Z") else (zone if len(zone) == 6 else f"{zone[0]}0{zone[1:]}")
    micro = (fraction or ".0")[1:7].ljust(6, "0")
    return dt.datetime.fromisoformat(f"{head}.{micro}{zone}")


def _is_guid(text):
    try:
        return str(uuid.UUID(text)) == text.lower() and len(text) == 36
    except ValueError:
        return False


def disagreements(raw, typed, path="$"):
    """Where the SDK's reading of `raw` (written back out as `typed`) says something else; [] if none.

    Nulls and absent properties are the same thing to kiota, as are `@odata.type` annotations the model
    adds for its own type."""
    if isinstance(raw, dict) and isinstance(typed, dict):
        found = []
        for key, value in raw.items():
            if key in COLLECTION_ANNOTATIONS:
                continue
            if value is None:
                if typed.get(key) is not None:
                    found.append(f"{path}.{key}: null served, SDK has {typed[key]!r}")
                continue
            if key not in typed:
                found.append(f"{path}.{key}: served {value!r}, the SDK kept nothing")
                continue
            found += disagreements(value, typed[key], f"{path}.{key}")
        for key, value in typed.items():
            if key not in raw and key != "@odata.type" and value not in (None, [], {}):
                found.append(f"{path}.{key}: not served, SDK invented {value!r}")
        return found
    if isinstance(raw, list) and isinstance(typed, list):
        if len(raw) != len(typed):
            return [f"{path}: {len(raw)} items served, SDK has {len(typed)}"]
        return [problem for index, (r, t) in enumerate(zip(raw, typed))
                for problem in disagreements(r, t, f"{path}[{index}]")]
    if isinstance(raw, str) and isinstance(typed, str) and raw != typed:
        if _TIMESTAMP.match(raw) and _TIMESTAMP.match(typed):
            return [] if _instant(raw) == _instant(typed) else [f"{path}: served {raw}, SDK read {typed}"]
        if _is_guid(raw) and _is_guid(typed) and raw.lower() == typed.lower():
            return []
        return [f"{path}: served {raw!r}, SDK read {typed!r}"]
    if type(raw) is not type(typed) and not (isinstance(raw, (int, float)) and isinstance(typed, (int, float))
                                              and not isinstance(raw, bool) and not isinstance(typed, bool)):
        return [f"{path}: served {raw!r} ({type(raw).__name__}), SDK read {typed!r}"]
    return [] if raw == typed else [f"{path}: served {raw!r}, SDK read {typed!r}"]


def unknown_properties(model, path="$"):
    """Properties the SDK's model does not define (they land in additional_data), as 'Model.name' paths."""
    if isinstance(model, list):
        return [name for index, item in enumerate(model) for name in unknown_properties(item, f"{path}[{index}]")]
    if not isinstance(model, Parsable):
        return []
    found = [f"{type(model).__name__}.{key}" for key in (getattr(model, "additional_data", None) or {})
             if key not in COLLECTION_ANNOTATIONS]
    for name, value in vars(model).items():
        if name != "additional_data" and isinstance(value, (Parsable, list)):
            found += unknown_properties(value, f"{path}.{name}")
    return found


# ---- the comparison itself can fail --------------------------------------------------------------------
def _parse(model_class, raw):
    return JsonParseNode(raw).get_object_value(model_class)


def _reported(model_class, raw, mutate, expected):
    broken = json.loads(json.dumps(raw))
    mutate(broken)
    try:
        problems = disagreements(broken, serialised(_parse(model_class, broken)))
    except ValueError:
        return True     # the SDK refused it outright: as good as a reported disagreement
    return any(expected in problem for problem in problems)


def test_comparison_rules():
    same = "7014ee57-bdf1-4aea-8228-efd3c423a166"
    assert disagreements({"id": same, "when": "2026-11-28T12:00:00.1234567Z", "gone": None},
                         {"id": same.upper(), "when": "2026-11-28T12:00:00.123456+00:00"}) == []
    assert disagreements({"when": "2026-11-28T04:00:00-8:00"}, {"when": "2026-11-28T12:00:00+00:00"}) == []
    assert disagreements({"when": "2026-11-28T12:00:00Z"}, {"when": "2026-11-28T12:00:01+00:00"})
    assert disagreements({"keys": [1, 2]}, {"keys": [1]})
    assert disagreements({"n": 1}, {"n": "1"}) and disagreements({"b": True}, {"b": 1})
    assert disagreements({"kind": "clientSecret"}, {})
    assert disagreements({}, {"kind": "clientSecret"})
    assert disagreements({"kind": None}, {"kind": "clientSecret"})
    assert disagreements({}, {"@odata.type": "#microsoft.graph.application", "tags": []}) == []


def test_comparison_catches_what_the_sdk_would_silently_drop(simulator):
    tenant = simulator.tenant
    application = tenant.application(simulator.collector.app_object_id)
    signin = next(tenant.iter_signins(event_types={"servicePrincipal"}))
    assert disagreements(application, serialised(_parse(Application, application))) == []
    assert disagreements(signin, serialised(_parse(SignIn, signin))) == []
    # kiota reads an enum value it does not know, or a date it cannot parse, as None without a word
    assert _reported(SignIn, signin, lambda s: s.update(clientCredentialType="clientSecretValue"),
                     "clientCredentialType")
    assert _reported(Application, application, lambda a: a.update(createdDateTime="yesterday at noon"),
                     "createdDateTime")
    assert _reported(Application, application,
                     lambda a: a["passwordCredentials"][0].update(endDateTime="never"),
                     "endDateTime")
    broken = json.loads(json.dumps(application))
    broken["passwordCredentials"][0]["keyId"] = "not-a-guid"
    with pytest.raises(ValueError):
        _parse(Application, broken)
    broken = json.loads(json.dumps(application))
    broken["passwordCredentials"][0]["secretHint"] = "abc"     # not a property of passwordCredential
    assert unknown_properties(_parse(Application, broken)) == ["PasswordCredential.secretHint"]


# ---- the walk ------------------------------------------------------------------------------------------
WALKED = ("applications", "servicePrincipals", "federatedIdentityCredentials", "owners", "appRoleAssignments",
          "roleAssignments", "directoryAudits", "directoryAuditsBeta", "signIns", "appCredentialSignInActivities")


@pytest.mark.parametrize("name", WALKED)
def test_sdk_reads_every_object_as_served(sdk_walk, name):
    exchanges = sdk_walk["walk"].of(name)
    assert exchanges, f"{name}: nothing walked"
    problems, unknown, count = [], set(), 0
    for raw, typed in sdk_walk["walk"].items(name):
        count += 1
        problems += [f"{raw.get('id')}: {problem}" for problem in disagreements(raw, serialised(typed))]
        unknown.update(unknown_properties(typed))
    assert count > 0
    assert problems == [], "\n".join(problems[:30])
    assert sorted(unknown - set(EXAMPLE_ONLY_PROPERTIES)) == [], f"{name}: properties Microsoft's models do not define"


def test_counts_equal_the_generated_tenant(sdk_walk, simulator):
    tenant, walk = simulator.tenant, sdk_walk["walk"]
    expected = {
        "applications": tenant.application_count,
        "servicePrincipals": tenant.service_principal_count,
        "federatedIdentityCredentials": len(tenant.federated_credentials(sdk_walk["federated_app"])),
        "owners": len(tenant.owners(sdk_walk["federated_app"])),
        "appRoleAssignments": len(tenant.app_role_assignments(simulator.collector.sp_object_id)),
        "roleAssignments": sum(1 for _ in tenant.iter_role_assignments()),
        "directoryAudits": sum(1 for _ in tenant.iter_directory_audits()),
        "directoryAuditsBeta": sum(1 for _ in tenant.iter_directory_audits()),
        "signIns": sum(1 for _ in tenant.iter_signins(*signin_window(tenant), event_types={"servicePrincipal"})),
        "appCredentialSignInActivities": sum(1 for _ in tenant.iter_credential_activities()),
    }
    walked = {name: sum(1 for _ in walk.items(name)) for name in expected}
    assert walked == expected
    for name in ("applications", "servicePrincipals", "signIns"):
        ids = [typed.id for _, typed in walk.items(name)]
        assert len(set(ids)) == len(ids), f"{name}: paging repeated an object"
    # the SDK followed nextLinks on both endpoints
    assert len(walk.of("applications")) == -(-tenant.application_count // DIRECTORY_PAGE)
    assert len(walk.of("signIns")) == -(-expected["signIns"] // SIGNIN_PAGE) > 1


def test_secret_metadata_typed_as_generated(sdk_walk, simulator):
    tenant, walk = simulator.tenant, sdk_walk["walk"]
    objects = {typed.id: typed for name in ("applications", "servicePrincipals") for _, typed in walk.items(name)}
    expected_secrets = list(tenant.expected_secrets())
    assert expected_secrets
    for secret in expected_secrets:
        typed = objects[secret.object_id]
        credentials = {str(credential.key_id): credential for credential in typed.password_credentials}
        assert isinstance(typed.password_credentials[0].key_id, uuid.UUID)
        credential = credentials[secret.key_id]
        generated = next(c for c in (tenant.application(secret.object_id) if secret.object_type == "application"
                                     else tenant.service_principal(secret.object_id))["passwordCredentials"]
                         if c["keyId"] == secret.key_id)
        assert credential.hint == generated["hint"]
        assert credential.end_date_time == _instant(generated["endDateTime"])
        assert credential.start_date_time == _instant(generated["startDateTime"])
        assert credential.end_date_time.tzinfo is not None
        assert ("never_expires" in secret.traits) == (credential.end_date_time.year >= 2299)


def test_service_principal_signins_typed(sdk_walk, simulator):
    walk = sdk_walk["walk"]
    key_ids = {secret.key_id for secret in simulator.tenant.expected_secrets()}
    by_type, secret_signins = {}, 0
    for raw, typed in walk.items("signIns"):
        assert isinstance(typed.client_credential_type, ClientCredentialType)
        assert typed.client_credential_type.value == raw["clientCredentialType"]
        by_type[typed.client_credential_type.value] = by_type.get(typed.client_credential_type.value, 0) + 1
        assert typed.sign_in_event_types == raw["signInEventTypes"] == ["servicePrincipal"]
        assert typed.created_date_time == _instant(raw["createdDateTime"])
        assert typed.service_principal_id == raw["servicePrincipalId"]
        assert typed.status.error_code == raw["status"]["errorCode"]
        if typed.client_credential_type == ClientCredentialType.ClientSecret and typed.status.error_code == 0:
            secret_signins += 1
            assert str(uuid.UUID(typed.service_principal_credential_key_id)) in key_ids
        elif typed.status.error_code != 0:
            assert typed.service_principal_credential_key_id == ""   # a refused secret names no key
    # the demo tenant signs in with each credential type (issue 3)
    assert {"clientSecret", "certificate", "federatedIdentityCredential"} <= set(by_type), by_type
    assert secret_signins > 0


def test_credential_activity_report_typed(sdk_walk):
    for raw, typed in sdk_walk["walk"].items("appCredentialSignInActivities"):
        assert str(typed.key_id) == raw["keyId"] if isinstance(typed.key_id, uuid.UUID) else typed.key_id == raw["keyId"]
        assert typed.credential_origin.value == raw["credentialOrigin"]
        assert typed.key_type.value == raw["keyType"]
        assert typed.sign_in_activity.last_sign_in_date_time == _instant(
            raw["signInActivity"]["lastSignInDateTime"])


def test_directory_audits_typed(sdk_walk):
    activities = set()
    for raw, typed in sdk_walk["walk"].items("directoryAudits"):
        assert typed.activity_date_time == _instant(raw["activityDateTime"])
        assert typed.result.value == raw["result"]
        activities.add(typed.activity_display_name)
    assert activities, "no credential change audited"


def test_walk_went_through_the_simulator_with_the_sdk_credential(sdk_walk, simulator):
    counters = sdk_walk["counters"]
    pages = len(sdk_walk["walk"].exchanges)
    graph_requests = sum(count for route, count in counters.by_route.items() if route.startswith("GET /{api}/"))
    assert graph_requests == pages and counters.by_status.get(200, 0) == counters.requests
    # azure-identity signed in once with the certificate (OIDC discovery, one token) and reused the token
    assert counters.by_route["POST /{tenant}/oauth2/v2.0/token"] == 1
    assert counters.by_app.get(simulator.collector.client_id, 0) >= pages


def test_user_agent_stays_on_the_beta_directory_audits(sdk_walk):
    v1 = [raw for raw, _ in sdk_walk["walk"].items("directoryAudits")]
    beta = [(raw, typed) for raw, typed in sdk_walk["walk"].items("directoryAuditsBeta")]
    assert v1 and len(v1) == len(beta)
    assert not any("userAgent" in raw for raw in v1)
    assert all("userAgent" in raw and typed.user_agent == raw["userAgent"] for raw, typed in beta)


def test_role_assignments_expand_their_definitions(sdk_walk, simulator):
    pairs = list(sdk_walk["walk"].items("roleAssignments"))
    assert pairs
    for raw, typed in pairs:
        assert typed.role_definition is not None and typed.role_definition.id == typed.role_definition_id
        assert typed.role_definition.display_name == raw["roleDefinition"]["displayName"]
        assert simulator.tenant.role_definition(typed.role_definition_id)["displayName"] == \
            typed.role_definition.display_name
