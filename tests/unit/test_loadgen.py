"""bench.loadgen's report: interactions and announced training runs are counted apart, per page."""

from bench.loadgen import Sample, _pct, report


def test_report_splits_training_runs_from_interactions_and_names_the_slowest_widgets():
    samples = [Sample("gan", "open", 2.0, True)]
    samples += [Sample("gan", "slider", 0.1 * (i + 1), True, widget="gan.lr_d") for i in range(10)]
    samples += [Sample("gan", "button", 8.0, True, widget="gan.replay", announced=True) for _ in range(2)]
    samples += [Sample("gan", "slider", 0.0, False, "exception: boom", widget="gan.lr_g")]
    r = report({"samples": samples, "memory": [], "browser": []}, students=1, duration=10)
    p = r["pages"]["gan"]
    assert p["interactions"] == 10 and p["p95_s"] == 1.0 and p["max_s"] == 1.0     # the 8 s runs are not here
    assert p["training_runs"] == 2 and p["training_p95_s"] == 8.0 and p["training_widgets"] == ["gan.replay"]
    assert p["slowest_widgets_p95"][0] == ("gan.replay", 8.0, 2)
    assert p["errors"] == 1 and r["errors"] == 1 and r["training_runs"] == 2
    assert r["all_p95_s"] == 1.0


def test_percentile_picks_the_nearest_rank():
    assert _pct([3.0, 1.0, 2.0], 0.5) == 2.0 and _pct([1.0], 0.95) == 1.0
    assert _pct([], 0.5) != _pct([], 0.5)   # NaN
