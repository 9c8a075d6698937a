"""The dbt docs site: built by ``ehr2omop docs build``, served by ``ehr2omop docs serve``, opened in headless Chromium.

A small generated extract is built (seeds and models; the catalog needs the relations), the site is built and served
on a free port of 127.0.0.1, and Chromium renders the model page of omop ``person`` and its lineage graph. The
lineage graph is drawn on a canvas (cytoscape), so the chain from ``person`` back to the raw source is checked twice:
in the rendered pages, by following each model's "Depends On" links hop by hop, and in the manifest the page embeds.
"""

from __future__ import annotations

import json
import re
import shutil
import socket
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from conftest import Database
from test_metrics_report import CHROMIUM_FLAGS, chromium, png_colours

from ehr2omop.doc_coverage import measure

PERSON = "model.ehr2omop.person"
# person back to the raw file, one hop at a time: each node is a direct parent of the one before
CHAIN = [
    PERSON,
    "model.ehr2omop.mapped_persons",
    "model.ehr2omop.deid_synthea__patients",
    "model.ehr2omop.stg_synthea__patients",
    "model.ehr2omop.base_synthea__patients",
    "source.ehr2omop.synthea.patients",
]
PERSON_COLUMNS = ("person_id", "gender_concept_id", "year_of_birth", "race_concept_id", "person_source_value")
SCREENS = Path("/tmp/docs-screens")
RENDER_BUDGET_MS = "15000"  # virtual time for the Angular app to load the 8 MB page and render


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture
def site_url(database: Database, tmp_path: Path) -> Iterator[str]:
    """The docs site of a small built project, served by `ehr2omop docs serve` on a free port."""
    extract = tmp_path / "extract"
    database.cli("generate", "synthea", "--patients", "10", "--seed", "1", "--out", str(extract))
    database.cli("vocab", "load", "--demo")
    database.cli("load", "synthea", str(extract))
    # seeds and models: the relations the catalog describes (the data tests add nothing to the site)
    database.dbt("build", "--exclude-resource-type", "test", "--exclude-resource-type", "unit_test")
    site = tmp_path / "site"
    built = database.cli("docs", "build", "--out", str(site))
    assert f"docs site written to {(site / 'index.html').resolve()}" in built.stdout.replace("\n", "")
    assert "documentation coverage: 100.0%" in built.stdout, built.stdout

    port = free_port()
    cmd = [str(Path(sys.executable).parent / "ehr2omop"), "docs", "serve", "--port", str(port), "--dir", str(site)]
    server = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=database.env)
    try:
        assert server.stdout is not None
        line = server.stdout.readline()
        url = f"http://127.0.0.1:{port}/"
        assert f"serving the docs site on {url}" in line, (line, server.stderr.read() if server.poll() else "")
        yield url
    finally:
        server.terminate()
        server.wait(timeout=10)


def dump_dom(url: str) -> subprocess.Popen[str]:
    """Start Chromium rendering url and printing the DOM it built (collect with .communicate())."""
    cmd = [chromium(), *CHROMIUM_FLAGS, f"--virtual-time-budget={RENDER_BUDGET_MS}", "--dump-dom", url]
    return subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def rendered(process: subprocess.Popen[str]) -> str:
    """The DOM Chromium rendered, without its script elements (the page's inline manifest names every node)."""
    out, err = process.communicate(timeout=120)
    assert process.returncode == 0, err[-2000:]
    return re.sub(r"<script\b.*?</script>", "", out, flags=re.DOTALL)


def screenshot(url: str, path: Path) -> Path:
    cmd = [
        chromium(),
        *CHROMIUM_FLAGS,
        f"--virtual-time-budget={RENDER_BUDGET_MS}",
        "--window-size=1400,1000",
        f"--screenshot={path}",
        url,
    ]
    shot = subprocess.run(cmd, capture_output=True, text=True, timeout=120)
    assert shot.returncode == 0 and path.exists(), shot.stderr[-2000:]
    SCREENS.mkdir(parents=True, exist_ok=True)
    shutil.copy(path, SCREENS / path.name)
    print(f"screenshot: {path} (copy: {SCREENS / path.name})")
    # a real page, not a blank or one-colour image
    assert path.stat().st_size > 20_000, f"{path} is only {path.stat().st_size} bytes"
    colours = png_colours(path, rows=1000)
    assert len(colours) > 50, f"{path} has {len(colours)} colours"
    return path


def depends_on(dom: str) -> str:
    """The rendered "Depends On" section of a node page (the last one: the model's own, after the sidebar)."""
    start = dom.rfind("<h6>Depends On</h6>")
    assert start >= 0, "the page shows no Depends On section"
    return dom[start : dom.find("</reference-list>", start)]


def embedded(page: str, name: str) -> dict:
    """The manifest or catalog the static page holds inline (`{manifest:{...},catalog:{...}}`)."""
    start = page.find(f"{name}:{{")
    assert start >= 0, f"the page embeds no {name}"
    value, _ = json.JSONDecoder().raw_decode(page, start + len(name) + 1)
    return value


def test_docs_site_shows_person_and_its_lineage(site_url: str, database: Database, tmp_path: Path) -> None:
    # the model page, as the browser renders it: name, description, relation and columns (from YAML and catalog)
    person_page = f"{site_url}#!/model/{PERSON}"
    hops = {node: dump_dom(f"{site_url}#!/model/{node}") for node in CHAIN[1:-1]}  # rendered in parallel
    dom = rendered(dump_dom(person_page))
    title = re.search(r'<h1>\s*<span class="break ng-binding">person</span>\s*<small class="ng-binding">table<', dom)
    assert title, "the page is not the model page of person"
    details = re.sub(r"\s+", " ", dom[title.end() :])  # the model's own page, after the sidebar
    assert "One row per patient" in details  # the model's description from models/omop/_omop__models.yml
    assert f"{database.name}.omop.person" in details  # the relation: the catalog came from the test's database
    for column in PERSON_COLUMNS:
        assert re.search(rf">\s*{column}\s*<", details), column
    assert "character varying(50)" in details  # a column type read from the database's catalog
    screenshot(person_page, tmp_path / "docs-person.png")

    # lineage in the rendered pages: every hop's "Depends On" links to the next node toward the raw file
    pages = {PERSON: dom, **{node: rendered(process) for node, process in hops.items()}}
    for child, parent in zip(CHAIN, CHAIN[1:], strict=False):
        kind = parent.split(".")[0]
        link = f'href="#!/{kind}/{parent}"'
        assert link in depends_on(pages[child]), f"{child} does not show {parent} in Depends On"

    # the lineage view: cytoscape draws on a canvas, so the DOM shows the selection it drew, not the nodes
    lineage_page = f"{site_url}#!/model/{PERSON}?g_v=1&g_i=%2Bperson"
    lineage = rendered(dump_dom(lineage_page))
    assert "__________cytoscape_container" in lineage and lineage.count("<canvas") >= 3
    # the --select field holds the graph's selection (its text lives in Angular, not in the DOM): set, not empty
    include = re.search(r'<input [^>]*ng-model="selectorService\.selection\.dirty\.include"', lineage)
    assert include and "ng-not-empty" in include.group(0), "the lineage graph was drawn without a selection"
    shot = screenshot(lineage_page, tmp_path / "docs-lineage.png")
    # drawn: the source nodes (green in dbt docs) are on the graph
    green = [c for c in png_colours(shot, rows=1000) if c[1] > c[0] + 60 and c[1] > c[2] + 60]
    assert len(green) > 20, "the lineage graph shows no source node"

    # and the same chain in the manifest the page embeds (what the graph is drawn from)
    page = (tmp_path / "site" / "index.html").read_text()
    manifest = embedded(page, "manifest")
    parents = manifest["parent_map"]
    ancestors: set[str] = set()
    todo = [PERSON]
    while todo:
        for parent in parents.get(todo.pop(), []):
            if parent not in ancestors:
                ancestors.add(parent)
                todo.append(parent)
    assert set(CHAIN[1:]) <= ancestors
    for child, parent in zip(CHAIN, CHAIN[1:], strict=False):
        assert parent in parents[child], f"{parent} is not a parent of {child} in the manifest"
    catalog = embedded(page, "catalog")
    assert set(PERSON_COLUMNS) <= {c.lower() for c in catalog["nodes"][PERSON]["columns"]}
    # every column the database has, in every model, seed, snapshot and source, is documented on the site
    assert [str(gap) for gap in measure(manifest, catalog).gaps] == []
