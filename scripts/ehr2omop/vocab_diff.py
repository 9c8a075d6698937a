"""What a vocabulary update did to the source -> standard mapping, from the snapshot history.

``dbt build`` (or ``dbt snapshot``) after each ``ehr2omop vocab load`` records the mapping of
that vocabulary version in the snapshot ``vocab_history.vocabulary_mappings_snapshot``. The
mapping under a version is the set of snapshot rows valid when the next version was loaded
(``vocab.vocabulary_load``), or the current rows for the latest version. Two such states,
compared code by code, give the changes.
"""

from __future__ import annotations

import csv
import datetime as dt
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path

import psycopg

from ehr2omop.errors import UserError

SNAPSHOT = "vocab_history.vocabulary_mappings_snapshot"

# The kinds of change, in the order they are reported (the worst first).
KINDS: dict[str, str] = {
    "unmapped": "mapped before, maps to no usable concept now",
    "target_deprecated": "still points at a target the new vocabulary deprecated or no longer has as standard",
    "changed": "mapped in both, to other concepts (or by another kind of mapping)",
    "added": "unmapped before, mapped now",
}

CSV_COLUMNS = (
    "change",
    "source_vocabulary_id",
    "source_code",
    "from_targets",
    "to_targets",
    "from_kind",
    "to_kind",
    "source_rows",
    "from_version",
    "to_version",
)


@dataclass(frozen=True)
class Target:
    concept_id: int
    kind: str
    is_mapped: bool
    invalid_reason: str | None


@dataclass
class CodeState:
    targets: list[Target] = field(default_factory=list)
    source_rows: int = 0

    @property
    def mapped(self) -> list[Target]:
        return [t for t in self.targets if t.is_mapped]

    @property
    def invalid(self) -> list[Target]:
        return [t for t in self.targets if t.concept_id != 0 and not t.is_mapped]

    def describe(self) -> str:
        shown = [t for t in self.targets if t.concept_id != 0]
        if not shown:
            return "0"
        return " ".join(
            f"{t.concept_id}{'' if t.is_mapped else '(' + (t.invalid_reason or 'not standard') + ')'}"
            for t in sorted(shown, key=lambda t: t.concept_id)
        )

    def kinds(self) -> str:
        return ",".join(sorted({t.kind for t in self.targets}))


@dataclass(frozen=True)
class Change:
    kind: str
    source_vocabulary_id: str
    source_code: str
    before: str
    after: str
    before_kind: str
    after_kind: str
    source_rows: int


@dataclass
class VocabDiff:
    from_version: str
    to_version: str
    changes: list[Change]

    def counts(self) -> dict[str, tuple[int, int]]:
        """(codes, rows of data) per kind, every kind listed."""
        result = {kind: (0, 0) for kind in KINDS}
        for change in self.changes:
            codes, rows = result[change.kind]
            result[change.kind] = (codes + 1, rows + change.source_rows)
        return result


def loaded_versions(conn: psycopg.Connection) -> list[tuple[str, dt.datetime]]:
    """Each loaded vocabulary version with the time of its latest load, oldest first."""
    try:
        rows = conn.execute(
            """
            select vocabulary_version, max(loaded_at) as last_loaded_at
            from vocab.vocabulary_load
            group by vocabulary_version
            order by last_loaded_at
            """
        ).fetchall()
    except psycopg.errors.UndefinedTable as exc:
        raise UserError("no vocabulary loaded in this database: run `ehr2omop vocab load` first") from exc
    return [(version, loaded_at) for version, loaded_at in rows]


def _held_until(conn: psycopg.Connection, loaded_at: dt.datetime) -> dt.datetime | None:
    """When the vocabulary loaded at ``loaded_at`` was replaced (the next load), None if it is current."""
    row = conn.execute("select min(loaded_at) from vocab.vocabulary_load where loaded_at > %s", (loaded_at,)).fetchone()
    return row[0] if row else None


def _state(conn: psycopg.Connection, until: dt.datetime | None) -> dict[tuple[str, str], CodeState]:
    """The snapshot's mapping as it stood at ``until`` (the current rows when None)."""
    # the snapshot's timestamps are server-local without time zone, as dbt writes them:
    # cast the load time the same way, in the server's time zone
    where = (
        "dbt_valid_to is null"
        if until is None
        else "dbt_valid_from <= %(until)s::timestamp and coalesce(dbt_valid_to, 'infinity') > %(until)s::timestamp"
    )
    rows = conn.execute(
        f"""
        select source_vocabulary_id, source_code, target_concept_id, mapping_kind, is_mapped,
            target_invalid_reason, source_row_count
        from {SNAPSHOT}
        where {where}
        """,
        {"until": until},
    ).fetchall()
    states: dict[tuple[str, str], CodeState] = defaultdict(CodeState)
    for vocabulary, code, target, kind, is_mapped, invalid_reason, source_rows in rows:
        state = states[(vocabulary, code)]
        state.targets.append(Target(target, kind, bool(is_mapped), invalid_reason))
        state.source_rows = max(state.source_rows, source_rows or 0)
    return dict(states)


def _kind(before: CodeState, after: CodeState) -> str | None:
    was_mapped, is_mapped = bool(before.mapped), bool(after.mapped)
    # a custom map whose target the new vocabulary deprecated: named for its cause, even when
    # the code is left unmapped by it
    if {t.concept_id for t in after.invalid} - {t.concept_id for t in before.invalid}:
        return "target_deprecated"
    if was_mapped and not is_mapped:
        return "unmapped"
    if not was_mapped and is_mapped:
        return "added"
    if was_mapped and (
        {(t.concept_id, t.kind) for t in before.mapped} != {(t.concept_id, t.kind) for t in after.mapped}
    ):
        return "changed"
    return None


def _resolve(versions: list[tuple[str, dt.datetime]], given: str | None, default: int) -> tuple[str, dt.datetime]:
    if given is None:
        return versions[default]
    for version in versions:
        if version[0] == given:
            return version
    known = ", ".join(repr(v) for v, _ in versions)
    raise UserError(f"vocabulary version {given!r} was never loaded in this database; loaded: {known}")


def diff_versions(
    conn: psycopg.Connection, from_version: str | None = None, to_version: str | None = None
) -> VocabDiff:
    """The codes whose mapping differs between two loaded versions (default: the last two)."""
    versions = loaded_versions(conn)
    if len(versions) < 2 and (from_version is None or to_version is None):
        raise UserError(
            f"only {len(versions)} vocabulary version(s) loaded in this database; load another with "
            "`ehr2omop vocab load` and run `dbt build`, or name both with --from and --to"
        )
    before_version, before_loaded = _resolve(versions, from_version, -2)
    after_version, after_loaded = _resolve(versions, to_version, -1)
    try:
        present = conn.execute(f"select count(*) from {SNAPSHOT}").fetchone()
    except psycopg.errors.UndefinedTable as exc:
        raise UserError(
            f"no mapping history ({SNAPSHOT} is missing): run `dbt build` (or `dbt snapshot`) "
            "after each vocabulary load"
        ) from exc
    before_until = _held_until(conn, before_loaded)
    after_until = _held_until(conn, after_loaded)
    before, after = _state(conn, before_until), _state(conn, after_until)
    if present and present[0] and not before:
        raise UserError(
            f"the mapping history holds nothing for vocabulary {before_version!r}: no `dbt build` or "
            "`dbt snapshot` ran while it was loaded"
        )
    changes: list[Change] = []
    for key in sorted(before.keys() & after.keys()):
        kind = _kind(before[key], after[key])
        if kind is None:
            continue
        changes.append(
            Change(
                kind=kind,
                source_vocabulary_id=key[0],
                source_code=key[1],
                before=before[key].describe(),
                after=after[key].describe(),
                before_kind=before[key].kinds(),
                after_kind=after[key].kinds(),
                source_rows=after[key].source_rows or before[key].source_rows,
            )
        )
    order = list(KINDS)
    changes.sort(key=lambda c: (order.index(c.kind), -c.source_rows, c.source_vocabulary_id, c.source_code))
    return VocabDiff(before_version, after_version, changes)


def write_csv(diff: VocabDiff, path: Path) -> None:
    with path.open("w", newline="", encoding="utf-8") as fh:
        writer = csv.writer(fh, lineterminator="\n")
        writer.writerow(CSV_COLUMNS)
        for c in diff.changes:
            writer.writerow(
                (
                    c.kind,
                    c.source_vocabulary_id,
                    c.source_code,
                    c.before,
                    c.after,
                    c.before_kind,
                    c.after_kind,
                    c.source_rows,
                    diff.from_version,
                    diff.to_version,
                )
            )
