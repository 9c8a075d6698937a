"""The one command line: ``ehr2omop db|load|vocab|generate|run|bench|summary|docs``. Thin: logic lives in modules."""

from __future__ import annotations

import os
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import click
from rich.console import Console
from rich.progress import BarColumn, DownloadColumn, Progress, TextColumn, TimeRemainingColumn
from rich.table import Table

from ehr2omop import __version__, db
from ehr2omop.doc_coverage import Coverage, measure
from ehr2omop.errors import UserError

console = Console(stderr=True)
out = Console()


@contextmanager
def byte_progress(label: str) -> Iterator[tuple]:
    """A progress bar over bytes; yields (on_total, on_bytes) callbacks."""
    with Progress(
        TextColumn(f"[bold]{label}"),
        BarColumn(),
        DownloadColumn(),
        TimeRemainingColumn(),
        console=console,
        transient=True,
        disable=not console.is_terminal,
    ) as progress:
        task = progress.add_task(label, total=None)
        yield (
            lambda total: progress.update(task, total=total),
            lambda n: progress.advance(task, n),
        )


class Cli(click.Group):
    """Turns a UserError into one line on stderr and exit code 2."""

    def invoke(self, ctx: click.Context):  # type: ignore[override]
        try:
            return super().invoke(ctx)
        except UserError as exc:
            console.print(f"[red]error:[/red] {exc}", highlight=False, soft_wrap=True)
            sys.exit(2)


@click.group(cls=Cli)
@click.version_option(__version__, prog_name="ehr2omop")
def main() -> None:
    """ehr2omop: raw EHR extracts to OMOP CDM v5.4 on PostgreSQL."""


# --- db ---------------------------------------------------------------------------------------


@main.group("db")
def db_group() -> None:
    """Manage the embedded PostgreSQL server of this checkout."""


def _tls_state(srv: db.Server) -> str:
    return "TLS on (TCP without TLS refused)" if db.tls_enabled(srv) else "TLS off"


@db_group.command("start")
@click.option(
    "--tls/--no-tls",
    "tls_on",
    default=None,
    help="Switch TLS on (TCP connections without it are refused) or off [default: EHR2OMOP_PG_TLS, else as it was].",
)
def db_start(tls_on: bool | None) -> None:
    """Initialise (first time) and start the server; create the database."""
    srv = db.start(tls_on=tls_on)
    out.print(f"running on 127.0.0.1:{srv.port}, database {srv.database}, {_tls_state(srv)} ({srv.data_dir})")


@db_group.command("stop")
def db_stop() -> None:
    """Stop the server (its data stays)."""
    out.print("stopped" if db.stop() else "not running")


@db_group.command("status")
def db_status() -> None:
    """Say whether the server runs; exit 3 when it does not."""
    srv = db.server()
    if db.is_running(srv):
        out.print(f"running on 127.0.0.1:{srv.port}, {_tls_state(srv)} ({srv.data_dir})")
    else:
        out.print("not initialised" if not db.is_initialized(srv) else "stopped")
        sys.exit(3)


@db_group.command("url")
@click.option(
    "--role",
    type=click.Choice(["runner", "reader", "admin"]),
    default="runner",
    show_default=True,
    help="Connect as the runner (builds), the reader (researchers) or the superuser.",
)
def db_url(role: str) -> None:
    """Print the connection URL of the target database (psql accepts it)."""
    from ehr2omop.roles import READER_ROLE

    srv = db.server()
    url = {"runner": srv.url(), "reader": srv.url(user=READER_ROLE), "admin": srv.admin_url()}[role]
    out.print(url, highlight=False, soft_wrap=True)


@db_group.command("psql", context_settings={"ignore_unknown_options": True})
@click.argument("args", nargs=-1, type=click.UNPROCESSED)
def db_psql(args: tuple[str, ...]) -> None:
    """Open psql on the target database (extra arguments go to psql)."""
    srv = db.server()
    if not db.is_running(srv):
        raise UserError("the embedded server is not running: run `ehr2omop db start`")
    cmd = db.psql_command(srv) + list(args)
    os.execv(cmd[0], cmd)


@db_group.command("reset")
@click.option("--yes", is_flag=True, help="Do not ask for confirmation.")
def db_reset(yes: bool) -> None:
    """Drop and recreate the target database (all raw, vocab and built data)."""
    srv = db.server()
    if not yes and sys.stdin.isatty():
        click.confirm(f"drop every table in database {srv.database}?", abort=True)
    db.reset(srv)
    out.print(f"database {srv.database} is empty")


@db_group.command("init-roles")
def db_init_roles() -> None:
    """Create the runner and reader roles and their privileges (EHR2OMOP_ADMIN_DATABASE_URL: a superuser URL)."""
    from ehr2omop.connection import admin_connect
    from ehr2omop.roles import READER_ROLE, RUNNER_ROLE, init_database

    with admin_connect() as conn:
        init_database(conn)
        database = conn.info.dbname
    out.print(
        f"database {database}: {RUNNER_ROLE} builds (connect, create schemas, owns the project's schemas), "
        f"{READER_ROLE} reads omop and vocab; give them passwords with psql's \\password"
    )


# --- load / vocab ------------------------------------------------------------------------------


@main.group("load")
def load_group() -> None:
    """Land raw extracts in the raw schema."""


@load_group.command("synthea")
@click.argument("source", type=click.Path(path_type=Path))
@click.option("--batch-id", help="Batch id (default: derived from the files' content).")
def load_synthea_cmd(source: Path, batch_id: str | None) -> None:
    """Land a Synthea CSV export (folder or .zip) into raw tables with COPY."""
    from ehr2omop.connection import connect
    from ehr2omop.load import load_synthea

    started = time.monotonic()
    with connect() as conn, byte_progress("loading") as (on_total, on_bytes):
        batch, results = load_synthea(conn, source, batch_id, on_total, on_bytes)
    table = Table(title=f"batch {batch}")
    for col in ("file", "table", "rows", "status"):
        table.add_column(col, justify="right" if col == "rows" else "left")
    for r in results:
        table.add_row(r.file_name, r.entity, f"{r.rows:,}", r.status + (f" ({r.note})" if r.note else ""))
    out.print(table)
    loaded = sum(r.rows for r in results)
    out.print(f"{loaded:,} rows loaded in {time.monotonic() - started:.1f}s")


@main.group("vocab")
def vocab_group() -> None:
    """Manage the OMOP vocabulary in the vocab schema."""


@vocab_group.command("load")
@click.argument("source", required=False, type=click.Path(path_type=Path))
@click.option("--demo", is_flag=True, help="Load the small demo vocabulary shipped with the project.")
def vocab_load_cmd(source: Path | None, demo: bool) -> None:
    """Load an Athena download (folder or .zip), replacing the previous one atomically."""
    from ehr2omop.connection import connect
    from ehr2omop.vocab import demo_vocabulary_dir, load_vocabulary

    if demo == (source is not None):
        raise UserError("give either an Athena folder/zip or --demo, not both or neither")
    src = demo_vocabulary_dir() if demo else source
    assert src is not None
    started = time.monotonic()
    with connect() as conn, byte_progress("vocabulary") as (on_total, on_bytes):
        result = load_vocabulary(conn, src, on_total, on_bytes)
    table = Table(title=f"vocabulary {result.version}")
    table.add_column("table")
    table.add_column("rows", justify="right")
    for name, rows in result.rows.items():
        table.add_row(name, f"{rows:,}")
    out.print(table)
    out.print(f"loaded in {time.monotonic() - started:.1f}s")


@vocab_group.command("diff")
@click.option("--from", "from_version", help="Vocabulary version before [default: the one loaded before the latest].")
@click.option("--to", "to_version", help="Vocabulary version after [default: the latest loaded].")
@click.option("--out", "out_path", type=click.Path(path_type=Path), help="Also write the changed codes to this CSV.")
def vocab_diff_cmd(from_version: str | None, to_version: str | None, out_path: Path | None) -> None:
    """List the source codes whose mapping changed between two loaded vocabulary versions."""
    from rich.markup import escape

    from ehr2omop.connection import connect
    from ehr2omop.vocab_diff import KINDS, diff_versions, write_csv

    with connect() as conn:
        diff = diff_versions(conn, from_version, to_version)
    counts = Table(title=f"mapping changes, vocabulary {diff.from_version} -> {diff.to_version}")
    counts.add_column("change")
    counts.add_column("codes", justify="right")
    counts.add_column("rows of data", justify="right")
    counts.add_column("meaning")
    for kind, (codes, rows) in diff.counts().items():
        counts.add_row(kind, f"{codes:,}", f"{rows:,}", KINDS[kind])
    out.print(counts)
    if diff.changes:
        table = Table(title="changed source codes (most used first within each change)")
        for column in ("change", "vocabulary", "code", "before", "after", "rows"):
            # codes are never cut short (folded onto the next line instead)
            table.add_column(column, justify="right" if column == "rows" else "left", overflow="fold")
        for c in diff.changes:
            before = escape(f"{c.before} [{c.before_kind}]")
            after = escape(f"{c.after} [{c.after_kind}]")
            table.add_row(c.kind, c.source_vocabulary_id, c.source_code, before, after, f"{c.source_rows:,}")
        out.print(table)
    if out_path is not None:
        write_csv(diff, out_path)
        out.print(f"{len(diff.changes)} changed code(s) written to {out_path}")


# --- generate ----------------------------------------------------------------------------------


@main.group("generate")
def generate_group() -> None:
    """Generate synthetic extracts."""


@generate_group.command("synthea")
@click.option("--patients", type=click.IntRange(1), required=True, help="Number of patients.")
@click.option("--seed", type=int, default=1, show_default=True, help="Random seed (same seed, same files).")
@click.option("--out", "out_dir", type=click.Path(path_type=Path), required=True, help="Output folder.")
@click.option("--version", "version", type=click.Choice(["3.0", "3.3"]), default="3.3", show_default=True)
@click.option(
    "--follow-up",
    "follow_up",
    type=click.Path(path_type=Path),
    help="Also write a second batch here: the latest encounters with their events, claims and new patients.",
)
@click.option(
    "--follow-up-share",
    type=click.FloatRange(0.0, 1.0, min_open=True, max_open=True),
    default=0.05,
    show_default=True,
    help="Share of the encounters (the latest) that go to the --follow-up batch.",
)
def generate_synthea_cmd(
    patients: int, seed: int, out_dir: Path, version: str, follow_up: Path | None, follow_up_share: float
) -> None:
    """Write a Synthea-format CSV extract drawn from the demo vocabulary (and, with --follow-up, its next batch)."""
    from ehr2omop.generate import generate_synthea, split_follow_up

    if follow_up is not None and follow_up.resolve() == out_dir.resolve():
        raise UserError(f"--follow-up {follow_up}: must differ from --out; give the second batch its own folder")
    started = time.monotonic()
    with Progress(console=console, transient=True, disable=not console.is_terminal) as progress:
        task = progress.add_task("generating", total=patients)
        counts = generate_synthea(
            out_dir,
            patients=patients,
            seed=seed,
            version=version,
            progress=lambda done: progress.update(task, completed=done),
        )
    title = f"{patients:,} patients, seed {seed}, Synthea v{version} -> {out_dir}"
    table = Table(title=title)
    table.add_column("file")
    table.add_column("rows", justify="right")
    if follow_up is None:
        for name, rows in counts.items():
            table.add_row(name, f"{rows:,}")
    else:
        split = split_follow_up(out_dir, follow_up, follow_up_share)
        table.title = f"{title} (first batch) and {follow_up} (follow-up, {follow_up_share:.0%} of the encounters)"
        table.columns[1].header = "first batch"
        table.add_column("follow-up", justify="right")
        for name, (kept, moved) in split.items():
            table.add_row(name, f"{kept:,}", f"{moved:,}")
    out.print(table)
    out.print(f"generated in {time.monotonic() - started:.1f}s")


# --- mappings ---------------------------------------------------------------------------------


@main.group("mappings")
def mappings_group() -> None:
    """Custom code mappings (source_to_concept_map) and the unmapped-code review loop."""


@mappings_group.command("import")
@click.argument("usagi_csv", type=click.Path(path_type=Path))
@click.option("--source-vocabulary-id", help="Vocabulary id of the source codes (if the file has no column for it).")
@click.option(
    "--seed",
    "seed_csv",
    type=click.Path(path_type=Path),
    default=None,
    help="Seed file to merge into [default: seeds/custom_source_to_concept_map.csv].",
)
def mappings_import_cmd(usagi_csv: Path, source_vocabulary_id: str | None, seed_csv: Path | None) -> None:
    """Merge the APPROVED rows of a Usagi CSV into the custom source_to_concept_map seed."""
    from ehr2omop.connection import connect
    from ehr2omop.mappings import import_usagi
    from ehr2omop.paths import project_dir

    target = seed_csv or project_dir() / "seeds" / "custom_source_to_concept_map.csv"
    with connect() as conn:
        result = import_usagi(usagi_csv, target, source_vocabulary_id, conn)
    out.print(
        f"{result.approved} approved mapping(s) merged, {result.skipped} row(s) not approved skipped; "
        f"{result.path} now holds {result.written} row(s). Run `dbt build` to apply them."
    )


@mappings_group.command("export")
@click.option(
    "--out", "out_path", type=click.Path(path_type=Path), default=None, help="CSV file to write [default: stdout]."
)
def mappings_export_cmd(out_path: Path | None) -> None:
    """Write the unmapped source codes, most frequent first, as a CSV for Usagi."""
    from ehr2omop.connection import connect
    from ehr2omop.mappings import export_unmapped

    with connect() as conn:
        count = export_unmapped(conn, out_path)
    if out_path is not None:
        out.print(f"{count} unmapped source code(s) written to {out_path}")


# --- run / summary -----------------------------------------------------------------------------


@main.command("run")
@click.option("--extract", type=click.Path(path_type=Path), required=True, help="Synthea folder or .zip.")
@click.option("--vocab", "vocab_source", required=True, help="Athena folder or .zip, or 'demo'.")
@click.option("--batch-id", help="Batch id for the extract.")
def run_cmd(extract: Path, vocab_source: str, batch_id: str | None) -> None:
    """The whole pipeline into a freshly reset database: vocab, load, dbt build, summary."""
    from ehr2omop.pipeline import run_pipeline

    run_pipeline(extract, vocab_source, batch_id, console=console, out=out)


@main.command("update")
@click.option(
    "--extract", type=click.Path(path_type=Path), required=True, help="Synthea folder or .zip of the new batch."
)
@click.option("--batch-id", help="Batch id for the extract.")
@click.option("--tests/--no-tests", default=True, show_default=True, help="Run dbt's tests after the batch build.")
def update_cmd(extract: Path, batch_id: str | None, tests: bool) -> None:
    """Land a new batch and rebuild only the persons it touches (a batch build: dbt build with batch_mode)."""
    from ehr2omop.pipeline import update_pipeline

    update_pipeline(extract, batch_id, tests, console=console, out=out)


@main.command("bench")
@click.option(
    "--patients",
    "sizes",
    default="1000,10000,100000",
    show_default=True,
    help="Patient counts to benchmark, separated by commas (any size: more is slower).",
)
@click.option("--seed", type=int, default=1, show_default=True, help="Random seed of the generated extracts.")
@click.option(
    "--out",
    "out_path",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    help="JSON file of the results [default: .ehr2omop/bench/<UTC timestamp>.json].",
)
@click.option("--keep", is_flag=True, help="Keep each size's database (ehr2omop_bench_<patients>), do not drop it.")
@click.option(
    "--compare",
    "compare_path",
    type=click.Path(dir_okay=False, exists=True, path_type=Path),
    default=None,
    help="An earlier results JSON: exit 1 unless every omop table's checksum is the same at the sizes both measured.",
)
@click.option(
    "--follow-up",
    "follow_up",
    type=click.FloatRange(0.0, 1.0, min_open=True, max_open=True),
    default=None,
    help="Also time a batch build: this share of the encounters (the latest) is loaded after the full build.",
)
def bench_cmd(
    sizes: str, seed: int, out_path: Path | None, keep: bool, compare_path: Path | None, follow_up: float | None
) -> None:
    """Generate, load and build N patients per size, against the copy floor; print a table, write JSON."""
    import json

    from ehr2omop.bench import compare_checksums, default_out_path, parse_sizes, run_bench

    previous = None
    if compare_path is not None:
        try:
            previous = json.loads(compare_path.read_text())
        except json.JSONDecodeError as exc:
            raise UserError(f"{compare_path}: not a bench results file (invalid JSON at line {exc.lineno})") from None
    path = out_path or default_out_path()
    report = run_bench(parse_sizes(sizes), seed, path, keep, console=console, out=out, follow_up=follow_up)
    out.print(f"results written to {path}", highlight=False, soft_wrap=True)
    if previous is not None:
        findings = compare_checksums(report, previous)
        for finding in findings:
            out.print(f"checksum: {finding}", highlight=False, soft_wrap=True)
        if findings:
            sys.exit(1)
        out.print(f"checksums: every omop table is identical to {compare_path}", highlight=False, soft_wrap=True)


@main.command("summary")
def summary_cmd() -> None:
    """Rows per schema and table, and staging rejects by reason."""
    from ehr2omop.connection import connect
    from ehr2omop.summary import print_summary

    with connect() as conn:
        print_summary(conn, out)


@main.command("dq")
@click.option(
    "--json",
    "json_file",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    help="Write the summary and the failing checks as JSON here [default: .ehr2omop/dq.json].",
)
def dq_cmd(json_file: Path | None) -> None:
    """Run the DataQualityDashboard checks (dbt test -s tag:dq); exit 1 when a fatal check fails."""
    from ehr2omop.connection import connect
    from ehr2omop.dq import print_report, run, write_json
    from ehr2omop.paths import state_dir

    with connect() as conn:
        report = run(conn)
        database = conn.info.dbname
    print_report(report, out)
    path = json_file or state_dir() / "dq.json"
    write_json(report, database, path)
    out.print(f"DQ results written to {path}", highlight=False, soft_wrap=True)
    if not report.ok:
        sys.exit(1)


@main.command("report")
@click.option(
    "--out",
    "out_file",
    type=click.Path(dir_okay=False, path_type=Path),
    default=Path("ehr2omop-report.html"),
    show_default=True,
    help="HTML file to write (one self-contained file).",
)
@click.option("--last", type=click.IntRange(1), default=10, show_default=True, help="Runs with metrics to show.")
def report_cmd(out_file: Path, last: int) -> None:
    """Run metrics of the last builds: one HTML file with charts, and a summary here."""
    from ehr2omop.connection import connect
    from ehr2omop.report import print_summary, read_metrics, write_report

    with connect() as conn:
        metrics = read_metrics(conn, last)
    print_summary(metrics, out)
    written = write_report(metrics, out_file)
    out.print(f"report written to {written.resolve()}", highlight=False, soft_wrap=True)


# --- docs --------------------------------------------------------------------------------------


@main.group("docs")
def docs_group() -> None:
    """The dbt docs site: models, columns and lineage from raw to OMOP."""


@docs_group.command("build")
@click.option(
    "--out",
    "out_dir",
    type=click.Path(file_okay=False, path_type=Path),
    default=None,
    help="Folder to write index.html to [default: .ehr2omop/docs].",
)
def docs_build_cmd(out_dir: Path | None) -> None:
    """Write the docs site as one static HTML file (dbt docs generate --static; reads the catalog from the database)."""
    from ehr2omop.docs_site import build_site, default_out_dir

    written, coverage = build_site(out_dir or default_out_dir())
    out.print(f"docs site written to {written.resolve()}", highlight=False, soft_wrap=True)
    _print_coverage(coverage, limit=10)


def _print_coverage(coverage: Coverage, limit: int | None = None) -> None:
    out.print(
        f"documentation coverage: {coverage.percent:.1f}% ({coverage.items - len(coverage.gaps):,} of "
        f"{coverage.items:,} documented)",
        highlight=False,
    )
    shown = coverage.gaps if limit is None else coverage.gaps[:limit]
    for gap in shown:
        out.print(f"  undocumented: {gap}", highlight=False, soft_wrap=True)
    if len(shown) < len(coverage.gaps):
        out.print(f"  ... and {len(coverage.gaps) - len(shown)} more: `ehr2omop docs coverage` lists them all")
    if coverage.gaps:
        out.print(
            "describe each in the YAML beside it (a `description:`; macro arguments under `arguments:`), "
            "see CONTRIBUTING.md",
            highlight=False,
            soft_wrap=True,
        )


@docs_group.command("coverage")
@click.option(
    "--catalog",
    "catalog_path",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    help="A dbt catalog.json (dbt docs generate): also require every column the database has to be documented.",
)
def docs_coverage_cmd(catalog_path: Path | None) -> None:
    """Check that every model, source, seed, snapshot, test, macro argument and column is described.

    Runs dbt parse; exits 1 and lists what is missing when coverage is below 100%.
    """
    from ehr2omop.doc_coverage import parse_manifest, read_catalog

    catalog = read_catalog(catalog_path) if catalog_path else None
    coverage = measure(parse_manifest(), catalog)
    _print_coverage(coverage)
    if coverage.gaps:
        sys.exit(1)


@docs_group.command("serve")
@click.option("--port", type=click.IntRange(0, 65535), default=8080, show_default=True, help="Port (0: any free one).")
@click.option(
    "--dir",
    "site_dir",
    type=click.Path(file_okay=False, path_type=Path),
    default=None,
    help="Folder holding the built site [default: .ehr2omop/docs].",
)
def docs_serve_cmd(port: int, site_dir: Path | None) -> None:
    """Serve the built docs site on 127.0.0.1 only, until Ctrl-C."""
    from ehr2omop.docs_site import default_out_dir, make_server

    server = make_server(site_dir or default_out_dir(), port)
    host, bound = server.server_address[:2]
    out.print(f"serving the docs site on http://{host}:{bound}/ (Ctrl-C stops)", highlight=False, soft_wrap=True)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        out.print("stopped")
    finally:
        server.server_close()


# --- audit -------------------------------------------------------------------------------------


@main.group("audit", invoke_without_command=True)
@click.option("--limit", type=click.IntRange(1), default=10, show_default=True, help="Rows per table.")
@click.pass_context
def audit_group(ctx: click.Context, limit: int) -> None:
    """The audit trail: the latest dbt invocations and loads, newest first."""
    if ctx.invoked_subcommand is not None:
        return
    from ehr2omop.audit_report import print_history
    from ehr2omop.connection import connect

    with connect() as conn:
        print_history(conn, out, limit)


@audit_group.command("purge")
@click.option(
    "--older-than",
    envvar="EHR2OMOP_AUDIT_RETENTION",
    help="Delete audit rows recorded longer ago than this PostgreSQL interval, e.g. '7 years' or '90 days' "
    "[env EHR2OMOP_AUDIT_RETENTION; default: 7 years, the retention function's default].",
)
@click.option("--yes", is_flag=True, help="Do not ask for confirmation.")
def audit_purge_cmd(older_than: str | None, yes: bool) -> None:
    """Retention: delete old audit rows through audit.purge_older_than, as the admin (the purge is logged)."""
    from ehr2omop.audit_report import purge
    from ehr2omop.connection import admin_connect

    period = older_than or "7 years"
    if not yes and sys.stdin.isatty():
        click.confirm(f"delete the audit rows recorded more than {period} ago?", abort=True)
    with admin_connect() as conn:
        deleted = purge(conn, older_than)
    table = Table(title=f"audit rows older than {period} deleted")
    table.add_column("table")
    table.add_column("rows deleted", justify="right")
    for name, count in deleted:
        table.add_row(f"audit.{name}", f"{count:,}")
    out.print(table)


@audit_group.command("init")
def audit_init_cmd() -> None:
    """Create or update the audit schema as the admin (EHR2OMOP_ADMIN_DATABASE_URL on an external server)."""
    from ehr2omop.audit import ensure_audit_schema
    from ehr2omop.connection import admin_connect

    with admin_connect() as conn:
        ensure_audit_schema(conn)
        database, owner = conn.info.dbname, conn.info.user
    out.print(f"database {database}: audit schema ready, owned by {owner}; the runner may only read and append")


# --- deid -------------------------------------------------------------------------------------


@main.group("deid")
def deid_group() -> None:
    """Check the de-identification of the built omop schema."""


@deid_group.command("scan")
def deid_scan_cmd() -> None:
    """Scan every omop column for raw identifiers and every person for unshifted dates; exit 1 on a leak."""
    from ehr2omop.connection import connect
    from ehr2omop.deid import KEY_ENV, key_env
    from ehr2omop.phi_scan import scan

    key = os.environ.get(KEY_ENV) or key_env().get(KEY_ENV)
    if not key:
        raise UserError(f"{KEY_ENV} is not set: the scan links persons to patients with the build's key; set it")
    with connect() as conn:
        findings = scan(conn, key)
    if not findings:
        out.print("no raw identifier and no unshifted date found in omop")
        return
    table = Table(title=f"{len(findings)} PHI findings in omop")
    for name in ("table.column", "kind", "from raw", "rows", "values", "example"):
        table.add_column(name)
    for f in findings:
        table.add_row(f"{f.table}.{f.column}", f.kind, ", ".join(f.sources), str(f.rows), str(f.values), f.example)
    out.print(table)
    sys.exit(1)


if __name__ == "__main__":  # pragma: no cover
    main()
