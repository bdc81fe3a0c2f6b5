"""A self-contained HTML drift report: a table of the statistics and a plot per column.

Plots are PNGs inlined as data URIs, so the file can be opened anywhere, attached to an
MLflow run or mailed, and never fetches anything from the internet.
"""

from __future__ import annotations

import base64
import html
import io
from collections.abc import Sequence

from matplotlib.figure import Figure

from .drift import ColumnDrift

STYLE = """body { font-family: sans-serif; margin: 2em; }
table { border-collapse: collapse; }
td, th { border: 1px solid #ccc; padding: 4px 8px; }
tr.drift { background: #fde2e1; }
figure { display: inline-block; margin: 4px; }
"""


MAX_BARS = 15  # a plot shows this many buckets at most: the largest, and the rest as one


def shown_buckets(result: ColumnDrift) -> tuple[list[str], list[float], list[float]]:
    """(labels, reference shares, current shares) to plot: every bucket of a column with
    few, else the MAX_BARS - 1 largest (by the larger of the two shares, in their own
    order) and one bar for the rest."""
    buckets, reference, current = list(result.buckets), list(result.reference), list(result.current)
    if len(buckets) <= MAX_BARS:
        return buckets, reference, current
    largest = sorted(range(len(buckets)), key=lambda i: -max(reference[i], current[i]))
    top = sorted(largest[: MAX_BARS - 1])
    rest = largest[MAX_BARS - 1 :]
    return (
        [buckets[i] for i in top] + [f"the other {len(rest)}"],
        [reference[i] for i in top] + [sum(reference[i] for i in rest)],
        [current[i] for i in top] + [sum(current[i] for i in rest)],
    )


def plot(result: ColumnDrift, drifted: bool) -> str:
    """Reference vs current share per bucket, as a base64 PNG."""
    figure = Figure(figsize=(6.4, 2.8), layout="constrained")
    axes = figure.add_subplot()
    labels, reference, current = shown_buckets(result)
    positions = range(len(labels))
    width = 0.4
    axes.bar([p - width / 2 for p in positions], reference, width, label="reference")
    axes.bar([p + width / 2 for p in positions], current, width, label="current")
    axes.set_xticks(list(positions), labels, rotation=30, ha="right", fontsize=7)
    axes.set_ylabel("share of rows")
    ks = "" if result.ks is None else f", KS {result.ks:.3f}"
    axes.set_title(
        f"{result.column}: PSI {result.psi:.3f}{ks}" + (" (drift)" if drifted else ""),
        fontsize=9,
        loc="left",
    )
    # Above the plot, outside the bars it would otherwise cover.
    axes.legend(fontsize=7, loc="lower right", bbox_to_anchor=(1.0, 1.02), ncols=2, frameon=False)
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png", dpi=80)
    return base64.b64encode(buffer.getvalue()).decode("ascii")


READING_GUIDE = (
    "PSI compares the share of rows in each bin of the reference and the current data: "
    "below 0.1 the column is stable, above the PSI threshold it has drifted. "
    "KS (numeric columns) is the largest gap between the two cumulative distributions, "
    "from 0 (the same) to 1 (no overlap). A small batch, or a column with many values, "
    "shows some PSI and KS by chance alone: where that chance level is above a "
    "threshold, the column is judged by it instead (the limit column). Values too rare "
    "to compare at these sizes are counted together as one bucket."
)


def verdict(results: Sequence[ColumnDrift], psi_threshold: float, ks_threshold: float) -> str:
    drifted = [r.column for r in results if r.drifted(psi_threshold, ks_threshold)]
    if not drifted:
        return f"No drift: all {len(results)} columns within the thresholds."
    return f"Drift in {len(drifted)} of {len(results)} columns: {', '.join(drifted)}."


def render(
    title: str,
    facts: dict[str, str],
    results: Sequence[ColumnDrift],
    psi_threshold: float,
    ks_threshold: float,
) -> str:
    rows, figures = [], []
    for result in results:
        drifted = result.drifted(psi_threshold, ks_threshold)
        ks = "" if result.ks is None else f"{result.ks:.4f}"
        psi_limit, ks_limit = result.thresholds(psi_threshold, ks_threshold)
        limits = f"PSI {psi_limit:.3g}" + ("" if result.ks is None else f", KS {ks_limit:.3g}")
        rows.append(
            f"<tr class={'drift' if drifted else 'ok'}><td>{html.escape(result.column)}</td>"
            f"<td>{result.kind}</td><td>{result.psi:.4f}</td><td>{ks}</td>"
            f"<td>{limits}</td><td>{'yes' if drifted else 'no'}</td></tr>"
        )
        figures.append(
            f'<figure><img alt="{html.escape(result.column)}" '
            f'src="data:image/png;base64,{plot(result, drifted)}"></figure>'
        )
    items = "".join(
        f"<li>{html.escape(key)}: {html.escape(value)}</li>" for key, value in facts.items()
    )
    head = (
        f'<!doctype html>\n<html lang="en"><head><meta charset="utf-8">'
        f"<title>{html.escape(title)}</title>\n<style>\n{STYLE}</style></head>\n"
    )
    return (
        f"{head}<body><h1>{html.escape(title)}</h1>\n"
        f'<p class="verdict"><strong>'
        f"{html.escape(verdict(results, psi_threshold, ks_threshold))}</strong></p>\n"
        f"<p>{html.escape(READING_GUIDE)}</p>\n"
        f"<ul>{items}<li>thresholds: PSI &gt; {psi_threshold}, KS &gt; {ks_threshold}</li></ul>\n"
        "<table><tr><th>column</th><th>kind</th><th>PSI</th><th>KS</th><th>limit</th>"
        "<th>drift</th></tr>\n"
        f"{''.join(rows)}\n</table>\n{''.join(figures)}\n</body></html>\n"
    )
