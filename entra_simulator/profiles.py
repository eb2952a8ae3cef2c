"""Recipes for the tenant's apps: what credentials, permissions and habits each one has.

A profile is a small frozen description; generator.py turns it into Graph JSON and sign-in records.
`demo` uses a hand-written list (one app per interesting case, each explaining itself in `notes`);
`medium` and `large` draw a profile from (seed, index) with weights that look like a real tenant.
"""
from __future__ import annotations

from dataclasses import dataclass, field

from . import catalog
from .randomness import Draws, cumulative


@dataclass(frozen=True)
class SecretSpec:
    display_name: str | None
    start_days_ago: float
    lifetime_days: float | None = 365.0     # None: never expires
    never_expires_year: int = 2299          # 2299 (what old PowerShell set) or 9999
    used: bool = True                       # signs in during the log window
    on_service_principal: bool = False


@dataclass(frozen=True)
class CertSpec:
    display_name: str | None
    start_days_ago: float
    lifetime_days: float = 365.0
    used: bool = True
    key_type: str = "AsymmetricX509Cert"    # or "Symmetric": a shared secret stored as a keyCredential
    usage: str = "Verify"
    on_service_principal: bool = False


@dataclass(frozen=True)
class FederatedSpec:
    name: str
    issuer: str
    subject: str
    description: str | None = None
    used: bool = True


@dataclass(frozen=True)
class Profile:
    display_name: str | None
    created_days_ago: float
    kind: str = "app"                       # app | external | managed_identity | first_party
    sign_in_audience: str = "AzureADMyOrg"
    secrets: tuple[SecretSpec, ...] = ()
    certificates: tuple[CertSpec, ...] = ()
    federated: tuple[FederatedSpec, ...] = ()
    graph_permissions: tuple[str, ...] = ()
    exchange_permissions: tuple[str, ...] = ()
    directory_roles: tuple[str, ...] = ()
    account_enabled: bool = True
    source_ips: int = 1                     # distinct addresses its credentials sign in from
    failing: bool = False                   # some rounds are failed attempts with a wrong secret
    stale_after_rounds: int | None = None   # stops using its credentials after this many rounds
    user_signins: bool = False              # people sign in to it interactively
    owner_count: int = 1
    notes: str | None = None
    identity: str | None = None             # collector | responder | limited
    fixed_app_id: str | None = None         # first-party apps keep Microsoft's appId
    tags: tuple[str, ...] = ()
    removed_secret_days_ago: tuple[float, ...] = ()   # secrets deleted this long ago (directory audit only)
    app_roles: tuple[catalog.AppRoleInfo, ...] = field(default=(), repr=False)  # roles it exposes


COLLECTOR_ROLES = ("Application.Read.All", "AuditLog.Read.All", "Directory.Read.All", "RoleManagement.Read.Directory")
IDENTITY_ROLES = {
    "collector": COLLECTOR_ROLES,
    "responder": COLLECTOR_ROLES + ("Application.ReadWrite.All",),
    "limited": ("Application.Read.All",),
}
IDENTITY_DISPLAY_NAMES = {
    "collector": "Splunk TA Entra App Secrets - Collector",
    "responder": "Splunk TA Entra App Secrets - Responder",
    "limited": "Splunk TA Entra App Secrets - Limited (read apps only)",
}


def identity_profile(name: str) -> Profile:
    return Profile(
        display_name=IDENTITY_DISPLAY_NAMES[name], created_days_ago=20, identity=name,
        secrets=(SecretSpec(f"{name} secret (simulator)", 20, 180, used=False),),
        certificates=(CertSpec(f"CN={IDENTITY_DISPLAY_NAMES[name]}", 20, 730, used=(name == "collector")),),
        graph_permissions=IDENTITY_ROLES[name],
        notes="The add-on's own sign-in app. Its secret is reported like any other, flagged as the collector.",
    )


LONG_NAME = ("Integration " + "with a very long display name that keeps going " * 6).strip()[:256]


def demo_profiles() -> tuple[Profile, ...]:
    """One application per case a reader of the demo should see (after the three identities)."""
    s = SecretSpec
    return (
        Profile("HR Sync Service", 400, secrets=(s("hr-sync prod", 200, 365),), graph_permissions=("User.Read.All",),
                notes="Baseline: one secret, used daily from one address, reads user profiles."),
        Profile("Legacy Reporting Tool", 1500, secrets=(s(None, 1400, None, 2299, used=False),),
                graph_permissions=("Reports.Read.All",),
                notes="A secret that never expires (year 2299) and is never used."),
        Profile("Backup Automation", 1200, secrets=(s("backup", 1100, None, 9999),),
                graph_permissions=("Files.ReadWrite.All", "Sites.ReadWrite.All"),
                notes="A never-expiring secret (year 9999) with write access to every file."),
        Profile("Mail Archiver", 600, secrets=(s("archiver", 300, 540),), graph_permissions=("Mail.Read",),
                source_ips=12, notes="One secret used from many different addresses: shared or stolen."),
        Profile("Tenant Admin Automation", 800, secrets=(s("automation", 100, 365),),
                directory_roles=(catalog.GLOBAL_ADMINISTRATOR,),
                notes="A secret on an app that holds the Global Administrator directory role."),
        Profile("Privileged Role Bot", 500, secrets=(s("role-bot", 60, 180),),
                graph_permissions=("RoleManagement.ReadWrite.Directory",),
                directory_roles=(catalog.PRIVILEGED_ROLE_ADMINISTRATOR,),
                notes="Can grant any role, including Global Administrator."),
        Profile("Expired Secret App", 900, secrets=(s("old", 405, 365, used=False),),
                graph_permissions=("Group.Read.All",),
                notes="Its only secret expired 40 days ago; nothing signs in with it any more."),
        Profile("Rotation In Progress", 700, graph_permissions=("Group.Read.All",),
                secrets=(s("previous", 355, 365), s("current", 2, 365)), removed_secret_days_ago=(3,),
                notes="Old secret expiring in 10 days and its replacement added 2 days ago; both used. "
                      "A third secret was removed 3 days ago (see the directory audit log)."),
        Profile("Multi Secret Sprawl", 1000, graph_permissions=("Directory.Read.All",),
                secrets=(s("team-a", 300, 730), s("team-b", 250, 730), s("forgotten", 600, 730, used=False),
                         s("expired", 800, 365, used=False)),
                notes="Four secrets on one app: two used, one forgotten, one expired."),
        Profile("Partner Portal", 450, sign_in_audience="AzureADMultipleOrgs", secrets=(s("portal", 90, 365),),
                user_signins=True, notes="Multi-tenant app (AzureADMultipleOrgs) with a client secret."),
        Profile("Disabled Integration", 1300, account_enabled=False, secrets=(s("disabled", 200, 730, used=False),),
                graph_permissions=("User.Read.All",),
                notes="Service principal disabled (accountEnabled false); the secret remains."),
        Profile("Certificate Only Service", 300, certificates=(CertSpec("CN=cert-only", 100, 365),),
                graph_permissions=("Group.Read.All",),
                notes="Uses a certificate only: no client secret, so no finding."),
        Profile("Hybrid Credentials App", 650, secrets=(s("fallback", 300, 730, used=False),),
                certificates=(CertSpec("CN=hybrid", 100, 365),), graph_permissions=("Sites.ReadWrite.All",),
                notes="Signs in with its certificate; an unused secret is left over."),
        Profile("GitHub Actions Deployer", 200, secrets=(s("bootstrap", 190, 365, used=False),),
                federated=(FederatedSpec("github-main", "https://token.actions.githubusercontent.com",
                                         "repo:contoso/infra:ref:refs/heads/main", "Deploy from main"),),
                graph_permissions=("Application.ReadWrite.OwnedBy",),
                notes="Uses a federated identity credential; the old bootstrap secret was never removed."),
        Profile("Directory Sync Connector", 1000,
                secrets=(s("added on the service principal", 20, 730, on_service_principal=True),),
                graph_permissions=("AppRoleAssignment.ReadWrite.All",),
                notes="The secret sits on the service principal object, where the app registration "
                      "blade does not show it: a classic persistence trick."),
        Profile("Recently Added Secret", 365, secrets=(s("new", 1, 730),),
                graph_permissions=("Application.ReadWrite.All",),
                notes="A secret added yesterday to an app that can add secrets to every other app."),
        Profile("Long-Lived Secret", 1900, secrets=(s("five years", 1000, 1826),), graph_permissions=("Group.Read.All",),
                notes="A five-year secret (finite but far beyond two years)."),
        Profile("Failing Secret Client", 400, secrets=(s("current", 100, 365),), failing=True,
                graph_permissions=("Reports.Read.All",),
                notes="Also produces failed sign-ins (AADSTS7000215, invalid client secret)."),
        Profile('<script>alert("x")</script> & \'Quotes\' </event> ]]> App', 100, secrets=(s("<b>bold</b> & co", 50, 365),),
                notes="XML and HTML metacharacters in every name."),
        Profile("Control\tChars\nIn\rName\x07\x1b[31m", 100, secrets=(s("line\nbreak", 50, 365),),
                notes="Control characters in the display names."),
        Profile(LONG_NAME, 100, secrets=(s("x" * 120, 50, 365),), notes="A 256-character display name."),
        Profile("財務システム連携 – Сервис отчётов – خدمة التقارير 🚀", 100, secrets=(s("秘密", 50, 365),),
                graph_permissions=("Mail.Send",), notes="Non-Latin scripts, right-to-left text and an emoji."),
        Profile("Exchange Mailbox Sync", 900, secrets=(s("ews", 120, 730),), exchange_permissions=("full_access_as_app",),
                notes="Holds Exchange Online full_access_as_app: every mailbox through EWS."),
        Profile("Stale Secret", 800, secrets=(s("stale", 400, 730),), stale_after_rounds=2,
                graph_permissions=("Group.Read.All",), user_signins=True,
                notes="Its secret was used early in the log window and not since."),
        Profile("Secret Not Yet Valid", 50, secrets=(s("future", -5, 365, used=False),),
                notes="A secret whose startDateTime is 5 days in the future."),
        Profile("Symmetric Key Legacy App", 2000,
                certificates=(CertSpec("symmetric", 1500, 3650, used=False, key_type="Symmetric"),),
                notes="A Symmetric keyCredential: a shared secret stored as a key."),
        Profile("Unowned Script", 700, secrets=(s("script", 30, 90),), owner_count=0,
                graph_permissions=("User.Read.All",), notes="No owners: nobody to ask about this secret."),
        Profile("Duplicate Secret Names", 500, secrets=(s("prod", 100, 365), s("prod", 90, 365, used=False)),
                notes="Two secrets with the same display name; only the keyId tells them apart."),
        Profile("Personal Accounts App", 300, sign_in_audience="AzureADandPersonalMicrosoftAccount",
                secrets=(s("consumer", 30, 365),), user_signins=True,
                notes="Audience includes personal Microsoft accounts."),
        Profile("Secret Expiring Soon", 400, secrets=(s("expiring", 362, 365),), graph_permissions=("Group.Read.All",),
                notes="Expires in three days and is still in use."),
        Profile("Mail Sender Both Objects", 600, graph_permissions=("Mail.Send",),
                secrets=(s("on app", 100, 365), s("on service principal", 10, 365, on_service_principal=True)),
                notes="Secrets on both the application and its service principal."),
        Profile("Security Reader Job", 250, certificates=(CertSpec("CN=secreader", 60, 365),),
                graph_permissions=("SecurityEvents.Read.All", "IdentityRiskyUser.Read.All"),
                notes="Certificate-based security job (context for comparisons)."),
        Profile("Helpdesk Tool", 700, secrets=(s("helpdesk", 200, 365),), directory_roles=(catalog.HELPDESK_ADMINISTRATOR,),
                notes="A secret on an app holding a lower-privilege directory role."),
        Profile("Expense Web App", 900, user_signins=True, notes="Web app people sign in to; no credentials."),
        Profile("Intranet SPA", 900, user_signins=True, notes="Single-page app, no credentials."),
        Profile("Mobile Field App", 800, user_signins=True, notes="Public client, no credentials."),
        Profile("Analytics Dashboard", 350, user_signins=True, certificates=(CertSpec("CN=dash", 100, 365),),
                notes="User-facing app that also calls Graph with a certificate."),
        Profile("Data Lake Ingest", 240, federated=(
            FederatedSpec("aks-ingest", "https://oidc.prod-aks.azure.com/00000000-aaaa-bbbb-cccc-000000000000/",
                          "system:serviceaccount:ingest:loader"),), graph_permissions=("Sites.ReadWrite.All",),
            notes="Kubernetes workload identity (federated credential), no secret."),
        Profile("Orphaned Test App", 1200, notes="An app registration nobody uses: no credentials, no sign-ins."),
        Profile("Policy Auditor", 150, secrets=(s("auditor", 45, 180),), graph_permissions=("Policy.Read.All",),
                notes="Low-privilege, short-lived, used: the well-behaved secret."),
        Profile("Conditional Access Manager", 300, secrets=(s("ca", 150, 365),),
                graph_permissions=("Policy.ReadWrite.ConditionalAccess",),
                notes="Can rewrite Conditional Access policies with a secret."),
        Profile("Group Membership Sync", 500, secrets=(s("sync", 90, 365),),
                graph_permissions=("GroupMember.ReadWrite.All", "Group.Read.All"), source_ips=3,
                notes="Changes group memberships; signs in from three addresses."),
        Profile("Cloud App Admin Robot", 350, secrets=(s("robot", 40, 365, used=False),),
                directory_roles=(catalog.CLOUD_APPLICATION_ADMINISTRATOR,),
                notes="Unused secret on an app that holds Cloud Application Administrator."),
    )


EXTERNAL_TENANT_NAMES = ("Contoso Analytics", "Fabrikam CRM Connector", "Northwind Backup Cloud", "Tailspin Mail Gateway")


def first_party_profiles() -> tuple[Profile, ...]:
    """Microsoft's service principals every tenant has; the resources the apps are granted roles on."""
    return (
        Profile("Microsoft Graph", 1500, kind="first_party", fixed_app_id=catalog.MICROSOFT_GRAPH_APP_ID,
                app_roles=catalog.GRAPH_APP_ROLES, owner_count=0),
        Profile("Office 365 Exchange Online", 1500, kind="first_party", fixed_app_id=catalog.EXCHANGE_ONLINE_APP_ID,
                app_roles=catalog.EXCHANGE_APP_ROLES, owner_count=0),
        Profile("Azure Portal", 1500, kind="first_party", fixed_app_id=catalog.AZURE_PORTAL_APP_ID,
                user_signins=True, owner_count=0),
    )


def demo_extra_profiles() -> tuple[Profile, ...]:
    """Service principals without an application in this tenant (after the first-party ones)."""
    return (
        Profile("Contoso Analytics", 700, kind="external", sign_in_audience="AzureADMultipleOrgs",
                secrets=(SecretSpec("customer-added", 30, 365, on_service_principal=True),),
                graph_permissions=("Directory.Read.All",), owner_count=0,
                notes="A third-party multi-tenant app; someone added a secret to its service principal here."),
        Profile("Fabrikam CRM Connector", 500, kind="external", sign_in_audience="AzureADMultipleOrgs",
                graph_permissions=("User.Read.All",), owner_count=0, user_signins=True),
        Profile("func-invoice-processor", 200, kind="managed_identity", graph_permissions=("Sites.ReadWrite.All",),
                owner_count=0),
        Profile("uami-data-pipeline", 150, kind="managed_identity", graph_permissions=("Group.Read.All",),
                owner_count=0),
    )


# ---- medium / large -----------------------------------------------------------------------------
_TEAMS = ("Finance", "HR", "Sales", "Marketing", "IT", "Security", "Legal", "Ops", "Data", "Support", "R&D", "Payroll")
_SYSTEMS = ("SAP", "Workday", "Salesforce", "ServiceNow", "Jira", "Tableau", "Snowflake", "Okta Bridge",
            "Backup", "Reporting", "Mailer", "Sync", "Connector", "Portal", "Bot", "Pipeline", "Scanner")
_PURPOSES = ("Integration", "Export", "Import", "Automation", "API", "Webhook", "Job", "Service", "Agent", "Gateway")
_HOSTILE = ("<img src=x onerror=alert(1)> & Co", "Tab\tand\nnewline", "Ünïcödé Äpp – 日本語", "تطبيق المزامنة",
            "\x00nul\x1f unit sep", "\"quoted\" 'single' <tag/>")
_LOW_ROLES = ("Group.Read.All", "Reports.Read.All", "Policy.Read.All", "Application.Read.All", "AuditLog.Read.All",
              "SecurityEvents.Read.All")
_HIGH_ROLES = tuple(role.value for role in catalog.GRAPH_APP_ROLES if role.high_risk)
_ROLES_FOR_APPS = (catalog.GLOBAL_ADMINISTRATOR, catalog.APPLICATION_ADMINISTRATOR,
                   catalog.CLOUD_APPLICATION_ADMINISTRATOR, catalog.HELPDESK_ADMINISTRATOR)


_SECRET_COUNT_WEIGHTS = cumulative(40, 38, 14, 6, 2)
_ROLE_COUNT_WEIGHTS = cumulative(30, 40, 20, 10)
_AUDIENCES = ("AzureADMyOrg", "AzureADMultipleOrgs", "AzureADandPersonalMicrosoftAccount")
_AUDIENCE_WEIGHTS = cumulative(88, 10, 2)
_SPACES = {"app": 1, "extra": 2}


def _rng(seed: int, space: str, index: int) -> Draws:
    return Draws(seed, _SPACES[space], index)


def _random_secret(rng: Draws, label: str, on_sp: bool = False) -> SecretSpec:
    roll = rng.random()
    start = rng.uniform(0, 1400)
    if roll < 0.06:
        return SecretSpec(label, start, None, rng.choice((2299, 9999)), used=rng.random() < 0.4, on_service_principal=on_sp)
    lifetime = rng.choice((90, 180, 365, 365, 365, 730, 730, 1095, 1826))
    expired = start > lifetime
    used = (not expired) and start >= 0 and rng.random() < 0.6
    return SecretSpec(label, start, lifetime, used=used, on_service_principal=on_sp)


def random_profile(seed: int, index: int) -> Profile:
    """A plausible app registration, drawn from (seed, index) alone."""
    rng = _rng(seed, "app", index)
    if rng.random() < 0.01:
        name = f"{rng.choice(_HOSTILE)} {index}"
    else:
        name = f"{rng.choice(_TEAMS)} {rng.choice(_SYSTEMS)} {rng.choice(_PURPOSES)} {index:06d}"
    secret_count = rng.weighted((0, 1, 2, 3, 4), _SECRET_COUNT_WEIGHTS)
    secrets = tuple(_random_secret(rng, rng.choice((None, "prod", "dev", "ci", "rotation", f"key{n}")))
                    for n in range(secret_count))
    if rng.random() < 0.03:
        secrets += (_random_secret(rng, "service principal secret", on_sp=True),)
    certificates = ()
    if rng.random() < 0.25:
        certificates = (CertSpec(f"CN={name[:40]}", rng.uniform(0, 700), rng.choice((365, 730)),
                                 used=rng.random() < 0.7),)
    federated = ()
    if rng.random() < 0.05:
        federated = (FederatedSpec(f"gh-{index}", "https://token.actions.githubusercontent.com",
                                   f"repo:contoso/app{index}:environment:prod"),)
    role_count = rng.weighted((0, 1, 2, 3), _ROLE_COUNT_WEIGHTS)
    permissions = tuple(dict.fromkeys(
        rng.choice(_HIGH_ROLES if rng.random() < 0.25 else _LOW_ROLES) for _ in range(role_count)))
    directory_roles = (rng.choice(_ROLES_FOR_APPS),) if rng.random() < 0.01 else ()
    return Profile(
        display_name=name, created_days_ago=rng.uniform(1, 2500),
        sign_in_audience=rng.weighted(_AUDIENCES, _AUDIENCE_WEIGHTS),
        secrets=secrets, certificates=certificates, federated=federated, graph_permissions=permissions,
        exchange_permissions=("full_access_as_app",) if rng.random() < 0.005 else (),
        directory_roles=directory_roles, account_enabled=rng.random() > 0.03,
        source_ips=6 if rng.random() < 0.03 else rng.choice((1, 1, 1, 2)),
        failing=rng.random() < 0.03, stale_after_rounds=2 if rng.random() < 0.05 else None,
        user_signins=rng.random() < 0.3, owner_count=rng.choice((0, 1, 1, 2)),
    )


def random_extra_profile(seed: int, index: int) -> Profile:
    """A service principal with no application here: a managed identity or a third-party app."""
    rng = _rng(seed, "extra", index)
    if rng.random() < 0.6:
        return Profile(f"mi-{rng.choice(_SYSTEMS).lower().replace(' ', '-')}-{index:05d}", rng.uniform(1, 900),
                       kind="managed_identity", graph_permissions=(rng.choice(_LOW_ROLES),), owner_count=0)
    secrets = (_random_secret(rng, "customer-added", on_sp=True),) if rng.random() < 0.15 else ()
    return Profile(f"{rng.choice(EXTERNAL_TENANT_NAMES)} {index:05d}", rng.uniform(1, 1500), kind="external",
                   sign_in_audience="AzureADMultipleOrgs", secrets=secrets,
                   graph_permissions=(rng.choice(_LOW_ROLES + _HIGH_ROLES[:3]),), owner_count=0,
                   user_signins=rng.random() < 0.5)
