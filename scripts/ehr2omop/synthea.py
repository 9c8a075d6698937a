"""The Synthea CSV format: which files exist, their columns per version, what is required.

One registry used by the loader (header checks, raw table layout), the generator
(what to write) and the tests. Raw column names are the CSV header lowercased.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Entity:
    """One Synthea CSV file (``<name>.csv``) and its raw table ``raw.<name>``."""

    name: str
    v3_0: tuple[str, ...]
    v3_3: tuple[str, ...]
    # Each item is a column that must be in the header; a tuple item means
    # "one of these" (a column renamed between Synthea versions).
    required: tuple[str | tuple[str, ...], ...]
    required_file: bool = False

    @property
    def known_columns(self) -> tuple[str, ...]:
        """Union of both versions' columns, v3.0 order first, lowercased."""
        seen: dict[str, None] = {}
        for col in self.v3_0 + self.v3_3:
            seen.setdefault(col.lower(), None)
        return tuple(seen)

    def missing_required(self, header: list[str]) -> list[str]:
        """Required columns absent from ``header`` (case-insensitive)."""
        present = {h.strip().lower() for h in header}
        missing = []
        for item in self.required:
            options = (item,) if isinstance(item, str) else item
            if not any(o.lower() in present for o in options):
                missing.append("|".join(options))
        return missing


def _cols(text: str) -> tuple[str, ...]:
    return tuple(text.split(","))


_ENTITIES = [
    Entity(
        "patients",
        _cols(
            "Id,BIRTHDATE,DEATHDATE,SSN,DRIVERS,PASSPORT,PREFIX,FIRST,LAST,SUFFIX,MAIDEN,"
            "MARITAL,RACE,ETHNICITY,GENDER,BIRTHPLACE,ADDRESS,CITY,STATE,COUNTY,ZIP,LAT,LON,"
            "HEALTHCARE_EXPENSES,HEALTHCARE_COVERAGE"
        ),
        _cols(
            "Id,BIRTHDATE,DEATHDATE,SSN,DRIVERS,PASSPORT,PREFIX,FIRST,MIDDLE,LAST,SUFFIX,MAIDEN,"
            "MARITAL,RACE,ETHNICITY,GENDER,BIRTHPLACE,ADDRESS,CITY,STATE,COUNTY,FIPS,ZIP,LAT,LON,"
            "HEALTHCARE_EXPENSES,HEALTHCARE_COVERAGE,INCOME"
        ),
        ("Id", "BIRTHDATE", "GENDER"),
        required_file=True,
    ),
    Entity(
        "encounters",
        _cols(
            "Id,START,STOP,PATIENT,ORGANIZATION,PROVIDER,PAYER,ENCOUNTERCLASS,CODE,DESCRIPTION,"
            "BASE_ENCOUNTER_COST,TOTAL_CLAIM_COST,PAYER_COVERAGE,REASONCODE,REASONDESCRIPTION"
        ),
        _cols(
            "Id,START,STOP,PATIENT,ORGANIZATION,PROVIDER,PAYER,ENCOUNTERCLASS,CODE,DESCRIPTION,"
            "BASE_ENCOUNTER_COST,TOTAL_CLAIM_COST,PAYER_COVERAGE,REASONCODE,REASONDESCRIPTION"
        ),
        ("Id", "START", "PATIENT", "ENCOUNTERCLASS", "CODE"),
    ),
    Entity(
        "conditions",
        _cols("START,STOP,PATIENT,ENCOUNTER,CODE,DESCRIPTION"),
        _cols("START,STOP,PATIENT,ENCOUNTER,SYSTEM,CODE,DESCRIPTION"),
        ("START", "PATIENT", "ENCOUNTER", "CODE"),
    ),
    Entity(
        "medications",
        _cols(
            "START,STOP,PATIENT,PAYER,ENCOUNTER,CODE,DESCRIPTION,BASE_COST,PAYER_COVERAGE,"
            "DISPENSES,TOTALCOST,REASONCODE,REASONDESCRIPTION"
        ),
        _cols(
            "START,STOP,PATIENT,PAYER,ENCOUNTER,CODE,DESCRIPTION,BASE_COST,PAYER_COVERAGE,"
            "DISPENSES,TOTALCOST,REASONCODE,REASONDESCRIPTION"
        ),
        ("START", "PATIENT", "ENCOUNTER", "CODE"),
    ),
    Entity(
        "observations",
        _cols("DATE,PATIENT,ENCOUNTER,CATEGORY,CODE,DESCRIPTION,VALUE,UNITS,TYPE"),
        _cols("DATE,PATIENT,ENCOUNTER,CATEGORY,CODE,DESCRIPTION,VALUE,UNITS,TYPE"),
        ("DATE", "PATIENT", "ENCOUNTER", "CODE", "VALUE"),
    ),
    Entity(
        "procedures",
        _cols("START,STOP,PATIENT,ENCOUNTER,CODE,DESCRIPTION,BASE_COST,REASONCODE,REASONDESCRIPTION"),
        _cols("START,STOP,PATIENT,ENCOUNTER,CODE,DESCRIPTION,BASE_COST,REASONCODE,REASONDESCRIPTION"),
        ("START", "PATIENT", "ENCOUNTER", "CODE"),
    ),
    Entity(
        "immunizations",
        _cols("DATE,PATIENT,ENCOUNTER,CODE,DESCRIPTION,BASE_COST"),
        _cols("DATE,PATIENT,ENCOUNTER,CODE,DESCRIPTION,BASE_COST"),
        ("DATE", "PATIENT", "ENCOUNTER", "CODE"),
    ),
    Entity(
        "allergies",
        _cols(
            "START,STOP,PATIENT,ENCOUNTER,CODE,SYSTEM,DESCRIPTION,TYPE,CATEGORY,REACTION1,"
            "DESCRIPTION1,SEVERITY1,REACTION2,DESCRIPTION2,SEVERITY2"
        ),
        _cols(
            "START,STOP,PATIENT,ENCOUNTER,CODE,SYSTEM,DESCRIPTION,TYPE,CATEGORY,REACTION1,"
            "DESCRIPTION1,SEVERITY1,REACTION2,DESCRIPTION2,SEVERITY2"
        ),
        ("START", "PATIENT", "ENCOUNTER", "CODE"),
    ),
    Entity(
        "careplans",
        _cols("Id,START,STOP,PATIENT,ENCOUNTER,CODE,DESCRIPTION,REASONCODE,REASONDESCRIPTION"),
        _cols("Id,START,STOP,PATIENT,ENCOUNTER,CODE,DESCRIPTION,REASONCODE,REASONDESCRIPTION"),
        ("Id", "START", "PATIENT", "ENCOUNTER", "CODE"),
    ),
    Entity(
        "devices",
        _cols("START,STOP,PATIENT,ENCOUNTER,CODE,DESCRIPTION,UDI"),
        _cols("START,STOP,PATIENT,ENCOUNTER,CODE,DESCRIPTION,UDI"),
        ("START", "PATIENT", "ENCOUNTER", "CODE"),
    ),
    Entity(
        "supplies",
        _cols("DATE,PATIENT,ENCOUNTER,CODE,DESCRIPTION,QUANTITY"),
        _cols("DATE,PATIENT,ENCOUNTER,CODE,DESCRIPTION,QUANTITY"),
        ("DATE", "PATIENT", "ENCOUNTER", "CODE"),
    ),
    Entity(
        "imaging_studies",
        _cols(
            "Id,DATE,PATIENT,ENCOUNTER,SERIES_UID,BODYSITE_CODE,BODYSITE_DESCRIPTION,MODALITY_CODE,"
            "MODALITY_DESCRIPTION,INSTANCE_UID,SOP_CODE,SOP_DESCRIPTION,PROCEDURE_CODE"
        ),
        _cols(
            "Id,DATE,PATIENT,ENCOUNTER,SERIES_UID,BODYSITE_CODE,BODYSITE_DESCRIPTION,MODALITY_CODE,"
            "MODALITY_DESCRIPTION,INSTANCE_UID,SOP_CODE,SOP_DESCRIPTION,PROCEDURE_CODE"
        ),
        ("Id", "DATE", "PATIENT", "ENCOUNTER"),
    ),
    Entity(
        "organizations",
        _cols("Id,NAME,ADDRESS,CITY,STATE,ZIP,LAT,LON,PHONE,REVENUE,UTILIZATION"),
        _cols("Id,NAME,ADDRESS,CITY,STATE,ZIP,LAT,LON,PHONE,REVENUE,UTILIZATION"),
        ("Id", "NAME"),
    ),
    Entity(
        "providers",
        _cols("Id,ORGANIZATION,NAME,GENDER,SPECIALITY,ADDRESS,CITY,STATE,ZIP,LAT,LON,UTILIZATION"),
        _cols("Id,ORGANIZATION,NAME,GENDER,SPECIALITY,ADDRESS,CITY,STATE,ZIP,LAT,LON,ENCOUNTERS,PROCEDURES"),
        ("Id", "ORGANIZATION"),
    ),
    Entity(
        "payers",
        _cols(
            "Id,NAME,ADDRESS,CITY,STATE_HEADQUARTERED,ZIP,PHONE,AMOUNT_COVERED,AMOUNT_UNCOVERED,"
            "REVENUE,COVERED_ENCOUNTERS,UNCOVERED_ENCOUNTERS,COVERED_MEDICATIONS,"
            "UNCOVERED_MEDICATIONS,COVERED_PROCEDURES,UNCOVERED_PROCEDURES,COVERED_IMMUNIZATIONS,"
            "UNCOVERED_IMMUNIZATIONS,UNIQUE_CUSTOMERS,QOLS_AVG,MEMBER_MONTHS"
        ),
        _cols(
            "Id,NAME,OWNERSHIP,ADDRESS,CITY,STATE_HEADQUARTERED,ZIP,PHONE,AMOUNT_COVERED,"
            "AMOUNT_UNCOVERED,REVENUE,COVERED_ENCOUNTERS,UNCOVERED_ENCOUNTERS,COVERED_MEDICATIONS,"
            "UNCOVERED_MEDICATIONS,COVERED_PROCEDURES,UNCOVERED_PROCEDURES,COVERED_IMMUNIZATIONS,"
            "UNCOVERED_IMMUNIZATIONS,UNIQUE_CUSTOMERS,QOLS_AVG,MEMBER_MONTHS"
        ),
        ("Id", "NAME"),
    ),
    Entity(
        "payer_transitions",
        _cols("PATIENT,MEMBERID,START_YEAR,END_YEAR,PAYER,SECONDARY_PAYER,OWNERSHIP,OWNERNAME"),
        _cols("PATIENT,MEMBERID,START_DATE,END_DATE,PAYER,SECONDARY_PAYER,PLAN_OWNERSHIP,OWNER_NAME"),
        ("PATIENT", "PAYER", ("START_DATE", "START_YEAR")),
    ),
    Entity(
        "claims",
        _cols(
            "Id,PATIENTID,PROVIDERID,PRIMARYPATIENTINSURANCEID,SECONDARYPATIENTINSURANCEID,"
            "DEPARTMENTID,PATIENTDEPARTMENTID,DIAGNOSIS1,DIAGNOSIS2,DIAGNOSIS3,DIAGNOSIS4,"
            "DIAGNOSIS5,DIAGNOSIS6,DIAGNOSIS7,DIAGNOSIS8,REFERRINGPROVIDERID,APPOINTMENTID,"
            "CURRENTILLNESSDATE,SERVICEDATE,SUPERVISINGPROVIDERID,STATUS1,STATUS2,STATUSP,"
            "OUTSTANDING1,OUTSTANDING2,OUTSTANDINGP,LASTBILLEDDATE1,LASTBILLEDDATE2,"
            "LASTBILLEDDATEP,HEALTHCARECLAIMTYPEID1,HEALTHCARECLAIMTYPEID2"
        ),
        _cols(
            "Id,PATIENTID,PROVIDERID,PRIMARYPATIENTINSURANCEID,SECONDARYPATIENTINSURANCEID,"
            "DEPARTMENTID,PATIENTDEPARTMENTID,DIAGNOSIS1,DIAGNOSIS2,DIAGNOSIS3,DIAGNOSIS4,"
            "DIAGNOSIS5,DIAGNOSIS6,DIAGNOSIS7,DIAGNOSIS8,REFERRINGPROVIDERID,APPOINTMENTID,"
            "CURRENTILLNESSDATE,SERVICEDATE,SUPERVISINGPROVIDERID,STATUS1,STATUS2,STATUSP,"
            "OUTSTANDING1,OUTSTANDING2,OUTSTANDINGP,LASTBILLEDDATE1,LASTBILLEDDATE2,"
            "LASTBILLEDDATEP,HEALTHCARECLAIMTYPEID1,HEALTHCARECLAIMTYPEID2"
        ),
        ("Id", "PATIENTID"),
    ),
    Entity(
        "claims_transactions",
        _cols(
            "ID,CLAIMID,CHARGEID,PATIENTID,TYPE,AMOUNT,METHOD,FROMDATE,TODATE,PLACEOFSERVICE,"
            "PROCEDURECODE,MODIFIER1,MODIFIER2,DIAGNOSISREF1,DIAGNOSISREF2,DIAGNOSISREF3,"
            "DIAGNOSISREF4,UNITS,DEPARTMENTID,NOTES,UNITAMOUNT,TRANSFEROUTID,TRANSFERTYPE,PAYMENTS,"
            "ADJUSTMENTS,TRANSFERS,OUTSTANDING,APPOINTMENTID,LINENOTE,PATIENTINSURANCEID,"
            "FEESCHEDULEID,PROVIDERID,SUPERVISINGPROVIDERID"
        ),
        _cols(
            "ID,CLAIMID,CHARGEID,PATIENTID,TYPE,AMOUNT,METHOD,FROMDATE,TODATE,PLACEOFSERVICE,"
            "PROCEDURECODE,MODIFIER1,MODIFIER2,DIAGNOSISREF1,DIAGNOSISREF2,DIAGNOSISREF3,"
            "DIAGNOSISREF4,UNITS,DEPARTMENTID,NOTES,UNITAMOUNT,TRANSFEROUTID,TRANSFERTYPE,PAYMENTS,"
            "ADJUSTMENTS,TRANSFERS,OUTSTANDING,APPOINTMENTID,LINENOTE,PATIENTINSURANCEID,"
            "FEESCHEDULEID,PROVIDERID,SUPERVISINGPROVIDERID"
        ),
        ("ID", "CLAIMID", "PATIENTID", "TYPE"),
    ),
]

ENTITIES: dict[str, Entity] = {e.name: e for e in _ENTITIES}

# Metadata columns the loader adds to every raw table, in this order.
RAW_META_COLUMNS: tuple[tuple[str, str], ...] = (
    ("_batch_id", "text not null"),
    ("_file_name", "text not null"),
    ("_line_number", "bigint not null"),
    ("_loaded_at", "timestamptz not null default now()"),
)
