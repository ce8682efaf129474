"""How fast the tapering engine builds a whole schedule (the pure function: no app, no database).

Two cases from Taper issue 4: a typical two-line regimen, and four lines with a patch; and from issue 15 the
most a request may ask (morphine MR 2,400 mg twice a day, just under the 5,000 mg OME a day that is refused),
whose "first" build also empties the change-making caches. Prints the median, p10 and p90 of single builds in
ms and schedules per second. Goals: two lines at most 1 ms median, four lines with a patch at most 5 ms, the
most a request may ask well under a second, on the project's 2-core machine. Then the same first build at doses
from 60 to 2,400 mg twice a day, whose cost should not follow the dose.

    make bench
"""

from __future__ import annotations

import os
import statistics
import sys
import time
from datetime import date
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from taper.domain import makeable
from taper.domain.engine import Policy, build_schedule
from taper.domain.formulary import Formulary, load_formulary
from taper.domain.ladders import forget_ladders
from taper.domain.ome import FactorSet, default_factor_set
from taper.domain.regimen import parse_regimen

RUNS = int(os.environ.get("BENCH_RUNS", "300"))
CASES = {
    "two lines (MR + PRN)": [
        {"product": "morphine-mr-tablet-12h",
         "doses": [{"time": "08:00", "dose_mg": 60}, {"time": "20:00", "dose_mg": 60}]},
        {"product": "morphine-oral-solution-10mg-5ml", "prn": {"dose_mg": 10, "usual_per_day": 2, "max_per_day": 4}},
    ],
    "four lines with a patch": [
        {"product": "oxycodone-mr-tablet-12h",
         "doses": [{"time": "08:00", "dose_mg": 40}, {"time": "20:00", "dose_mg": 40}]},
        {"product": "oxycodone-ir-capsule", "prn": {"dose_mg": 10, "usual_per_day": 2, "max_per_day": 4}},
        {"product": "co-codamol-30-500-tablet",
         "doses": [{"time": at, "dose_mg": 60} for at in ("08:00", "12:00", "16:00", "22:00")]},
        {"product": "fentanyl-patch-72h", "patch_mcg_per_hour": 37},
    ],
    "the most a request may ask": [
        {"product": "morphine-mr-tablet-12h",
         "doses": [{"time": "08:00", "dose_mg": 2400}, {"time": "20:00", "dose_mg": 2400}]},
    ],
}
HEAVY_RUNS = int(os.environ.get("BENCH_HEAVY_RUNS", "20"))
DOSES_MG = (60, 150, 300, 600, 1200, 2400)


def forget_everything() -> None:
    """A regimen never seen before: the ladders and every change-making search made afresh."""
    forget_ladders()
    for cached in (makeable._fewest, makeable._fewest_units, makeable._practical):
        cached.cache_clear()


def main() -> None:
    formulary, factor_set = load_formulary(), default_factor_set()
    print(f"engine, {RUNS} builds each after 20 warm-up builds (ms); 'first' empties the ladder cache each time")
    print(f"{'case':<36}{'steps':>6}{'median':>9}{'p10':>8}{'p90':>8}{'per second':>12}")
    for name, lines in CASES.items():
        regimen = parse_regimen(lines, formulary)
        heavy = name == "the most a request may ask"
        runs = HEAVY_RUNS if heavy else RUNS
        for label, before in (("repeat", lambda: None), ("first", forget_everything if heavy else forget_ladders)):
            samples = []
            for run in range(runs + 20):
                before()
                started = time.perf_counter()
                schedule = build_schedule(regimen, formulary=formulary, factor_set=factor_set,
                                          start_on=date(2027, 1, 4), policy=Policy())
                if run >= 20:
                    samples.append((time.perf_counter() - started) * 1000)
            deciles = statistics.quantiles(samples, n=10)
            median = statistics.median(samples)
            print(f"{name + ', ' + label:<36}{len(schedule.steps):>6}{median:>9.3f}{deciles[0]:>8.3f}"
                  f"{deciles[-1]:>8.3f}{1000 / median:>12.0f}")
    by_dose(formulary, factor_set)


def by_dose(formulary: Formulary, factor_set: FactorSet) -> None:
    """Morphine MR twice a day from 60 to 2,400 mg, every cache emptied before each build: the engine's cost
    should not follow the size of the dose (issue 15)."""
    print(f"\nby dose, morphine MR twice a day, {HEAVY_RUNS} first builds each (ms)")
    print(f"{'mg a dose':>10}{'steps':>6}{'median':>9}{'min':>8}{'max':>8}")
    for dose_mg in DOSES_MG:
        regimen = parse_regimen([{"product": "morphine-mr-tablet-12h", "doses": [
            {"time": "08:00", "dose_mg": dose_mg}, {"time": "20:00", "dose_mg": dose_mg}]}], formulary)
        samples = []
        for _ in range(HEAVY_RUNS):
            forget_everything()
            started = time.perf_counter()
            schedule = build_schedule(regimen, formulary=formulary, factor_set=factor_set,
                                      start_on=date(2027, 1, 4), policy=Policy())
            samples.append((time.perf_counter() - started) * 1000)
        print(f"{dose_mg:>10}{len(schedule.steps):>6}{statistics.median(samples):>9.2f}{min(samples):>8.2f}"
              f"{max(samples):>8.2f}")


if __name__ == "__main__":
    main()
