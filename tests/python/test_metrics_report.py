"""Run metrics and the report: two real builds of a small extract, then faults the warn tests must name.

One database for the module: a generated extract is built, then half its patients are deleted from
raw and a code no vocabulary knows is added, and it is built again. The second build's warn tests
must name the tables and domain with both values; the recorded metrics feed ``ehr2omop report``,
whose HTML is opened in a real headless Chromium.
"""

from __future__ import annotations

import shutil
import struct
import subprocess
import zlib
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import psycopg
import pytest
from conftest import Database

from ehr2omop import db

UNKNOWN_CODE = "UNKNOWN-X1"
CHROMIUM_FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
BAR_RGB = (0x3B, 0x6E, 0xA5)  # ehr2omop.svg_charts.BAR_COLOUR


@dataclass
class History:
    database: Database
    first: subprocess.CompletedProcess[str]
    second: subprocess.CompletedProcess[str]
    persons_before: int
    persons_after: int


@pytest.fixture(scope="module")
def history(server: db.Server, tmp_path_factory: pytest.TempPathFactory) -> Iterator[History]:
    tmp = tmp_path_factory.mktemp("metrics")
    database = Database(server, "t_metrics_report", tmp)
    db.drop_database(server, database.name)
    db.ensure_database(server, database.name)
    extract = tmp / "extract"
    database.cli("generate", "synthea", "--patients", "20", "--seed", "3", "--out", str(extract))
    database.cli("vocab", "load", "--demo")
    database.cli("load", "synthea", str(extract))
    first = database.dbt("build")
    persons_before = int(database.scalar("select count(*) from omop.person"))  # type: ignore[arg-type]
    with database.connect() as conn:
        # the fault: half the patients gone from raw, and a fifth of the rest's conditions again under an
        # unknown code (well under the coverage gate's error level of half the rows unmapped)
        conn.execute(
            "delete from raw.patients where id in"
            " (select id from raw.patients order by id limit (select count(*) / 2 from raw.patients))"
        )
        conn.execute(
            "insert into raw.conditions (start, stop, patient, encounter, code, description, system, _batch_id,"
            " _file_name, _line_number) select start, stop, patient, encounter, %s, 'a code no vocabulary knows',"
            " system, _batch_id, _file_name, _line_number + 1000000 from raw.conditions"
            " where patient in (select id from raw.patients) and _line_number %% 5 = 0",
            (UNKNOWN_CODE,),
        )
    second = database.dbt("build")
    persons_after = int(database.scalar("select count(*) from omop.person"))  # type: ignore[arg-type]
    yield History(database, first, second, persons_before, persons_after)
    db.drop_database(server, database.name)


def metrics_of(database: Database) -> list[tuple[str, str, str, float]]:
    with database.connect() as conn:
        rows = conn.execute(
            "select m.invocation_id, m.metric, m.subject, m.value from audit.run_metric as m"
            " inner join audit.dbt_invocation as i using (invocation_id) order by i.started_at, m.run_metric_id"
        ).fetchall()
    return [(invocation, metric, subject, float(value)) for invocation, metric, subject, value in rows]


def test_each_build_records_its_metrics(history: History) -> None:
    database = history.database
    rows = metrics_of(database)
    runs = list(dict.fromkeys(invocation for invocation, *_ in rows))
    assert len(runs) == 2
    first, second = ({(m, s): v for i, m, s, v in rows if i == run} for run in runs)
    assert first[("omop_rows", "person")] == history.persons_before == 20
    assert second[("omop_rows", "person")] == history.persons_after == 10
    omop_tables = {s for m, s in first if m == "omop_rows"}
    assert {"person", "condition_occurrence", "visit_occurrence", "cdm_source"} <= omop_tables
    assert len(omop_tables) == 28 and "concept" not in omop_tables  # tables built, not the vocabulary views
    with database.connect() as conn:
        coverage = dict(conn.execute("select domain, unmapped_share from quality.quality_mapping_coverage"))
        model_results = conn.execute(
            "select count(*) from audit.dbt_node_result where resource_type = 'model'"
        ).fetchone()[0]
        rejects = dict(
            conn.execute("select reject_reason, count(*) from staging.stg_synthea__rejects group by 1").fetchall()
        )
    assert {s for m, s in second if m == "unmapped_share"} == set(coverage)
    assert second[("unmapped_share", "condition")] == pytest.approx(float(coverage["condition"]))
    assert second[("unmapped_code_rows", f"condition/{UNKNOWN_CODE}")] > 0
    assert ("unmapped_code_rows", f"condition/{UNKNOWN_CODE}") not in first
    # rejects per reason: the deleted patients' events are orphans now
    assert {s: v for (m, s), v in second.items() if m == "staging_rejects"} == rejects
    assert rejects["orphan_patient"] > 0
    # seconds per model: every model that ran, in both builds
    assert 2 * sum(1 for m, _ in first if m == "model_seconds") == model_results
    assert all(v >= 0 for (m, _), v in second.items() if m == "model_seconds")


def test_first_build_compares_with_nothing(history: History) -> None:
    out = history.first.stdout
    for test in ("warn_omop_volume_drop", "warn_omop_volume_spike", "warn_unmapped_share_jump", "warn_omop_min_rows"):
        assert f"PASS {test} " in out, test
    assert "run metrics:" not in out


def test_volume_drop_warns_naming_table_and_both_counts(history: History) -> None:
    out = history.second.stdout
    assert history.second.returncode == 0  # a warning, not an error
    assert "WARN" in out and "warn_omop_volume_drop" in out
    assert (
        "volume drop: omop.person has 10 rows, 20 in the previous successful build "
        "(50.0% fewer; var run_metrics_volume_drop_max_share allows 20.0%)"
    ) in out
    assert "PASS warn_omop_volume_spike " in out


def test_unmapped_code_warns_naming_domain_shares_and_code(history: History) -> None:
    out = history.second.stdout
    line = next(line for line in out.splitlines() if "unmapped jump: domain condition" in line)
    assert "in the previous successful build" in line and "points; var run_metrics_unmapped_share_max_increase" in line
    assert f"new among the top unmapped: {UNKNOWN_CODE} (" in line
    assert "unmapped jump: domain drug" not in out  # only the domain that changed


def png_colours(path: Path, rows: int) -> set[tuple[int, int, int]]:
    """The distinct RGB colours of the first ``rows`` rows of an 8-bit RGB(A) PNG (unfiltered by hand)."""
    data = path.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n", f"{path} is not a PNG"
    pos, idat, header = 8, b"", b""
    while pos < len(data):
        (length,) = struct.unpack(">I", data[pos : pos + 4])
        kind, body = data[pos + 4 : pos + 8], data[pos + 8 : pos + 8 + length]
        if kind == b"IHDR":
            header = body
        elif kind == b"IDAT":
            idat += body
        pos += 12 + length
    width, height, depth, colour_type = struct.unpack(">IIBB", header[:10])
    assert depth == 8 and colour_type in (2, 6), f"unexpected PNG format {depth}/{colour_type}"
    channels = 4 if colour_type == 6 else 3
    stride = width * channels
    raw = zlib.decompressobj().decompress(idat, (stride + 1) * min(rows, height))
    previous = bytearray(stride)
    colours: set[tuple[int, int, int]] = set()
    for row in range(min(rows, height)):
        kind, line = raw[row * (stride + 1)], bytearray(raw[row * (stride + 1) + 1 : (row + 1) * (stride + 1)])
        for i in range(stride):
            left = line[i - channels] if i >= channels else 0
            up = previous[i]
            upleft = previous[i - channels] if i >= channels else 0
            if kind == 1:
                line[i] = (line[i] + left) & 0xFF
            elif kind == 2:
                line[i] = (line[i] + up) & 0xFF
            elif kind == 3:
                line[i] = (line[i] + (left + up) // 2) & 0xFF
            elif kind == 4:
                p = left + up - upleft
                pa, pb, pc = abs(p - left), abs(p - up), abs(p - upleft)
                line[i] = (line[i] + (left if pa <= pb and pa <= pc else up if pb <= pc else upleft)) & 0xFF
        colours.update(tuple(line[i : i + 3]) for i in range(0, stride, channels))  # type: ignore[misc]
        previous = line
    return colours


def chromium() -> str:
    found = shutil.which("chromium") or shutil.which("chromium-browser")
    if not found:
        pytest.fail(
            "chromium not found: the report test renders the HTML in a real headless browser; install it "
            "(Debian: `apt-get install -y chromium`, as .ci/run does in CI) and run the tests again",
            pytrace=False,
        )
    return found


def test_report_renders_its_charts_in_a_browser(history: History, tmp_path: Path) -> None:
    database = history.database
    report = tmp_path / "report.html"
    result = database.cli("report", "--out", str(report), "--last", "5")
    assert "mapping coverage by domain" in result.stdout and "rows per OMOP table" in result.stdout
    assert f"report written to {report.resolve()}" in result.stdout.replace("\n", "")
    html = report.read_text()
    # one file, written by us: no script, nothing fetched from anywhere
    for outside in ("<script", "src=", "href=", "@import", "url(", "<link"):
        assert outside not in html.lower(), outside

    browser = chromium()
    screenshot = tmp_path / "report.png"
    shot = subprocess.run(
        [browser, *CHROMIUM_FLAGS, f"--screenshot={screenshot}", "--window-size=1200,2000", report.as_uri()],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert shot.returncode == 0 and screenshot.exists(), shot.stderr[-2000:]
    print(f"report screenshot: {screenshot}")
    dom = subprocess.run(
        [browser, *CHROMIUM_FLAGS, "--dump-dom", report.as_uri()], capture_output=True, text=True, timeout=120
    )
    assert dom.returncode == 0, dom.stderr[-2000:]
    # the charts are in the rendered DOM with their data labels
    assert dom.stdout.count('<svg class="chart') == 5
    for label in (
        'data-label="condition"',  # coverage by domain
        f'data-label="condition: {UNKNOWN_CODE}"',  # top unmapped codes
        'data-label="person" data-value="10.0"',  # rows per OMOP table
        'data-label="orphan_patient"',  # rejects by reason
        'class="sparkline" data-label="person"',
    ):
        assert label in dom.stdout, label
    assert dom.stdout.count('<svg class="chart columns"') == 1 and dom.stdout.count("<rect") > 40
    # the screenshot shows them: a real image, white page with the bars' colour in it
    assert screenshot.stat().st_size > 20_000
    colours = png_colours(screenshot, rows=260)
    assert len(colours) > 20 and (255, 255, 255) in colours and BAR_RGB in colours


def test_min_rows_spike_and_slow_model_warn(history: History) -> None:
    """Last: it appends made-up history (a smaller person count, slow runs) to this module's audit trail."""
    database = history.database
    with database.connect() as conn:
        for n, seconds in enumerate((1.0, 1.2, 1.1, 9.5)):
            invocation = f"made-up-{n}"
            conn.execute(
                "insert into audit.dbt_invocation (invocation_id, command, invocation_args, dbt_version, started_at,"
                " ended_at, status, node_count, error_count) values (%s, 'build', '{}', '1.11', now(), now(),"
                " 'success', 1, 0)",
                (invocation,),
            )
            conn.execute(
                "insert into audit.run_metric (invocation_id, metric, subject, value) values"
                " (%s, 'model_seconds', 'slow_model', %s), (%s, 'model_seconds', 'quick_model', %s)",
                (invocation, seconds, invocation, seconds / 10),
            )
        conn.execute(
            "insert into audit.run_metric (invocation_id, metric, subject, value)"
            " values ('made-up-3', 'omop_rows', 'person', 4)"
        )
    result = database.dbt("test", "--select", "tag:run_metrics", "--vars", "{run_metrics_min_rows: {person: 1000}}")
    out = result.stdout
    assert "minimum volume: omop.person has 10 rows, var run_metrics_min_rows expects at least 1000" in out
    assert (
        "volume spike: omop.person has 10 rows, 4 in the previous successful build "
        "(150.0% more; var run_metrics_volume_spike_max_share allows 100.0%)"
    ) in out
    assert (
        "slow model: slow_model took 9.5s in the last recorded run, 8.6 times its median of 1.100s over the 3 runs"
        " before (var run_metrics_runtime_max_factor allows 3)"
    ) in out
    assert "slow model: quick_model" not in out  # slower too, but under run_metrics_runtime_min_seconds
    assert "volume drop:" not in out  # the build's own metrics are the latest for every other table


def test_metrics_are_append_only(history: History) -> None:
    with history.database.connect() as conn, pytest.raises(psycopg.errors.InsufficientPrivilege):
        conn.execute("delete from audit.run_metric")
