"""Small inline SVG charts, written by hand: no JavaScript, no fonts or styles from elsewhere.

Every mark carries its data: a bar is a ``<g class="bar" data-label=... data-value=...>`` holding a
``<title>`` (the tooltip), the label and the value as ``<text>``, so the chart reads without colour
and a test can find each data point in the DOM.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from html import escape

BAR_COLOUR = "#3b6ea5"
PREVIOUS_COLOUR = "#d08c2b"
WARN_COLOUR = "#b5443b"


@dataclass(frozen=True)
class Bar:
    label: str
    value: float
    text: str  # the value as shown
    previous: float | None = None  # drawn as a tick, e.g. the previous run's value
    warn: bool = False


def _attr(value: object) -> str:
    return escape(str(value), quote=True)


def hbar_chart(title: str, bars: Sequence[Bar], label_width: int = 215, width: int = 540, row: int = 20) -> str:
    """Horizontal bars, one row per item, scaled to the largest value (or previous value)."""
    if not bars:
        return f'<p class="empty">{escape(title)}: nothing recorded</p>'
    top = max(max(b.value, b.previous or 0) for b in bars) or 1.0
    plot = width - label_width - 130
    height = row * len(bars) + 30
    parts = [
        f'<svg class="chart hbar" role="img" aria-label="{_attr(title)}" width="{width}" height="{height}"'
        f' viewBox="0 0 {width} {height}" xmlns="http://www.w3.org/2000/svg">',
        f'<text class="chart-title" x="0" y="14">{escape(title)}</text>',
    ]
    for i, bar in enumerate(bars):
        y = 24 + i * row
        length = max(bar.value / top * plot, 0.0)
        colour = WARN_COLOUR if bar.warn else BAR_COLOUR
        parts.append(f'<g class="bar" data-label="{_attr(bar.label)}" data-value="{_attr(bar.value)}">')
        parts.append(f"<title>{escape(bar.label)}: {escape(bar.text)}</title>")
        parts.append(
            f'<text class="label" x="{label_width - 6}" y="{y + row * 0.65:.1f}" text-anchor="end">'
            f"{escape(bar.label)}</text>"
        )
        parts.append(
            f'<rect x="{label_width}" y="{y + 3}" width="{length:.1f}" height="{row - 6}" fill="{colour}"></rect>'
        )
        if bar.previous is not None:
            x = label_width + bar.previous / top * plot
            parts.append(
                f'<line class="previous" x1="{x:.1f}" x2="{x:.1f}" y1="{y}" y2="{y + row}" '
                f'stroke="{PREVIOUS_COLOUR}" stroke-width="3"></line>'
            )
        parts.append(
            f'<text class="value" x="{label_width + length + 6:.1f}" y="{y + row * 0.65:.1f}">{escape(bar.text)}</text>'
        )
        parts.append("</g>")
    parts.append("</svg>")
    return "".join(parts)


def column_chart(title: str, bars: Sequence[Bar], width: int = 540, height: int = 260) -> str:
    """Vertical bars left to right (e.g. runs, oldest first), labels below, values on top."""
    if not bars:
        return f'<p class="empty">{escape(title)}: nothing recorded</p>'
    top = max(b.value for b in bars) or 1.0
    plot_top, plot_bottom = 30, height - 60
    slot = (width - 70) / len(bars)
    parts = [
        f'<svg class="chart columns" role="img" aria-label="{_attr(title)}" width="{width}" height="{height}"'
        f' viewBox="0 0 {width} {height}" xmlns="http://www.w3.org/2000/svg">',
        f'<text class="chart-title" x="0" y="14">{escape(title)}</text>',
        f'<line x1="10" x2="{width - 10}" y1="{plot_bottom}" y2="{plot_bottom}" stroke="#888"></line>',
    ]
    for i, bar in enumerate(bars):
        tall = bar.value / top * (plot_bottom - plot_top)
        x = 60 + i * slot + slot * 0.15
        bar_width = slot * 0.7
        centre = x + bar_width / 2
        colour = WARN_COLOUR if bar.warn else BAR_COLOUR
        parts.append(f'<g class="bar" data-label="{_attr(bar.label)}" data-value="{_attr(bar.value)}">')
        parts.append(f"<title>{escape(bar.label)}: {escape(bar.text)}</title>")
        parts.append(
            f'<rect x="{x:.1f}" y="{plot_bottom - tall:.1f}" width="{bar_width:.1f}" height="{tall:.1f}" '
            f'fill="{colour}"></rect>'
        )
        parts.append(
            f'<text class="value" x="{centre:.1f}" y="{plot_bottom - tall - 4:.1f}" text-anchor="middle">'
            f"{escape(bar.text)}</text>"
        )
        parts.append(
            f'<text class="label" x="{centre:.1f}" y="{plot_bottom + 14}" text-anchor="end" '
            f'transform="rotate(-35 {centre:.1f} {plot_bottom + 14})">{escape(bar.label)}</text>'
        )
        parts.append("</g>")
    parts.append("</svg>")
    return "".join(parts)


def sparkline(label: str, values: Sequence[float], width: int = 160, height: int = 28) -> str:
    """A line through ``values`` (oldest first), its last point marked."""
    if not values:
        return ""
    low, high = min(values), max(values)
    span = (high - low) or 1.0
    step = (width - 8) / max(len(values) - 1, 1)
    points = [(4 + i * step, height - 4 - (v - low) / span * (height - 8)) for i, v in enumerate(values)]
    path = " ".join(f"{x:.1f},{y:.1f}" for x, y in points)
    last_x, last_y = points[-1]
    series = ", ".join(f"{v:g}" for v in values)
    return (
        f'<svg class="sparkline" data-label="{_attr(label)}" width="{width}" height="{height}" '
        f'viewBox="0 0 {width} {height}" xmlns="http://www.w3.org/2000/svg">'
        f"<title>{escape(label)}: {escape(series)}</title>"
        f'<polyline points="{path}" fill="none" stroke="{BAR_COLOUR}" stroke-width="1.5"></polyline>'
        f'<circle cx="{last_x:.1f}" cy="{last_y:.1f}" r="2.5" fill="{PREVIOUS_COLOUR}"></circle></svg>'
    )
