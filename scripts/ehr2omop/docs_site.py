"""The dbt docs site: build it as one static HTML file, serve it on 127.0.0.1."""

from __future__ import annotations

import functools
import json
import shutil
import tempfile
from collections.abc import Callable
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

from ehr2omop.dbt_runner import run_dbt
from ehr2omop.doc_coverage import Coverage, measure
from ehr2omop.errors import UserError
from ehr2omop.paths import state_dir

SITE_FILE = "index.html"


def default_out_dir() -> Path:
    return state_dir() / "docs"


def build_site(out_dir: Path) -> tuple[Path, Coverage]:
    """Run ``dbt docs generate --static`` (it reads the catalog from the database) and copy the page to out_dir.

    dbt writes into a temporary target folder, so the checkout's ``target/`` (other runs' artifacts) stays as is.
    Returns the written page (``out_dir/index.html``, one file holding the manifest and the catalog)
    and the documentation coverage of that manifest and catalog.
    """
    if out_dir.exists() and not out_dir.is_dir():
        raise UserError(f"{out_dir} is a file, not a folder: give another --out")
    with tempfile.TemporaryDirectory(prefix="ehr2omop-docs-") as tmp:
        run_dbt(["docs", "generate", "--static", "--target-path", tmp])
        page = Path(tmp) / "static_index.html"
        if not page.is_file():
            raise UserError(f"dbt docs generate wrote no {page.name} in {tmp}: see dbt's output above")
        out_dir.mkdir(parents=True, exist_ok=True)
        written = out_dir / SITE_FILE
        shutil.copyfile(page, written)
        coverage = measure(
            json.loads((Path(tmp) / "manifest.json").read_text()), json.loads((Path(tmp) / "catalog.json").read_text())
        )
    return written, coverage


class _QuietHandler(SimpleHTTPRequestHandler):
    def log_message(self, format: str, *args: object) -> None:  # noqa: A002 (the base class's name)
        pass


def make_server(site_dir: Path, port: int) -> ThreadingHTTPServer:
    """An HTTP server for site_dir on 127.0.0.1 only (port 0: any free port)."""
    if not (site_dir / SITE_FILE).is_file():
        raise UserError(f"no docs site in {site_dir}: run `ehr2omop docs build` first (or give its --dir)")
    handler: Callable[..., SimpleHTTPRequestHandler] = functools.partial(_QuietHandler, directory=str(site_dir))
    try:
        return ThreadingHTTPServer(("127.0.0.1", port), handler)
    except OSError as exc:
        raise UserError(f"cannot listen on 127.0.0.1:{port} ({exc.strerror}): give another --port") from exc
