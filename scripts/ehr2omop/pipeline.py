"""The whole pipeline in one call: fresh database, vocabulary, raw load, dbt build, summary."""

from __future__ import annotations

import time
from pathlib import Path

from rich.console import Console

from ehr2omop import db
from ehr2omop.connection import connect
from ehr2omop.dbt_runner import BATCH_MODE_VARS, run_dbt
from ehr2omop.load import load_synthea
from ehr2omop.summary import print_summary
from ehr2omop.vocab import demo_vocabulary_dir, load_vocabulary


def run_pipeline(extract: Path, vocab_source: str, batch_id: str | None, console: Console, out: Console) -> None:
    """Build ``extract`` with ``vocab_source`` ('demo' or an Athena folder/zip) into a reset database."""
    timings: dict[str, float] = {}
    started = time.monotonic()
    srv = db.reset()
    console.print(f"[bold]database[/bold] {srv.url()} reset")
    timings["reset"] = time.monotonic() - started

    step = time.monotonic()
    vocab_dir = demo_vocabulary_dir() if vocab_source == "demo" else Path(vocab_source)
    with connect() as conn:
        result = load_vocabulary(conn, vocab_dir)
        console.print(f"[bold]vocabulary[/bold] {result.version}: {sum(result.rows.values()):,} rows")
        timings["vocab load"] = time.monotonic() - step

        step = time.monotonic()
        batch, results = load_synthea(conn, extract, batch_id)
        loaded = sum(r.rows for r in results)
        console.print(f"[bold]extract[/bold] batch {batch}: {loaded:,} raw rows from {len(results)} files")
        timings["raw load"] = time.monotonic() - step

    step = time.monotonic()
    run_dbt(["build", "--no-partial-parse"])
    timings["dbt build"] = time.monotonic() - step

    with connect() as conn:
        print_summary(conn, out)
    parts = ", ".join(f"{k} {v:.1f}s" for k, v in timings.items())
    out.print(f"done in {time.monotonic() - started:.1f}s ({parts})")


# dbt's arguments of a batch build, and of one without its tests
BATCH_BUILD = ["build", *BATCH_MODE_VARS]
WITHOUT_TESTS = ["--exclude-resource-type", "test", "--exclude-resource-type", "unit_test"]


def update_pipeline(extract: Path, batch_id: str | None, tests: bool, console: Console, out: Console) -> None:
    """Land ``extract`` as a new batch in the existing database and rebuild only the persons it touches."""
    started = time.monotonic()
    with connect() as conn:
        batch, results = load_synthea(conn, extract, batch_id)
        loaded = sum(r.rows for r in results)
        unchanged = sum(r.status == "unchanged" for r in results)
        console.print(
            f"[bold]extract[/bold] batch {batch}: {loaded:,} raw rows from {len(results)} files"
            + (f" ({unchanged} unchanged: loaded before)" if unchanged else "")
        )
    loaded_at = time.monotonic()
    run_dbt(BATCH_BUILD + ([] if tests else WITHOUT_TESTS))
    built_at = time.monotonic()
    with connect() as conn:
        persons = conn.execute("select count(*) from staging.stg_synthea__batch_patients").fetchone()[0]
        print_summary(conn, out)
    out.print(
        f"batch build of {persons:,} patients done in {built_at - started:.1f}s "
        f"(raw load {loaded_at - started:.1f}s, dbt build {built_at - loaded_at:.1f}s"
        + ("" if tests else ", tests skipped: dbt test or ehr2omop dq runs them")
        + ")"
    )
