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


def test_memory_growth_compares_median_levels_so_one_transient_spike_does_not_decide_the_soak():
    # (seconds, server + workers RSS MB, CPU seconds, workers MB) every 5 s over 600 s: flat at 1000 MB with a
    # 1.6 GB computation in flight at 595 s, then a series drifting up 0.33 MB/s
    flat = [(t, 1000.0 + (600.0 if t == 595 else 0.0), t / 10, 500.0) for t in range(0, 600, 5)]
    r = report({"samples": [Sample("gan", "slider", 0.1, True)], "memory": flat, "browser": []},
               students=1, duration=600)
    assert r["rss_level_first_mb"] == 1000.0 and r["rss_level_last_mb"] == 1000.0 and r["rss_level_growth_pct"] == 0.0
    assert r["rss_peak_mb"] == 1600.0 and r["rss_growth_after_warmup_pct"] == 60.0    # the single-sample view
    drift = [(t, 1000.0 + t / 3, t / 10, 500.0) for t in range(0, 600, 5)]
    r = report({"samples": [Sample("gan", "slider", 0.1, True)], "memory": drift, "browser": []},
               students=1, duration=600)
    assert 10.0 < r["rss_level_growth_pct"] < 20.0      # 1030 -> 1190 MB: a real drift still fails the soak
