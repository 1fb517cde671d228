"""One table and one chart from every benchmark's rows in results/latest.json.

`make bench` runs the benchmark modules one after the other (each replaces its own group of rows),
then this: it prints every row grouped by benchmark, marks the rows that carry a target from
`design/quality.md`, and draws `results/latest.png`: one horizontal bar per row that has a
baseline, its ratio to that baseline on a log scale (1 = as fast or as large as the baseline).

    python -m bench.report [--png bench/results/latest.png]
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from bench.common import RESULTS

ORDER = ["backbone", "e2e", "http", "registry", "reports", "awards", "notify", "growth"]


def load() -> list[dict]:
    if not RESULTS.exists():
        raise SystemExit(f"{RESULTS} does not exist yet: run `make bench` (or one module, e.g. python -m bench.backbone)")
    rows = json.loads(RESULTS.read_text())
    for r in rows:
        r.setdefault("group", "backbone")  # rows written before groups existed
    rank = {g: i for i, g in enumerate(ORDER)}
    return sorted(rows, key=lambda r: rank.get(r["group"], len(ORDER)))  # stable: a module's own order within its group


def table(rows: list[dict]) -> str:
    width = max(len(r["name"]) for r in rows)
    lines = [f"{'measure':<{width}}  {'value':>10}  {'baseline':>10}  {'ratio':>7}  unit"]
    group = None
    for r in rows:
        if r["group"] != group:
            group = r["group"]
            lines.append(f"-- {group} " + "-" * (width + 36 - len(group)))
        baseline = "" if r["baseline"] is None else f"{r['baseline']:>10.1f}"
        ratio = "" if r["ratio"] is None else f"{r['ratio']:>7.3f}"
        lines.append(f"{r['name']:<{width}}  {r['value']:>10.1f}  {baseline:>10}  {ratio:>7}  {r['unit']}")
    return "\n".join(lines)


def chart(rows: list[dict], path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")  # no display on a server or in CI
    import matplotlib.pyplot as plt

    shown = [r for r in rows if r["ratio"]]
    if not shown:
        return
    colours = {g: plt.get_cmap("tab10")(i % 10) for i, g in enumerate(ORDER)}
    fig, ax = plt.subplots(figsize=(13, max(4, 0.24 * len(shown) + 1.5)))
    y = range(len(shown))
    ax.barh(list(y), [r["ratio"] for r in shown], color=[colours.get(r["group"], "grey") for r in shown])
    ax.set_yticks(list(y), [f"{r['name'][:95]} ({r['unit']})" for r in shown], fontsize=7)
    ax.invert_yaxis()
    ax.set_xscale("log")
    ax.axvline(1, color="black", linewidth=0.8)
    ax.set_xlabel("ratio to the baseline measured in the same run (log scale; throughput: higher is better, times and memory: lower is better)")
    ax.set_title("TĐKT benchmarks — each figure against its own baseline")
    handles = [plt.Rectangle((0, 0), 1, 1, color=colours[g]) for g in ORDER if any(r["group"] == g for r in shown)]
    ax.legend(handles, [g for g in ORDER if any(r["group"] == g for r in shown)], loc="lower right", fontsize=8)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--png", type=Path, default=RESULTS.with_suffix(".png"))
    args = parser.parse_args()
    rows = load()
    print(table(rows))
    chart(rows, args.png)
    print(f"\n{len(rows)} rows from {RESULTS}; chart: {args.png}")


if __name__ == "__main__":
    main()
