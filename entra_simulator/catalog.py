"""Microsoft's fixed identifiers the tenant refers to: first-party apps, Graph app roles, directory roles.

Sources: shared/docs/graph-wire-facts.md section 4 (high-risk Graph application permissions, Global
Administrator), public code cross-checks for the rest (the same id seen in several unrelated
repositories). Display names and descriptions are the strings Microsoft shows for these permissions.
"""
from __future__ import annotations

from dataclasses import dataclass

MICROSOFT_SERVICES_TENANT_ID = "f8cdef31-a31e-4b4a-93e4-5f571e91255a"   # owns first-party apps
MICROSOFT_GRAPH_APP_ID = "00000003-0000-0000-c000-000000000000"
EXCHANGE_ONLINE_APP_ID = "00000002-0000-0ff1-ce00-000000000000"
AZURE_PORTAL_APP_ID = "c44b4083-3bb0-49c1-b47d-974e53cbdf3c"


@dataclass(frozen=True)
class AppRoleInfo:
    value: str
    id: str
    display_name: str
    description: str
    high_risk: bool


def _role(value, role_id, display_name, description, high_risk=False):
    return AppRoleInfo(value, role_id, display_name, description, high_risk)


# Microsoft Graph application permissions (appRoles of the Microsoft Graph service principal).
GRAPH_APP_ROLES = (
    _role("Application.Read.All", "9a5d68dd-52b0-4cc2-bd40-abcf44ac3a30", "Read all applications",
          "Allows the app to read all applications and service principals without a signed-in user."),
    _role("Application.ReadWrite.All", "1bfefb4e-e0b5-418b-a88f-73c46d2cc8e9", "Read and write all applications",
          "Allows the app to create, read, update and delete applications and service principals without a "
          "signed-in user. Does not allow management of consent grants.", True),
    _role("Application.ReadWrite.OwnedBy", "18a4783c-866b-4cc7-a460-3d5e5662c884",
          "Manage apps that this app creates or owns",
          "Allows the app to create other applications, and fully manage those applications (read, update, "
          "update application secrets and delete), without a signed-in user.", True),
    _role("AppRoleAssignment.ReadWrite.All", "06b708a9-e830-4db3-a914-8e69da51d44f",
          "Manage app permission grants and app role assignments",
          "Allows the app to manage permission grants for application permissions to any API (including "
          "Microsoft Graph) and application assignments for any app, without a signed-in user.", True),
    _role("AuditLog.Read.All", "b0afded3-3588-46d8-8b3d-9842eff778da", "Read all audit log data",
          "Allows the app to read and query your audit log activities, without a signed-in user."),
    _role("Directory.Read.All", "7ab1d382-f21e-4acd-a863-ba3e13f7da61", "Read directory data",
          "Allows the app to read data in your organization's directory, such as users, groups and apps, "
          "without a signed-in user.", True),
    _role("Directory.ReadWrite.All", "19dbc75e-c2e2-444c-a770-ec69d8559fc7", "Read and write directory data",
          "Allows the app to read and write data in your organization's directory, such as users, and "
          "groups, without a signed-in user. Does not allow user or group deletion.", True),
    _role("RoleManagement.Read.Directory", "483bed4a-2ad3-4361-a73b-c83ccdbdc53c",
          "Read all directory RBAC settings",
          "Allows the app to read the role-based access control (RBAC) settings for your company's "
          "directory, without a signed-in user."),
    _role("RoleManagement.ReadWrite.Directory", "9e3f62cf-ca93-4989-b6ce-bf83c28f9fe8",
          "Read and write all directory RBAC settings",
          "Allows the app to read and manage the role-based access control (RBAC) settings for your "
          "company's directory, without a signed-in user.", True),
    _role("User.Read.All", "df021288-bdef-4463-88db-98f22de89214", "Read all users' full profiles",
          "Allows the app to read user profiles without a signed in user.", True),
    _role("User.ReadWrite.All", "741f803b-c850-494e-b5df-cde7c675a1ca", "Read and write all users' full profiles",
          "Allows the app to read and update user profiles without a signed in user.", True),
    _role("Group.Read.All", "5b567255-7703-4780-807c-7be8301ae99b", "Read all groups",
          "Allows the app to read group properties and memberships, and read conversations for all groups, "
          "without a signed-in user."),
    _role("Group.ReadWrite.All", "62a82d76-70ea-41e2-9197-370581804d09", "Read and write all groups",
          "Allows the app to create groups, read all group properties and memberships, update group "
          "properties and memberships, and delete groups.", True),
    _role("GroupMember.ReadWrite.All", "dbaae8cf-10b5-4b86-a4a1-f871c94c6695", "Read and write all group memberships",
          "Allows the app to list groups, read basic properties, read and update the membership of the "
          "groups this app has access to without a signed-in user.", True),
    _role("ServicePrincipalEndpoint.ReadWrite.All", "89c8469c-83ad-45f7-8ff2-6e3d4285709e",
          "Read and update service principal endpoints",
          "Allows the app to update service principal endpoints", True),
    _role("Policy.Read.All", "246dd0d5-5bd0-4def-940b-0421030a5b68", "Read your organization's policies",
          "Allows the app to read all your organization's policies without a signed in user."),
    _role("Policy.ReadWrite.ConditionalAccess", "01c0a623-fc9b-48e9-b794-0756f8e8f067",
          "Read and write your organization's conditional access policies",
          "Allows the app to read and write your organization's conditional access policies, without a "
          "signed-in user.", True),
    _role("Mail.Read", "810c84a8-4a9e-49e6-bf7d-12d183f40d01", "Read mail in all mailboxes",
          "Allows the app to read mail in all mailboxes without a signed-in user.", True),
    _role("Mail.ReadWrite", "e2a3a72e-5f79-4c64-b1b1-878b674786c9", "Read and write mail in all mailboxes",
          "Allows the app to create, read, update, and delete mail in all mailboxes without a signed-in "
          "user. Does not include permission to send mail.", True),
    _role("Mail.Send", "b633e1c5-b582-4048-a93e-9f11b44c7e96", "Send mail as any user",
          "Allows the app to send mail as any user without a signed-in user.", True),
    _role("Files.ReadWrite.All", "75359482-378d-4052-8f01-80520e7db3cd", "Read and write files in all site collections",
          "Allows the app to read, create, update and delete all files in all site collections without a "
          "signed in user.", True),
    _role("Sites.ReadWrite.All", "9492366f-7969-46a4-8d15-ed1a20078fff", "Read and write items in all site collections",
          "Allows the app to create, read, update, and delete documents and list items in all site "
          "collections without a signed in user.", True),
    _role("Sites.FullControl.All", "a82116e5-55eb-4c41-a434-62fe8a61c773", "Have full control of all site collections",
          "Allows the app to have full control of all site collections without a signed in user.", True),
    _role("Reports.Read.All", "230c1aed-a721-4c5d-9cb4-a90514e508ef", "Read all usage reports",
          "Allows an app to read all service usage reports without a signed-in user."),
    _role("SecurityEvents.Read.All", "bf394140-e372-4bf9-a898-299cfc7564e5", "Read your organization's security events",
          "Allows the app to read your organization's security events without a signed-in user."),
    _role("IdentityRiskyUser.Read.All", "dc5007c0-2d7d-4c42-879c-2dab87571379",
          "Read all identity risky user information",
          "Allows the app to read the identity risky user information for your organization without a "
          "signed in user."),
    _role("UserAuthenticationMethod.Read.All", "38d9df27-64da-44fd-b7c5-a6fbac20248f",
          "Read all users' authentication methods",
          "Allows the app to read authentication methods of all users in your organization, without a "
          "signed-in user."),
)

# Office 365 Exchange Online application permission used by mail-archiving tools (EWS).
EXCHANGE_APP_ROLES = (
    _role("full_access_as_app", "dc890d15-9560-4a4c-9b7f-a736ec74ec40",
          "Use Exchange Web Services with full access to all mailboxes",
          "Allows the app to have full access via Exchange Web Services to all mailboxes without a "
          "signed-in user.", True),
)

GRAPH_ROLE_BY_VALUE = {role.value: role for role in GRAPH_APP_ROLES}
EXCHANGE_ROLE_BY_VALUE = {role.value: role for role in EXCHANGE_APP_ROLES}


@dataclass(frozen=True)
class DirectoryRoleInfo:
    template_id: str
    display_name: str
    description: str
    privileged: bool
    allowed_resource_actions: tuple[str, ...]


DIRECTORY_ROLES = (
    DirectoryRoleInfo("62e90394-69f5-4237-9190-012177145e10", "Global Administrator",
                      "Can manage all aspects of Microsoft Entra ID and Microsoft services that use Microsoft "
                      "Entra identities.", True,
                      ("microsoft.directory/applications/credentials/update", "microsoft.directory/users/allProperties/allTasks")),
    DirectoryRoleInfo("e8611ab8-c189-46e8-94e1-60213ab1f814", "Privileged Role Administrator",
                      "Can manage role assignments in Microsoft Entra ID, and all aspects of Privileged "
                      "Identity Management.", True,
                      ("microsoft.directory/roleAssignments/allProperties/allTasks",)),
    DirectoryRoleInfo("7be44c8a-adaf-4e2a-84d6-ab2649e08a13", "Privileged Authentication Administrator",
                      "Can access to view, set and reset authentication method information for any user "
                      "(admin or non-admin).", True,
                      ("microsoft.directory/users/authenticationMethods/create",)),
    DirectoryRoleInfo("9b895d92-2cd3-44c7-9d02-a6ac2d5ea5c3", "Application Administrator",
                      "Can create and manage all aspects of app registrations and enterprise apps.", True,
                      ("microsoft.directory/applications/credentials/update",)),
    DirectoryRoleInfo("158c047a-c907-4556-b7ef-446551a6b5f7", "Cloud Application Administrator",
                      "Can create and manage all aspects of app registrations and enterprise apps except App "
                      "Proxy.", True,
                      ("microsoft.directory/applications/credentials/update",)),
    DirectoryRoleInfo("fe930be7-5e62-47db-91af-98c3a49a38b1", "User Administrator",
                      "Can manage all aspects of users and groups, including resetting passwords for limited "
                      "admins.", True,
                      ("microsoft.directory/users/create",)),
    DirectoryRoleInfo("729827e3-9c14-49f7-bb1b-9608f156bbb8", "Helpdesk Administrator",
                      "Can reset passwords for non-administrators and Helpdesk Administrators.", False,
                      ("microsoft.directory/users/password/update",)),
    DirectoryRoleInfo("b0f54661-2d74-4c50-afa3-1ec803f12efe", "Billing Administrator",
                      "Can perform common billing related tasks like updating payment information.", False,
                      ("microsoft.directory/organization/basic/update",)),
)
DIRECTORY_ROLE_BY_ID = {role.template_id: role for role in DIRECTORY_ROLES}
GLOBAL_ADMINISTRATOR = "62e90394-69f5-4237-9190-012177145e10"
PRIVILEGED_ROLE_ADMINISTRATOR = "e8611ab8-c189-46e8-94e1-60213ab1f814"
APPLICATION_ADMINISTRATOR = "9b895d92-2cd3-44c7-9d02-a6ac2d5ea5c3"
CLOUD_APPLICATION_ADMINISTRATOR = "158c047a-c907-4556-b7ef-446551a6b5f7"
HELPDESK_ADMINISTRATOR = "729827e3-9c14-49f7-bb1b-9608f156bbb8"
