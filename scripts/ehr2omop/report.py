"""``ehr2omop report``: the run metrics of the last builds (audit.run_metric) as one HTML file and a summary.

The HTML file stands alone: inline CSS and inline SVG charts (``ehr2omop.svg_charts``), no script and
no link to anything outside it, so it opens offline and can be mailed or archived as it is.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime
from html import escape
from pathlib import Path

import psycopg
from rich.console import Console
from rich.table import Table

from ehr2omop.errors import UserError
from ehr2omop.svg_charts import Bar, column_chart, hbar_chart, sparkline

TOP_CODES = 15


@dataclass
class Run:
    invocation_id: str
    command: str
    started_at: datetime
    ended_at: datetime
    metrics: dict[tuple[str, str], float] = field(default_factory=dict)

    @property
    def label(self) -> str:
        return f"{self.started_at:%m-%d %H:%M:%S}"

    @property
    def wall_seconds(self) -> float:
        return (self.ended_at - self.started_at).total_seconds()

    def values(self, metric: str) -> dict[str, float]:
        return {subject: value for (name, subject), value in self.metrics.items() if name == metric}


@dataclass
class Metrics:
    """The last runs that recorded metrics, oldest first."""

    database: str
    runs: list[Run]

    def latest(self, metric: str) -> dict[str, float]:
        """Per subject, the value of the newest run that measured it (a partial run measures a few)."""
        found: dict[str, float] = {}
        for run in self.runs:
            found.update(run.values(metric))
        return found

    def previous(self, metric: str) -> dict[str, float]:
        """Per subject, the value of the run before the newest one that measured it."""
        seen: dict[str, list[float]] = defaultdict(list)
        for run in self.runs:
            for subject, value in run.values(metric).items():
                seen[subject].append(value)
        return {subject: values[-2] for subject, values in seen.items() if len(values) > 1}

    def series(self, metric: str, subject: str) -> list[float]:
        return [run.metrics[(metric, subject)] for run in self.runs if (metric, subject) in run.metrics]


def read_metrics(conn: psycopg.Connection, last: int) -> Metrics:
    """The last ``last`` invocations that recorded metrics, with all their metrics."""
    if conn.execute("select to_regclass('audit.run_metric') is null").fetchone() == (True,):
        raise UserError(
            f"database {conn.info.dbname} has no audit.run_metric table: `ehr2omop db start` brings the audit schema "
            "up to date on the embedded server, `ehr2omop audit init` (as the admin) elsewhere"
        )
    rows = conn.execute(
        """
        with runs as (
            select invocation.invocation_id, invocation.command, invocation.started_at, invocation.ended_at
            from audit.dbt_invocation as invocation
            where exists (
                select from audit.run_metric as metric where metric.invocation_id = invocation.invocation_id
            )
            order by invocation.started_at desc, invocation.recorded_at desc
            limit %s
        )
        select runs.invocation_id, runs.command, runs.started_at, runs.ended_at, metric.metric, metric.subject,
            metric.value
        from runs
        inner join audit.run_metric as metric on metric.invocation_id = runs.invocation_id
        order by runs.started_at, metric.run_metric_id
        """,
        (last,),
    ).fetchall()
    runs: dict[str, Run] = {}
    for invocation_id, command, started, ended, metric, subject, value in rows:
        run = runs.setdefault(invocation_id, Run(invocation_id, command, started, ended))
        run.metrics[(metric, subject)] = float(value)
    if not runs:
        raise UserError(
            f"no run metrics recorded in database {conn.info.dbname} yet: they are written by a successful "
            "`dbt build` (e.g. `ehr2omop run`); build first, then run `ehr2omop report` again"
        )
    return Metrics(conn.info.dbname, list(runs.values()))


# --- what the charts show ------------------------------------------------------------------------


def _count(value: float) -> str:
    return f"{value:,.0f}"


def _share(value: float) -> str:
    return f"{100 * value:.1f}%"


def coverage_bars(metrics: Metrics) -> list[Bar]:
    """Mapped share per domain (1 - unmapped share), domains with coded rows only."""
    shares = metrics.latest("unmapped_share")
    coded = metrics.latest("coded_rows")
    previous = metrics.previous("unmapped_share")
    return [
        Bar(
            domain,
            1 - share,
            f"{_share(1 - share)} of {_count(coded.get(domain, 0))}",
            previous=1 - previous[domain] if domain in previous else None,
            warn=share > 0.05,
        )
        for domain, share in sorted(shares.items(), key=lambda item: (-item[1], item[0]))
        if coded.get(domain, 0) > 0
    ]


def unmapped_code_bars(metrics: Metrics) -> list[Bar]:
    codes = metrics.latest("unmapped_code_rows")
    top = sorted(codes.items(), key=lambda item: (-item[1], item[0]))[:TOP_CODES]
    return [Bar(subject.replace("/", ": ", 1), rows, _count(rows), warn=True) for subject, rows in top]


def table_bars(metrics: Metrics) -> list[Bar]:
    rows = metrics.latest("omop_rows")
    previous = metrics.previous("omop_rows")
    return [
        Bar(table, count, _count(count), previous=previous.get(table))
        for table, count in sorted(rows.items(), key=lambda item: (-item[1], item[0]))
    ]


def runtime_bars(metrics: Metrics) -> list[Bar]:
    return [Bar(run.label, run.wall_seconds, f"{run.wall_seconds:.0f}s") for run in metrics.runs]


def reject_bars(metrics: Metrics) -> list[Bar]:
    rejects = metrics.latest("staging_rejects")
    return [
        Bar(reason, count, _count(count), warn=True)
        for reason, count in sorted(rejects.items(), key=lambda item: (-item[1], item[0]))
    ]


def slowest_models(metrics: Metrics, limit: int = 10) -> list[tuple[str, float]]:
    seconds = metrics.latest("model_seconds")
    return sorted(seconds.items(), key=lambda item: (-item[1], item[0]))[:limit]


# --- HTML ----------------------------------------------------------------------------------------

CSS = """
body { font: 14px/1.45 system-ui, -apple-system, "Segoe UI", sans-serif; margin: 24px 32px; color: #1d2630; }
h1 { font-size: 22px; margin: 0 0 4px; }
main { display: grid; grid-template-columns: repeat(auto-fill, minmax(540px, 1fr)); gap: 8px 32px; }
h2 { font-size: 17px; margin: 28px 0 8px; border-bottom: 1px solid #d5dbe1; padding-bottom: 4px; }
p.meta { color: #5a6773; margin: 0 0 12px; }
svg text { font: 11px system-ui, sans-serif; fill: #1d2630; }
svg .chart-title { font-weight: 600; }
table { border-collapse: collapse; }
td, th { padding: 3px 10px; border-bottom: 1px solid #e4e8ec; text-align: left; }
td.num, th.num { text-align: right; font-variant-numeric: tabular-nums; }
.down { color: #b5443b; } .up { color: #2f7d45; }
.empty { color: #5a6773; font-style: italic; }
"""


def _change(current: float, previous: float | None) -> str:
    if previous is None:
        return "-"
    if previous == 0:
        return "new" if current else "0"
    change = current / previous - 1
    css = "down" if change < 0 else "up" if change > 0 else ""
    return f'<span class="{css}">{100 * change:+.1f}%</span>'


def _table_rows(metrics: Metrics) -> str:
    rows = metrics.latest("omop_rows")
    previous = metrics.previous("omop_rows")
    body = []
    for table, count in sorted(rows.items()):
        body.append(
            f"<tr><td>{escape(table)}</td><td class='num'>{_count(count)}</td>"
            f"<td class='num'>{_change(count, previous.get(table))}</td>"
            f"<td>{sparkline(table, metrics.series('omop_rows', table))}</td></tr>"
        )
    head = "<tr><th>table</th><th class='num'>rows</th><th class='num'>vs previous</th><th>last runs</th></tr>"
    return f"<table class='rows'>{head}{''.join(body)}</table>"


def render_html(metrics: Metrics) -> str:
    newest = metrics.runs[-1]
    slow = "".join(
        f"<tr><td>{escape(name)}</td><td class='num'>{seconds:.2f}s</td></tr>"
        for name, seconds in slowest_models(metrics)
    )
    sections = [
        (
            "Mapping coverage by domain",
            hbar_chart("mapped share of coded rows (tick: previous run)", coverage_bars(metrics)),
        ),
        (
            "Top unmapped source codes",
            hbar_chart("rows with concept 0, by domain and code", unmapped_code_bars(metrics)),
        ),
        ("Rows per OMOP table", hbar_chart("rows (tick: previous run)", table_bars(metrics))),
        (
            "Runtime over the last runs",
            column_chart("seconds per dbt invocation, oldest first", runtime_bars(metrics))
            + f"<h3>slowest models (latest run)</h3><table>{slow}</table>",
        ),
        ("Staging rejects by reason", hbar_chart("rejected raw rows per reason", reject_bars(metrics))),
        ("Rows per OMOP table over the last runs", _table_rows(metrics)),
    ]
    body = "".join(f"<section><h2>{escape(title)}</h2>{content}</section>" for title, content in sections)
    body = f"<main>{body}</main>"
    return (
        "<!DOCTYPE html><html lang='en'><head><meta charset='utf-8'>"
        f"<title>ehr2omop run metrics: {escape(metrics.database)}</title><style>{CSS}</style></head><body>"
        f"<h1>ehr2omop run metrics</h1><p class='meta'>database {escape(metrics.database)}; "
        f"{len(metrics.runs)} run(s) with metrics, the latest {escape(newest.command)} started "
        f"{newest.started_at:%Y-%m-%d %H:%M:%S %Z} (invocation {escape(newest.invocation_id)})</p>"
        f"{body}</body></html>"
    )


def write_report(metrics: Metrics, out_file: Path) -> Path:
    out_file.parent.mkdir(parents=True, exist_ok=True)
    out_file.write_text(render_html(metrics), encoding="utf-8")
    return out_file


# --- terminal ------------------------------------------------------------------------------------


def print_summary(metrics: Metrics, out: Console) -> None:
    runs = Table(title=f"runs with metrics (last {len(metrics.runs)}, oldest first; times UTC)")
    for name in ("started", "command", "seconds", "omop rows"):
        runs.add_column(name, justify="right" if name in ("seconds", "omop rows") else "left")
    for run in metrics.runs:
        total = sum(run.values("omop_rows").values())
        runs.add_row(f"{run.started_at:%Y-%m-%d %H:%M:%S}", run.command, f"{run.wall_seconds:.0f}", _count(total))
    out.print(runs)

    coverage = Table(title="mapping coverage by domain (latest)")
    for name in ("domain", "coded rows", "unmapped", "unmapped codes"):
        coverage.add_column(name, justify="left" if name == "domain" else "right")
    coded, unmapped_codes = metrics.latest("coded_rows"), metrics.latest("unmapped_codes")
    for domain, share in sorted(metrics.latest("unmapped_share").items()):
        coverage.add_row(domain, _count(coded.get(domain, 0)), _share(share), _count(unmapped_codes.get(domain, 0)))
    out.print(coverage)

    tables = Table(title="rows per OMOP table (latest, change vs previous run)")
    for name in ("table", "rows", "previous", "change"):
        tables.add_column(name, justify="left" if name == "table" else "right")
    previous = metrics.previous("omop_rows")
    for table, count in sorted(metrics.latest("omop_rows").items()):
        before = previous.get(table)
        change = "-" if not before else f"{100 * (count / before - 1):+.1f}%"
        tables.add_row(table, _count(count), "-" if before is None else _count(before), change)
    out.print(tables)

    rejects = metrics.latest("staging_rejects")
    out.print(
        "staging rejects: " + (", ".join(f"{reason} {_count(n)}" for reason, n in sorted(rejects.items())) or "none")
    )
    slow = ", ".join(f"{name} {seconds:.1f}s" for name, seconds in slowest_models(metrics, 5))
    out.print(f"slowest models (latest): {slow or '-'}")
