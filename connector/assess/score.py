"""CTD-000008 "Microsoft Entra app with client secrets": one scored finding per secret. Pure.

The threat definition rates a client secret medium. Each factor below moves the score from that base
and is listed with a sentence, so an analyst sees why a secret is critical and not just that it is.
Score 0-100 maps to CIM Alerts severity: >=90 critical, >=70 high, >=40 medium, >=20 low, else
informational. An expired secret nobody uses cannot be abused any more: its score is capped at low.
"""
from dataclasses import dataclass

from connector.wellknown import MICROSOFT_GRAPH_APP_ID

SIGNATURE_ID = "CTD-000008"
SIGNATURE = "Microsoft Entra app with client secrets"
BASE_SCORE = 50
EXPIRED_UNUSED_CAP = 20
LONG_LIFETIME_DAYS = 180
MANY_SOURCE_IPS = 5

SEVERITIES = ((90, "critical"), (70, "high"), (40, "medium"), (20, "low"), (0, "informational"))
SEVERITY_IDS = {"informational": 1, "low": 2, "medium": 3, "high": 4, "critical": 5}

MITRE_VALID_CLOUD_ACCOUNTS = "T1078.004"
MITRE_ADDITIONAL_CLOUD_CREDENTIALS = "T1098.001"

# Microsoft Graph application permissions that let the holder make itself (or anyone) more powerful:
# a secret with one of these is a path to Global Administrator (graph-wire-facts §4).
ESCALATION_PERMISSIONS = frozenset({
    "RoleManagement.ReadWrite.Directory", "AppRoleAssignment.ReadWrite.All", "Application.ReadWrite.All",
    "Application.ReadWrite.OwnedBy", "Directory.ReadWrite.All", "ServicePrincipalEndpoint.ReadWrite.All",
    "Policy.ReadWrite.ConditionalAccess", "UserAuthenticationMethod.ReadWrite.All",
    "DelegatedPermissionGrant.ReadWrite.All", "Policy.ReadWrite.PermissionGrant",
    "PrivilegedAccess.ReadWrite.AzureADGroup", "Domain.ReadWrite.All", "Group.ReadWrite.All",
    "GroupMember.ReadWrite.All", "User.ReadWrite.All",
})
# ...and those that read or write a tenant's data at large (mail, files, the directory).
DATA_ACCESS_PERMISSIONS = frozenset({
    "Mail.ReadWrite", "Mail.Read", "Mail.Send", "Files.ReadWrite.All", "Sites.ReadWrite.All",
    "Sites.FullControl.All", "Directory.Read.All", "User.Read.All", "Exchange.ManageAsApp",
})
EXCHANGE_ONLINE_APP_ID = "00000002-0000-0ff1-ce00-000000000000"
EXCHANGE_HIGH_PRIVILEGE = frozenset({"full_access_as_app", "Exchange.ManageAsApp"})

# Directory roles that control identities, credentials or the tenant's configuration.
PRIVILEGED_ROLES = frozenset({
    "Global Administrator", "Privileged Role Administrator", "Privileged Authentication Administrator",
    "Application Administrator", "Cloud Application Administrator", "Security Administrator",
    "User Administrator", "Authentication Administrator", "Hybrid Identity Administrator",
    "Conditional Access Administrator", "Exchange Administrator", "SharePoint Administrator",
    "Intune Administrator", "Groups Administrator", "Directory Writers", "Partner Tier2 Support",
    "Helpdesk Administrator", "Password Administrator", "Domain Name Administrator",
    "External Identity Provider Administrator", "Identity Governance Administrator",
})


@dataclass(frozen=True)
class Factor:
    id: str
    points: int
    detail: str


@dataclass(frozen=True)
class Finding:
    facts: object            # correlate.SecretFacts
    score: int
    severity: str
    factors: tuple           # Factor, in the order they fired

    @property
    def severity_id(self):
        return SEVERITY_IDS[self.severity]

    @property
    def factor_ids(self):
        return [factor.id for factor in self.factors]

    @property
    def mitre_technique_ids(self):
        ids = [MITRE_VALID_CLOUD_ACCOUNTS]
        if "recently_added" in self.factor_ids or "secret_on_service_principal" in self.factor_ids:
            ids.append(MITRE_ADDITIONAL_CLOUD_CREDENTIALS)
        return ids


def severity_for(score):
    return next(name for floor, name in SEVERITIES if score >= floor)


def high_privilege(permissions):
    """(escalation names, data-access names) among the app's application permissions."""
    escalation, data = [], []
    for permission in permissions:
        if permission.resource_app_id == MICROSOFT_GRAPH_APP_ID:
            if permission.value in ESCALATION_PERMISSIONS:
                escalation.append(permission.label)
            elif permission.value in DATA_ACCESS_PERMISSIONS:
                data.append(permission.label)
        elif permission.resource_app_id == EXCHANGE_ONLINE_APP_ID and permission.value in EXCHANGE_HIGH_PRIVILEGE:
            data.append(permission.label)
    return sorted(set(escalation)), sorted(set(data))


def _blast_radius(context):
    escalation, data = high_privilege(context.permissions)
    if escalation:
        yield Factor("high_privilege_permissions", 35,
                     "The app holds application permissions that can escalate to tenant control: "
                     + ", ".join(escalation + data) + ".")
    elif data:
        yield Factor("high_privilege_permissions", 25,
                     "The app holds broad data-access application permissions: " + ", ".join(data) + ".")
    roles = sorted(role for role in context.directory_roles if role in PRIVILEGED_ROLES)
    if roles:
        yield Factor("privileged_directory_role", 35,
                     "The app's service principal holds privileged directory roles: " + ", ".join(roles) + ".")


def _placement(facts):
    if facts.on_service_principal:
        yield Factor("secret_on_service_principal", 20,
                     "The secret sits on the service principal object, where the Entra portal does not show "
                     "it: a known way to hide a backdoor credential.")
    if facts.credential.credential_type == "symmetric_key":
        yield Factor("symmetric_key_credential", 0,
                     "The credential is a Symmetric key credential: a shared secret stored as a key credential.")


def _lifetime(facts):
    when = facts.timing
    if when.never_expires:
        yield Factor("never_expires", 15, "The secret never expires.")
    elif when.lifetime_days is not None and when.lifetime_days > LONG_LIFETIME_DAYS:
        yield Factor("long_lifetime", 10,
                     f"The secret is valid for {when.lifetime_days:.0f} days, over the "
                     f"{LONG_LIFETIME_DAYS}-day maximum that Microsoft recommends.")
    if facts.recently_added:
        yield Factor("recently_added", 15,
                     f"The secret was added recently ({facts.credential.start:%Y-%m-%d}): check who added it "
                     f"and why (MITRE {MITRE_ADDITIONAL_CLOUD_CREDENTIALS}).")


def _window(hours):
    return f"{hours // 24} days" if hours % 24 == 0 and hours > 24 else f"{hours} hours"


def _use(facts, many_ips):
    usage = facts.usage
    window = _window(facts.window_hours)
    if len(usage.source_ips) >= many_ips:
        yield Factor("used_from_many_ips", 10,
                     f"The secret signed in from {len(usage.source_ips)} source IP addresses in the last {window}.")
    if usage.use_count == 0 and not facts.timing.expired:
        yield Factor("unused_in_window", 0,
                     f"The secret was not used to sign in in the last {window}: it can probably be removed.")


def _exposure(facts):
    context = facts.context
    if context.multi_tenant:
        if context.owned_by_other_tenant:
            yield Factor("multi_tenant", 5,
                         "The app is registered in another tenant: whoever holds its secrets there can sign in "
                         "here.")
        else:
            yield Factor("multi_tenant", 5,
                         f"The app is multi-tenant ({context.sign_in_audience}): the secret is valid in every "
                         f"tenant that consented to it.")
    alternatives = [name for name, present in (("a certificate", context.has_certificate),
                                                ("a federated identity credential",
                                                 context.has_federated_credential)) if present]
    if alternatives:
        yield Factor("redundant_secret", 5,
                     "The app also has " + " and ".join(alternatives) + ": the secret is redundant.")
    if context.is_collector_app and context.collector_uses_secret:
        yield Factor("collector_app", 0,
                     "This is the add-on's own collector app, which signs in with a client secret; "
                     "configure a certificate for the add-on's account and remove the secret.")


def _mitigation(facts):
    if facts.context.account_enabled is False:
        yield Factor("service_principal_disabled", -10,
                     "The service principal is disabled: the secret cannot sign in until it is re-enabled.")
    if facts.timing.expired:
        yield Factor("expired", -20, "The secret has expired.")


def assess(facts, many_ips=MANY_SOURCE_IPS):
    factors = tuple(_blast_radius(facts.context)) + tuple(_placement(facts)) + tuple(_lifetime(facts)) \
        + tuple(_use(facts, many_ips)) + tuple(_exposure(facts)) + tuple(_mitigation(facts))
    score = BASE_SCORE + sum(factor.points for factor in factors)
    if facts.timing.expired and facts.usage.use_count == 0:
        score = min(score, EXPIRED_UNUSED_CAP)
    score = max(0, min(100, score))
    return Finding(facts=facts, score=score, severity=severity_for(score), factors=factors)


def description(finding):
    facts = finding.facts
    credential, context, when = facts.credential, facts.context, facts.timing
    where = "service principal object" if facts.on_service_principal else "application registration"
    expiry = ("never expires" if when.never_expires else
              f"expired {credential.end:%Y-%m-%d}" if when.expired else
              f"expires {credential.end:%Y-%m-%d}" if credential.end else "has no end date")
    used = (f"last used {facts.usage.last_used}" if facts.usage.last_used else "no recorded use")
    return (f"{context.app_name or context.app_id} (appId {context.app_id}) authenticates with a client "
            f"secret on its {where} (keyId {credential.key_id}); the secret {expiry}, {used}. "
            f"Severity {finding.severity} ({finding.score}/100).")


def recommended_action(finding):
    facts = finding.facts
    if facts.timing.expired:
        return "Remove the expired secret from the object (entra_remove_secret); nothing can sign in with it."
    if facts.on_service_principal:
        return ("Find out who added a secret to the service principal object (directory audit log), then remove "
                "it (entra_remove_secret); disable the app (entra_disable_app) if it was not sanctioned.")
    if facts.context.has_certificate or facts.context.has_federated_credential:
        return "Remove the redundant secret (entra_remove_secret): the app already has a stronger credential."
    if facts.usage.use_count == 0:
        return "Confirm with the owner and remove the unused secret (entra_remove_secret)."
    return ("Replace the secret with a certificate or a federated identity credential, move the workload to it, "
            "then remove the secret (entra_remove_secret).")
