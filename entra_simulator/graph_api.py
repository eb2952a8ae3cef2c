"""Microsoft Graph v1.0 and beta, the routes the add-on uses (graph-wire-facts.md sections 1-5).

`GraphApi.dispatch(request)` takes an authenticated request (from the HTTP server or from inside a
JSON $batch), finds its route, checks the caller's application permissions, charges the throttle and
runs the handler. Unknown routes answer 400 as Graph does, wrong methods 405, unknown objects 404:
never an empty list that would make a broken client look fine.
"""

from __future__ import annotations
import datetime
import heapq
import json
import re
from entra_simulator import doc_examples, timefmt
from dataclasses import dataclass, field

from entra_simulator import graph_errors as errors
from entra_simulator.graph_errors import GraphError
from entra_simulator.odata import (ADVANCED_QUERY_HINT, QuerySpec, advanced_operator, apply_select, conjuncts,
                                   equality_values, matches, parse)
from entra_simulator.paging import link
from entra_simulator.state import APPLICATIONS, SERVICE_PRINCIPALS, parse_timestamp
from entra_simulator.throttling import DIRECTORY, REPORTS, resource_units

# Application permissions that allow each family of routes (least privileged first).
READ_APPS = frozenset({"Application.Read.All", "Application.ReadWrite.OwnedBy", "Application.ReadWrite.All",
                       "Directory.Read.All", "Directory.ReadWrite.All"})
READ_APP_ROLE_ASSIGNMENTS = READ_APPS | {"AppRoleAssignment.ReadWrite.All"}
WRITE_APPS = frozenset({"Application.ReadWrite.OwnedBy", "Application.ReadWrite.All"})
UPDATE_SERVICE_PRINCIPALS = WRITE_APPS | {"Directory.ReadWrite.All"}
READ_ROLES = frozenset({"RoleManagement.Read.Directory", "RoleManagement.Read.All", "Directory.Read.All",
                        "RoleManagement.ReadWrite.Directory", "Directory.ReadWrite.All"})
# Sign-in logs, audits and credential reports: AuditLog.Read.All least, Directory.Read.All higher (2.3, 2.5).
READ_AUDIT_LOGS = frozenset({"AuditLog.Read.All", "Directory.Read.All"})
# Writes that need no ownership of the target; Application.ReadWrite.OwnedBy does.
WRITE_ANY = {APPLICATIONS: {"Application.ReadWrite.All"},
             SERVICE_PRINCIPALS: {"Application.ReadWrite.All", "Directory.ReadWrite.All"}}

DIRECTORY_OBJECT_FILTERS = {"id": ("eq",), "appId": ("eq",), "displayName": ("eq", "startswith")}
# federatedIdentityCredentials: "Supports $expand and $filter (startsWith, /$count eq 0, /$count ne 0)"
# (application resource; msgraph SDK model docstrings). Only the count is served here.
APPLICATION_SPEC = QuerySpec("microsoft.graph.application",
                             filters={**DIRECTORY_OBJECT_FILTERS, "signInAudience": ("eq",),
                                      "publisherDomain": ("eq",), "federatedIdentityCredentials": ("$count",)})
SERVICE_PRINCIPAL_SPEC = QuerySpec("microsoft.graph.servicePrincipal",
                                   filters={**DIRECTORY_OBJECT_FILTERS, "accountEnabled": ("eq",),
                                            "servicePrincipalType": ("eq",), "appOwnerOrganizationId": ("eq",)})
SINGLE_OBJECT_SPEC = QuerySpec("directoryObject", filters={}, count=False)
FEDERATED_SPEC = QuerySpec("microsoft.graph.federatedIdentityCredential",
                           filters={"name": ("eq",), "subject": ("eq",), "issuer": ("eq",)})
OWNER_SPEC = QuerySpec("microsoft.graph.directoryObject", filters={"id": ("eq",)})
APP_ROLE_ASSIGNMENT_SPEC = QuerySpec("microsoft.graph.appRoleAssignment", filters={}, count=False)
ROLE_ASSIGNMENT_SPEC = QuerySpec("microsoft.graph.unifiedRoleAssignment",
                                 filters={"principalId": ("eq",), "roleDefinitionId": ("eq",),
                                          "directoryScopeId": ("eq",), "id": ("eq",)},
                                 expand=("principal", "roleDefinition"), count=False)
_DATE_OPERATORS = ("eq", "ge", "gt", "le", "lt")
SIGNIN_FILTERS_V1 = {"createdDateTime": _DATE_OPERATORS, "appId": ("eq",), "id": ("eq",),
                     "ipAddress": ("eq", "startswith"), "status/errorCode": ("eq",), "userId": ("eq",),
                     "userPrincipalName": ("eq", "startswith"), "resourceDisplayName": ("eq",),
                     "resourceId": ("eq",)}
SIGNIN_SPEC_V1 = QuerySpec("microsoft.graph.signIn", max_top=1000, default_top=1000, count=False,
                           filters=SIGNIN_FILTERS_V1, unsupported_code="BadRequest")
SIGNIN_SPEC_BETA = QuerySpec("microsoft.graph.signIn", max_top=1000, default_top=1000, count=False,
                             filters={**SIGNIN_FILTERS_V1, "signInEventTypes": ("any",),
                                      "servicePrincipalId": ("eq", "startswith")},
                             unsupported_code="BadRequest")
AUDIT_SPEC = QuerySpec("microsoft.graph.directoryAudit", max_top=1000, default_top=1000, count=False,
                       filters={"activityDateTime": _DATE_OPERATORS, "activityDisplayName": ("eq", "startswith"),
                                "category": ("eq",), "loggedByService": ("eq",), "result": ("eq",),
                                "correlationId": ("eq",), "initiatedBy/app/appId": ("eq",)},
                       unsupported_code="BadRequest")
CREDENTIAL_ACTIVITY_SPEC = QuerySpec("microsoft.graph.appCredentialSignInActivity", max_top=1000, default_top=1000,
                                     count=False, filters={"keyId": ("eq",), "appId": ("eq",)},
                                     unsupported_code="BadRequest")

# Properties of the v1.0 signIn resource: beta-only ones (service principal fields, signInEventTypes)
# never leave the v1.0 endpoint.
V1_SIGNIN_PROPERTIES = frozenset({
    "appDisplayName", "appId", "appliedConditionalAccessPolicies", "clientAppUsed", "conditionalAccessStatus",
    "correlationId", "createdDateTime", "deviceDetail", "id", "ipAddress", "isInteractive", "location",
    "resourceDisplayName", "resourceId", "riskDetail", "riskEventTypes", "riskEventTypes_v2",
    "riskLevelAggregated", "riskLevelDuringSignIn", "riskState", "status", "userDisplayName", "userId",
    "userPrincipalName"})
INTERACTIVE = "interactiveUser"
# The v1.0 directoryAudit resource has no userAgent (msgraph-sdk's v1.0 model, generated from $metadata,
# lacks it; msgraph-beta-sdk's has it): like the beta sign-in properties, it stays on the beta endpoint.
BETA_ONLY_AUDIT_PROPERTIES = frozenset({"userAgent"})


@dataclass
class GraphRequest:
    method: str
    api: str                 # "v1.0" or "beta"
    path: str                # after the version: "/applications/{id}"
    options: dict            # parsed query options ($-names lowercased)
    headers: dict            # lowercased names
    body: bytes
    grant: object            # identity.Grant
    base_url: str
    batched: bool = False

    def json(self):
        if "application/json" not in self.headers.get("content-type", ""):
            raise errors.bad_request("Content-Type must be application/json for this request.", code="BadRequest")
        try:
            value = json.loads(self.body or b"{}")
        except ValueError:
            raise errors.bad_request("Unable to read JSON request payload. Please ensure Content-Type header is "
                                     "set and payload is of valid JSON format.", code="BadRequest") from None
        if not isinstance(value, dict):
            raise errors.bad_request("The request body must be a JSON object.", code="BadRequest")
        return value


@dataclass
class GraphResponse:
    status: int
    body: object = None      # dict -> JSON, str -> text/plain, None -> no body
    headers: dict = field(default_factory=dict)


@dataclass(frozen=True)
class Route:
    method: str
    pattern: re.Pattern
    handler: str
    permissions: frozenset
    kind: str = DIRECTORY
    resource: str = ""       # RU cost family: "applications", "appRoleAssignments" or ""
    apis: tuple = ("v1.0", "beta")
    write: bool = False
    name: str = ""           # readable template, filled by _route

    def readable(self):
        """A readable route name for the request log and counters: "GET /{api}/applications/{id}"."""
        text = self.pattern.pattern.strip("^$").replace(_OBJECT, "/{id}").replace("\\$", "$")
        text = re.sub(r"\(\?P<collection>([^)|]+)\)", r"\1", text)
        text = text.replace("(?P<collection>applications|servicePrincipals)", "{collection}")
        return f"{self.method} /{{api}}" + re.sub(r"\(\?P<(\w+)>[^)]*\)", r"{\1}", text)


_OBJECT = r"(?:/(?P<id>[^/()]+)|\(appId='(?P<app_id>[^'/]*)'\))"
_COLLECTION = r"(?P<collection>applications|servicePrincipals)"


def _route(method, path, handler, permissions, **kwargs):
    route = Route(method, re.compile("^" + path + "$"), handler, frozenset(permissions), **kwargs)
    return Route(**{**route.__dict__, "name": route.readable()})


ROUTES = (
    _route("GET", "/" + _COLLECTION, "list_objects", READ_APPS, resource="applications"),
    _route("GET", "/" + _COLLECTION + r"/\$count", "count_objects", READ_APPS),
    _route("GET", "/" + _COLLECTION + "/delta", "delta", READ_APPS, resource="applications"),
    _route("GET", "/" + _COLLECTION + _OBJECT, "get_object", READ_APPS),
    _route("GET", "/(?P<collection>applications)" + _OBJECT + "/federatedIdentityCredentials",
           "list_federated_credentials", READ_APPS),
    _route("GET", "/" + _COLLECTION + _OBJECT + "/owners", "list_owners", READ_APPS),
    _route("GET", "/(?P<collection>servicePrincipals)" + _OBJECT + "/appRoleAssignments",
           "list_app_role_assignments", READ_APP_ROLE_ASSIGNMENTS, resource="appRoleAssignments"),
    _route("POST", "/" + _COLLECTION + _OBJECT + "/removePassword", "remove_password", WRITE_APPS, write=True),
    _route("POST", "/" + _COLLECTION + _OBJECT + "/addPassword", "add_password", WRITE_APPS, write=True),
    _route("PATCH", "/(?P<collection>servicePrincipals)" + _OBJECT, "update_service_principal",
           UPDATE_SERVICE_PRINCIPALS, write=True),
    _route("DELETE", "/" + _COLLECTION + _OBJECT, "delete_object", WRITE_APPS, write=True),
    _route("GET", "/roleManagement/directory/roleAssignments", "list_role_assignments", READ_ROLES),
    _route("GET", "/roleManagement/directory/roleDefinitions/(?P<id>[^/]+)", "get_role_definition", READ_ROLES),
    _route("GET", "/auditLogs/signIns", "list_signins", READ_AUDIT_LOGS, kind=REPORTS),
    _route("GET", "/auditLogs/directoryAudits", "list_directory_audits", READ_AUDIT_LOGS, kind=REPORTS),
    _route("GET", "/reports/appCredentialSignInActivities", "list_credential_activities", READ_AUDIT_LOGS,
           kind=REPORTS, apis=("beta",)),
)


def find_route(method, api, path):
    """The route for a request, or Graph's 400 (unknown segment) / 405 (known path, other method)."""
    path_matched = None
    for route in ROUTES:
        match = route.pattern.match(path)
        if match and api in route.apis:
            if route.method == method:
                return route, match.groupdict()
            path_matched = route
    if path_matched is not None:
        raise errors.method_not_allowed(method)
    raise errors.no_route(path)


class GraphApi:
    def __init__(self, tenant, state, pager, throttler=None, faults=None, delta=None):
        self.tenant = tenant
        self.state = state
        self.pager = pager
        self.throttler = throttler
        self.faults = faults
        self.delta_api = delta

    # ---- dispatch ---------------------------------------------------------------------------
    def dispatch(self, request: GraphRequest):
        """Route, authorize, throttle and run one request. Returns (route template, GraphResponse)."""
        template = f"{request.method} /{request.api}{request.path}"
        try:
            route, params = find_route(request.method, request.api, request.path)
            template = route.name.replace("{collection}", params.get("collection") or "")
            if not (request.grant.roles & route.permissions):
                raise errors.forbidden()
            cost = self._charge(request, route)
            response = getattr(self, route.handler)(request, **{k: v for k, v in params.items() if v is not None})
            if route.kind == DIRECTORY:
                response.headers.setdefault("x-ms-resource-unit", str(cost))
            return template, response
        except GraphError as error:
            return template, GraphResponse(error.status, error, dict(error.headers))

    def _charge(self, request, route):
        """Charge the caller's throttle budget; returns the request's resource-unit cost."""
        options = request.options
        top = options.get("$top")
        cost = resource_units(request.method, route.resource, "$select" in options, "$expand" in options,
                              int(top) if top and top.isdigit() else None)
        if self.throttler is None:
            return cost
        selects_keys = "keycredentials" in options.get("$select", "").lower()
        decision = self.throttler.charge(request.grant.client_id, route.kind, cost, write=route.write,
                                         selects_key_credentials=selects_keys)
        if not decision.allowed:
            raise errors.throttled(decision.retry_after, decision.scope, decision.information)
        return cost

    # ---- shared helpers ---------------------------------------------------------------------
    def _context(self, request, fragment):
        return f"{request.base_url}/{request.api}/$metadata#{fragment}"

    def _object(self, collection, id=None, app_id=None):
        if app_id is not None:
            finder = (self.tenant.application_by_app_id if collection == APPLICATIONS
                      else self.tenant.service_principal_by_app_id)
            original = finder(app_id)
            current = None if original is None else self.state.apply(collection, original)
            missing = app_id
        else:
            current, missing = self.state.get(collection, id), id
        if current is None:
            raise errors.not_found(missing)
        return current

    @staticmethod
    def _hide_certificate_keys(item, query):
        """keyCredentials[].key is null unless keyCredentials is $select-ed (graph-wire-facts 1.3)."""
        credentials = item.get("keyCredentials")
        if not credentials or (query.select and "keyCredentials" in query.select):
            return item
        if all(cred.get("key") is None for cred in credentials):
            return item
        return {**item, "keyCredentials": [{**cred, "key": None} for cred in credentials]}

    def _present(self, item, query):
        return apply_select(self._hide_certificate_keys(item, query), query.select)

    def _list(self, request, spec, source, context, present=None, count=None, related=None):
        """One page of a collection: filter, select, $count, nextLink with a signed skip token.
        `related(item, name)` lists a relationship of an item, for `name/$count` filters."""
        query = parse(request.options, spec)
        eventual = request.headers.get("consistencylevel", "").lower() == "eventual"
        operator = advanced_operator(query.filter)
        if operator and not (eventual and query.count):
            # on every page: a nextLink carries $count=true, the header must come again
            raise errors.unsupported_query(f"Operator '{operator}' is not supported because the required "
                                           f"parameters might be missing. {ADVANCED_QUERY_HINT}")
        if query.count and not eventual:
            raise errors.unsupported_query("$count requires the ConsistencyLevel header set to eventual.")
        present = present or self._present
        route_key, query_key = f"{request.api}{request.path}", query.canonical()
        cursor = self.pager.read(query.skiptoken, route_key, query_key) if query.skiptoken else None

        def walk():
            return (present(item, query) for item in source(query) if matches(query.filter, item, related))

        items, rest = self.pager.page(query.skiptoken, cursor, walk, query.top or spec.default_top)
        body = {"@odata.context": self._context(request, context)}
        if query.count and cursor is None:
            body["@odata.count"] = count(query) if count and query.filter is None else sum(
                1 for item in source(query) if matches(query.filter, item, related))
        if rest is not None:
            offset = (cursor or {}).get("offset", 0) + len(items)
            token = self.pager.issue({"route": route_key, "query": query_key, "offset": offset})
            self.pager.remember(token, rest)
            options = {k: v for k, v in request.options.items() if k != "$skiptoken"}
            body["@odata.nextLink"] = link(request.base_url, request.api, request.path,
                                           {**options, "$skiptoken": token})
        body["value"] = items
        return GraphResponse(200, body)

    # ---- applications and service principals ---------------------------------------------------
    def _directory_source(self, collection):
        if collection == APPLICATIONS:
            iterate, by_id, by_app_id = (self.tenant.iter_applications, self.tenant.application,
                                         self.tenant.application_by_app_id)
        else:
            iterate, by_id, by_app_id = (self.tenant.iter_service_principals, self.tenant.service_principal,
                                         self.tenant.service_principal_by_app_id)

        def source(query):
            # `id eq` / `appId eq` are lookups, not scans: the add-on may ask once per object.
            for path, finder in (("id", by_id), ("appId", by_app_id)):
                wanted = equality_values(query.filter, path)
                if wanted is not None:
                    found = (finder(value) for value in sorted(wanted))
                    return _present_only(self.state.apply(collection, item) for item in found if item is not None)
            return _present_only(self.state.apply(collection, item) for item in iterate())
        return source

    def list_objects(self, request, collection):
        spec = APPLICATION_SPEC if collection == APPLICATIONS else SERVICE_PRINCIPAL_SPEC
        total = self._count(collection)
        select = request.options.get("$select")
        context = f"{collection}({select})" if select else collection
        return self._list(request, spec, self._directory_source(collection), context, count=lambda _q: total,
                          related=self._relationship)

    def _relationship(self, item, name):
        """Members of a directory object's relationship, for `name/$count` filters."""
        if name == "federatedIdentityCredentials":
            return self.tenant.federated_credentials(item["id"]) or ()
        return ()

    def count_objects(self, request, collection):
        if request.headers.get("consistencylevel", "").lower() != "eventual":
            raise errors.unsupported_query("$count requires the ConsistencyLevel header set to eventual.")
        return GraphResponse(200, str(self._count(collection)), {"Content-Type": "text/plain"})

    def _count(self, collection):
        generated = (self.tenant.application_count if collection == APPLICATIONS
                     else self.tenant.service_principal_count)
        return generated - self.state.deleted_count(collection)

    def get_object(self, request, collection, **key):
        query = parse(request.options, SINGLE_OBJECT_SPEC)
        item = self._present(self._object(collection, **key), query)
        return GraphResponse(200, {"@odata.context": self._context(request, f"{collection}/$entity"), **item})

    def delta(self, request, collection):
        return GraphResponse(200, self.delta_api.serve(request, collection))

    def list_federated_credentials(self, request, collection, **key):
        application = self._object(APPLICATIONS, **key)
        return self._list(request, FEDERATED_SPEC,
                          lambda _q: iter(self.tenant.federated_credentials(application["id"]) or ()),
                          f"applications('{application['id']}')/federatedIdentityCredentials")

    def list_owners(self, request, collection, **key):
        target = self._object(collection, **key)
        return self._list(request, OWNER_SPEC, lambda _q: iter(self.tenant.owners(target["id"]) or ()),
                          "directoryObjects", present=lambda item, query: apply_select(item, query.select, True))

    def list_app_role_assignments(self, request, collection, **key):
        principal = self._object(SERVICE_PRINCIPALS, **key)
        return self._list(request, APP_ROLE_ASSIGNMENT_SPEC,
                          lambda _q: iter(self.tenant.app_role_assignments(principal["id"]) or ()),
                          f"servicePrincipals('{principal['id']}')/appRoleAssignments")

    def _require_owner_or_all(self, request, collection, target):
        """Application.ReadWrite.OwnedBy reaches only objects the caller owns."""
        if request.grant.roles & WRITE_ANY[collection]:
            return
        owner_ids = {owner.get("id") for owner in self.tenant.owners(target["id"]) or ()}
        if request.grant.sp_object_id not in owner_ids:
            raise errors.forbidden()

    def remove_password(self, request, collection, **key):
        target = self._object(collection, **key)
        key_id = str(request.json().get("keyId") or "")
        if not re.fullmatch(r"[0-9a-fA-F-]{36}", key_id):
            raise errors.bad_request("Invalid value specified for property 'keyId' of resource "
                                     "'PasswordCredential'.", code="Request_BadRequest")
        self._require_owner_or_all(request, collection, target)
        if not self.state.remove_password(collection, target["id"], key_id.lower()):
            raise GraphError(404, "Request_ResourceNotFound",
                             f"No password credential with keyId '{key_id}' was found on {collection} "
                             f"'{target['id']}'.")
        return GraphResponse(204)

    def add_password(self, request, collection, **key):
        target = self._object(collection, **key)
        wanted = request.json().get("passwordCredential") or {}
        if not isinstance(wanted, dict):
            raise errors.bad_request("Invalid value specified for property 'passwordCredential'.")
        self._require_owner_or_all(request, collection, target)
        start, end = (_parse_time(wanted.get(name), name) for name in ("startDateTime", "endDateTime"))
        credential = self.state.add_password(collection, target["id"], wanted.get("displayName"), start, end)
        context = self._context(request, "microsoft.graph.passwordCredential")
        return GraphResponse(200, {"@odata.context": context, **credential})

    def update_service_principal(self, request, collection, **key):
        target = self._object(SERVICE_PRINCIPALS, **key)
        changes = request.json()
        unsupported = sorted(set(changes) - {"accountEnabled"})
        if unsupported:
            raise errors.bad_request(f"The simulator only updates accountEnabled; '{unsupported[0]}' was sent.")
        if not isinstance(changes.get("accountEnabled"), bool):
            raise errors.bad_request("Invalid value specified for property 'accountEnabled' of resource "
                                     "'ServicePrincipal'.")
        self._require_owner_or_all(request, SERVICE_PRINCIPALS, target)
        self.state.set_account_enabled(target["id"], changes["accountEnabled"])
        return GraphResponse(204)

    def delete_object(self, request, collection, **key):
        target = self._object(collection, **key)
        self._require_owner_or_all(request, collection, target)
        self.state.delete(collection, target["id"])
        return GraphResponse(204)

    # ---- roles ------------------------------------------------------------------------------
    def list_role_assignments(self, request):
        def source(query):
            principals = equality_values(query.filter, "principalId")
            if principals is not None and len(principals) == 1:
                return iter(self.tenant.iter_role_assignments(principal_id=next(iter(principals))))
            return iter(self.tenant.iter_role_assignments())

        def present(item, query):
            expanded = dict(item)
            if any(name.startswith("principal") for name in query.expand):
                expanded["principal"] = self._directory_object(item.get("principalId"))
            if any(name.startswith("roleDefinition") for name in query.expand):
                expanded["roleDefinition"] = self.tenant.role_definition(item.get("roleDefinitionId"))
            return apply_select(expanded, query.select and query.select + [
                name.split("(")[0] for name in query.expand])
        return self._list(request, ROLE_ASSIGNMENT_SPEC, source, "roleManagement/directory/roleAssignments",
                          present=present)

    def _directory_object(self, object_id):
        """A role's principal: a service principal or a user, typed as Graph types directoryObjects."""
        principal = self.state.get(SERVICE_PRINCIPALS, object_id)
        if principal is not None:
            return {"@odata.type": "#microsoft.graph.servicePrincipal", **principal}
        user = self.tenant.user(object_id)
        return None if user is None else {"@odata.type": "#microsoft.graph.user", **user}

    def get_role_definition(self, request, id):
        definition = self.tenant.role_definition(id)
        if definition is None:
            raise errors.not_found(id)
        query = parse(request.options, SINGLE_OBJECT_SPEC)
        context = self._context(request, "roleManagement/directory/roleDefinitions/$entity")
        return GraphResponse(200, {"@odata.context": context, **apply_select(definition, query.select)})

    # ---- reports ----------------------------------------------------------------------------
    def list_signins(self, request):
        beta = request.api == "beta"
        spec = SIGNIN_SPEC_BETA if beta else SIGNIN_SPEC_V1

        def source(query):
            start, end = _time_range(query.filter, "createdDateTime")
            wants_event_types = beta and _mentions(query.filter, "signInEventTypes")
            for signin in self._signins(start, end):
                if not wants_event_types and INTERACTIVE not in (signin.get("signInEventTypes") or ()):
                    continue  # without an explicit event-type filter Graph returns interactive sign-ins only
                yield signin if beta else {k: v for k, v in signin.items() if k in V1_SIGNIN_PROPERTIES}
        return self._list(request, spec, source, "auditLogs/signIns", present=lambda item, q: apply_select(
            item, q.select))

    def _signins(self, start, end):
        """The generated log merged with the run-time sign-ins, newest first."""
        generated = self.tenant.iter_signins(start=start, end=end)
        added = self.state.added_signins(start, end)
        if not added:
            return generated
        return heapq.merge(generated, added, key=lambda record: parse_timestamp(record["createdDateTime"]),
                           reverse=True)

    def list_directory_audits(self, request):
        def source(query):
            audits = self.tenant.iter_directory_audits()
            if request.api == "beta":
                return iter(audits)
            return ({k: v for k, v in audit.items() if k not in BETA_ONLY_AUDIT_PROPERTIES} for audit in audits)
        return self._list(request, AUDIT_SPEC, source, "auditLogs/directoryAudits",
                          present=lambda item, q: apply_select(item, q.select))

    def list_credential_activities(self, request):
        odd = self.faults is not None and self.faults.is_on("odd_report_shapes")
        response = self._list(request, CREDENTIAL_ACTIVITY_SPEC,
                              lambda _q: iter(self.tenant.iter_credential_activities()),
                              "reports/appCredentialSignInActivities",
                              present=lambda item, q: apply_select(item, q.select))
        if not odd:
            return response
        # Microsoft's own example responses spell the report differently (expirationDate, keyType
        # "secret", "-8:00" offsets) and answer a `$filter` with a bare object, not a value list; the
        # odd_report_shapes knob serves them that way so clients prove they tolerate it.
        values = [doc_examples.credential_activity_as_in_docs(item) for item in response.body["value"]]
        response.body["value"] = values
        if "$filter" in request.options and len(values) == 1 and "@odata.nextLink" not in response.body:
            response.body = {"@odata.context": response.body["@odata.context"], **values[0]}
        return response


def _present_only(items):
    """Objects deleted through the simulator drop out of lists."""
    return (item for item in items if item is not None)


def _mentions(tree, path):
    if tree is None:
        return False
    if tree[0] in ("and", "or"):
        return _mentions(tree[1], path) or _mentions(tree[2], path)
    if tree[0] == "not":
        return _mentions(tree[1], path)
    return tree[1] == path


def _time_range(tree, path):
    """(start, end) implied by top-level `path ge/gt/le/lt` clauses, to narrow the tenant's iterator."""
    start = end = None
    for clause in conjuncts(tree):
        if clause[0] == "cmp" and clause[1] == path:
            if clause[2] in ("ge", "gt", "eq"):
                start = clause[3] if start is None else max(start, clause[3])
            if clause[2] in ("le", "lt", "eq"):
                end = clause[3] if end is None else min(end, clause[3])
    return start, end


def _parse_time(value, name):
    if value is None:
        return None
    try:
        return timefmt.parse(str(value))
    except ValueError:
        raise errors.bad_request(f"Invalid value specified for property '{name}' of resource "
                                 "'PasswordCredential'.") from None
