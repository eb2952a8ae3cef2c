"""holders: which identities hold a secret, and the AppContext each gets. Pure: records in, context out."""
import dataclasses
import datetime as dt

from connector.assess.correlate import credentials_of
from connector.assess.holders import Collector, Details, SecretHolders, context_of, foreign

NOW = dt.datetime(2026, 11, 28, 12, 0, tzinfo=dt.timezone.utc)
TENANT = "1a2b3c4d-1111-4111-8111-abcdef111111"      # letters: case must not matter
OTHER_TENANT = "2e2f2a2b-2222-4222-8222-abcdef222222"
APP_ID = "aaaaaaaa-0000-4000-8000-000000000001"
SECRET = {"keyId": "k-secret", "hint": "abc", "startDateTime": "2026-01-01T00:00:00Z",
          "endDateTime": "2027-01-01T00:00:00Z"}
CERT = {"keyId": "k-cert", "type": "AsymmetricX509Cert", "usage": "Verify", "startDateTime": "2026-01-01T00:00:00Z",
        "endDateTime": "2027-06-01T00:00:00Z"}
EXPIRED_CERT = dict(CERT, keyId="k-old", endDateTime="2026-06-01T00:00:00Z")


def application(app_id=APP_ID, secrets=(SECRET,), keys=(), **extra):
    return {"id": f"app-obj-{app_id[-1]}", "appId": app_id, "displayName": "Payroll sync",
            "signInAudience": "AzureADMyOrg", "passwordCredentials": list(secrets), "keyCredentials": list(keys),
            **extra}


def principal(app_id=APP_ID, secrets=(), keys=(), **extra):
    return {"id": f"sp-obj-{app_id[-1]}", "appId": app_id, "displayName": "Payroll sync (SP)",
            "accountEnabled": True, "signInAudience": "AzureADMultipleOrgs", "appOwnerOrganizationId": TENANT,
            "passwordCredentials": list(secrets), "keyCredentials": list(keys), **extra}


def gather(applications=(), principals=()):
    holders = SecretHolders()
    for record in applications:
        holders.add_application(record, list(credentials_of(record, "application")), NOW)
    for record in principals:
        holders.add_service_principal(record, list(credentials_of(record, "servicePrincipal")), NOW)
    return holders


COLLECTOR = Collector(client_id="cccccccc-0000-4000-8000-000000000009", auth_method="certificate", tenant_id=TENANT)


def test_only_identities_holding_a_secret_are_kept_with_their_service_principal():
    other = "aaaaaaaa-0000-4000-8000-000000000002"
    holders = gather([application(), application(app_id=other, secrets=())], [principal(), principal(app_id=other)])
    assert [h.app_id for h in holders] == [APP_ID]
    holder = holders.by_app_id[APP_ID]
    assert holder.app_name == "Payroll sync"            # the application's name wins
    assert [c.key_id for c in holder.secrets] == ["k-secret"]
    assert holder.service_principal["accountEnabled"] is True and "passwordCredentials" not in holder.service_principal
    assert holders.application_objects() == {"app-obj-1": APP_ID}
    assert holders.service_principal_objects() == {"sp-obj-1": APP_ID}
    assert APP_ID in holders and other not in holders


def test_a_secret_on_the_service_principal_alone_makes_a_holder():
    holders = gather([application(secrets=())], [principal(secrets=(SECRET,))])
    holder = holders.by_app_id[APP_ID]
    assert holder.application is None and holder.app_name == "Payroll sync (SP)"
    assert [c.object_type for c in holder.secrets] == ["servicePrincipal"]


def test_certificates_count_only_while_valid_on_either_object():
    on_app = gather([application(keys=(CERT,))], [principal()])
    assert context_of(on_app.by_app_id[APP_ID], Details(), COLLECTOR, on_app.certificate_app_ids).has_certificate
    on_sp = gather([application()], [principal(keys=(CERT,))])
    assert on_sp.by_app_id[APP_ID].has_certificate
    expired = gather([application(keys=(EXPIRED_CERT,))], [principal(keys=(EXPIRED_CERT,))])
    holder = expired.by_app_id[APP_ID]
    assert not context_of(holder, Details(), COLLECTOR, expired.certificate_app_ids).has_certificate
    # contexts() passes the set itself
    assert [c.has_certificate for _, c in on_app.contexts(Details(), COLLECTOR)] == [True]


def test_context_takes_every_detail_of_the_holder():
    holders = gather([application()], [principal()])
    details = Details(federated=frozenset({APP_ID}), owners={APP_ID: ("owner@contoso.com",)},
                      permissions={"sp-obj-1": [("00000003-0000-0000-c000-000000000000", "Microsoft Graph",
                                                 "Application.ReadWrite.All")]},
                      roles={"sp-obj-1": ["Global Administrator", "Global Administrator", "Cloud App Admin"]})
    [(holder, context)] = list(holders.contexts(details, COLLECTOR))
    assert (context.app_id, context.app_name) == (APP_ID, "Payroll sync")
    assert (context.application_object_id, context.service_principal_id) == ("app-obj-1", "sp-obj-1")
    assert context.sign_in_audience == "AzureADMyOrg"            # the application's audience first
    assert context.account_enabled is True and context.has_federated_credential
    assert context.owners == ("owner@contoso.com",)
    assert [p.value for p in context.permissions] == ["Application.ReadWrite.All"]
    assert context.directory_roles == ("Cloud App Admin", "Global Administrator")
    assert not context.is_collector_app and not context.collector_uses_secret and not context.owned_by_other_tenant
    alone = context_of(holder, Details(), COLLECTOR)
    assert not alone.has_federated_credential and alone.permissions == () and alone.owners == ()


def test_without_a_service_principal_enabled_is_unknown_and_the_app_audience_counts():
    holders = gather([application(signInAudience=None)], [])
    context = context_of(holders.by_app_id[APP_ID], Details(), COLLECTOR)
    assert context.account_enabled is None and context.service_principal_id is None
    sp_only = gather([application(secrets=())], [principal(secrets=(SECRET,))])
    assert context_of(sp_only.by_app_id[APP_ID], Details(), COLLECTOR).sign_in_audience == "AzureADMultipleOrgs"


def test_collector_flags_follow_who_the_add_on_signs_in_as():
    account = type("Account", (), {"client_id": APP_ID.upper(), "auth_method": "secret", "tenant_id": TENANT})()
    collector = Collector.of(account, other_app_ids={"BBBBBBBB-0000-4000-8000-000000000003"})
    assert collector.is_collector_app(APP_ID) and collector.uses_secret(APP_ID)
    assert collector.is_collector_app("bbbbbbbb-0000-4000-8000-000000000003")
    assert not collector.uses_secret("bbbbbbbb-0000-4000-8000-000000000003")
    assert not collector.is_collector_app("aaaaaaaa-0000-4000-8000-000000000002")
    by_certificate = dataclasses.replace(collector, auth_method="certificate")
    assert not by_certificate.uses_secret(APP_ID)
    holders = gather([application()], [principal()])
    [(_, context)] = list(holders.contexts(Details(), collector))
    assert context.is_collector_app and context.collector_uses_secret
    refreshed = by_certificate.refresh(context)
    assert refreshed.is_collector_app and not refreshed.collector_uses_secret
    assert dataclasses.replace(refreshed, is_collector_app=True, collector_uses_secret=False) == refreshed
    assert collector.tenant_id == TENANT and collector.client_id == APP_ID
    nobody = Collector.of(type("A", (), {"client_id": None, "auth_method": "certificate", "tenant_id": TENANT})())
    assert nobody.client_id == "" and nobody.own_app_ids == {""} and not nobody.is_collector_app(APP_ID)
    # a kept context harvested when the add-on signed in as someone else gets this run's flags
    stale = dataclasses.replace(context, is_collector_app=False, collector_uses_secret=False)
    fresh = collector.refresh(stale)
    assert fresh.is_collector_app and fresh.collector_uses_secret
    assert dataclasses.replace(fresh, is_collector_app=False, collector_uses_secret=False) == stale


def test_federated_reads_name_the_holders_applications_not_yet_read():
    other = "aaaaaaaa-0000-4000-8000-000000000002"
    holders = gather([application(), application(app_id=other)], [principal(secrets=(SECRET,), app_id="aaaaaaaa-"
                                                                            "0000-4000-8000-000000000005")])
    unread = holders.applications_for_federated_reads(skip={other})
    assert unread == {"app-obj-1": {"id": "app-obj-1", "displayName": "Payroll sync", "signInAudience": "AzureADMyOrg",
                                    "appId": APP_ID}}


def test_records_without_app_id_or_name_keep_empty_strings():
    record = {"id": "sp-obj-9", "passwordCredentials": [SECRET]}
    holders = gather([], [record])
    [holder] = list(holders)
    assert (holder.app_id, holder.app_name) == ("", "")


def test_foreign_means_registered_in_another_tenant_known_by_guid():
    assert foreign(OTHER_TENANT, TENANT) and foreign(OTHER_TENANT.upper(), TENANT)
    assert not foreign(TENANT.upper(), TENANT) and not foreign(TENANT, TENANT.upper())
    assert not foreign(None, TENANT) and not foreign("", TENANT)
    assert not foreign(OTHER_TENANT, "contoso.onmicrosoft.com")     # a domain: unknown, not foreign
    holders = gather([application()], [principal(appOwnerOrganizationId=OTHER_TENANT)])
    assert context_of(holders.by_app_id[APP_ID], Details(), COLLECTOR).owned_by_other_tenant
