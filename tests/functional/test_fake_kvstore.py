"""The fake splunkd's KV store and access endpoints answer as splunkd documents them, driven by splunklib's
own KVStoreCollectionData (the SDK's client for these endpoints), so the fake cannot be kinder than the
protocol the SDK was written against: status codes, JSON shapes, the limits.conf [kvstore] limits."""
import json
from types import SimpleNamespace

import pytest
from splunklib.binding import HTTPError
from splunklib.client import KVStoreCollectionData

from connector import APP_ID
from connector.splunk import access, kvstore, splunkd as splunk_rest
from fakes.splunkd import FakeSplunkd


@pytest.fixture
def splunkd(tmp_path):
    fake = FakeSplunkd().start(tmp_path / "tls")
    yield fake
    fake.stop()


def data(fake, name=kvstore.CHECKPOINTS):
    service = splunk_rest.connect(fake.server_uri, fake.session_key)
    collection = SimpleNamespace(service=service, name=name, _proper_namespace=lambda: ("nobody", APP_ID, "app"))
    return KVStoreCollectionData(collection)


def test_documents_round_trip_as_the_sdk_expects(splunkd):
    kv = data(splunkd)
    assert kv.insert({"_key": "a", "kind": "chunk", "index": 2}) == {"_key": "a"}
    with pytest.raises(HTTPError) as conflict:
        kv.insert({"_key": "a"})
    assert conflict.value.status == 409
    assert kv.batch_save({"_key": "b", "index": 1}, {"_key": "a", "index": 3}) == ["b", "a"]
    assert kv.query_by_id("a") == {"_key": "a", "index": 3, "_user": "nobody"}
    assert [d["_key"] for d in kv.query(query={"index": {"$gt": 1}}, sort="index:-1")] == ["a"]
    assert [d["_key"] for d in kv.query(sort="index", limit=1, skip=1)] == ["a"]
    kv.delete(json.dumps({"_key": "b"}))
    with pytest.raises(HTTPError) as missing:
        kv.query_by_id("b")
    assert missing.value.status == 404
    kv.delete()
    assert kv.query() == []


def test_limits_and_unknown_collections_are_refused(splunkd):
    splunkd.kvstore.max_batch_documents = 3
    with pytest.raises(HTTPError) as too_many:
        data(splunkd).batch_save(*({"_key": str(n)} for n in range(4)))
    assert too_many.value.status == 400 and b"max_documents_per_batch_save" in too_many.value.body
    splunkd.kvstore.max_document_bytes = 100
    with pytest.raises(HTTPError) as too_big:
        data(splunkd).insert({"_key": "x", "data": "y" * 200})
    assert too_big.value.status == 400
    with pytest.raises(HTTPError) as unknown:
        data(splunkd, "not_in_collections_conf").query()
    assert unknown.value.status == 404
    service = splunk_rest.connect(splunkd.server_uri, splunkd.session_key)
    with pytest.raises(HTTPError) as form_body:
        service.post(f"storage/collections/data/{kvstore.CHECKPOINTS}", owner="nobody", app=APP_ID, _key="z")
    assert form_body.value.status == 400, "splunkd wants a JSON body"


def test_collections_config_lists_what_collections_conf_declares(splunkd):
    service = splunk_rest.connect(splunkd.server_uri, splunkd.session_key)
    answer = json.loads(service.get("storage/collections/config", owner="nobody", app=APP_ID,
                                    output_mode="json").body.read())
    assert sorted(e["name"] for e in answer["entry"]) == sorted(kvstore.COLLECTIONS)


def test_current_context_and_users_answer_who_and_what(splunkd):
    splunkd.kvstore.login_as("analyst1", roles=["ess_analyst"], capabilities=["search", access.RESPOND_CAPABILITY])
    caller = access.current_caller(splunkd.server_uri, splunkd.session_key)
    assert (caller.username, caller.roles) == ("analyst1", ("ess_analyst",))
    assert access.refusal(caller, access.RESPOND_CAPABILITY, "respond") is None
    assert "lacks the entra_app_secrets_reset_checkpoint capability" in access.refusal(
        caller, access.RESET_CAPABILITY, "reset")
    service = splunk_rest.connect(splunkd.server_uri, splunkd.session_key)
    splunkd.kvstore.add_user("intern")
    with pytest.raises(HTTPError) as other:
        service.get("/services/authentication/users/intern", output_mode="json")
    assert other.value.status == 403 and b"edit_user" in other.value.body
    own = json.loads(service.get("/services/authentication/users/analyst1", output_mode="json").body.read())
    assert own["entry"][0]["content"]["capabilities"] == sorted(["search", access.RESPOND_CAPABILITY])
    with pytest.raises(Exception, match="rejected the session key"):
        access.current_caller(splunkd.server_uri, "not-a-session-key")
