"""PHI-leak scan of the OMOP schema: which raw identifiers, and which real dates, reached it.

Two checks, both read-only (work tables are temporary and dropped again):

- Identifiers. Every identifier value of the raw landing tables (``IDENTIFIER_SOURCES``:
  names, SSN, licence and passport numbers, phone, street address, city, county, ZIP,
  lat/lon, record UUIDs, device UDIs, member ids, raw birth and death dates) is looked
  for in every column of every OMOP table but the vocabulary: text columns by whole
  value and as a token run inside a longer string (an address inside
  ``location_source_value``, a UUID inside ``value_as_string``), numeric columns by
  value (lat/lon, SSN and phone digits).
- Dates. Each OMOP person is linked to its raw patient through the documented keyed
  pseudonym (``person_pseudonym``); the person's birth, first visit and death dates must
  all be shifted, by one and the same number of days, within the configured range.

Matching is set-based and stays fast: values are normalised (lowercase, every run of
non-alphanumeric characters becomes one space), each identifier is reduced to its
longest token (its anchor), the distinct OMOP text values are split into tokens, the two
are hash-joined on the anchor and only the candidate pairs are verified by a
word-bounded containment test. Identifiers shorter than ``MIN_TOKEN_LENGTH`` characters
count only as a whole value, so a 3-digit ZIP prefix or a short word never matches.

A finding names the OMOP table and column, the kind of identifier, the raw columns it
came from, how many rows and distinct identifiers, and a masked example (first three
characters): the scan never reports a PHI value in full.
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

import psycopg
from psycopg import sql

from ehr2omop.errors import UserError

# Identifier values shorter than this match only as a whole value, never inside a longer string.
MIN_TOKEN_LENGTH = 5
# Shorter values are not identifiers at all (a state code, an initial).
MIN_EXACT_LENGTH = 3
# Digits-only identifiers at least this long are also looked for in numeric columns.
MIN_NUMERIC_DIGITS = 9
DEFAULT_SHIFT_RANGE = (-180, -1)
# Safe Harbor: ages over 89 are aggregated, so the birth date of a person this old or
# older may legitimately not follow the person's date shift.
AGGREGATED_AGE_YEARS = 89
# safe_harbor leaves out the records dated more than this many years before death (or today)
AGE_CUT_YEARS = 90
PERSON_ID_SPACE = "person"
EXAMPLE_PREFIX = 3

# OMOP tables not scanned: the standardised vocabulary (public content, not patient data).
VOCABULARY_TABLES = frozenset(
    {"concept", "vocabulary", "domain", "relationship", "drug_strength", "source_to_concept_map"}
)

_TEXT_TYPES = frozenset({"text", "character varying", "character"})
_NUMERIC_TYPES = frozenset({"smallint", "integer", "bigint", "numeric", "real", "double precision"})
_NORMALISE = "trim(regexp_replace(lower({}), '[^[:alnum:]]+', ' ', 'g'))"


@dataclass(frozen=True)
class Kind:
    """How values of one kind of identifier are matched."""

    name: str
    compact: bool = False  # also match with the separators removed (a UUID or phone without dashes)
    numeric: bool = False  # also match the value as a number in numeric columns (lat/lon)
    digits: bool = False  # also match its digits as a number in numeric columns (SSN, phone)
    zip_code: bool = False  # a ZIP: match the 5-digit ZIP and the 9-digit ZIP+4, never a prefix


KINDS: dict[str, Kind] = {
    k.name: k
    for k in (
        Kind("record_id", compact=True),
        Kind("dicom_uid", compact=True),
        Kind("member_id", compact=True),
        Kind("device_udi", compact=True),
        Kind("ssn", compact=True, digits=True),
        Kind("drivers_license"),
        Kind("passport"),
        Kind("phone", compact=True, digits=True),
        Kind("person_name"),
        Kind("provider_name"),
        Kind("organization_name"),
        Kind("street_address"),
        Kind("city"),
        Kind("county"),
        Kind("county_fips"),
        Kind("birthplace"),
        Kind("zip", zip_code=True),
        Kind("lat_lon", numeric=True),
        Kind("birth_date"),
        Kind("death_date"),
    )
}


@dataclass(frozen=True)
class IdentifierSource:
    """A raw column whose values are identifiers of one kind (absent columns are skipped)."""

    table: str
    column: str
    kind: str


def _sources(table: str, kinds: dict[str, str]) -> list[IdentifierSource]:
    return [IdentifierSource(table, column, kind) for column, kind in kinds.items()]


IDENTIFIER_SOURCES: tuple[IdentifierSource, ...] = (
    *_sources(
        "patients",
        {
            "id": "record_id",
            "ssn": "ssn",
            "drivers": "drivers_license",
            "passport": "passport",
            "first": "person_name",
            "middle": "person_name",
            "last": "person_name",
            "maiden": "person_name",
            "birthplace": "birthplace",
            "address": "street_address",
            "city": "city",
            "county": "county",
            "fips": "county_fips",
            "zip": "zip",
            "lat": "lat_lon",
            "lon": "lat_lon",
            "birthdate": "birth_date",
            "deathdate": "death_date",
        },
    ),
    *_sources(
        "organizations",
        {
            "id": "record_id",
            "name": "organization_name",
            "address": "street_address",
            "city": "city",
            "zip": "zip",
            "lat": "lat_lon",
            "lon": "lat_lon",
            "phone": "phone",
        },
    ),
    *_sources(
        "providers",
        {
            "id": "record_id",
            "name": "provider_name",
            "address": "street_address",
            "city": "city",
            "zip": "zip",
            "lat": "lat_lon",
            "lon": "lat_lon",
        },
    ),
    *_sources("payers", {"id": "record_id"}),
    *_sources("payer_transitions", {"memberid": "member_id", "ownername": "person_name", "owner_name": "person_name"}),
    *_sources("encounters", {"id": "record_id"}),
    *_sources("careplans", {"id": "record_id"}),
    *_sources("claims", {"id": "record_id"}),
    *_sources("claims_transactions", {"id": "record_id"}),
    *_sources("imaging_studies", {"id": "record_id", "series_uid": "dicom_uid", "instance_uid": "dicom_uid"}),
    *_sources("devices", {"udi": "device_udi"}),
)


@dataclass(frozen=True)
class Finding:
    """One kind of leak in one OMOP column."""

    table: str
    column: str
    kind: str
    sources: tuple[str, ...]  # the raw columns (or raw dates) it came from
    rows: int  # OMOP rows affected (persons, for the date checks)
    values: int  # distinct identifier values found (persons, for the date checks)
    example: str  # masked: never the full value

    def __str__(self) -> str:
        return (
            f"omop.{self.table}.{self.column}: {self.kind} from {', '.join(self.sources)}"
            f" ({self.rows} rows, {self.values} values, e.g. {self.example})"
        )


def person_pseudonym(patient_id: str, key: str) -> str:
    """The documented person pseudonym: first 32 hex digits of HMAC-SHA-256(key, 'person:' || id)."""
    message = f"{PERSON_ID_SPACE}:{patient_id}".encode()
    return hmac.new(key.encode(), message, hashlib.sha256).hexdigest()[:32]


def scan(
    conn: psycopg.Connection,
    deid_key: str | None,
    *,
    omop_schema: str = "omop",
    raw_schema: str = "raw",
    shift_range: tuple[int, int] = DEFAULT_SHIFT_RANGE,
) -> list[Finding]:
    """Every leak of a raw identifier or a real date into ``omop_schema``; empty when there is none.

    ``deid_key`` is the build's de-identification key (EHR2OMOP_DEID_KEY); it links OMOP
    persons to raw patients. Without it only persons still carrying the raw patient id link.
    """
    with conn.transaction():
        return scan_identifiers(conn, omop_schema=omop_schema, raw_schema=raw_schema) + scan_dates(
            conn, deid_key, omop_schema=omop_schema, raw_schema=raw_schema, shift_range=shift_range
        )


def format_findings(findings: Iterable[Finding]) -> str:
    """One line per finding, for an assertion message or a report."""
    return "\n".join(f"  {finding}" for finding in findings)


# ---------------------------------------------------------------------------- identifiers


def scan_identifiers(conn: psycopg.Connection, *, omop_schema: str = "omop", raw_schema: str = "raw") -> list[Finding]:
    """Raw identifier values found in OMOP columns, by table, column and kind."""
    raw_columns = _columns(conn, raw_schema)
    _require_patients(raw_columns, raw_schema)
    omop_columns = {t: cols for t, cols in _columns(conn, omop_schema).items() if not _is_vocabulary(t)}
    with conn.transaction():
        # work tables: temporary, dropped at the end; an error rolls them back with the rest
        _collect_identifiers(conn, raw_schema, raw_columns)
        _collect_omop_values(conn, omop_schema, omop_columns)
        findings = _text_findings(conn) + _numeric_findings(conn)
        conn.execute("drop table phi_scan_ident, phi_scan_number, phi_scan_text, phi_scan_num_hit")
    return findings


def _require_patients(raw_columns: dict[str, dict[str, str]], raw_schema: str) -> None:
    if "patients" not in raw_columns:
        raise UserError(
            f"the PHI scan needs the raw extract: {raw_schema}.patients does not exist in this database;"
            " load the extract the OMOP schema was built from"
        )


def _is_vocabulary(table: str) -> bool:
    return table in VOCABULARY_TABLES or table.startswith("concept_")


def _columns(conn: psycopg.Connection, schema: str) -> dict[str, dict[str, str]]:
    """Tables and views of ``schema``: {table: {column: data type}}."""
    rows = conn.execute(
        "select table_name, column_name, data_type from information_schema.columns"
        " where table_schema = %s order by table_name, ordinal_position",
        (schema,),
    ).fetchall()
    tables: dict[str, dict[str, str]] = {}
    for table, column, data_type in rows:
        tables.setdefault(table, {})[column] = data_type
    return tables


def _normalised(expr: sql.Composable) -> sql.Composable:
    return sql.SQL(_NORMALISE).format(expr)


def _collect_identifiers(conn: psycopg.Connection, raw_schema: str, raw_columns: dict[str, dict[str, str]]) -> None:
    conn.execute(
        "create temp table phi_scan_ident (kind text not null, source text not null, norm text not null,"
        " anchor text) on commit drop"
    )
    conn.execute(
        "create temp table phi_scan_number (kind text not null, source text not null, num numeric not null)"
        " on commit drop"
    )
    for src in IDENTIFIER_SOURCES:
        if src.column not in raw_columns.get(src.table, {}):
            continue
        kind = KINDS[src.kind]
        params = {"kind": kind.name, "source": f"{raw_schema}.{src.table}.{src.column}", "min": MIN_EXACT_LENGTH}
        column = sql.Identifier(src.column)
        fmt = {"col": column, "tbl": sql.Identifier(raw_schema, src.table), "norm": _normalised(column)}
        if kind.zip_code:
            # the 5-digit ZIP, and the 9-digit ZIP+4 as one number; a 3-digit prefix is no identifier
            query = """
                insert into phi_scan_ident (kind, source, norm)
                select distinct %(kind)s, %(source)s, zip
                from (
                    -- a ZIP that lost its leading zero (4 or 8 digits, as in some Synthea files) gets it back
                    select case when length(d) in (4, 8) then '0' || d else d end as digits
                    from (select regexp_replace({col}, '[^0-9]', '', 'g') as d from {tbl}) as raw_digits
                ) as z
                cross join lateral (values (left(digits, 5)), (case when length(digits) = 9 then digits end)) as v (zip)
                where length(digits) >= 5 and zip is not null
            """
        else:
            query = """
                insert into phi_scan_ident (kind, source, norm)
                select distinct %(kind)s, %(source)s, norm
                from (select {norm} as norm from {tbl} where {col} is not null) as n
                where length(norm) >= %(min)s
            """
        conn.execute(sql.SQL(query).format(**fmt), params)
        if kind.numeric:
            conn.execute(
                sql.SQL(
                    "insert into phi_scan_number (kind, source, num)"
                    " select distinct %(kind)s, %(source)s, {col}::numeric from {tbl}"
                    " where pg_input_is_valid({col}, 'numeric') and {col} ~ '[.]'"
                ).format(**fmt),
                params,
            )
        if kind.digits:
            # written the usual ways: 999-12-3456 or (555) 123-4567 normalise to the digit groups
            conn.execute(
                sql.SQL(
                    "insert into phi_scan_ident (kind, source, norm)"
                    " select distinct %(kind)s, %(source)s, grouped"
                    " from (select regexp_replace({col}, '[^0-9]', '', 'g') as digits from {tbl}) as d"
                    " cross join lateral (values (digits),"
                    " (regexp_replace(digits, '^([0-9]{{3}})([0-9]{{2}})([0-9]{{4}})$', '\\1 \\2 \\3')),"
                    " (regexp_replace(digits, '^([0-9]{{3}})([0-9]{{3}})([0-9]{{4}})$', '\\1 \\2 \\3'))) as v (grouped)"
                    " where length(digits) >= %(digits)s"
                ).format(**fmt),
                {**params, "digits": MIN_NUMERIC_DIGITS},
            )
            conn.execute(
                sql.SQL(
                    "insert into phi_scan_number (kind, source, num)"
                    " select distinct %(kind)s, %(source)s, digits::numeric"
                    " from (select regexp_replace({col}, '[^0-9]', '', 'g') as digits from {tbl}) as d"
                    " where length(digits) >= %(digits)s"
                ).format(**fmt),
                {**params, "digits": MIN_NUMERIC_DIGITS},
            )
    compact = [k.name for k in KINDS.values() if k.compact]
    conn.execute(
        "insert into phi_scan_ident (kind, source, norm)"
        " select distinct kind, source, replace(norm, ' ', '') from phi_scan_ident"
        " where kind = any(%s) and norm like '%% %%'",
        (compact,),
    )
    # the anchor: the identifier's longest token, the one most unlikely to occur by chance
    conn.execute(
        "update phi_scan_ident set anchor = (select t from regexp_split_to_table(norm, ' ') as t"
        " order by length(t) desc, t limit 1)"
    )
    conn.execute("analyze phi_scan_ident")
    conn.execute("analyze phi_scan_number")


def _collect_omop_values(conn: psycopg.Connection, omop_schema: str, omop_columns: dict[str, dict[str, str]]) -> None:
    """Distinct normalised text values per column, and numeric values equal to a numeric identifier."""
    conn.execute(
        "create temp table phi_scan_text (tbl text not null, col text not null, norm text not null,"
        " n_rows bigint not null) on commit drop"
    )
    conn.execute(
        "create temp table phi_scan_num_hit (tbl text not null, col text not null, kind text not null,"
        " source text not null, num numeric not null, n_rows bigint not null) on commit drop"
    )
    for table, columns in sorted(omop_columns.items()):
        relation = sql.Identifier(omop_schema, table)
        text_cols = [c for c, t in columns.items() if t in _TEXT_TYPES]
        num_cols = [c for c, t in columns.items() if t in _NUMERIC_TYPES]
        if text_cols:
            values = sql.SQL(", ").join(
                sql.SQL("({}, {}::text)").format(sql.Literal(c), sql.Identifier(c)) for c in text_cols
            )
            conn.execute(
                sql.SQL(
                    """
                    insert into phi_scan_text (tbl, col, norm, n_rows)
                    select {table}, col, {norm}, sum(n_rows)
                    from (
                        select v.col, v.val, count(*) as n_rows
                        from {relation} cross join lateral (values {values}) as v (col, val)
                        where v.val is not null
                        group by v.col, v.val
                    ) as per_value
                    group by col, {norm}
                    having {norm} <> ''
                    """
                ).format(table=sql.Literal(table), relation=relation, values=values, norm=_normalised(sql.SQL("val")))
            )
        if num_cols:
            values = sql.SQL(", ").join(
                sql.SQL("({}, {}::numeric)").format(sql.Literal(c), sql.Identifier(c)) for c in num_cols
            )
            conn.execute(
                sql.SQL(
                    """
                    insert into phi_scan_num_hit (tbl, col, kind, source, num, n_rows)
                    select {table}, v.col, i.kind, i.source, i.num, count(*)
                    from {relation} cross join lateral (values {values}) as v (col, num)
                    inner join phi_scan_number as i on i.num = v.num
                    group by v.col, i.kind, i.source, i.num
                    """
                ).format(table=sql.Literal(table), relation=relation, values=values)
            )
    conn.execute("analyze phi_scan_text")


_TEXT_FINDINGS = """
with distinct_values as (
    select distinct norm from phi_scan_text
),

tokens as (
    select distinct v.norm, t.token
    from distinct_values as v
    cross join lateral regexp_split_to_table(v.norm, ' ') as t (token)
),

matched as (
    -- a whole value
    select i.kind, i.source, i.norm as ident, v.norm
    from phi_scan_ident as i
    inner join distinct_values as v on v.norm = i.norm
    union
    -- a run of whole tokens inside a longer value: candidates by anchor, then verified
    select i.kind, i.source, i.norm as ident, t.norm
    from phi_scan_ident as i
    inner join tokens as t on t.token = i.anchor
    where length(i.norm) >= %(min_token)s
        and position(' ' || i.norm || ' ' in ' ' || t.norm || ' ') > 0
),

hits as (
    select x.tbl, x.col, m.kind, m.source, m.ident, x.norm, x.n_rows
    from matched as m
    inner join phi_scan_text as x on x.norm = m.norm
),

rows_per_kind as (
    select tbl, col, kind, sum(n_rows) as n_rows
    from (select distinct tbl, col, kind, norm, n_rows from hits) as per_value
    group by tbl, col, kind
)

select
    h.tbl,
    h.col,
    h.kind,
    array_agg(distinct h.source order by h.source) as sources,
    r.n_rows,
    count(distinct h.ident) as n_values,
    left(min(h.ident), %(prefix)s) || '…' as example
from hits as h
inner join rows_per_kind as r on r.tbl = h.tbl and r.col = h.col and r.kind = h.kind
group by h.tbl, h.col, h.kind, r.n_rows
order by h.tbl, h.col, h.kind
"""


def _text_findings(conn: psycopg.Connection) -> list[Finding]:
    rows = conn.execute(_TEXT_FINDINGS, {"min_token": MIN_TOKEN_LENGTH, "prefix": EXAMPLE_PREFIX}).fetchall()
    return [Finding(t, c, k, tuple(s), int(n), int(v), e) for t, c, k, s, n, v, e in rows]


def _numeric_findings(conn: psycopg.Connection) -> list[Finding]:
    rows = conn.execute(
        """
        select tbl, col, kind, array_agg(distinct source order by source), sum(n_rows), count(distinct num),
            left(min(num)::text, %s) || '…'
        from phi_scan_num_hit
        group by tbl, col, kind
        order by tbl, col, kind
        """,
        (EXAMPLE_PREFIX,),
    ).fetchall()
    return [Finding(t, c, k, tuple(s), int(n), int(v), e) for t, c, k, s, n, v, e in rows]


# ---------------------------------------------------------------------------------- dates


def scan_dates(
    conn: psycopg.Connection,
    deid_key: str | None,
    *,
    omop_schema: str = "omop",
    raw_schema: str = "raw",
    shift_range: tuple[int, int] = DEFAULT_SHIFT_RANGE,
) -> list[Finding]:
    """Persons whose OMOP dates are the raw dates, or not shifted by one in-range offset."""
    low, high = shift_range
    if low > high or high >= 0:
        raise ValueError(f"shift_range {shift_range}: need low <= high < 0")
    _require_patients(_columns(conn, raw_schema), raw_schema)
    patient_ids = [
        row[0]
        for row in conn.execute(
            sql.SQL("select distinct id from {} where id is not null").format(sql.Identifier(raw_schema, "patients"))
        )
    ]
    with conn.transaction():
        _collect_links(conn, patient_ids, deid_key)
        rows = conn.execute(
            sql.SQL(_DATE_FINDINGS).format(
                person=sql.Identifier(omop_schema, "person"),
                visit=sql.Identifier(omop_schema, "visit_occurrence"),
                death=sql.Identifier(omop_schema, "death"),
                patients=sql.Identifier(raw_schema, "patients"),
                encounters=sql.Identifier(raw_schema, "encounters"),
            ),
            {
                "low": low,
                "high": high,
                "aggregated_age": f"{AGGREGATED_AGE_YEARS} years",
                "age_cut": f"{AGE_CUT_YEARS} years",
            },
        ).fetchall()
        conn.execute("drop table phi_scan_link")
    return [Finding(t, c, k, tuple(s), int(n), int(n), e) for t, c, k, s, n, e in rows]


def _collect_links(conn: psycopg.Connection, patient_ids: Sequence[str], deid_key: str | None) -> None:
    """person_source_value -> raw patient id: the keyed pseudonym, and the raw id itself (a leak, reported apart)."""
    conn.execute("create temp table phi_scan_link (link text not null, patient_id text not null) on commit drop")
    with conn.cursor().copy("copy phi_scan_link (link, patient_id) from stdin") as copy:
        for patient_id in patient_ids:
            copy.write_row((patient_id, patient_id))
            if deid_key:
                copy.write_row((person_pseudonym(patient_id, deid_key), patient_id))
    conn.execute("analyze phi_scan_link")


_DATE_FINDINGS = """
with raw_patient as (
    select distinct on (id)
        id,
        case when pg_input_is_valid(birthdate, 'date') then birthdate::date end as birth_date,
        case when pg_input_is_valid(deathdate, 'date') then deathdate::date end as death_date
    from {patients}
    where id is not null
    order by id, _loaded_at desc, _line_number desc
),

raw_first_visit as (
    -- encounters more than 90 years before the person's death (or today) are left out by the
    -- 90+ rule in safe_harbor; the shift cancels out of that cut, so it applies to raw dates
    select e.patient as id, min(left(e.start, 10)::date) as first_date
    from {encounters} as e
    left join raw_patient as r on r.id = e.patient
    where
        pg_input_is_valid(left(e.start, 10), 'date')
        and left(e.start, 10)::date >= coalesce(r.death_date, current_date) - %(age_cut)s::interval
    group by e.patient
),

person as (
    select
        p.person_id,
        l.patient_id,
        p.birth_datetime::date as birth_from_datetime,
        case
            when p.year_of_birth is not null and p.month_of_birth is not null and p.day_of_birth is not null
                and pg_input_is_valid(
                    format('%%s-%%s-%%s', p.year_of_birth, p.month_of_birth, p.day_of_birth), 'date'
                )
                then make_date(p.year_of_birth, p.month_of_birth, p.day_of_birth)
        end as birth_from_parts
    from {person} as p
    left join phi_scan_link as l on l.link = p.person_source_value
),

omop_first_visit as (
    select person_id, min(visit_start_date) as first_date
    from {visit}
    group by person_id
),

omop_death as (
    select person_id, min(death_date) as death_date
    from {death}
    group by person_id
),

shifts as (
    -- one row per person and compared date: (table, column, raw source, shift in days)
    select p.person_id, s.tbl, s.col, s.source, s.shift, s.is_birth
    from person as p
    inner join raw_patient as r on r.id = p.patient_id
    left join raw_first_visit as rv on rv.id = p.patient_id
    left join omop_first_visit as ov on ov.person_id = p.person_id
    left join omop_death as od on od.person_id = p.person_id
    cross join lateral (
        values
            ('person', 'birth_datetime', 'raw.patients.birthdate', p.birth_from_datetime - r.birth_date, true),
            (
                'person', 'year_of_birth, month_of_birth, day_of_birth', 'raw.patients.birthdate',
                p.birth_from_parts - r.birth_date, true
            ),
            ('visit_occurrence', 'visit_start_date', 'raw.encounters.start', ov.first_date - rv.first_date, false),
            ('death', 'death_date', 'raw.patients.deathdate', od.death_date - r.death_date, false)
    ) as s (tbl, col, source, shift, is_birth)
    where s.shift is not null
        -- ages over 89 may be aggregated: their birth date need not follow the shift
        and not (s.is_birth and r.birth_date <= current_date - %(aggregated_age)s::interval)
),

event_shift as (
    select person_id, shift from shifts where tbl = 'visit_occurrence'
),

failures as (
    select s.tbl, s.col, s.source, 'unshifted_' || case
        when s.is_birth then 'birth_date' when s.tbl = 'death' then 'death_date' else 'event_date'
    end as kind, s.person_id, s.shift
    from shifts as s
    where s.shift = 0
    union all
    select s.tbl, s.col, s.source, 'date_shift_out_of_range', s.person_id, s.shift
    from shifts as s
    where s.shift <> 0 and s.shift not between %(low)s and %(high)s
    union all
    select s.tbl, s.col, s.source || ' vs raw.encounters.start', 'inconsistent_date_shift', s.person_id, s.shift
    from shifts as s
    inner join event_shift as e on e.person_id = s.person_id
    where s.tbl <> 'visit_occurrence' and s.shift <> e.shift
    union all
    select 'person', 'person_source_value', 'raw.patients.id', 'unlinked_person', p.person_id, null
    from person as p
    where p.patient_id is null
)

select
    tbl,
    col,
    kind,
    array[source],
    count(distinct person_id),
    'person_id ' || min(person_id) || coalesce(', shift ' || min(shift) || '..' || max(shift) || ' days', '')
from failures
group by tbl, col, kind, source
order by tbl, col, kind
"""
