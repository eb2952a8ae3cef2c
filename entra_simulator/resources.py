"""Graph JSON for directory objects, shaped as Microsoft documents them (see shapes.py for the sources).

Builders take a plan (plans.py) plus tenant context and return a fresh dict holding the properties
Graph returns by default (no $select). Values that Graph leaves empty are null or [] exactly as
documented: collections marked "Not nullable" are [] and never null.
"""
from __future__ import annotations

import base64
import hashlib

from . import catalog, timefmt
from .ids import b64url, guid_bytes_le
from .plans import Credential, ObjectPlan

GRAPH_RESOURCE = "Microsoft Graph"


def password_credential(credential: Credential) -> dict:
    # v1.0 passwordCredential; secretText is only ever returned by addPassword, so null here.
    return {
        "customKeyIdentifier": None,
        "displayName": credential.display_name,
        "endDateTime": credential.end_text,
        "hint": credential.hint,
        "keyId": credential.key_id,
        "secretText": None,
        "startDateTime": credential.start_text,
    }


def key_credential(credential: Credential) -> dict:
    # v1.0 keyCredential; `key` is null in lists (only $select=keyCredentials on one object returns it).
    identifier = base64.b64encode(bytes.fromhex(credential.thumbprint_sha1)).decode("ascii") \
        if credential.key_type == "AsymmetricX509Cert" else None
    return {
        "customKeyIdentifier": identifier,
        "displayName": credential.display_name,
        "endDateTime": credential.end_text,
        "key": None,
        "keyId": credential.key_id,
        "startDateTime": credential.start_text,
        "type": credential.key_type,
        "usage": credential.usage,
    }


def federated_identity_credential(credential: Credential) -> dict:
    spec = credential.federated
    return {
        "id": credential.key_id,
        "name": spec.name,
        "issuer": spec.issuer,
        "subject": spec.subject,
        "description": spec.description,
        "audiences": ["api://AzureADTokenExchange"],
    }


def credential_activity(plan: ObjectPlan, credential: Credential, resource_id: str, last_sign_in: str,
                        last_request_id: str) -> dict:
    """beta appCredentialSignInActivity (graph-wire-facts.md 2.5); id = base64("{keyId}|{origin}")."""
    origin = "servicePrincipal" if credential.on_service_principal else "application"
    return {
        "id": base64.b64encode(f"{credential.key_id}|{origin}".encode()).decode("ascii"),
        "keyId": credential.key_id,
        "keyType": "clientSecret" if credential.kind == "password" else "certificate",
        "keyUsage": "verify" if credential.kind == "password" else credential.usage.lower(),
        "appId": plan.app_id,
        "appObjectId": plan.app_object_id,
        "servicePrincipalObjectId": plan.sp_object_id,
        "resourceId": resource_id,
        "credentialOrigin": origin,
        "createdDateTime": credential.start_text,
        "expirationDateTime": credential.end_text,
        "signInActivity": {"lastSignInDateTime": last_sign_in, "lastSignInRequestId": last_request_id},
    }


def app_role(role: catalog.AppRoleInfo) -> dict:
    return {
        "allowedMemberTypes": ["Application"],
        "description": role.description,
        "displayName": role.display_name,
        "id": role.id,
        "isEnabled": True,
        "origin": "Application",
        "value": role.value,
    }


def _required_resource_access(plan: ObjectPlan) -> list[dict]:
    accesses = []
    if plan.profile.graph_permissions:
        accesses.append({"resourceAppId": catalog.MICROSOFT_GRAPH_APP_ID, "resourceAccess": [
            {"id": catalog.GRAPH_ROLE_BY_VALUE[name].id, "type": "Role"} for name in plan.profile.graph_permissions]})
    if plan.profile.exchange_permissions:
        accesses.append({"resourceAppId": catalog.EXCHANGE_ONLINE_APP_ID, "resourceAccess": [
            {"id": catalog.EXCHANGE_ROLE_BY_VALUE[name].id, "type": "Role"} for name in plan.profile.exchange_permissions]})
    return accesses


def _is_multi_tenant(audience: str) -> bool:
    return audience != "AzureADMyOrg"


def application(plan: ObjectPlan, domain: str) -> dict:
    """v1.0 application with its default properties."""
    profile = plan.profile
    web_app = profile.user_signins
    return {
        "id": plan.app_object_id,
        "deletedDateTime": None,
        "appId": plan.app_id,
        "applicationTemplateId": None,
        "disabledByMicrosoftStatus": None,
        "createdDateTime": timefmt.seconds(plan.created),
        "displayName": profile.display_name,
        "description": None,
        "groupMembershipClaims": None,
        "identifierUris": [f"api://{plan.app_id}"] if profile.secrets or profile.certificates else [],
        "isDeviceOnlyAuthSupported": None,
        "isFallbackPublicClient": None,
        "nativeAuthenticationApisEnabled": None,
        "notes": profile.notes,
        "publisherDomain": domain,
        "serviceManagementReference": None,
        "signInAudience": profile.sign_in_audience,
        "tags": list(profile.tags),
        "tokenEncryptionKeyId": None,
        "samlMetadataUrl": None,
        "defaultRedirectUri": None,
        "certification": None,
        "optionalClaims": None,
        "requestSignatureVerification": None,
        "servicePrincipalLockConfiguration": {
            "isEnabled": True, "allProperties": True, "credentialsWithUsageVerify": True,
            "credentialsWithUsageSign": True, "tokenEncryptionKeyId": True,
        } if _is_multi_tenant(profile.sign_in_audience) else None,
        "addIns": [],
        "api": {"acceptMappedClaims": None, "knownClientApplications": [], "requestedAccessTokenVersion": None,
                "oauth2PermissionScopes": [], "preAuthorizedApplications": []},
        "appRoles": [app_role(role) for role in profile.app_roles],
        "info": {"logoUrl": None, "marketingUrl": None, "privacyStatementUrl": None, "supportUrl": None,
                 "termsOfServiceUrl": None},
        "keyCredentials": [key_credential(c) for c in plan.keys(on_service_principal=False)],
        "oauth2RequirePostResponse": False,
        "parentalControlSettings": {"countriesBlockedForMinors": [], "legalAgeGroupRule": "Allow"},
        "passwordCredentials": [password_credential(c) for c in plan.passwords(on_service_principal=False)],
        "publicClient": {"redirectUris": []},
        "requiredResourceAccess": _required_resource_access(plan),
        "verifiedPublisher": {"displayName": None, "verifiedPublisherId": None, "addedDateTime": None},
        "web": {"homePageUrl": f"https://app{plan.sp_index}.{domain}/" if web_app else None, "logoutUrl": None,
                "redirectUris": [f"https://app{plan.sp_index}.{domain}/signin-oidc"] if web_app else [],
                "implicitGrantSettings": {"enableAccessTokenIssuance": False, "enableIdTokenIssuance": web_app},
                "redirectUriSettings": [{"uri": f"https://app{plan.sp_index}.{domain}/signin-oidc", "index": None}]
                if web_app else []},
        "spa": {"redirectUris": []},
    }


_SERVICE_PRINCIPAL_TYPES = {"app": "Application", "external": "Application", "first_party": "Application",
                            "managed_identity": "ManagedIdentity"}


def service_principal(plan: ObjectPlan, domain: str, subscription_id: str) -> dict:
    """v1.0 servicePrincipal with its default properties."""
    profile = plan.profile
    managed = profile.kind == "managed_identity"
    alternative_names = []
    names = [plan.app_id]
    if managed:
        alternative_names = ["isExplicit=False",
                             f"/subscriptions/{subscription_id}/resourcegroups/rg-prod/providers/Microsoft.Web/sites/"
                             f"{profile.display_name}"]
        names = [plan.app_id, f"https://identity.azure.net/{b64url(hashlib.sha256(plan.app_id.encode()).digest()[:24])}="]
    elif profile.kind == "first_party" and plan.app_id == catalog.MICROSOFT_GRAPH_APP_ID:
        names = ["https://canary.graph.microsoft.com", "https://graph.microsoft.com", "https://ags.windows.net",
                 plan.app_id, "https://graph.microsoft.us", "https://dod-graph.microsoft.us"]
    elif profile.kind == "app" and (profile.secrets or profile.certificates):
        names = [plan.app_id, f"api://{plan.app_id}"]
    return {
        "id": plan.sp_object_id,
        "deletedDateTime": None,
        "accountEnabled": profile.account_enabled,
        "alternativeNames": alternative_names,
        "appDisplayName": profile.display_name,
        "appDescription": None,
        "appId": plan.app_id,
        "applicationTemplateId": None,
        "appOwnerOrganizationId": plan.owner_tenant_id,
        "appRoleAssignmentRequired": False,
        "description": None,
        "disabledByMicrosoftStatus": None,
        "displayName": profile.display_name,
        "homepage": f"https://app{plan.sp_index}.{domain}/" if profile.kind == "app" and profile.user_signins else None,
        "loginUrl": None,
        "logoutUrl": None,
        "notes": None,
        "notificationEmailAddresses": [],
        "preferredSingleSignOnMode": None,
        "preferredTokenSigningKeyThumbprint": None,
        "replyUrls": [f"https://app{plan.sp_index}.{domain}/signin-oidc"] if profile.kind == "app" and profile.user_signins else [],
        "servicePrincipalNames": names,
        "servicePrincipalType": _SERVICE_PRINCIPAL_TYPES[profile.kind],
        "signInAudience": None if managed else profile.sign_in_audience,
        "tags": ["WindowsAzureActiveDirectoryIntegratedApp"] if profile.kind == "app" else [],
        "tokenEncryptionKeyId": None,
        "samlSingleSignOnSettings": None,
        "addIns": [],
        "appRoles": [app_role(role) for role in profile.app_roles],
        "info": {"logoUrl": None, "marketingUrl": None, "privacyStatementUrl": None, "supportUrl": None,
                 "termsOfServiceUrl": None},
        "keyCredentials": [key_credential(c) for c in plan.keys(on_service_principal=True)],
        "oauth2PermissionScopes": [],
        "passwordCredentials": [password_credential(c) for c in plan.passwords(on_service_principal=True)],
        "resourceSpecificApplicationPermissions": [],
        "verifiedPublisher": {"displayName": None, "verifiedPublisherId": None, "addedDateTime": None},
    }


def app_role_assignment_id(principal_id: str, app_role_id: str) -> str:
    """Entra's appRoleAssignment ids are 43 base64url characters; the first 16 bytes are the principal."""
    return b64url(guid_bytes_le(principal_id) + hashlib.sha256(app_role_id.encode()).digest()[:16])


def app_role_assignment(plan: ObjectPlan, role: catalog.AppRoleInfo, resource_id: str, resource_name: str) -> dict:
    return {
        "id": app_role_assignment_id(plan.sp_object_id, role.id),
        "deletedDateTime": None,
        "appRoleId": role.id,
        "createdDateTime": timefmt.seven_digits(plan.created, 0),
        "principalDisplayName": plan.profile.display_name,
        "principalId": plan.sp_object_id,
        "principalType": "ServicePrincipal",
        "resourceDisplayName": resource_name,
        "resourceId": resource_id,
    }


def role_assignment_id(role_definition_id: str, principal_id: str) -> str:
    """As Entra builds them: base64url(roleDefinitionId bytes + principalId bytes) + "-1"."""
    return b64url(guid_bytes_le(role_definition_id) + guid_bytes_le(principal_id)) + "-1"


def role_assignment(role_definition_id: str, principal_id: str) -> dict:
    # v1.0 unifiedRoleAssignment; resourceScope is deprecated but still in Microsoft's response examples.
    return {
        "id": role_assignment_id(role_definition_id, principal_id),
        "principalId": principal_id,
        "resourceScope": "/",
        "directoryScopeId": "/",
        "appScopeId": None,
        "condition": None,
        "roleDefinitionId": role_definition_id,
    }


def role_definition(role: catalog.DirectoryRoleInfo) -> dict:
    return {
        "id": role.template_id,
        "description": role.description,
        "displayName": role.display_name,
        "isBuiltIn": True,
        "isEnabled": True,
        "resourceScopes": ["/"],
        "templateId": role.template_id,
        "version": "1",
        "rolePermissions": [{"allowedResourceActions": list(role.allowed_resource_actions), "condition": None,
                             "excludedResourceActions": []}],
    }


def user(object_id: str, display_name: str, user_principal_name: str, job_title: str | None) -> dict:
    """A user as it appears in an owners list (directoryObject collection, default user properties)."""
    given, _, surname = display_name.partition(" ")
    return {
        "@odata.type": "#microsoft.graph.user",
        "id": object_id,
        "businessPhones": [],
        "displayName": display_name,
        "givenName": given,
        "jobTitle": job_title,
        "mail": user_principal_name,
        "mobilePhone": None,
        "officeLocation": None,
        "preferredLanguage": "en-US",
        "surname": surname or None,
        "userPrincipalName": user_principal_name,
    }


def service_principal_as_owner(sp: dict) -> dict:
    """A service principal inside a directoryObject collection carries its @odata.type."""
    return {"@odata.type": "#microsoft.graph.servicePrincipal", **sp}
