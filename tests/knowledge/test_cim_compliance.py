"""CIM compliance of the sample events (generated from the simulator by the add-on's own code).

For each event: Splunk's search-time processing is applied (KV_MODE=json, props, eventtypes,
tags), then every dataset its tags map it to is checked against Splunk's published data models
(pytest-splunk-addon's JSONs) and the CIM version's recommended fields.
"""
import copy

import pytest

from connector.splunk import cim

from .cim_check import applicable_datasets, cim_problems


def test_every_tagged_event_satisfies_its_data_models(processed_samples, data_models, recommended_fields,
                                                      common_fields):
    problems, checked = [], set()
    for event in processed_samples:
        for dataset in applicable_datasets(event.tags, data_models, recommended_fields, event.fields):
            checked.add((event.sourcetype, dataset.path))
            problems += cim_problems(event, dataset, common_fields)
    assert not problems, "\n".join(sorted(set(problems)))
    assert {path for _, path in checked} >= {
        "Alerts/Alerts", "Authentication/Authentication", "Authentication/Authentication/Successful_Authentication",
        "Change/All_Changes", "Change/All_Changes/Account_Management",
        "Change/All_Changes/Account_Management/Accounts_Updated"}
    assert "Change/All_Changes/Account_Management/Accounts_Created" not in {path for _, path in checked}


def test_every_event_names_its_vendor_product_tenant_and_account(processed_samples):
    for event in processed_samples:
        assert event.value("vendor_product") == "Microsoft Entra ID", event.sourcetype
        assert event.value("tenant_id") and event.value("account"), event.sourcetype


def test_service_principal_is_the_authentication_user_and_method_is_told(processed_samples):
    signins = [e for e in processed_samples if e.sourcetype == cim.SOURCETYPE_SIGNIN]
    methods = {e.value("authentication_method") for e in signins}
    assert "clientSecret" in methods and len(methods) >= 2, methods
    for event in signins:
        assert event.value("user") and not event.value("user").endswith("$")
        assert event.value("user_id") == event.value("appId")
        assert event.value("key_id") == event.value("servicePrincipalCredentialKeyId")


def test_list_fields_reach_searches_under_their_plain_names(processed_samples):
    findings = [e for e in processed_samples if e.sourcetype == cim.SOURCETYPE_FINDING]
    assert any(len(e.fields.get("mitre_technique_id", [])) >= 1 for e in findings)
    assert any(e.fields.get("permissions") for e in findings)
    responses = [e for e in processed_samples if e.sourcetype == cim.SOURCETYPE_RESPONSE]
    assert all(e.fields.get("object_attrs") for e in responses)


def _first(processed, sourcetype):
    return next(e for e in processed if e.sourcetype == sourcetype)


@pytest.mark.parametrize("breakage, expected", [
    (lambda f: f.update(severity=["High"]), "not in expected values"),
    (lambda f: f.pop("dest"), "'dest' missing"),
    (lambda f: f.update(src=[""]), "'src' missing or empty"),
    (lambda f: f.update(dest_priority=["high"]), "dest_priority"),
])
def test_the_checker_catches_a_broken_alert(processed_samples, data_models, recommended_fields, common_fields,
                                            breakage, expected):
    event = copy.deepcopy(_first(processed_samples, cim.SOURCETYPE_FINDING))
    breakage(event.fields)
    problems = [p for d in applicable_datasets(event.tags, data_models, recommended_fields, event.fields)
                for p in cim_problems(event, d, common_fields)]
    assert any(expected in p for p in problems), problems


def test_the_checker_enforces_the_object_category_rule(processed_samples, data_models, recommended_fields,
                                                       common_fields):
    removal = next(e for e in processed_samples
                   if e.sourcetype == cim.SOURCETYPE_RESPONSE and "account" not in e.tags)
    broken = copy.deepcopy(removal)
    broken.fields["object_category"] = ["user"]          # "user" without the account tag
    problems = [p for d in applicable_datasets(broken.tags, data_models, recommended_fields, broken.fields)
                for p in cim_problems(broken, d, common_fields)]
    assert any("object_category" in p for p in problems), problems


def test_the_checker_wants_src_user_on_account_changes(processed_samples, data_models, recommended_fields,
                                                       common_fields):
    account_change = copy.deepcopy(next(e for e in processed_samples if "account" in e.tags))
    account_change.fields.pop("src_user", None)
    problems = [p for d in applicable_datasets(account_change.tags, data_models, recommended_fields, account_change.fields)
                for p in cim_problems(account_change, d, common_fields)]
    assert any("'src_user'" in p for p in problems), problems
