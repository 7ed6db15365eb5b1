"""Draw fetched dashboard widgets (cripto_ops.dashboard) as one PNG and an HTML page around it, so
the dashboard can be looked at where there is no console (the emulation). matplotlib, Agg backend."""
from __future__ import annotations

import html
import math
from datetime import datetime, timezone
from pathlib import Path
from typing import List, Tuple

from cripto_ops.dashboard import Widget

COLUMNS = 2


def render_png(widgets: List[Widget], path: Path, title: str, start: datetime, end: datetime) -> Path:
    """One subplot per widget (lines, or points when a series has one value), annotations dashed."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.dates as mdates
    import matplotlib.pyplot as plt

    rows = max(1, math.ceil(len(widgets) / COLUMNS))
    fig, axes = plt.subplots(rows, COLUMNS, figsize=(7 * COLUMNS, 3.2 * rows), squeeze=False)
    for ax, widget in zip(axes.flat, widgets):
        ax.set_title(widget.title, fontsize=9)
        notes = []
        for series in widget.series:
            if series.error:
                notes.append(f"{series.label}: {series.error}")
            elif series.values:
                style = "o-" if len(series.values) > 1 else "o"
                ax.plot(series.timestamps, series.values, style, markersize=3, label=series.label)
            else:
                notes.append(f"{series.label}: no data in the window")
        for label, value in widget.annotations:
            ax.axhline(value, linestyle="--", color="grey", linewidth=0.8)
            ax.annotate(f"{label} {value:g}", (0.99, value), xycoords=("axes fraction", "data"), fontsize=7,
                        color="grey", va="bottom", ha="right")  # right: the legend sits upper left
        if ax.lines and any(s.values for s in widget.series):
            ax.legend(fontsize=7, loc="upper left")
        ax.set_xlim(start, end)  # every widget on the same time axis
        ax.xaxis.set_major_formatter(mdates.DateFormatter("%H:%M"))
        ax.tick_params(labelsize=7)
        if notes:
            ax.text(0.99, 0.02, "\n".join(n[:90] for n in notes), transform=ax.transAxes, fontsize=6,
                    ha="right", va="bottom", color="darkred")
    for ax in list(axes.flat)[len(widgets):]:
        ax.axis("off")
    fig.suptitle(title, fontsize=11)
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=90)
    plt.close(fig)
    return path


def render_html(widgets: List[Widget], png: Path, path: Path, title: str, window: Tuple[str, str]) -> Path:
    """The PNG plus, per widget, a table of each series' latest value (or why it has none)."""
    parts = [f"<h1>{html.escape(title)}</h1>",
             f"<p>{html.escape(window[0])} – {html.escape(window[1])} (UTC), generated "
             f"{datetime.now(timezone.utc):%Y-%m-%d %H:%M:%S} UTC</p>",
             f'<img src="{html.escape(png.name)}" alt="dashboard widgets" style="max-width:100%">']
    for widget in widgets:
        rows = []
        for s in widget.series:
            latest = f"{s.values[-1]:.4g} at {s.timestamps[-1]:%H:%M:%S}" if s.values else (s.error or "no data")
            rows.append(f"<tr><td>{html.escape(s.label)}</td><td>{len(s.values)}</td>"
                        f"<td>{html.escape(latest)}</td></tr>")
        parts.append(f"<h2>{html.escape(widget.title)}</h2><table border=1 cellpadding=3>"
                     "<tr><th>series</th><th>points</th><th>latest</th></tr>" + "".join(rows) + "</table>")
    path.write_text("<!doctype html><html><head><meta charset='utf-8'><title>" + html.escape(title)
                    + "</title></head><body style='font-family:sans-serif'>" + "".join(parts) + "</body></html>")
    return path
