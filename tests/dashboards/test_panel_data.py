"""The commands panel_data adds to the SPL interpreter, on small hand-made events."""
from . import panel_data

DAY = 86400
NOW = 100 * DAY + 3600
MACROS = {}


def run(query, rows, earliest=NOW - 3 * DAY, latest=NOW):
    return panel_data.run_search(query, rows, NOW, earliest, latest, MACROS)


def row(when, **fields):
    return {"_time": when, **{k: v if isinstance(v, list) else [str(v)] for k, v in fields.items()}}


def test_timechart_has_every_bucket_of_the_range_and_a_column_per_series():
    rows = [row(NOW - 2 * DAY, s="a"), row(NOW - 2 * DAY + 10, s="b"), row(NOW - 10, s="a")]
    result = run("index=x | timechart span=1d count by s", [dict(r, index=["x"]) for r in rows])
    assert [r["_time"] for r in result] == [97 * DAY, 98 * DAY, 99 * DAY, 100 * DAY]
    assert [(r["a"], r["b"]) for r in result] == [(["0"], ["0"]), (["1"], ["1"]), (["0"], ["0"]), (["1"], ["0"])]


def test_rows_outside_the_time_range_are_not_searched():
    rows = [row(NOW - 5 * DAY, index="x"), row(NOW - DAY, index="x")]
    assert run("index=x | stats count", rows) == [{"count": ["1"]}]


def test_chart_over_by_and_bin_then_stats_by_time():
    rows = [row(NOW - DAY + 5, index="x", m="2026-01", t="password"), row(NOW - DAY + 50, index="x", m="2026-01", t="certificate"),
            row(NOW - 10, index="x", m="2026-02", t="password")]
    assert run("index=x | chart count over m by t", rows) == [
        {"m": ["2026-01"], "certificate": ["1"], "password": ["1"]},
        {"m": ["2026-02"], "certificate": ["0"], "password": ["1"]}]
    binned = run("index=x | bin _time span=86400 | stats count by _time", rows)
    assert [(r["_time"], r["count"]) for r in binned] == [(99 * DAY, ["2"]), (100 * DAY, ["1"])]


def test_fillnull_mvexpand_and_convert():
    rows = [row(NOW - 10, index="x", f=["p", "q"], t=str(DAY)), row(NOW - 20, index="x")]
    result = run('index=x | fillnull value="none" g | mvexpand f | convert ctime(t)', rows)
    assert [(r["f"], r["g"], r["t"]) for r in result] == [(["p"], ["none"], ["01/02/1970 00:00:00"]),
                                                         (["q"], ["none"], ["01/02/1970 00:00:00"])]


def test_results_become_the_frameworks_json_columns():
    data = panel_data.columns_of([{"_time": 0.0, "a": ["1"], "b": ["x", "y"]}, {"a": ["2"]}])
    assert data == {"fields": [{"name": "_time"}, {"name": "a"}, {"name": "b"}],
                    "columns": [["1970-01-01T00:00:00.000+00:00", None], ["1", "2"], [["x", "y"], None]]}
