"""The whole pipeline in one call: fresh database, vocabulary, raw load, dbt build, summary."""

from __future__ import annotations

import time
from pathlib import Path

from rich.console import Console

from ehr2omop import db
from ehr2omop.connection import connect
from ehr2omop.dbt_runner import run_dbt
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
