"""The sign-in cursor: where the read of service-principal sign-ins stands, committed after each page.

Pure state (no Graph access): scan.py reads pages through Harvester.signin_pages and feeds them here.
"""
import datetime as dt

from connector.times import iso, iso_precise, parse_time


class SigninCursor:
    """Where the sign-in read stands, so a restart neither loses nor repeats a sign-in.

    Graph returns sign-ins newest first, so a run cannot simply remember "read up to here" per page.
    The state says instead:
      high_water  newest createdDateTime read (or the top of the last finished range);
      recent      {id: createdDateTime} read at or after high_water - overlap - margin: the next run
                  re-reads from high_water - overlap (late-arriving sign-ins) and skips these;
      gap         the still-unread bottom [lower, upper] of a range a crash interrupted, with the ids
                  already read inside it ({id: createdDateTime}, bounded by the overlap and one second).
    All three stay bounded by the sign-in rate times the overlap, never by the size of a run. The caller
    commits `to_state()` after each page's events were written and flushed (commit after write).
    """

    MARGIN = dt.timedelta(minutes=1)

    def __init__(self, state, *, now, lookback_hours, overlap_minutes, max_catch_up_days=30):
        state = state or {}
        self.now = now
        self.overlap = dt.timedelta(minutes=overlap_minutes)
        self.high_water = parse_time(state.get("high_water"))
        self.recent = dict(state.get("recent") or {})
        gap = state.get("gap")
        self.gap = dict(gap) if gap else None
        if self.high_water is None:
            self.first_lower = now - dt.timedelta(hours=lookback_hours)
        else:
            # never further back than Graph keeps sign-ins (30 days with P1/P2)
            self.first_lower = max(self.high_water - self.overlap, now - dt.timedelta(days=max_catch_up_days))
        self.newest_seen = None
        self._previous_page = set()     # paging is consistent, but a replayed page must not repeat

    def ranges(self):
        """Yield (lower, upper, skip) to read this run: an interrupted range's rest first, then the new one.

        `skip` holds the ids read before this range that it covers again; it is taken when the range
        starts (a generator), so what the first range read is skipped by the second.
        """
        if self.gap:
            yield (parse_time(self.gap["lower"]), parse_time(self.gap["upper"]),
                   {**(self.gap.get("skip") or {}), **self.recent})
        yield (self.first_lower, self.now, dict(self.recent))

    def already_read(self, record_id, skip):
        return record_id in skip or record_id in self._previous_page

    def page_read(self, lower, records, skip):
        """Account for one page (already written). Returns nothing; updates the state to commit."""
        times = [(record_id, when) for record_id, when in
                 ((r.get("id"), parse_time(r.get("createdDateTime"))) for r in records) if record_id and when]
        if not times:
            return
        newest = max(when for _, when in times)
        oldest = min(when for _, when in times)
        self.newest_seen = max(self.newest_seen or newest, newest)
        if self.high_water is None or newest > self.high_water:
            self.high_water = newest
        for record_id, when in times:
            self.recent[record_id] = iso_precise(when)
        self._previous_page = {record_id for record_id, _ in times}
        # The rest of this range is [lower, ceil(oldest)]; ids read up to that second are skipped there.
        upper = _ceil_second(oldest)
        upper_stamp = iso_precise(upper)
        previous = (self.gap or {}).get("skip") or {}
        carried = {record_id: stamp for record_id, stamp in {**skip, **previous, **self.recent}.items()
                   if stamp <= upper_stamp}
        self.gap = {"lower": iso(lower), "upper": iso(upper), "skip": carried}
        self._prune_recent()

    def range_done(self, upper):
        self.gap = None
        self._previous_page = set()
        if self.high_water is None or upper > self.high_water:
            self.high_water = upper
        self._prune_recent()

    def _prune_recent(self):
        horizon = iso_precise(self.high_water - self.overlap - self.MARGIN)
        self.recent = {record_id: stamp for record_id, stamp in self.recent.items() if stamp >= horizon}

    def to_state(self):
        return {"high_water": iso_precise(self.high_water) if self.high_water else None,
                "recent": self.recent, "gap": self.gap}


def _ceil_second(value):
    floor = value.replace(microsecond=0)
    return floor if floor == value else floor + dt.timedelta(seconds=1)
