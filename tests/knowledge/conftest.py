"""Fixtures for the Splunk knowledge tests: the app's conf files, the CIM models, the samples."""
import pytest

from .cim_models import ensure_cim_models, load_common_fields, load_data_models, load_recommended_fields
from .samples import generate_samples, load_samples
from .search_time import SearchTime
from .spl import BUILTIN_FIELDS
from .splunk_conf import macro_definitions, read_conf


@pytest.fixture(scope="session")
def cim_cache():
    return ensure_cim_models()


@pytest.fixture(scope="session")
def data_models(cim_cache):
    return load_data_models(cim_cache)


@pytest.fixture(scope="session")
def recommended_fields(cim_cache):
    return load_recommended_fields(cim_cache)


@pytest.fixture(scope="session")
def common_fields(cim_cache):
    return load_common_fields(cim_cache)


@pytest.fixture(scope="session")
def search_time():
    return SearchTime(read_conf("props"), read_conf("eventtypes"), read_conf("tags"))


@pytest.fixture(scope="session")
def fresh_samples_dir(tmp_path_factory):
    """Samples generated in this test session by today's code (the simulator scanned by run_scan, the
    response actions' spool files): the CIM checks judge what the code writes now, values included,
    not what was committed when someone last ran make_samples.py."""
    folder = tmp_path_factory.mktemp("fresh_samples")
    generate_samples(folder)
    return folder


@pytest.fixture(scope="session")
def sample_events(fresh_samples_dir):
    events = load_samples(fresh_samples_dir)
    assert events, "the sample generator wrote no events"
    return events


@pytest.fixture(scope="session")
def committed_events():
    events = load_samples()
    assert events, "no committed sample events: run tests/samples/make_samples.py"
    return events


@pytest.fixture(scope="session")
def processed_samples(search_time, sample_events):
    return [search_time.process(event) for event in sample_events]


@pytest.fixture(scope="session")
def emitted_fields(processed_samples):
    """Every field some sourcetype gives at search time, plus Splunk's own."""
    fields = set(BUILTIN_FIELDS)
    for event in processed_samples:
        fields |= set(event.fields)
    return fields


@pytest.fixture(scope="session")
def macros():
    return macro_definitions()
