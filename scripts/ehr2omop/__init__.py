"""ehr2omop: raw EHR extracts to a de-identified OMOP CDM v5.4 on PostgreSQL."""

__version__ = "0.1.0"
