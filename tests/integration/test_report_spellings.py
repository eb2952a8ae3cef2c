"""Microsoft's own example responses spell the credential-activity report oddly (expirationDate,
keyType "secret", "-8:00" offsets). A scan served that spelling must come to the same last use per
secret as a scan served the documented one."""
import datetime as dt

from test_scan import of_type, scan


def last_used_by_key(writer):
    """key_id -> last use, to the second (the odd spelling carries no fractions)."""
    found = {}
    for finding in of_type(writer, "entra:app:finding"):
        when = finding["last_used"]
        found[finding["key_id"]] = when and dt.datetime.fromisoformat(when.replace("Z", "+00:00")).replace(
            microsecond=0)
    return found


def test_odd_report_spellings_give_the_same_last_use(clean_simulator, tmp_path):
    # Read one hour of sign-ins only, so most last uses can come from the report alone.
    sim = clean_simulator
    summary, documented = scan(sim, tmp_path / "documented", signin_lookback_hours=1)
    assert summary.status == "success", summary.errors
    sim.set_fault("odd_report_shapes", count=None)
    summary, odd = scan(sim, tmp_path / "odd", signin_lookback_hours=1)
    assert summary.status == "success", summary.errors
    expected = last_used_by_key(documented)
    hour_ago = dt.datetime.now(dt.timezone.utc) - dt.timedelta(hours=2)
    assert any(when and when < hour_ago for when in expected.values()), "some last uses come from the report"
    assert last_used_by_key(odd) == expected
