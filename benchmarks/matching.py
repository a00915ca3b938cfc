"""Benchmark of the matching engine at city scale, with a like-for-like faiss baseline.

Run from the repository root::

    python -m benchmarks.matching                      # 176,000 × 54,000, 3 repeats
    python -m benchmarks.matching --oldenburg 20000 --cholet 6000 --no-baseline

The whole match (weights, vectors, candidate pass, twins, suggestion lists) runs
``--repeats`` times and the medians are reported; so does the gated faiss baseline
(``benchmarks._baselines``: the same problem, vectors built inside its timer), whose
output is checked against the engine's. Both sides use ``--threads`` cores (BLAS,
faiss, and the engine's selection thread only from two). Then, on the last run's
result: exactness against brute force on a sample (``--sample`` residents per side,
scored by the scalar rules of the single-resident refresh, compared with the engine's
unconstrained ranked lists under the tie-break by id), the blocking pairs of the twins
over **all** gated pairs, exposure, single-resident refreshes, and what k-anonymous
publishing costs. Every figure is printed; the last line is one JSON object.

Run it on a quiet machine: the load average is printed at the start and the end.
"""

from __future__ import annotations

import argparse
import gc
import json
import os
import statistics
import time
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np
from threadpoolctl import threadpool_limits

from benchmarks import _baselines, _exposure
from benchmarks._measure import measured, median_of, release_freed_memory
from benchmarks.synthetic import default_taxonomy, generate_population
from matching import tuning
from matching.anonymise import generalise
from matching.batch import (
    assign_twins,
    match_pair,
    suggestion_lists,
    suggestion_maps,
    twin_map,
)
from matching.candidates import CandidateLists, PairVectors, candidate_pass
from matching.occupations import load_occupations
from matching.profile import InterestProfile
from matching.refresh import SideIndex, suggestions_for
from matching.settings import MatchSettings
from matching.sides import canonical_sides
from matching.stability import blocking_pairs
from matching.taxonomy import load_taxonomy
from matching.twin import Twins


def _quality(
    left: Sequence[InterestProfile],
    right: Sequence[InterestProfile],
    codes: Sequence[str],
    parent: Callable[[str], str | None],
) -> tuple[float, int, int]:
    """Mean top-10 score over every suggestion both ways, twin pairs, residents with a twin."""
    result = match_pair(left, right, codes=codes, parent=parent)
    scores = [s.score for lists in result.suggestions.values() for s in lists]
    rows, _ = canonical_sides(left, right)
    row_ids = {r.id for r in rows}
    pairs = sum(len(found) for resident, found in result.twins.items() if resident in row_ids)
    with_twin = sum(1 for found in result.twins.values() if found)
    return (statistics.fmean(scores) if scores else 0.0), pairs, with_twin


def coarsening_cost(
    oldenburg: Sequence[InterestProfile],
    cholet: Sequence[InterestProfile],
    sample: int,
    k: int,
    figures: dict[str, Any],
) -> None:
    """The same residents matched raw and as published, on a sample of each city."""
    share = min(1.0, sample / max(len(oldenburg), 1))
    left = list(oldenburg[: round(len(oldenburg) * share)])
    right = list(cholet[: round(len(cholet) * share)])
    taxonomy, occupations = load_taxonomy(), load_occupations()
    codes, parent = taxonomy.codes, taxonomy.parent
    with measured(figures, "coarsening_cost"):
        published = [
            [p for p in generalise(side, k, taxonomy, occupations=occupations) if p is not None]
            for side in (left, right)
        ]
        raw_mean, raw_pairs, raw_with = _quality(left, right, codes, parent)
        pub_mean, pub_pairs, pub_with = _quality(published[0], published[1], codes, parent)
    figures["coarsening_sample"] = [len(left), len(right)]
    figures["coarsening_k"] = k
    figures["coarsening_withheld"] = len(left) + len(right) - sum(map(len, published))
    figures["coarsening_mean_top10_raw"] = round(raw_mean, 4)
    figures["coarsening_mean_top10_published"] = round(pub_mean, 4)
    figures["coarsening_mean_top10_change"] = round(pub_mean - raw_mean, 4)
    figures["coarsening_twin_pairs_raw"] = raw_pairs
    figures["coarsening_twin_pairs_published"] = pub_pairs
    figures["coarsening_twin_pairs_change"] = pub_pairs - raw_pairs
    figures["coarsening_with_twin_raw"] = raw_with
    figures["coarsening_with_twin_published"] = pub_with


def _list_length(settings: MatchSettings) -> int:
    """The candidate lists' length both ways, as ``matching.batch.match_pair`` uses."""
    return max(settings.top_k, tuning.TWIN_CHOICES, 1)


class Match:
    """One whole match, kept in its parts for the checks after it."""

    def __init__(self, rows: list[InterestProfile], columns: list[InterestProfile]) -> None:
        self.rows, self.columns = rows, columns

    def _forget(self) -> None:
        """Drop the previous run's results, so that each run's peak is its own."""
        names = ("vectors", "row_lists", "column_lists", "twins", "twin_lists", "suggestions")
        for name in (*names, "spread"):
            self.__dict__.pop(name, None)

    def run(
        self, codes: Sequence[str], parent: Callable[[str], str | None], settings: MatchSettings
    ) -> dict[str, Any]:
        figures: dict[str, Any] = {}
        rows, columns = self.rows, self.columns
        self._forget()
        gc.collect()
        release_freed_memory()
        with measured(figures, "match_total"):
            with measured(figures, "engine_lists"):
                vectors = PairVectors.of_sides(rows, columns, codes, parent, settings.kind_gates)
                weights = vectors.weights
                length = _list_length(settings)
                row_lists, column_lists = candidate_pass(vectors, length, length)
            with measured(figures, "twins"):
                twins = assign_twins(vectors, row_lists)
                twin_lists = twin_map(rows, columns, twins)
            with measured(figures, "suggestions"):
                row_suggestions, column_suggestions = suggestion_lists(
                    vectors, row_lists, column_lists, settings
                )
                suggestions = suggestion_maps(rows, columns, row_suggestions, column_suggestions)
        self.weights, self.vectors = weights, vectors
        self.row_lists, self.column_lists = row_lists, column_lists
        self.twins: Twins = twins
        self.twin_lists, self.suggestions = twin_lists, suggestions
        self.spread = (row_suggestions, column_suggestions)
        return figures


def _brute_force_list(units: np.ndarray, length: int) -> list[tuple[int, int]]:
    """(other, units) of the best gate-passing ``length``: score descending, then index."""
    gated = np.flatnonzero(units > 0)
    order = np.lexsort((gated, -units[gated].astype(np.int64)))[:length]
    return [(int(gated[i]), int(units[gated[i]])) for i in order]


def _engine_list(lists: CandidateLists, owner: int) -> list[tuple[int, int]]:
    start, stop = np.searchsorted(lists.owner, [owner, owner + 1])
    return list(
        zip(lists.other[start:stop].tolist(), lists.units[start:stop].tolist(), strict=True)
    )


def exactness(match: Match, settings: MatchSettings, sample: int, seed: int) -> tuple[int, int]:
    """(residents checked, mismatches): engine lists against a brute-force ranking.

    Brute force scores every pair of the sampled resident with the refresh's index
    (its own code: scalar rules for occupation, age, languages and gates, interests
    summed per dimension), not with the pass's matrix products.
    """
    rng = np.random.default_rng(seed)
    checked = mismatches = 0
    sides = (
        (match.rows, match.columns, match.row_lists, _list_length(settings)),
        (match.columns, match.rows, match.column_lists, _list_length(settings)),
    )
    for owners, others, lists, length in sides:
        index = SideIndex.build(others, match.weights)
        for i in rng.choice(len(owners), size=min(sample, len(owners)), replace=False).tolist():
            units = index.units_for(owners[i], settings.kind_gates)
            checked += 1
            mismatches += _brute_force_list(units, length) != _engine_list(lists, i)
    return checked, mismatches


def refresh_times(
    residents: Sequence[InterestProfile], index: SideIndex, samples: int, seed: int
) -> list[float]:
    """Seconds per single-resident refresh against a prepared index."""
    rng = np.random.default_rng(seed)
    picks = rng.choice(len(residents), size=min(samples, len(residents)), replace=False)
    settings = MatchSettings()
    times: list[float] = []
    for i in picks:
        start = time.perf_counter()
        suggestions_for(residents[int(i)], index, index.weights, settings)
        times.append(time.perf_counter() - start)
    return times


def _baselines_side_by_side(
    match: Match,
    settings: MatchSettings,
    args: argparse.Namespace,
    figures: dict[str, Any],
    say: Callable[[str], None],
) -> None:
    rows, columns = match.rows, match.columns
    runs: list[dict[str, Any]] = []
    for _ in range(args.repeats):
        run: dict[str, Any] = {}
        with measured(run, "baseline_gated"):
            row_lists, column_lists = _baselines.gated(
                rows,
                columns,
                match.weights,
                settings.kind_gates,
                _list_length(settings),
                _list_length(settings),
            )
        runs.append(run)
    figures.update(_baselines.figures_of("baseline_gated", runs))
    figures["baseline_gated_peak_mib"] = max(run["baseline_gated_peak_mib"] for run in runs)
    figures["baseline_row_list_mismatches"] = _baselines.score_mismatches(
        match.row_lists, row_lists, len(rows)
    )
    figures["baseline_column_list_mismatches"] = _baselines.score_mismatches(
        match.column_lists, column_lists, len(columns)
    )
    say(
        f"gated faiss baseline (exact inner product per language class, same vectors, "
        f"language term, lists of {_list_length(settings)} both ways, "
        f"vectors built inside the timer), median of {args.repeats}: "
        f"{figures['baseline_gated_s']} s {figures['baseline_gated_runs_s']} against the "
        f"engine's lists {figures['engine_lists_s']} s {figures['engine_lists_runs_s']} → "
        f"{figures['baseline_gated_s'] / max(figures['engine_lists_s'], 1e-9):.2f}×; owners "
        f"whose scores differ: rows {figures['baseline_row_list_mismatches']}, columns "
        f"{figures['baseline_column_list_mismatches']}"
    )
    ungated: list[dict[str, Any]] = []
    for _ in range(args.ungated_repeats):
        run = {}
        with measured(run, "baseline_ungated"):
            _baselines.ungated(rows, columns, match.weights, settings.top_k)
        ungated.append(run)
    if ungated:
        figures.update(_baselines.figures_of("baseline_ungated", ungated))
        say(
            f"ungated faiss.knn over every pair, top {settings.top_k} both ways, no language "
            f"term (scale only): {figures['baseline_ungated_s']} s "
            f"{figures['baseline_ungated_runs_s']}"
        )


def run(args: argparse.Namespace, say: Callable[[str], None]) -> dict[str, Any]:
    threads = args.threads or os.cpu_count() or 1
    threadpool_limits(limits=threads)
    tuning.PASS_THREADS = threads
    if not args.no_baseline:
        import faiss

        faiss.omp_set_num_threads(threads)
    figures: dict[str, Any] = {
        "load_average_at_start": round(os.getloadavg()[0], 2),
        "oldenburg": args.oldenburg,
        "cholet": args.cholet,
        "seed": args.seed,
        "cpus": os.cpu_count(),
        "threads": threads,
        "repeats": args.repeats,
    }
    say(f"load average {figures['load_average_at_start']}, {threads} threads")
    codes, parent = default_taxonomy()
    figures["taxonomy_codes"] = len(codes)
    start = time.perf_counter()
    oldenburg = generate_population("oldenburg", args.oldenburg, args.seed)
    cholet = generate_population("cholet", args.cholet, args.seed)
    figures["generate_s"] = round(time.perf_counter() - start, 3)
    say(f"populations: {args.oldenburg} × {args.cholet} in {figures['generate_s']} s")

    settings = MatchSettings(exposure_factor=args.exposure_factor)
    rows, columns = canonical_sides(oldenburg, cholet)
    names = (
        ("oldenburg", "cholet")
        if rows[0].id.startswith("https://oldenburg")
        else ("cholet", "oldenburg")
    )
    match = Match(rows, columns)
    runs = []
    for number in range(args.repeats):
        runs.append(match.run(codes, parent, settings))
        say(
            f"run {number + 1}: whole match {runs[-1]['match_total_s']} s (lists "
            f"{runs[-1]['engine_lists_s']} s, twins {runs[-1]['twins_s']} s, suggestions "
            f"{runs[-1]['suggestions_s']} s), peak {runs[-1]['match_total_peak_mib']} MiB"
        )
    for key in ("match_total", "engine_lists", "twins", "suggestions"):
        figures.update(_baselines.figures_of(key, runs))
        figures[f"{key}_cpu_s"] = median_of(runs, f"{key}_cpu_s")
    figures["match_total_peak_mib"] = max(run["match_total_peak_mib"] for run in runs)
    figures["match_total_rss_before_mib"] = runs[-1]["match_total_rss_before_mib"]
    say(
        f"whole match (weights, vectors, pass, twins, suggestion lists), median of "
        f"{args.repeats}: {figures['match_total_s']} s (CPU {figures['match_total_cpu_s']} s), "
        f"peak {figures['match_total_peak_mib']} MiB (rss before "
        f"{figures['match_total_rss_before_mib']} MiB)"
    )

    _exposure.report(match, settings, figures, names, say)
    with measured(figures, "blocking_check"):
        figures["blocking_pairs"] = blocking_pairs(match.vectors, match.twins)
    gated = sum(c.rows.size * c.columns.size for c in match.vectors.classes)
    figures["gated_pairs"] = gated
    figures["gated_flops"] = match.vectors.flops()
    say(
        f"twins: {figures['blocking_pairs']} blocking pairs among all {gated:,} gated pairs "
        f"(checked in {figures['blocking_check_s']} s)"
    )
    checked, mismatches = exactness(match, settings, args.sample, args.seed)
    figures["sample_checked"], figures["sample_mismatches"] = checked, mismatches
    say(f"exactness: {checked} residents' lists against brute force, {mismatches} differ")

    for name, side, others in ((names[0], rows, columns), (names[1], columns, rows)):
        with measured(figures, f"index_{name}"):
            index = SideIndex.build(others, match.weights)
        times = refresh_times(side, index, args.refresh_samples, args.seed)
        figures[f"refresh_{name}_median_ms"] = round(1000 * statistics.median(times), 2)
        figures[f"refresh_{name}_max_ms"] = round(1000 * max(times), 2)
        say(
            f"refresh of one {name} resident against {len(others)}: median "
            f"{figures[f'refresh_{name}_median_ms']} ms (max {figures[f'refresh_{name}_max_ms']}"
            f" ms, {len(times)} residents; index built in {figures[f'index_{name}_s']} s)"
        )
        del index

    if args.coarsening_sample > 0:
        coarsening_cost(oldenburg, cholet, args.coarsening_sample, args.k, figures)
        say(
            f"what publishing costs (k = {args.k}, {figures['coarsening_sample'][0]} × "
            f"{figures['coarsening_sample'][1]} residents, "
            f"{figures['coarsening_withheld']} withheld): mean top-10 score "
            f"{figures['coarsening_mean_top10_raw']} raw → "
            f"{figures['coarsening_mean_top10_published']} published "
            f"({figures['coarsening_mean_top10_change']:+}); twin pairs "
            f"{figures['coarsening_twin_pairs_raw']} → {figures['coarsening_twin_pairs_published']}"
            f" ({figures['coarsening_twin_pairs_change']:+}); "
            f"{figures['coarsening_cost_s']} s"
        )

    if not args.no_baseline:
        _baselines_side_by_side(match, settings, args, figures, say)
    figures["load_average_at_end"] = round(os.getloadavg()[0], 2)
    say(f"load average at the end {figures['load_average_at_end']}")
    return figures


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--oldenburg", type=int, default=176_000)
    parser.add_argument("--cholet", type=int, default=54_000)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--threads", type=int, default=0, help="cores to use (0: all)")
    parser.add_argument("--repeats", type=int, default=3, help="runs of the match and baseline")
    parser.add_argument("--ungated-repeats", type=int, default=1, help="runs of ungated faiss")
    parser.add_argument("--sample", type=int, default=500, help="residents per side checked")
    parser.add_argument("--refresh-samples", type=int, default=50)
    parser.add_argument("--no-baseline", action="store_true", help="skip the faiss baselines")
    parser.add_argument(
        "--coarsening-sample",
        type=int,
        default=20_000,
        help="residents of the larger city matched raw and as published (0: skip)",
    )
    parser.add_argument("--k", type=int, default=5, help="k-anonymity for the published side")
    parser.add_argument(
        "--exposure-factor",
        type=float,
        default=MatchSettings().exposure_factor,
        help="the exposure cap as a multiple of the mean number of lists (0: none)",
    )
    args = parser.parse_args(argv)
    figures = run(args, lambda line: print(line, flush=True))
    print(json.dumps(figures, sort_keys=True))


if __name__ == "__main__":
    main()
