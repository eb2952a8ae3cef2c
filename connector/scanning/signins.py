"""Phase 1: service-principal sign-ins, written as they stream past and folded into per-key use.

The sign-in cursor is committed after every `commit_every` sign-ins were written and flushed, so a run
killed while writing repeats fewer than that many and never loses one."""
from connector.graph.harvest import SigninCursor
from connector.splunk import cim
from connector.times import iso, parse_time

from connector.scanning.context import signin_key

PAGES_PER_PROGRESS = 20


def read_signins(run, usage, commit_every):
    """Write every sign-in of the window not written before; return the newest sign-in time seen."""
    cursor = SigninCursor(run.store.load(signin_key(run.account)), now=run.now,
                          lookback_hours=run.settings.signin_lookback_hours,
                          overlap_minutes=run.settings.signin_overlap_minutes)
    pages = 0
    for lower, upper, skip in cursor.ranges():
        for page in run.harvester.signin_pages(iso(lower), iso(upper)):
            for start in range(0, len(page.items), commit_every):
                chunk = page.items[start:start + commit_every]
                _write_signins(run, usage, chunk, cursor, skip)
                run.writer.flush()
                cursor.page_read(lower, chunk, skip)
                run.store.save(signin_key(run.account), cursor.to_state())
            pages += 1
            run.tick()
            if pages % PAGES_PER_PROGRESS == 0:
                run.progress("signins_reading")
        cursor.range_done(upper)
        run.store.save(signin_key(run.account), cursor.to_state())
    return cursor.newest_seen


def _write_signins(run, usage, records, cursor, skip):
    seen = set()
    for record in records:
        record_id = record.get("id")
        if not record_id or record_id in seen or cursor.already_read(record_id, skip):
            continue
        seen.add(record_id)
        usage.add_signin(record)
        run.emit(cim.SOURCETYPE_SIGNIN,
                 cim.signin_event(record, account=run.account.name, tenant_id=run.account.tenant_id),
                 when=parse_time(record.get("createdDateTime")))
        run.counts["signins_new"] += 1


def read_credential_activity(run, usage):
    """Last use per key from Graph's credential report: use that sign-ins outside the window saw."""
    for key_id, last_used in run.harvester.credential_activity():
        usage.note_last_use(key_id, last_used)
