"""Benchmark of the matching engine at city scale, with an exact faiss baseline.

Run from the repository root::

    python -m benchmarks.matching                      # 176,000 × 54,000
    python -m benchmarks.matching --oldenburg 20000 --cholet 6000 --no-baseline

Prints wall time and peak resident memory per step, quality figures of the result, the
baseline side by side, what publishing costs the matching (the same residents matched
once with their raw vectors and once with the vectors as published: coarse language
levels, k-anonymous values and combinations, withheld residents left out; on a sample
of ``--coarsening-sample`` residents per city at most, to keep the step cheap), and
finally one line of JSON with every figure.

Peak memory is the process's resident set (VmHWM), reset before each step where the
kernel allows it, because BLAS buffers are invisible to ``tracemalloc``. It includes the
residents themselves; ``rss_before`` says how much of it was there before the step.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import numpy as np

from benchmarks.synthetic import default_taxonomy, generate_population
from matching.anonymise import generalise
from matching.batch import assign_twins, suggestion_maps
from matching.candidates import candidate_pass
from matching.layout import VectorLayout
from matching.occupations import load_occupations
from matching.profile import InterestProfile
from matching.refresh import SideIndex, suggestions_for
from matching.score import RarityWeights, rarity_weights
from matching.settings import MatchSettings
from matching.sides import canonical_sides
from matching.taxonomy import load_taxonomy

_STATUS = Path("/proc/self/status")
_CLEAR_REFS = Path("/proc/self/clear_refs")


def _status_kib(field: str) -> int:
    for line in _STATUS.read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1])
    return 0


def _reset_peak() -> bool:
    """Reset VmHWM to the current RSS (Linux ≥ 4.0); False where not permitted."""
    try:
        _CLEAR_REFS.write_text("5")
    except OSError:
        return False
    return True


_open_peaks: list[int] = []
"""Peaks (KiB) seen so far by each enclosing step, since an inner step resets VmHWM."""


@contextmanager
def measured(figures: dict[str, Any], name: str) -> Iterator[None]:
    """Record wall and CPU seconds and peak RSS (MiB) of the enclosed step under ``name``.

    CPU seconds (all threads) tell how much work a step is when other processes compete
    and wall time mostly measures the neighbours.
    """
    before = _status_kib("VmRSS")
    if _open_peaks:
        _open_peaks[-1] = max(_open_peaks[-1], _status_kib("VmHWM"))
    exact = _reset_peak()
    _open_peaks.append(0)
    start = time.perf_counter()
    cpu_start = time.process_time()
    try:
        yield
    finally:
        elapsed = time.perf_counter() - start
        cpu = time.process_time() - cpu_start
        peak = max(_open_peaks.pop(), _status_kib("VmHWM"))
        if _open_peaks:
            _open_peaks[-1] = max(_open_peaks[-1], peak)
    figures[f"{name}_s"] = round(elapsed, 3)
    figures[f"{name}_cpu_s"] = round(cpu, 3)
    figures[f"{name}_peak_mib"] = round(peak / 1024, 1)
    figures[f"{name}_rss_before_mib"] = round(before / 1024, 1)
    if not exact:
        figures[f"{name}_peak_is_process_peak"] = True


def gini(values: np.ndarray) -> float:
    """Inequality of exposure: 0 everyone equally often suggested, 1 one person always."""
    if values.size == 0 or values.sum() == 0:
        return 0.0
    ordered = np.sort(values.astype(np.float64))
    n = ordered.size
    cumulative = np.cumsum(ordered)
    return float((n + 1 - 2 * (cumulative / cumulative[-1]).sum()) / n)


def exposure(suggested: Sequence[tuple[Any, ...]], ids: Sequence[str]) -> np.ndarray:
    """How many suggestion lists each of ``ids`` appears in."""
    position = {resident_id: i for i, resident_id in enumerate(ids)}
    counts = np.zeros(len(ids), dtype=np.int64)
    for suggestions in suggested:
        for suggestion in suggestions:
            counts[position[suggestion.other_id]] += 1
    return counts


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


def faiss_baseline(
    rows: Sequence[InterestProfile],
    columns: Sequence[InterestProfile],
    weights: RarityWeights,
    top_k: int,
    figures: dict[str, Any],
) -> None:
    """Exact top-k by faiss on the same score vectors, one call per direction, no gates."""
    import faiss

    faiss.omp_set_num_threads(os.cpu_count() or 2)
    layout = VectorLayout.build([*rows, *columns], weights)
    left_rows = layout.left_vectors(rows, 0)
    right_columns = layout.right_vectors(columns, len(rows))
    with measured(figures, "baseline_rows_to_columns"):
        faiss.knn(left_rows, right_columns, top_k, metric=faiss.METRIC_INNER_PRODUCT)
    del left_rows, right_columns
    left_columns = layout.left_vectors(columns, len(rows))
    right_rows = layout.right_vectors(rows, 0)
    with measured(figures, "baseline_columns_to_rows"):
        faiss.knn(left_columns, right_rows, top_k, metric=faiss.METRIC_INNER_PRODUCT)
    figures["baseline_top10_both_s"] = round(
        figures["baseline_rows_to_columns_s"] + figures["baseline_columns_to_rows_s"], 3
    )
    figures["baseline_vector_width"] = int(left_columns.shape[1])


def _quality(
    left: Sequence[InterestProfile],
    right: Sequence[InterestProfile],
    codes: Sequence[str],
    parent: Callable[[str], str | None],
) -> tuple[float, int, int]:
    """Mean top-10 score over every suggestion both ways, twin pairs, residents with a twin."""
    rows, columns = canonical_sides(left, right)
    weights = rarity_weights([*rows, *columns], codes, parent)
    settings = MatchSettings()
    row_lists, column_lists = candidate_pass(rows, columns, weights, settings)
    suggestions = suggestion_maps(rows, columns, row_lists, column_lists, settings.top_k)
    twins = assign_twins(rows, columns, row_lists, column_lists)
    scores = [s.score for lists in suggestions.values() for s in lists]
    row_ids = {r.id for r in rows}
    pairs = sum(len(others) for resident, others in twins.items() if resident in row_ids)
    with_twin = sum(1 for others in twins.values() if others)
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


def run(args: argparse.Namespace, say: Callable[[str], None]) -> dict[str, Any]:
    figures: dict[str, Any] = {
        "load_average_at_start": round(os.getloadavg()[0], 2),
        "oldenburg": args.oldenburg,
        "cholet": args.cholet,
        "seed": args.seed,
        "cpus": os.cpu_count(),
    }
    codes, parent = default_taxonomy()
    figures["taxonomy_codes"] = len(codes)
    start = time.perf_counter()
    oldenburg = generate_population("oldenburg", args.oldenburg, args.seed)
    cholet = generate_population("cholet", args.cholet, args.seed)
    figures["generate_s"] = round(time.perf_counter() - start, 3)
    say(f"populations: {args.oldenburg} × {args.cholet} in {figures['generate_s']} s")

    settings = MatchSettings()
    with measured(figures, "match_total"):
        rows, columns = canonical_sides(oldenburg, cholet)
        with measured(figures, "weights"):
            weights = rarity_weights([*rows, *columns], codes, parent)
        with measured(figures, "top10_both"):
            row_lists, column_lists = candidate_pass(rows, columns, weights, settings)
        with measured(figures, "suggestion_maps"):
            suggestions = suggestion_maps(rows, columns, row_lists, column_lists, settings.top_k)
        with measured(figures, "twins"):
            twins = assign_twins(rows, columns, row_lists, column_lists)
    say(
        f"top-{settings.top_k} both directions (with {settings.candidates} candidates for the "
        f"twins): {figures['top10_both_s']} s (CPU {figures['top10_both_cpu_s']} s), "
        f"peak {figures['top10_both_peak_mib']} MiB "
        f"(rss before {figures['top10_both_rss_before_mib']} MiB)"
    )
    say(
        f"twin assignment: {figures['twins_s']} s (CPU {figures['twins_cpu_s']} s), "
        f"peak {figures['twins_peak_mib']} MiB"
    )
    say(
        f"whole match (weights, pass, lists, twins): {figures['match_total_s']} s "
        f"(CPU {figures['match_total_cpu_s']} s), "
        f"peak {figures['match_total_peak_mib']} MiB"
    )

    for name, side, others in (("oldenburg", oldenburg, cholet), ("cholet", cholet, oldenburg)):
        with_twin = sum(1 for r in side if twins[r.id])
        figures[f"twin_share_{name}"] = round(with_twin / max(len(side), 1), 4)
        counts = exposure([suggestions[r.id] for r in others], [r.id for r in side])
        figures[f"max_exposure_{name}"] = int(counts.max(initial=0))
        figures[f"gini_exposure_{name}"] = round(gini(counts), 4)
        figures[f"without_suggestions_{name}"] = sum(1 for r in side if not suggestions[r.id])
        say(
            f"{name}: twin share {figures[f'twin_share_{name}']:.2%}, most exposed in "
            f"{figures[f'max_exposure_{name}']} lists, exposure Gini "
            f"{figures[f'gini_exposure_{name}']}, without suggestions "
            f"{figures[f'without_suggestions_{name}']}"
        )
    del suggestions, twins, row_lists, column_lists

    for name, side, others in (("oldenburg", oldenburg, cholet), ("cholet", cholet, oldenburg)):
        with measured(figures, f"index_{name}"):
            index = SideIndex.build(others, weights)
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
        faiss_baseline(rows, columns, weights, settings.top_k, figures)
        say(
            f"baseline faiss.knn exact inner product, one call per direction, no gates: "
            f"{figures['baseline_rows_to_columns_s']} s + {figures['baseline_columns_to_rows_s']}"
            f" s = {figures['baseline_top10_both_s']} s"
        )
        say(
            f"top-10 both directions: engine {figures['top10_both_s']} s vs faiss "
            f"{figures['baseline_top10_both_s']} s "
            f"({figures['baseline_top10_both_s'] / max(figures['top10_both_s'], 1e-9):.2f}×)"
        )
    figures["load_average_at_end"] = round(os.getloadavg()[0], 2)
    return figures


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--oldenburg", type=int, default=176_000)
    parser.add_argument("--cholet", type=int, default=54_000)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--refresh-samples", type=int, default=50)
    parser.add_argument("--no-baseline", action="store_true", help="skip the faiss baseline")
    parser.add_argument(
        "--coarsening-sample",
        type=int,
        default=20_000,
        help="residents of the larger city matched raw and as published (0: skip)",
    )
    parser.add_argument("--k", type=int, default=5, help="k-anonymity for the published side")
    args = parser.parse_args(argv)
    figures = run(args, lambda line: print(line, flush=True))
    print(json.dumps(figures, sort_keys=True))


if __name__ == "__main__":
    main()
