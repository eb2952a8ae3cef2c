"""Microsoft's documented property sets for every resource the simulator serves, and a validator.

Sources (MGD = github.com/microsoftgraph/microsoft-graph-docs-contrib; SDK = the generated models of
msgraph-sdk 1.65.0 (v1.0) and msgraph-beta-sdk 1.66.0 (beta), which are generated from Graph's
$metadata and so list every property Graph can return, including ones newer than the stored docs):
- application: MGD api-reference/v1.0/resources/application.md; SDK models/application.py
- servicePrincipal: MGD api-reference/v1.0/resources/serviceprincipal.md; SDK models/service_principal.py
- passwordCredential, keyCredential: MGD v1.0 resources/passwordcredential.md, keycredential.md
- federatedIdentityCredential: MGD v1.0 resources/federatedidentitycredential.md
- appRoleAssignment: MGD v1.0 api/serviceprincipal-list-approleassignments.md; SDK app_role_assignment.py
- unifiedRoleAssignment / unifiedRoleDefinition: MGD v1.0 api/rbacapplication-list-roleassignments.md
  (its examples still show the deprecated `resourceScope`), SDK unified_role_assignment.py
- user (as a directoryObject in owners lists): MGD v1.0 api/user-list.md default property set
- signIn (beta): MGD api-reference/beta/resources/signin.md @027089ba (ms.date 11/14/2024), SDK beta sign_in.py
- appCredentialSignInActivity (beta): MGD beta resources/appcredentialsigninactivity.md @403fed46
- directoryAudit (beta): MGD beta api/directoryaudit-list.md (example; `userType` appears in it)

`validate(name, obj)` returns a list of problems (empty when the object matches): unknown properties,
missing default properties, relationships present without $expand, wrong types (GUID, timestamp, enum
members, bool/int/str), null in a property documented "Not nullable".
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field

S, DT, GUID, GUID_OR_EMPTY, BOOL, INT, NUM, BINARY = "string", "datetime", "guid", "guid_or_empty", "bool", "int", "number", "binary"


def coll(item):
    return ("collection", item)


def obj(name):
    return ("object", name)


def enum(*values):
    return ("enum", values)


def flags(*values):
    """Flag enums travel as one comma-separated string, e.g. "none" or "oAuth2,ropc"."""
    return ("flags", values)


@dataclass(frozen=True)
class Shape:
    name: str
    properties: dict
    default: frozenset | None = None         # returned without $select; None: every structural property
    relationships: frozenset = frozenset()   # navigation properties: only with $expand
    not_nullable: frozenset = frozenset()
    example_only: dict = field(default_factory=dict)   # in Microsoft's response examples, not the property table

    def default_properties(self) -> frozenset:
        return self.default if self.default is not None else frozenset(self.properties) - self.relationships


# ---- v1.0 directory objects ----------------------------------------------------------------------
_APPLICATION = {
    "id": GUID, "deletedDateTime": DT, "addIns": coll(obj("addIn")), "api": obj("apiApplication"), "appId": GUID,
    "appManagementPolicies": coll(obj("appManagementPolicy")), "appRoles": coll(obj("appRole")),
    "applicationTemplateId": S, "authenticationBehaviors": obj("authenticationBehaviors"),
    "certification": obj("certification"), "createdByAppId": S, "createdDateTime": DT,
    "createdOnBehalfOf": obj("directoryObject"), "defaultRedirectUri": S, "description": S,
    "disabledByMicrosoftStatus": S, "displayName": S, "extensionProperties": coll(obj("extensionProperty")),
    "federatedIdentityCredentials": coll(obj("federatedIdentityCredential")), "groupMembershipClaims": S,
    "homeRealmDiscoveryPolicies": coll(obj("homeRealmDiscoveryPolicy")), "identifierUris": coll(S),
    "info": obj("informationalUrl"), "isDeviceOnlyAuthSupported": BOOL, "isDisabled": BOOL,
    "isFallbackPublicClient": BOOL, "keyCredentials": coll(obj("keyCredential")), "logo": BINARY,
    "managerApplications": coll(GUID), "nativeAuthenticationApisEnabled": flags("none", "all", "unknownFutureValue"),
    "notes": S, "oauth2RequirePostResponse": BOOL, "optionalClaims": obj("optionalClaims"),
    "owners": coll(obj("directoryObject")), "parentalControlSettings": obj("parentalControlSettings"),
    "passwordCredentials": coll(obj("passwordCredential")), "publicClient": obj("publicClientApplication"),
    "publisherDomain": S, "requestSignatureVerification": obj("requestSignatureVerification"),
    "requiredResourceAccess": coll(obj("requiredResourceAccess")), "samlMetadataUrl": S,
    "serviceManagementReference": S, "servicePrincipalLockConfiguration": obj("servicePrincipalLockConfiguration"),
    "signInAudience": enum("AzureADMyOrg", "AzureADMultipleOrgs", "AzureADandPersonalMicrosoftAccount",
                           "PersonalMicrosoftAccount"),
    "spa": obj("spaApplication"), "synchronization": obj("synchronization"), "tags": coll(S),
    "tokenEncryptionKeyId": GUID, "tokenIssuancePolicies": coll(obj("tokenIssuancePolicy")),
    "tokenLifetimePolicies": coll(obj("tokenLifetimePolicy")), "uniqueName": S,
    "verifiedPublisher": obj("verifiedPublisher"), "web": obj("webApplication"),
}
# What GET /applications returns without $select: every structural property except the logo stream
# and the newest ones Graph only returns on $select.
_APPLICATION_DEFAULT = frozenset({
    "id", "deletedDateTime", "appId", "applicationTemplateId", "disabledByMicrosoftStatus", "createdDateTime",
    "displayName", "description", "groupMembershipClaims", "identifierUris", "isDeviceOnlyAuthSupported",
    "isFallbackPublicClient", "nativeAuthenticationApisEnabled", "notes", "publisherDomain",
    "serviceManagementReference", "signInAudience", "tags", "tokenEncryptionKeyId", "samlMetadataUrl",
    "defaultRedirectUri", "certification", "optionalClaims", "requestSignatureVerification",
    "servicePrincipalLockConfiguration", "addIns", "api", "appRoles", "info", "keyCredentials",
    "oauth2RequirePostResponse", "parentalControlSettings", "passwordCredentials", "publicClient",
    "requiredResourceAccess", "verifiedPublisher", "web", "spa",
})
_APPLICATION_RELATIONSHIPS = frozenset({
    "appManagementPolicies", "createdOnBehalfOf", "extensionProperties", "federatedIdentityCredentials",
    "homeRealmDiscoveryPolicies", "owners", "synchronization", "tokenIssuancePolicies", "tokenLifetimePolicies",
})

_SERVICE_PRINCIPAL = {
    "id": GUID, "deletedDateTime": DT, "accountEnabled": BOOL, "addIns": coll(obj("addIn")),
    "alternativeNames": coll(S), "appDescription": S, "appDisplayName": S, "appId": GUID,
    "appManagementPolicies": coll(obj("appManagementPolicy")), "appOwnerOrganizationId": GUID,
    "appRoleAssignedTo": coll(obj("appRoleAssignment")), "appRoleAssignmentRequired": BOOL,
    "appRoleAssignments": coll(obj("appRoleAssignment")), "appRoles": coll(obj("appRole")),
    "applicationTemplateId": S, "claimsMappingPolicies": coll(obj("claimsMappingPolicy")), "createdByAppId": S,
    "createdObjects": coll(obj("directoryObject")), "customSecurityAttributes": obj("customSecurityAttributeValue"),
    "delegatedPermissionClassifications": coll(obj("delegatedPermissionClassification")), "description": S,
    "disabledByMicrosoftStatus": S, "displayName": S, "endpoints": coll(obj("endpoint")),
    "federatedIdentityCredentials": coll(obj("federatedIdentityCredential")),
    "homeRealmDiscoveryPolicies": coll(obj("homeRealmDiscoveryPolicy")), "homepage": S,
    "info": obj("informationalUrl"), "isDisabled": BOOL, "keyCredentials": coll(obj("keyCredential")),
    "loginUrl": S, "logoutUrl": S, "memberOf": coll(obj("directoryObject")), "notes": S,
    "notificationEmailAddresses": coll(S), "oauth2PermissionGrants": coll(obj("oAuth2PermissionGrant")),
    "oauth2PermissionScopes": coll(obj("permissionScope")), "ownedObjects": coll(obj("directoryObject")),
    "owners": coll(obj("directoryObject")), "passwordCredentials": coll(obj("passwordCredential")),
    "preferredSingleSignOnMode": S, "preferredTokenSigningKeyThumbprint": S,
    "remoteDesktopSecurityConfiguration": obj("remoteDesktopSecurityConfiguration"), "replyUrls": coll(S),
    "resourceSpecificApplicationPermissions": coll(obj("resourceSpecificPermission")),
    "samlSingleSignOnSettings": obj("samlSingleSignOnSettings"), "servicePrincipalNames": coll(S),
    "servicePrincipalType": enum("Application", "ManagedIdentity", "Legacy", "SocialIdp"),
    "signInAudience": enum("AzureADMyOrg", "AzureADMultipleOrgs", "AzureADandPersonalMicrosoftAccount",
                           "PersonalMicrosoftAccount"),
    "synchronization": obj("synchronization"), "tags": coll(S), "tokenEncryptionKeyId": GUID,
    "tokenIssuancePolicies": coll(obj("tokenIssuancePolicy")), "tokenLifetimePolicies": coll(obj("tokenLifetimePolicy")),
    "transitiveMemberOf": coll(obj("directoryObject")), "verifiedPublisher": obj("verifiedPublisher"),
}
_SERVICE_PRINCIPAL_DEFAULT = frozenset({
    "id", "deletedDateTime", "accountEnabled", "alternativeNames", "appDisplayName", "appDescription", "appId",
    "applicationTemplateId", "appOwnerOrganizationId", "appRoleAssignmentRequired", "description",
    "disabledByMicrosoftStatus", "displayName", "homepage", "loginUrl", "logoutUrl", "notes",
    "notificationEmailAddresses", "preferredSingleSignOnMode", "preferredTokenSigningKeyThumbprint", "replyUrls",
    "servicePrincipalNames", "servicePrincipalType", "signInAudience", "tags", "tokenEncryptionKeyId",
    "samlSingleSignOnSettings", "addIns", "appRoles", "info", "keyCredentials", "oauth2PermissionScopes",
    "passwordCredentials", "resourceSpecificApplicationPermissions", "verifiedPublisher",
})
_SERVICE_PRINCIPAL_RELATIONSHIPS = frozenset({
    "appManagementPolicies", "appRoleAssignedTo", "appRoleAssignments", "claimsMappingPolicies", "createdObjects",
    "delegatedPermissionClassifications", "endpoints", "federatedIdentityCredentials", "homeRealmDiscoveryPolicies",
    "memberOf", "oauth2PermissionGrants", "ownedObjects", "owners", "remoteDesktopSecurityConfiguration",
    "synchronization", "tokenIssuancePolicies", "tokenLifetimePolicies", "transitiveMemberOf",
})
_NOT_NULLABLE_COLLECTIONS = frozenset({"passwordCredentials", "keyCredentials", "appRoles", "identifierUris", "tags",
                                       "requiredResourceAccess", "addIns", "replyUrls", "servicePrincipalNames",
                                       "oauth2PermissionScopes", "alternativeNames", "notificationEmailAddresses"})

_USER_DEFAULT = {
    "id": GUID, "businessPhones": coll(S), "displayName": S, "givenName": S, "jobTitle": S, "mail": S,
    "mobilePhone": S, "officeLocation": S, "preferredLanguage": S, "surname": S, "userPrincipalName": S,
}

SHAPES: dict[str, Shape] = {}


def _add(shape: Shape):
    SHAPES[shape.name] = shape


_add(Shape("application", _APPLICATION, _APPLICATION_DEFAULT, _APPLICATION_RELATIONSHIPS,
           _NOT_NULLABLE_COLLECTIONS | {"id", "appId"}))
_add(Shape("servicePrincipal", _SERVICE_PRINCIPAL, _SERVICE_PRINCIPAL_DEFAULT, _SERVICE_PRINCIPAL_RELATIONSHIPS,
           _NOT_NULLABLE_COLLECTIONS | {"id", "appId", "appRoleAssignmentRequired"}))
_add(Shape("user", _USER_DEFAULT, not_nullable=frozenset({"id", "businessPhones"})))
_add(Shape("passwordCredential", {"customKeyIdentifier": BINARY, "displayName": S, "endDateTime": DT, "hint": S,
                                  "keyId": GUID, "secretText": S, "startDateTime": DT},
           not_nullable=frozenset({"keyId"})))
_add(Shape("keyCredential", {"customKeyIdentifier": BINARY, "displayName": S, "endDateTime": DT, "key": BINARY,
                             "keyId": GUID, "startDateTime": DT,
                             "type": enum("AsymmetricX509Cert", "X509CertAndPassword", "Symmetric"),
                             "usage": enum("Verify", "Sign")},
           not_nullable=frozenset({"keyId", "type", "usage"})))
_add(Shape("federatedIdentityCredential", {"id": GUID, "audiences": coll(S), "description": S, "issuer": S,
                                           "name": S, "subject": S},
           not_nullable=frozenset({"id", "audiences", "issuer", "name"})))
_add(Shape("appRoleAssignment", {"id": S, "deletedDateTime": DT, "appRoleId": GUID, "createdDateTime": DT,
                                 "principalDisplayName": S, "principalId": GUID,
                                 "principalType": enum("User", "Group", "ServicePrincipal"),
                                 "resourceDisplayName": S, "resourceId": GUID},
           not_nullable=frozenset({"id", "appRoleId", "principalId", "resourceId"})))
_add(Shape("unifiedRoleAssignment", {"id": S, "appScope": obj("appScope"), "appScopeId": S, "condition": S,
                                     "directoryScope": obj("directoryObject"), "directoryScopeId": S,
                                     "principal": obj("directoryObject"), "principalId": GUID,
                                     "principalOrganizationId": S, "roleDefinition": obj("unifiedRoleDefinition"),
                                     "roleDefinitionId": GUID},
           default=frozenset({"id", "principalId", "directoryScopeId", "appScopeId", "condition", "roleDefinitionId"}),
           relationships=frozenset({"appScope", "directoryScope", "principal", "roleDefinition"}),
           not_nullable=frozenset({"id", "principalId", "roleDefinitionId"}),
           example_only={"resourceScope": S}))
_add(Shape("unifiedRoleDefinition", {"id": GUID, "description": S, "displayName": S,
                                     "inheritsPermissionsFrom": coll(obj("unifiedRoleDefinition")), "isBuiltIn": BOOL,
                                     "isEnabled": BOOL, "resourceScopes": coll(S),
                                     "rolePermissions": coll(obj("unifiedRolePermission")), "templateId": GUID,
                                     "version": S},
           relationships=frozenset({"inheritsPermissionsFrom"})))

# ---- complex types inside directory objects -------------------------------------------------------
_COMPLEX = {
    "appRole": {"allowedMemberTypes": coll(enum("User", "Application")), "description": S, "displayName": S,
                "id": GUID, "isEnabled": BOOL, "origin": enum("Application", "ServicePrincipal"), "value": S},
    "apiApplication": {"acceptMappedClaims": BOOL, "knownClientApplications": coll(GUID),
                       "oauth2PermissionScopes": coll(obj("permissionScope")),
                       "preAuthorizedApplications": coll(obj("preAuthorizedApplication")),
                       "requestedAccessTokenVersion": INT},
    "informationalUrl": {"logoUrl": S, "marketingUrl": S, "privacyStatementUrl": S, "supportUrl": S,
                         "termsOfServiceUrl": S},
    "parentalControlSettings": {"countriesBlockedForMinors": coll(S), "legalAgeGroupRule": S},
    "publicClientApplication": {"redirectUris": coll(S)},
    "verifiedPublisher": {"addedDateTime": DT, "displayName": S, "verifiedPublisherId": S},
    "webApplication": {"homePageUrl": S, "implicitGrantSettings": obj("implicitGrantSettings"), "logoutUrl": S,
                       "redirectUriSettings": coll(obj("redirectUriSettings")), "redirectUris": coll(S)},
    "implicitGrantSettings": {"enableAccessTokenIssuance": BOOL, "enableIdTokenIssuance": BOOL},
    "spaApplication": {"redirectUris": coll(S)},
    "redirectUriSettings": {"index": INT, "uri": S},
    "servicePrincipalLockConfiguration": {"allProperties": BOOL, "credentialsWithUsageSign": BOOL,
                                          "credentialsWithUsageVerify": BOOL, "isEnabled": BOOL,
                                          "tokenEncryptionKeyId": BOOL},
    "requiredResourceAccess": {"resourceAccess": coll(obj("resourceAccess")), "resourceAppId": GUID},
    "resourceAccess": {"id": GUID, "type": enum("Scope", "Role")},
    "permissionScope": {"adminConsentDescription": S, "adminConsentDisplayName": S, "id": GUID, "isEnabled": BOOL,
                        "origin": S, "type": S, "userConsentDescription": S, "userConsentDisplayName": S, "value": S},
    "preAuthorizedApplication": {"appId": S, "delegatedPermissionIds": coll(S)},
    "samlSingleSignOnSettings": {"relayState": S},
    "certification": {"certificationDetailsUrl": S, "certificationExpirationDateTime": DT,
                      "isCertifiedByMicrosoft": BOOL, "isPublisherAttested": BOOL, "lastCertificationDateTime": DT},
    "requestSignatureVerification": {"allowedWeakAlgorithms": flags("rsaSha1", "unknownFutureValue"),
                                     "isSignedRequestRequired": BOOL},
    "addIn": {"id": GUID, "properties": coll(obj("keyValue")), "type": S},
    "keyValue": {"key": S, "value": S},
    "unifiedRolePermission": {"allowedResourceActions": coll(S), "condition": S, "excludedResourceActions": coll(S)},
    # beta signIn parts
    "signInStatus": {"additionalDetails": S, "errorCode": INT, "failureReason": S},
    "signInLocation": {"city": S, "countryOrRegion": S, "geoCoordinates": obj("geoCoordinates"), "state": S},
    "geoCoordinates": {"altitude": NUM, "latitude": NUM, "longitude": NUM},
    "deviceDetail": {"browser": S, "browserId": S, "deviceId": S, "displayName": S, "isCompliant": BOOL,
                     "isManaged": BOOL, "operatingSystem": S, "trustType": S},
    "managedIdentity": {"associatedResourceId": S, "federatedTokenId": S, "federatedTokenIssuer": S,
                        "msiType": enum("none", "userAssigned", "systemAssigned", "unknownFutureValue")},
    "mfaDetail": {"authDetail": S, "authMethod": S},
    "signInActivity": {"lastNonInteractiveSignInDateTime": DT, "lastNonInteractiveSignInRequestId": S,
                       "lastSignInDateTime": DT, "lastSignInRequestId": S, "lastSuccessfulSignInDateTime": DT,
                       "lastSuccessfulSignInRequestId": S},
    # beta directoryAudit parts
    "auditActivityInitiator": {"app": obj("appIdentity"), "linkableIdentifiers": obj("linkableIdentifiers"),
                               "user": obj("auditUserIdentity")},
    "auditUserIdentity": {"displayName": S, "id": S, "ipAddress": S, "userPrincipalName": S, "homeTenantId": S,
                          "homeTenantName": S},
    "appIdentity": {"appId": S, "displayName": S, "servicePrincipalId": S, "servicePrincipalName": S},
    "targetResource": {"displayName": S, "groupType": enum("unifiedGroups", "azureAD", "unknownFutureValue"),
                       "id": S, "modifiedProperties": coll(obj("modifiedProperty")), "type": S,
                       "userPrincipalName": S},
    "modifiedProperty": {"displayName": S, "newValue": S, "oldValue": S},
}
# Complex types Graph returns partially (only what is set) or only on some objects: every property optional.
_PARTIAL = {"signInActivity", "auditActivityInitiator", "certification", "requestSignatureVerification",
            "deviceDetail", "appIdentity"}
for _name, _properties in _COMPLEX.items():
    _add(Shape(_name, _properties, default=frozenset() if _name in _PARTIAL else None,
               example_only={"userType": S} if _name == "auditUserIdentity" else {}))

# ---- beta sign-in log and reports -----------------------------------------------------------------
_RISK_LEVEL = enum("low", "medium", "high", "hidden", "none", "unknownFutureValue")
_TOKEN_PROTECTION = enum("none", "bound", "unbound", "unknownFutureValue")
_SIGN_IN = {
    "id": GUID, "agent": obj("agentSignIn"), "appDisplayName": S, "appId": GUID, "appOwnerTenantId": S,
    "appTokenProtectionStatus": _TOKEN_PROTECTION,
    "appliedConditionalAccessPolicies": coll(obj("appliedConditionalAccessPolicy")),
    "appliedEventListeners": coll(obj("appliedAuthenticationEventListener")),
    "authenticationAppDeviceDetails": obj("authenticationAppDeviceDetails"),
    "authenticationAppPolicyEvaluationDetails": coll(obj("authenticationAppPolicyDetails")),
    "authenticationContextClassReferences": coll(obj("authenticationContext")),
    "authenticationDetails": coll(obj("authenticationDetail")), "authenticationMethodsUsed": coll(S),
    "authenticationProcessingDetails": coll(obj("keyValue")),
    "authenticationProtocol": flags("none", "oAuth2", "ropc", "wsFederation", "saml20", "deviceCode",
                                    "unknownFutureValue", "authenticationTransfer", "nativeAuth",
                                    "clientCredentials", "refreshTokenGrant", "onBehalfOf"),
    "authenticationRequirement": S, "authenticationRequirementPolicies": coll(obj("authenticationRequirementPolicy")),
    "autonomousSystemNumber": INT, "azureResourceId": S, "clientAppUsed": S,
    "clientCredentialType": enum("none", "clientSecret", "clientAssertion", "federatedIdentityCredential",
                                 "managedIdentity", "certificate", "unknownFutureValue"),
    "clientSessionId": S, "conditionalAccessAudiences": coll(S),
    "conditionalAccessStatus": enum("success", "failure", "notApplied", "unknownFutureValue"),
    "correlationId": GUID, "createdDateTime": DT,
    "crossTenantAccessType": flags("none", "b2bCollaboration", "b2bDirectConnect", "microsoftSupport",
                                   "serviceProvider", "unknownFutureValue", "passthrough"),
    "deviceDetail": obj("deviceDetail"), "federatedCredentialId": GUID_OR_EMPTY, "flaggedForReview": BOOL,
    "globalSecureAccessIpAddress": S, "homeTenantId": S, "homeTenantName": S,
    "incomingTokenType": flags("none", "primaryRefreshToken", "saml11", "saml20", "unknownFutureValue",
                               "remoteDesktopToken", "refreshToken"),
    "ipAddress": S, "ipAddressFromResourceProvider": S, "isInteractive": BOOL, "isTenantRestricted": BOOL,
    "isThroughGlobalSecureAccess": BOOL, "location": obj("signInLocation"),
    "managedServiceIdentity": obj("managedIdentity"), "mfaDetail": obj("mfaDetail"),
    "networkLocationDetails": coll(obj("networkLocationDetail")), "originalRequestId": S,
    "originalTransferMethod": enum("none", "deviceCodeFlow", "authenticationTransfer", "unknownFutureValue"),
    "privateLinkDetails": obj("privateLinkDetails"), "processingTimeInMilliseconds": INT,
    "resourceDisplayName": S, "resourceId": S, "resourceOwnerTenantId": S, "resourceServicePrincipalId": S,
    "resourceTenantId": S,
    "riskDetail": enum("none", "adminGeneratedTemporaryPassword", "userPerformedSecuredPasswordChange",
                       "userPerformedSecuredPasswordReset", "adminConfirmedSigninSafe", "aiConfirmedSigninSafe",
                       "userPassedMFADrivenByRiskBasedPolicy", "adminDismissedAllRiskForUser",
                       "adminConfirmedSigninCompromised", "hidden", "adminConfirmedUserCompromised",
                       "unknownFutureValue", "adminConfirmedServicePrincipalCompromised",
                       "adminDismissedAllRiskForServicePrincipal", "m365DAdminDismissedDetection",
                       "userChangedPasswordOnPremises", "adminDismissedRiskForSignIn", "adminConfirmedAccountSafe"),
    "riskEventTypes_v2": coll(S), "riskLevelAggregated": _RISK_LEVEL, "riskLevelDuringSignIn": _RISK_LEVEL,
    "riskState": enum("none", "confirmedSafe", "remediated", "dismissed", "atRisk", "confirmedCompromised",
                      "unknownFutureValue"),
    "rootActorId": S, "servicePrincipalCredentialKeyId": GUID_OR_EMPTY, "servicePrincipalCredentialThumbprint": S,
    "servicePrincipalId": GUID_OR_EMPTY, "servicePrincipalName": S, "sessionId": S,
    "sessionLifetimePolicies": coll(obj("sessionLifetimePolicy")),
    "signInEventTypes": coll(enum("interactiveUser", "nonInteractiveUser", "servicePrincipal", "managedIdentity",
                                  "unknownFutureValue")),
    "signInIdentifier": S,
    "signInIdentifierType": enum("userPrincipalName", "phoneNumber", "proxyAddress", "qrCode",
                                 "onPremisesUserPrincipalName", "unknownFutureValue"),
    "signInTokenProtectionStatus": _TOKEN_PROTECTION, "status": obj("signInStatus"), "tokenIssuerName": S,
    "tokenIssuerType": enum("AzureAD", "ADFederationServices", "UnknownFutureValue", "AzureADBackupAuth",
                            "ADFederationServicesMFAAdapter", "NPSExtension"),
    "tokenProtectionStatusDetails": obj("tokenProtectionStatusDetails"), "uniqueTokenIdentifier": S,
    "userAgent": S, "userDisplayName": S, "userId": GUID_OR_EMPTY, "userPrincipalName": S,
    "userType": enum("member", "guest", "unknownFutureValue"),
}
# The properties table of MGD beta resources/signin.md @027089ba: what every record carries.
SIGN_IN_DOCUMENTED = frozenset({
    "appDisplayName", "appId", "appliedConditionalAccessPolicies", "appliedEventListeners", "appTokenProtectionStatus",
    "authenticationAppDeviceDetails", "authenticationAppPolicyEvaluationDetails",
    "authenticationContextClassReferences", "authenticationDetails", "authenticationMethodsUsed",
    "authenticationProcessingDetails", "authenticationProtocol", "authenticationRequirement",
    "authenticationRequirementPolicies", "autonomousSystemNumber", "azureResourceId", "clientAppUsed",
    "clientCredentialType", "conditionalAccessAudiences", "conditionalAccessStatus", "correlationId",
    "createdDateTime", "crossTenantAccessType", "deviceDetail", "federatedCredentialId", "flaggedForReview",
    "globalSecureAccessIpAddress", "homeTenantId", "homeTenantName", "id", "incomingTokenType", "ipAddress",
    "ipAddressFromResourceProvider", "isInteractive", "isTenantRestricted", "isThroughGlobalSecureAccess",
    "location", "managedServiceIdentity", "networkLocationDetails", "originalRequestId", "originalTransferMethod",
    "privateLinkDetails", "processingTimeInMilliseconds", "resourceDisplayName", "resourceId",
    "resourceServicePrincipalId", "resourceTenantId", "riskDetail", "riskEventTypes_v2", "riskLevelAggregated",
    "riskLevelDuringSignIn", "riskState", "servicePrincipalCredentialKeyId", "servicePrincipalCredentialThumbprint",
    "servicePrincipalId", "servicePrincipalName", "sessionLifetimePolicies", "signInEventTypes", "sessionId",
    "signInIdentifier", "signInIdentifierType", "signInTokenProtectionStatus", "status", "tokenIssuerName",
    "tokenIssuerType", "uniqueTokenIdentifier", "userAgent", "userDisplayName", "userId", "userPrincipalName",
    "userType", "mfaDetail",
})
_add(Shape("signIn", _SIGN_IN, SIGN_IN_DOCUMENTED, not_nullable=frozenset({"id", "createdDateTime", "status"})))
_add(Shape("appCredentialSignInActivity", {
    "id": S, "appId": GUID, "appObjectId": GUID, "createdDateTime": DT,
    "credentialOrigin": enum("application", "servicePrincipal", "unknownFutureValue"), "expirationDateTime": DT,
    "keyId": GUID, "keyType": enum("clientSecret", "certificate", "unknownFutureValue"),
    "keyUsage": enum("sign", "verify", "unknownFutureValue"), "resourceId": GUID, "servicePrincipalObjectId": GUID,
    "signInActivity": obj("signInActivity")}, not_nullable=frozenset({"id", "keyId"})))
_add(Shape("directoryAudit", {
    "id": S, "activityDateTime": DT, "activityDisplayName": S, "additionalDetails": coll(obj("keyValue")),
    "category": S, "correlationId": GUID, "initiatedBy": obj("auditActivityInitiator"), "loggedByService": S,
    "operationType": S, "performedBy": obj("auditActivityPerformer"),
    "result": enum("success", "failure", "timeout", "unknownFutureValue"), "resultReason": S,
    "targetResources": coll(obj("targetResource")), "userAgent": S},
    default=frozenset({"id", "activityDateTime", "activityDisplayName", "additionalDetails", "category",
                       "correlationId", "initiatedBy", "loggedByService", "operationType", "result", "resultReason",
                       "targetResources", "userAgent"}),
    not_nullable=frozenset({"id", "activityDateTime"})))

# ---- value checks ---------------------------------------------------------------------------------
_GUID = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$")
_TIMESTAMP = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{1,7})?Z$")
_BASE64 = re.compile(r"^[A-Za-z0-9+/]*={0,2}$")


def _check_value(spec, value, where: str, problems: list[str]):
    if value is None:
        return
    if isinstance(spec, str):
        ok = {
            S: lambda v: isinstance(v, str),
            GUID: lambda v: isinstance(v, str) and bool(_GUID.match(v)),
            GUID_OR_EMPTY: lambda v: isinstance(v, str) and (v == "" or bool(_GUID.match(v))),
            DT: lambda v: isinstance(v, str) and bool(_TIMESTAMP.match(v)),
            BOOL: lambda v: isinstance(v, bool),
            INT: lambda v: isinstance(v, int) and not isinstance(v, bool),
            NUM: lambda v: isinstance(v, (int, float)) and not isinstance(v, bool),
            BINARY: lambda v: isinstance(v, str) and len(v) % 4 == 0 and bool(_BASE64.match(v)),
        }[spec](value)
        if not ok:
            problems.append(f"{where}: expected {spec}, got {value!r:.80}")
        return
    kind, argument = spec
    if kind == "enum":
        if value not in argument:
            problems.append(f"{where}: {value!r:.80} is not one of {', '.join(argument)}")
    elif kind == "flags":
        if not isinstance(value, str) or any(part.strip() not in argument for part in value.split(",")):
            problems.append(f"{where}: {value!r:.80} is not a combination of {', '.join(argument)}")
    elif kind == "collection":
        if not isinstance(value, list):
            problems.append(f"{where}: expected a collection, got {type(value).__name__}")
            return
        for position, item in enumerate(value):
            _check_value(argument, item, f"{where}[{position}]", problems)
    elif kind == "object":
        if argument == "directoryObject":
            problems.extend(validate_directory_object(value, where))
        elif argument in SHAPES:
            problems.extend(_validate(SHAPES[argument], value, None, where))
        elif not isinstance(value, dict):
            problems.append(f"{where}: expected an object, got {type(value).__name__}")


def _validate(shape: Shape, value, selected, where: str) -> list[str]:
    if not isinstance(value, dict):
        return [f"{where or shape.name}: expected a {shape.name} object, got {type(value).__name__}"]
    problems = []
    prefix = f"{where}." if where else ""
    for key, item in value.items():
        if key.startswith("@odata.") or key.startswith("@microsoft.graph."):
            continue
        if key in shape.example_only:
            _check_value(shape.example_only[key], item, prefix + key, problems)
            continue
        if key not in shape.properties:
            problems.append(f"{prefix}{key}: not a documented {shape.name} property")
            continue
        if key in shape.relationships and (selected is None or key not in selected):
            problems.append(f"{prefix}{key}: relationship returned without $expand")
        if item is None and key in shape.not_nullable:
            problems.append(f"{prefix}{key}: documented as not nullable, got null")
        _check_value(shape.properties[key], item, prefix + key, problems)
    required = shape.default_properties() if selected is None else frozenset(selected) & frozenset(shape.properties)
    for key in sorted(required - value.keys()):
        problems.append(f"{prefix}{key}: missing (returned by default)" if selected is None else f"{prefix}{key}: missing ($select)")
    return problems


def validate_directory_object(value, where: str = "") -> list[str]:
    """A member of a directoryObject collection: validated as the type its @odata.type names."""
    if not isinstance(value, dict):
        return [f"{where}: expected a directoryObject, got {type(value).__name__}"]
    odata_type = value.get("@odata.type", "")
    name = odata_type.rsplit(".", 1)[-1] if odata_type.startswith("#microsoft.graph.") else None
    if name not in SHAPES:
        return [f"{where or 'directoryObject'}: @odata.type {odata_type!r} is not a known directoryObject type"]
    return _validate(SHAPES[name], value, None, where)


def validate(resource_name: str, value, selected=None) -> list[str]:
    """Problems with `value` as a `resource_name` (e.g. "application", "signIn"); [] when it matches.

    `selected`: the $select list the object was requested with (then exactly those are required).
    """
    if resource_name == "directoryObject":
        return validate_directory_object(value)
    if resource_name not in SHAPES:
        raise KeyError(f"no documented shape for {resource_name!r}")
    return _validate(SHAPES[resource_name], value, selected, "")
