"""Error texts are safe to log: every token shape the log rules know is removed from Graph's messages too.

Graph (or a proxy in front of it) can echo a request back in an error message; errors keep the
message, so they must pass the same rules as the logs (connector.logs.redact_text via errors.scrub).
"""
import json

import pytest

from connector import logs
from connector.errors import AddonError, ConfigError, GraphTransportError, error_record, graph_error_from_response, scrub
from tests.unit.test_logs import SHAPE_CASES


def _texts(fields):
    return [value for value in fields.values() if isinstance(value, str)] or [json.dumps(fields)]


@pytest.mark.parametrize("what, fields, material", SHAPE_CASES, ids=[case[0] for case in SHAPE_CASES])
def test_a_graph_error_echoing_secret_material_does_not_keep_it(what, fields, material):
    for text in _texts(fields):
        body = {"error": {"code": "Request_BadRequest", "message": f"Invalid request: {text}",
                          "innerError": {"request-id": "11111111-2222-4333-8444-555555555555"}}}
        error = graph_error_from_response(400, body, method="GET", path="/v1.0/applications")
        for rendered in (str(error), repr(error.args), error.message, error_record("details", error)["message"]):
            # scrub bounds a message at 500 characters: check a prefix too, or a cut token would pass
            assert material not in rendered and material[:24] not in rendered, what
            assert logs.REDACTED in rendered
        assert error.request_id == "11111111-2222-4333-8444-555555555555"


@pytest.mark.parametrize("what, fields, material", SHAPE_CASES, ids=[case[0] for case in SHAPE_CASES])
def test_scrub_and_addon_errors_remove_every_shape(what, fields, material):
    for text in _texts(fields):
        assert material[:24] not in scrub(f"failed: {text}")
        assert material[:24] not in str(ConfigError(f"setting proxy is wrong: {text}"))


def test_scrub_removes_known_secret_values_of_no_known_shape_and_bounds_the_text():
    secret = "plainwordsecret"
    assert scrub(f"the secret {secret} was refused", secrets=(secret,)) == "the secret [REDACTED] was refused"
    assert len(scrub("x" * 2000)) == 503


def test_a_transport_error_says_whether_the_request_was_sent():
    error = GraphTransportError(None, "transport", "ConnectionError: refused", sent_nothing=True)
    assert error.sent_nothing and not error.permanent and error.status is None
    assert isinstance(error, AddonError) and "no HTTP answer" in str(error)
