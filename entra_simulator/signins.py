"""The sign-in log: which actor signs in when, with which credential, and the beta signIn record.

Sign-in `i` (0 = oldest) belongs to service principal `i % actors` in round `i // actors`, so every
service principal signs in once per round, and its createdDateTime grows with `i`: a time window is
an index range found by bisection, and "newest first" is a reversed range. What happens in a round is
a pure function of the actor's plan and the round (`event_for`), which lets the ground truth and the
credential-activity report replay an actor's rounds without reading the log.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timezone

from . import catalog, timefmt
from .ids import IdCodec, Kind, b64url
from .plans import Credential, ObjectPlan
from .randomness import mix

class Timeline:
    """Maps sign-in indexes to actors, rounds and whole-second timestamps (non-decreasing in index)."""

    def __init__(self, count: int, actors: int, start: datetime, end: datetime, seed: int):
        self.count, self.actors, self.seed = count, actors, seed
        self.start_epoch = int(start.timestamp())
        self.span = int(end.timestamp()) - self.start_epoch
        self.step = self.span / max(count, 1)

    def epoch(self, index: int) -> int:
        jitter = ((index * 2654435761 + self.seed * 40503) % 997) / 1000.0   # < 1: keeps order
        return self.start_epoch + int((index + jitter) * self.step)

    def moment(self, index: int) -> datetime:
        return datetime.fromtimestamp(self.epoch(index), tz=timezone.utc)

    def actor_round(self, index: int) -> tuple[int, int]:
        return index % self.actors, index // self.actors

    def index_of(self, actor: int, round_number: int) -> int:
        return round_number * self.actors + actor

    def rounds_of(self, actor: int) -> range:
        """Round numbers in which `actor` has a sign-in (oldest first)."""
        if actor >= self.count:
            return range(0)
        return range(0, (self.count - 1 - actor) // self.actors + 1)

    def index_range(self, start: datetime | None, end: datetime | None) -> range:
        """Indexes whose time lies in [start, end], oldest first."""
        low = 0 if start is None else self._first_at_or_after(int(start.timestamp()) + (start.microsecond > 0))
        high = self.count if end is None else self._first_at_or_after(int(end.timestamp()) + 1)
        return range(low, max(low, high))

    def _first_at_or_after(self, epoch: int) -> int:
        low, high = 0, self.count
        while low < high:
            middle = (low + high) // 2
            if self.epoch(middle) < epoch:
                low = middle + 1
            else:
                high = middle
        return low


_EVENT_TYPES = {"credential": "servicePrincipal", "invalid_secret": "servicePrincipal",
                "managed_identity": "managedIdentity", "user_app": "interactiveUser", "user_portal": "interactiveUser"}


@dataclass(frozen=True)
class Event:
    kind: str                           # credential | invalid_secret | managed_identity | user_app | user_portal
    credential: Credential | None = None

    @property
    def success(self) -> bool:
        return self.kind != "invalid_secret"

    @property
    def sign_in_event_type(self) -> str:
        """The record's signInEventTypes member, known before the record is built."""
        return _EVENT_TYPES[self.kind]


def usable_credentials(plan: ObjectPlan) -> list[Credential]:
    return [c for c in plan.credentials if c.intended_use and (c.kind != "key" or c.key_type == "AsymmetricX509Cert")]


def event_for(plan: ObjectPlan, round_number: int, moment: datetime) -> Event:
    """What the actor does in a round. Credentials only sign in while valid and while the SP is enabled."""
    profile = plan.profile
    if profile.kind == "managed_identity":
        return Event("managed_identity")
    if profile.failing and profile.secrets and round_number % 4 == 3:
        return Event("invalid_secret")
    if profile.account_enabled and (profile.stale_after_rounds is None or round_number < profile.stale_after_rounds):
        candidates = usable_credentials(plan)
        for offset in range(len(candidates)):
            credential = candidates[(round_number + offset) % len(candidates)]
            if credential.valid_at(moment):
                return Event("credential", credential)
    if profile.user_signins:
        return Event("user_app")
    return Event("user_portal")


# ---- records ---------------------------------------------------------------------------------
_PUBLIC_FIRST_OCTETS = (20, 40, 52, 13, 104, 51, 4, 23, 65)
_USER_FIRST_OCTETS = (81, 86, 92, 2, 77, 91, 109, 176)
_LOCATIONS = (
    ("Redmond", "Washington", "US", 47.6740, -122.1215), ("Dublin", "Dublin", "IE", 53.3498, -6.2603),
    ("Amsterdam", "Noord-Holland", "NL", 52.3676, 4.9041), ("Singapore", "Singapore", "SG", 1.3521, 103.8198),
    ("Frankfurt am Main", "Hessen", "DE", 50.1109, 8.6821), ("Sao Paulo", "Sao Paulo", "BR", -23.5505, -46.6333),
    ("Sydney", "New South Wales", "AU", -33.8688, 151.2093), ("Toronto", "Ontario", "CA", 43.6532, -79.3832),
)
_BROWSERS = (("Edge 120.0.0", "Windows10"), ("Chrome 121.0.0", "MacOs"), ("Safari 17.2", "Ios"),
             ("Chrome 120.0.0", "Android"))


def source_ip(seed: int, actor: int, slot: int, user: bool = False) -> str:
    value = mix(seed, actor, slot, 0x1F)
    first = (_USER_FIRST_OCTETS if user else _PUBLIC_FIRST_OCTETS)[value % 8 if user else value % 9]
    return f"{first}.{(value >> 8) % 256}.{(value >> 16) % 256}.{1 + (value >> 24) % 254}"


def service_principal_ip(seed: int, plan: ObjectPlan, round_number: int) -> str:
    """The address an actor signs in from in a round: it cycles through `source_ips` addresses."""
    return source_ip(seed, plan.sp_index, round_number % max(plan.profile.source_ips, 1))


def _location(ip_address: str) -> dict:
    city, state, country, latitude, longitude = _LOCATIONS[sum(map(ord, ip_address)) % len(_LOCATIONS)]
    return {"city": city, "state": state, "countryOrRegion": country,
            "geoCoordinates": {"altitude": None, "latitude": latitude, "longitude": longitude}}


_EMPTY_DEVICE = {"deviceId": "", "displayName": None, "operatingSystem": None, "browser": None,
                 "isCompliant": False, "isManaged": False, "trustType": None}
_NO_MSI = {"msiType": "none", "associatedResourceId": None, "federatedTokenId": None, "federatedTokenIssuer": None}

INVALID_SECRET_REASON = ("Invalid client secret provided. Ensure the secret being sent in the request is the client "
                         "secret value, not the client secret ID, for a secret added to app '{app_id}'.")


def _template() -> dict:
    """Every property of the documented beta signIn resource, at its service-principal default."""
    return {
        "id": None, "createdDateTime": None, "userDisplayName": "", "userPrincipalName": "", "userId": "",
        "appId": None, "appDisplayName": None, "ipAddress": None, "ipAddressFromResourceProvider": None,
        "clientAppUsed": None, "clientCredentialType": "none", "correlationId": None,
        "conditionalAccessStatus": "notApplied", "conditionalAccessAudiences": [], "originalRequestId": "",
        "isInteractive": False, "isTenantRestricted": False, "isThroughGlobalSecureAccess": False,
        "globalSecureAccessIpAddress": None, "tokenIssuerName": "", "tokenIssuerType": "AzureAD",
        "processingTimeInMilliseconds": 0, "riskDetail": "none", "riskLevelAggregated": "none",
        "riskLevelDuringSignIn": "none", "riskState": "none", "riskEventTypes_v2": [],
        "resourceDisplayName": None, "resourceId": None, "resourceServicePrincipalId": None,
        "resourceTenantId": None, "homeTenantId": None, "homeTenantName": None,
        "servicePrincipalName": None, "servicePrincipalId": "", "servicePrincipalCredentialKeyId": "",
        "servicePrincipalCredentialThumbprint": "", "federatedCredentialId": "", "azureResourceId": None,
        "signInEventTypes": [], "signInIdentifier": None, "signInIdentifierType": None,
        "signInTokenProtectionStatus": "none", "appTokenProtectionStatus": "none", "userAgent": None,
        "userType": "member", "flaggedForReview": False, "autonomousSystemNumber": 0, "sessionId": None,
        "uniqueTokenIdentifier": None, "authenticationProtocol": "none", "incomingTokenType": "none",
        "originalTransferMethod": "none", "crossTenantAccessType": "none", "authenticationRequirement": "singleFactorAuthentication",
        "authenticationMethodsUsed": [], "authenticationDetails": [], "authenticationProcessingDetails": [],
        "authenticationRequirementPolicies": [], "authenticationContextClassReferences": [],
        "authenticationAppDeviceDetails": None, "authenticationAppPolicyEvaluationDetails": [],
        "appliedConditionalAccessPolicies": [], "appliedEventListeners": [], "networkLocationDetails": [],
        "sessionLifetimePolicies": [], "privateLinkDetails": None, "mfaDetail": None,
        "status": None, "location": None, "deviceDetail": None, "managedServiceIdentity": None,
    }


_TEMPLATE = _template()


@dataclass(frozen=True)
class SigninContext:
    """Tenant facts every record needs."""
    codec: IdCodec
    seed: int
    tenant_id: str
    graph_sp_id: str
    exchange_sp_id: str
    portal_sp_id: str
    user_count: int
    user_name: object            # callable(index) -> (display name, upn)
    subscription_id: str


def build_record(context: SigninContext, index: int, moment_text: str, plan: ObjectPlan, round_number: int,
                 event: Event, record_id: str | None = None, ip_override: str | None = None) -> dict:
    record = dict(_TEMPLATE)
    noise = mix(context.seed, index, 7)
    record["id"] = record_id or context.codec.guid(Kind.SIGN_IN, index)
    record["createdDateTime"] = moment_text
    record["correlationId"] = context.codec.guid(Kind.CORRELATION, index)
    record["uniqueTokenIdentifier"] = b64url(noise.to_bytes(8, "big") + mix(noise, index).to_bytes(8, "big"))[:22]
    record["processingTimeInMilliseconds"] = 20 + noise % 180
    record["resourceTenantId"] = context.tenant_id
    record["deviceDetail"] = dict(_EMPTY_DEVICE)
    if event.kind in ("user_app", "user_portal"):
        _fill_user(context, record, index, plan, event, noise, ip_override)
    else:
        _fill_service_principal(context, record, plan, round_number, event, noise, ip_override)
    record["location"] = _location(record["ipAddress"])
    return record


def _fill_service_principal(context, record, plan, round_number, event, noise, ip_override):
    profile = plan.profile
    record["ipAddress"] = ip_override or service_principal_ip(context.seed, plan, round_number)
    record["autonomousSystemNumber"] = 8075 if profile.kind != "external" else 16509
    record["appId"] = plan.app_id
    record["appDisplayName"] = profile.display_name
    record["servicePrincipalId"] = plan.sp_object_id
    record["servicePrincipalName"] = profile.display_name
    exchange = bool(profile.exchange_permissions) and not profile.graph_permissions
    record["resourceDisplayName"] = "Office 365 Exchange Online" if exchange else "Microsoft Graph"
    record["resourceId"] = catalog.EXCHANGE_ONLINE_APP_ID if exchange else catalog.MICROSOFT_GRAPH_APP_ID
    record["resourceServicePrincipalId"] = context.exchange_sp_id if exchange else context.graph_sp_id
    record["authenticationProcessingDetails"] = [{"key": "Azure AD App Authentication Library", "value": "Family: MSAL"}]
    record["managedServiceIdentity"] = dict(_NO_MSI)
    record["status"] = {"errorCode": 0, "failureReason": None, "additionalDetails": None}
    if event.kind == "managed_identity":
        record["signInEventTypes"] = ["managedIdentity"]
        record["clientCredentialType"] = "managedIdentity"
        resource = (f"/subscriptions/{context.subscription_id}/resourcegroups/rg-prod/providers/Microsoft.Web/sites/"
                    f"{profile.display_name}")
        record["azureResourceId"] = resource
        record["managedServiceIdentity"] = {"msiType": "systemAssigned", "associatedResourceId": resource,
                                            "federatedTokenId": None, "federatedTokenIssuer": None}
        return
    record["signInEventTypes"] = ["servicePrincipal"]
    if event.kind == "invalid_secret":
        record["clientCredentialType"] = "clientSecret"
        record["status"] = {"errorCode": 7000215, "failureReason": INVALID_SECRET_REASON.format(app_id=plan.app_id),
                            "additionalDetails": None}
        return
    credential = event.credential
    if credential.kind == "password":
        record["clientCredentialType"] = "clientSecret"
        record["servicePrincipalCredentialKeyId"] = credential.key_id
    elif credential.kind == "key":
        record["clientCredentialType"] = "certificate"
        record["servicePrincipalCredentialKeyId"] = credential.key_id
        record["servicePrincipalCredentialThumbprint"] = credential.thumbprint_sha1.upper()
    else:
        record["clientCredentialType"] = "federatedIdentityCredential"
        record["federatedCredentialId"] = credential.key_id


def _fill_user(context, record, index, plan, event, noise, ip_override):
    user_index = noise % max(context.user_count, 1)
    display_name, upn = context.user_name(user_index)
    portal = event.kind == "user_portal"
    browser, system = _BROWSERS[noise % len(_BROWSERS)]
    record.update({
        "userDisplayName": display_name, "userPrincipalName": upn,
        "userId": context.codec.guid(Kind.USER, user_index),
        "appId": catalog.AZURE_PORTAL_APP_ID if portal else plan.app_id,
        "appDisplayName": "Azure Portal" if portal else plan.profile.display_name,
        "ipAddress": ip_override or source_ip(context.seed, user_index, 0, user=True),
        "clientAppUsed": "Browser", "isInteractive": True, "signInEventTypes": ["interactiveUser"],
        "resourceDisplayName": "Microsoft Graph", "resourceId": catalog.MICROSOFT_GRAPH_APP_ID,
        "resourceServicePrincipalId": context.graph_sp_id, "homeTenantId": context.tenant_id,
        "signInIdentifier": upn, "signInIdentifierType": "userPrincipalName",
        "authenticationRequirement": "multiFactorAuthentication", "conditionalAccessStatus": "success",
        "authenticationMethodsUsed": ["Password", "Authenticator App"], "autonomousSystemNumber": 3320,
        "userAgent": "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) "
                     "Chrome/121.0.0.0 Safari/537.36 Edg/121.0.0.0",
        "sessionId": context.codec.guid(Kind.CORRELATION, (1 << 39) + user_index),
        "servicePrincipalName": None, "authenticationProtocol": "none",
        "status": {"errorCode": 0, "failureReason": None, "additionalDetails": "MFA requirement satisfied by claim in the token"},
        "mfaDetail": {"authMethod": None, "authDetail": None},
    })
    record["deviceDetail"] = {"deviceId": "", "displayName": None, "operatingSystem": system, "browser": browser,
                              "isCompliant": False, "isManaged": False, "trustType": None}


def moment_text(epoch: int) -> str:
    return timefmt.seconds(datetime.fromtimestamp(epoch, tz=timezone.utc))
