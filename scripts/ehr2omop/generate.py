"""A synthetic extract in Synthea's CSV format, for the demo and for tests.

This is not Synthea. It writes the 18 files Synthea writes, with the header of Synthea v3.0 or
v3.3 (taken from :mod:`ehr2omop.synthea`), Synthea's value formats, and a lighter but plausible
density of events per patient. Clinical codes come from the demo vocabulary shipped beside this
module (``demo_vocabulary/``), plus two kinds of noise every real extract has:

* local codes (:data:`LOCAL_CODE_PREFIX`) that no vocabulary knows but that the project maps
  itself, in ``seeds/demo_source_to_concept_map.csv``;
* codes that map to nothing (:data:`UNMAPPED_CODES`).

Everything is drawn from one ``random.Random(seed)`` and "today" is the fixed
:data:`EXTRACT_DATE`, so the same arguments always give byte-identical files.
"""

from __future__ import annotations

import csv
import os
from bisect import bisect_right
from collections.abc import Callable, Sequence
from datetime import date
from functools import cache
from operator import itemgetter
from pathlib import Path
from random import Random
from typing import IO, Any, NamedTuple

from ehr2omop.errors import UserError
from ehr2omop.synthea import ENTITIES

__all__ = [
    "EXTRACT_DATE",
    "LOCAL_CODES",
    "LOCAL_CODE_PREFIX",
    "UNMAPPED_CODES",
    "UNMAPPED_CODE_PREFIX",
    "VERSIONS",
    "generate_synthea",
    "split_follow_up",
]

# "Today" for every generated extract: nothing happens after this day.
EXTRACT_DATE = date(2025, 12, 31)
VERSIONS = ("3.0", "3.3")

LOCAL_CODE_PREFIX = "EHR-"
UNMAPPED_CODE_PREFIX = "NOMAP-"
LOCAL_SYSTEM = "LOCAL"

_EXTRACT_DAY = EXTRACT_DATE.toordinal()
_FIRST_BIRTH = date(1930, 1, 1).toordinal()
_LAST_BIRTH = date(2024, 12, 31).toordinal()
_COVID_FROM = date(2020, 3, 1).toordinal()
_EPOCH_SEC = date(1970, 1, 1).toordinal() * 86_400
_DAY = 86_400
_YEAR = 365.25
_FLUSH_EVERY = 500  # patients between two writes of the buffered rows


class LocalCode(NamedTuple):
    """A site-local code, mapped by the project's custom source_to_concept_map seed."""

    code: str
    description: str
    table: str  # "conditions" or "observations"
    units: str = ""
    low: float = 0.0
    high: float = 0.0


# Keep in step with seeds/demo_source_to_concept_map.csv (a test compares the two).
LOCAL_CODES: tuple[LocalCode, ...] = (
    LocalCode("EHR-LAB-0001", "Glucose blood (local lab code)", "observations", "mg/dL", 70, 180),
    LocalCode("EHR-LAB-0002", "HbA1c blood (local lab code)", "observations", "%", 4.5, 9.5),
    LocalCode("EHR-LAB-0003", "LDL cholesterol direct (local lab code)", "observations", "mg/dL", 60, 200),
    LocalCode("EHR-LAB-0004", "Creatinine blood (local lab code)", "observations", "mg/dL", 0.5, 2.0),
    LocalCode("EHR-LAB-0005", "Sodium blood (local lab code)", "observations", "mmol/L", 133, 147),
    LocalCode("EHR-LAB-0006", "Hemoglobin blood (local lab code)", "observations", "g/dL", 9, 17),
    LocalCode("EHR-DX-0001", "High blood pressure (local problem list)", "conditions"),
    LocalCode("EHR-DX-0002", "Diabetes type II (local problem list)", "conditions"),
    LocalCode("EHR-DX-0003", "Asthma (local problem list)", "conditions"),
    LocalCode("EHR-DX-0004", "Back pain chronic low (local problem list)", "conditions"),
)

# Codes no vocabulary and no seed maps: one per table that receives noise.
UNMAPPED_CODES: dict[str, tuple[str, str]] = {
    "conditions": ("NOMAP-DX-0001", "Legacy problem list entry (no mapping)"),
    "observations": ("NOMAP-LAB-0001", "Legacy point-of-care test (no mapping)"),
    "procedures": ("NOMAP-PX-0001", "Legacy procedure code (no mapping)"),
    "medications": ("NOMAP-RX-0001", "Compounded preparation (no mapping)"),
}
# Tables whose rows may carry a local code / an unmapped code instead of a vocabulary code.
LOCAL_CODE_TABLES = ("conditions", "observations")
UNMAPPED_CODE_TABLES = tuple(UNMAPPED_CODES)

# --- clinical content (codes of the demo vocabulary; descriptions as Synthea writes them) ------


class Cond(NamedTuple):
    code: str
    desc: str
    weight: float
    min_age: int
    max_age: int
    sex: str  # "" = both
    days: tuple[int, int]  # duration range; (0, 0) = chronic, no STOP
    meds: tuple[str, ...] = ()
    careplan: str = ""
    icd10: tuple[str, str] | None = None  # an ICD-10-CM code Synthea v3.3 may write instead


# One line per condition reads better than the formatter's one-value-per-line layout.
# fmt: off
ACUTE = (
    Cond("195662009", "Acute viral pharyngitis (disorder)", 10, 2, 99, "", (7, 14), ("313782",)),
    Cond("444814009", "Viral sinusitis (disorder)", 10, 2, 99, "", (10, 21), ("198440",)),
    Cond("10509002", "Acute bronchitis (disorder)", 7, 0, 99, "", (7, 21), ("313782",)),
    Cond("43878008", "Streptococcal sore throat (disorder)", 5, 3, 60, "", (7, 14), ("562251",)),
    Cond("65363002", "Otitis media", 6, 0, 12, "", (7, 21), ("562251",)),
    Cond("307426000", "Acute infective cystitis (disorder)", 3, 16, 99, "F", (5, 14)),
    Cond("44465007", "Sprain of ankle", 4, 6, 80, "", (14, 42), ("849574",), "408869004"),
    Cond("125605004", "Fracture of bone (disorder)", 3, 3, 99, "", (42, 84), ("857005",), "385691007"),
    Cond("312608009", "Laceration - injury (disorder)", 3, 2, 99, "", (10, 21), (), "225358003"),
    Cond("110030002", "Concussion injury of brain (disorder)", 2, 5, 90, "", (14, 42), (), "47387005"),
    Cond("840539006", "COVID-19", 6, 0, 99, "", (14, 28), ("198440",)),
    Cond("386661006", "Fever (finding)", 4, 0, 99, "", (3, 7), ("198440",)),
    Cond("49727002", "Cough (finding)", 4, 0, 99, "", (5, 15)),
    Cond("84229001", "Fatigue (finding)", 2, 12, 99, "", (10, 30)),
    Cond("267036007", "Dyspnea (finding)", 2, 12, 99, "", (3, 10)),
    Cond("21522001", "Abdominal pain (finding)", 3, 2, 99, "", (2, 10)),
    Cond("80967001", "Dental caries", 3, 2, 99, "", (30, 180), icd10=("K02.9", "Dental caries  unspecified")),
    Cond("66383009", "Gingivitis (disorder)", 3, 10, 99, "", (30, 180)),
    Cond("2556008", "Periodontal disease", 2, 18, 99, "", (60, 365),
         icd10=("K05.6", "Periodontal disease  unspecified")),
    Cond("73595000", "Stress (finding)", 4, 16, 99, "", (30, 365)),
    Cond("40055000", "Chronic sinusitis (disorder)", 2, 16, 99, "", (90, 720)),
)
CHRONIC = (
    Cond("59621000", "Essential hypertension (disorder)", 10, 30, 99, "", (0, 0),
         ("314076", "310798", "308136", "197361"), "443402002"),
    Cond("44054006", "Diabetes mellitus type 2 (disorder)", 5, 35, 99, "", (0, 0), (), "718361005"),
    Cond("15777000", "Prediabetes", 6, 30, 99, "", (0, 0)),
    Cond("55822004", "Hyperlipidemia", 7, 30, 99, "", (0, 0), ("314231", "312961", "259255")),
    Cond("302870006", "Hypertriglyceridemia (disorder)", 3, 30, 99, "", (0, 0)),
    Cond("237602007", "Metabolic syndrome X (disorder)", 3, 30, 99, "", (0, 0)),
    Cond("271737000", "Anemia (disorder)", 4, 10, 99, "", (0, 0), ("310325",)),
    Cond("232353008", "Perennial allergic rhinitis with seasonal variation", 5, 3, 99, "", (0, 0),
         ("665078", "997488", "1049630"), "170836005"),
    Cond("195967001", "Asthma", 4, 2, 99, "", (0, 0), ("2123111", "895994"), "699728000"),
    Cond("185086009", "Chronic obstructive bronchitis (disorder)", 2, 45, 99, "", (0, 0), ("2123111",),
         "53950000"),
    Cond("82423001", "Chronic pain", 4, 25, 99, "", (0, 0), ("849574", "198405"), "384758001"),
    Cond("278860009", "Chronic low back pain (finding)", 4, 25, 99, "", (0, 0), ("849574",)),
    Cond("414545008", "Ischemic heart disease (disorder)", 3, 50, 99, "", (0, 0), ("309362", "705129")),
    Cond("431855005", "Chronic kidney disease stage 1 (disorder)", 2, 50, 99, "", (0, 0)),
    Cond("431856006", "Chronic kidney disease stage 2 (disorder)", 2, 55, 99, "", (0, 0)),
    Cond("433144002", "Chronic kidney disease stage 3 (disorder)", 1, 60, 99, "", (0, 0)),
    Cond("370143000", "Major depressive disorder", 3, 15, 99, "", (0, 0), (), "384758001"),
)
# fmt: on
_CHRONIC_BY_CODE = {c.code: c for c in CHRONIC}
INPATIENT_CAUSES = tuple(c for c in ACUTE if c.code in ("125605004", "840539006", "10509002", "110030002", "21522001"))
MYOCARDIAL_INFARCTION = Cond("22298006", "Myocardial infarction (disorder)", 1, 45, 99, "", (30, 90), ("309362",))
PREGNANCY = Cond("72892002", "Normal pregnancy", 1, 18, 42, "F", (266, 280), (), "134435003")
# Findings Synthea records as conditions; their standard concepts live in the Observation domain.
MEDICATION_REVIEW = ("314529007", "Medication review due (situation)")
EMPLOYED = ("160903007", "Full-time employment (finding)")
UNEMPLOYED = ("73438004", "Unemployed (finding)")
OBESITY = ("162864005", "Body mass index 30+ - obesity (finding)")

DRUGS: dict[str, tuple[str, float]] = {  # code -> (description, base cost per dispense)
    "310798": ("Hydrochlorothiazide 25 MG Oral Tablet", 12.0),
    "314076": ("lisinopril 10 MG Oral Tablet", 9.5),
    "308136": ("amLODIPine 2.5 MG Oral Tablet", 11.0),
    "197361": ("Amlodipine 5 MG Oral Tablet", 13.0),
    "314231": ("Simvastatin 10 MG Oral Tablet", 15.0),
    "312961": ("Simvastatin 20 MG Oral Tablet", 18.0),
    "259255": ("Atorvastatin 80 MG Oral Tablet", 24.0),
    "313782": ("Acetaminophen 325 MG Oral Tablet", 6.0),
    "198440": ("Acetaminophen 500 MG Oral Tablet", 6.5),
    "2123111": ("NDA020503 200 ACTUAT Albuterol 0.09 MG/ACTUAT Metered Dose Inhaler", 45.0),
    "895994": ("120 ACTUAT Fluticasone propionate 0.044 MG/ACTUAT Metered Dose Inhaler", 110.0),
    "562251": ("Amoxicillin 250 MG / Clavulanate 125 MG Oral Tablet", 22.0),
    "854235": ("0.4 ML Enoxaparin sodium 100 MG/ML Prefilled Syringe", 95.0),
    "849574": ("Naproxen sodium 220 MG Oral Tablet", 8.0),
    "198405": ("Ibuprofen 100 MG Oral Tablet", 5.0),
    "1000126": ("1 ML medroxyprogesterone acetate 150 MG/ML Injection", 60.0),
    "705129": ("Nitroglycerin 0.4 MG/ACTUAT Mucosal Spray", 35.0),
    "1870230": ("NDA020800 0.3 ML Epinephrine 1 MG/ML Auto-Injector", 300.0),
    "309362": ("Clopidogrel 75 MG Oral Tablet", 14.0),
    "857005": ("Acetaminophen 325 MG / HYDROcodone Bitartrate 7.5 MG Oral Tablet", 16.0),
    "665078": ("Loratadine 5 MG Chewable Tablet", 7.0),
    "1049630": ("diphenhydrAMINE Hydrochloride 25 MG Oral Tablet", 4.0),
    "310325": ("ferrous sulfate 325 MG Oral Tablet", 3.5),
    "997488": ("Fexofenadine hydrochloride 30 MG Oral Tablet", 9.0),
    "235389": ("Mestranol / Norethynodrel", 30.0),
}

PROCEDURES: dict[str, tuple[str, float]] = {  # code -> (description, base cost)
    "430193006": ("Medication Reconciliation (procedure)", 420.0),
    "171207006": ("Depression screening (procedure)", 430.0),
    "454711000124102": ("Depression screening using Patient Health Questionnaire Two-Item score (procedure)", 430.0),
    "710824005": ("Assessment of health and social care needs (procedure)", 430.0),
    "428211000124100": ("Assessment of substance use (procedure)", 430.0),
    "73761001": ("Colonoscopy", 9500.0),
    "40701008": ("Echocardiography (procedure)", 1500.0),
    "415070008": ("Percutaneous coronary intervention", 18000.0),
    "232717009": ("Coronary artery bypass grafting", 45000.0),
    "399208008": ("Chest X-ray", 350.0),
    "168594001": ("Plain X-ray of clavicle", 300.0),
    "76601001": ("Intramuscular injection", 80.0),
    "180256009": ("Subcutaneous immunotherapy", 300.0),
    "5880005": ("Physical examination of mother", 380.0),
    "274474001": ("Bone immobilization", 700.0),
    "252160004": ("Standard pregnancy test", 200.0),
    "169690007": ("Rubella screening", 250.0),
    "167271000": ("Urine protein test", 150.0),
}
# Imaging studies that go with X-ray procedures: body site code/description.
IMAGING_SITES = {"399208008": ("51185008", "Chest"), "168594001": ("51299004", "Clavicle")}

VACCINES: dict[str, str] = {
    "140": "Influenza  seasonal  injectable  preservative free",
    "113": "Td (adult)  5 Lf tetanus toxoid  preservative free  adsorbed",
    "20": "DTaP",
    "10": "IPV",
    "133": "Pneumococcal conjugate PCV 13",
    "62": "HPV  quadrivalent",
    "114": "meningococcal MCV4P",
    "49": "Hib (PRP-OMP)",
    "52": "Hep A  adult",
    "121": "zoster vaccine  live",
    "119": "rotavirus  monovalent",
    "21": "varicella",
    "83": "Hep A  ped/adol  2 dose",
    "43": "Hep B  adult",
    "115": "Tdap",
    "33": "pneumococcal polysaccharide vaccine  23 valent",
}
# First year each vaccine was given in the US (approximate): no vaccine before it existed.
VACCINE_SINCE = {
    code: date(year, 1, 1).toordinal()
    for code, year in (
        ("140", 2003), ("113", 1970), ("20", 1991), ("10", 1987), ("133", 2010), ("62", 2006), ("114", 2005),
        ("49", 1990), ("52", 1995), ("121", 2006), ("119", 2008), ("21", 1995), ("83", 2005), ("43", 1986),
        ("115", 2005), ("33", 1983),
    )
}  # fmt: skip
INFANT_VACCINES = ("20", "10", "133", "49", "119")
CHILD_VACCINES = ("20", "10", "21", "83")
TEEN_VACCINES = ("62", "114", "115")

CAREPLANS: dict[str, str] = {
    "134435003": "Routine antenatal care",
    "53950000": "Respiratory therapy",
    "443402002": "Lifestyle education regarding hypertension (procedure)",
    "225358003": "Wound care",
    "408869004": "Musculoskeletal care",
    "384758001": "Self-care interventions (procedure)",
    "385691007": "Fracture care",
    "47387005": "Head injury rehabilitation",
    "718361005": "Weight management program",
    "699728000": "Asthma self management",
    "170836005": "Allergic disorder monitoring",
}

DEVICES: dict[str, str] = {
    "228869008": "Manual wheelchair (physical object)",
    "337414009": "Blood glucose meter (physical object)",
    "170615005": "Home nebulizer (physical object)",
    "336621006": "Oxygen concentrator (physical object)",
    "702172008": "Home continuous positive airway pressure unit (physical object)",
    "705643001": "Coronary artery stent (physical object)",
    "72506001": "Implantable defibrillator  device (physical object)",
    "706180003": "Respiratory humidifier (physical object)",
    "706004007": "Implantable cardiac pacemaker (physical object)",
}
SUPPLIES: dict[str, str] = {
    "409526008": "Personal protective equipment (physical object)",
    "261352009": "Face mask (physical object)",
    "354068006": "Blood glucose monitoring equipment (physical object)",
    "336608004": "Oxygen cylinder (physical object)",
    "334947002": "Nebulizer (physical object)",
}

# (code, system, description, category)
ALLERGENS = (
    ("264287008", "SNOMED-CT", "Animal dander (substance)", "environment"),
    ("84489001", "SNOMED-CT", "Mold (organism)", "environment"),
    ("260147004", "SNOMED-CT", "House dust mite (organism)", "environment"),
    ("256277009", "SNOMED-CT", "Grass pollen (substance)", "environment"),
    ("782576004", "SNOMED-CT", "Tree pollen (substance)", "environment"),
    ("111088007", "SNOMED-CT", "Latex (substance)", "environment"),
    ("288328004", "SNOMED-CT", "Bee venom (substance)", "environment"),
    ("735971005", "SNOMED-CT", "Fish (substance)", "food"),
    ("735029006", "SNOMED-CT", "Shellfish (substance)", "food"),
    ("3718001", "SNOMED-CT", "Cow's milk (substance)", "food"),
    ("762952008", "SNOMED-CT", "Peanut (substance)", "food"),
    ("102263004", "SNOMED-CT", "Eggs (edible) (substance)", "food"),
    ("412071004", "SNOMED-CT", "Wheat (substance)", "food"),
    ("1191", "RxNorm", "Aspirin", "medication"),
    ("7984", "RxNorm", "Penicillin V", "medication"),
    ("419199007", "SNOMED-CT", "Allergy to substance (finding)", "environment"),
)
REACTIONS = (
    ("418290006", "Itching (finding)"),
    ("267036007", "Dyspnea (finding)"),
    ("21522001", "Abdominal pain (finding)"),
    ("419076005", "Allergic reaction (disorder)"),
    ("49727002", "Cough (finding)"),
)

ENCOUNTER_CODES: dict[str, tuple[tuple[str, str], ...]] = {
    "ambulatory": (
        ("185345009", "Encounter for symptom"),
        ("185347001", "Encounter for problem (procedure)"),
        ("390906007", "Follow-up encounter (procedure)"),
        ("698314001", "Consultation for treatment"),
        ("308335008", "Patient encounter procedure (procedure)"),
    ),
    "outpatient": (
        ("185349003", "Encounter for check up (procedure)"),
        ("371883000", "Outpatient procedure"),
        ("439740005", "Postoperative follow-up visit (procedure)"),
    ),
    # Synthea's urgent care code: a real SNOMED code with no 'Maps to' in the vocabulary.
    "urgentcare": (("702927004", "Urgent care clinic (environment)"),),
    "emergency": (("50849002", "Emergency room admission (procedure)"),),
    "inpatient": (
        ("32485007", "Hospital admission (procedure)"),
        ("183452005", "Emergency hospital admission (procedure)"),
        ("305408004", "Admission to surgical department"),
    ),
}
WELL_CHILD = ("410620009", "Well child visit (procedure)")
WELL_ADULT = ("162673000", "General examination of patient (procedure)")
PRENATAL = ("424619006", "Prenatal visit")

# Encounter class mix by age band: (upper age, classes, cumulative weights).
_CLASSES = ("wellness", "ambulatory", "outpatient", "urgentcare", "emergency", "inpatient")
_CLASS_MIX = (
    (2.0, (0.50, 0.78, 0.81, 0.89, 0.97, 1.0)),
    (18.0, (0.32, 0.66, 0.72, 0.84, 0.95, 1.0)),
    (999.0, (0.22, 0.58, 0.72, 0.82, 0.93, 1.0)),
)
# Encounter duration in seconds: (minimum, maximum).
_DURATION = {
    "wellness": (900, 2700),
    "ambulatory": (900, 2700),
    "outpatient": (900, 3600),
    "urgentcare": (1200, 5400),
    "emergency": (3600, 6 * 3600),
    "inpatient": (_DAY, 7 * _DAY),
}
_BASE_COST = {
    "wellness": 136.8,
    "ambulatory": 85.55,
    "outpatient": 85.55,
    "urgentcare": 142.58,
    "emergency": 146.18,
    "inpatient": 1320.0,
}

# --- people and places ------------------------------------------------------------------------


def _words(text: str) -> tuple[str, ...]:
    return tuple(text.split())


_FIRST_M = _words(
    "Maynard Curt Herbert Daron Kristofer Wilson Lanny Jeffrey Dwight Emmett Harold Ignacio Jarrod "
    "Kurtis Lyle Mauricio Norbert Oswaldo Porfirio Rex Santos Thaddeus Ulysses Wilfred Zachary Brady "
    "Cletus Darrell Everett Gustavo"
)
_FIRST_F = _words(
    "Gail Breana Ludivina Alejandra Bernardina Candace Delores Ebony Fernanda Georgianna Hermila "
    "Isabella Jeanette Kathryn Lavonne Marisela Nanette Ofelia Pamela Rosalind Shanice Tamra Verla "
    "Wanda Yolanda Zelma Antonia Beatriz Clarita Dominique"
)
_LAST = _words(
    "Abbott Bauch Bechtelar Bernier Boyle Brekke Collins Cormier Cronin Dach Daugherty Dickens Ebert "
    "Fadel Feest Gerlach Goodwin Gusikowski Haag Hahn Hane Hartmann Heaney Hermiston Hills Hintz "
    "Jakubowski Jast Kassulke Keebler Kertzmann Koch Kub Kuhn Larkin Lemke Lind Mante Marvin Mayert "
    "McGlynn Mohr Morar Nader Nitzsche Okuneva Pagac Pfeffer Prosacco Quigley Rath Reichert Rempel "
    "Rogahn Runolfsson Schaden Schiller Senger Shanahan Stehr Stokes Torphy Tromp Ullrich Waelchi "
    "Wiza Yost Zboncak Ziemann"
)
_LAST_HISPANIC = _words("Garcia Rodriguez Martinez Hernandez Lopez Gonzalez Perez Sanchez Ramirez Torres")
_STREET_SUFFIX = _words(
    "Way Lock Neck Trace Underpass Throughway Dam Club Crossroad Glen Hollow Promenade Rue Terrace "
    "Manor Wall Junction Union Ramp Street Avenue Road Lane Court Path Park Mill Station Gateway "
    "Heights Landing Row"
)
_ORG_KINDS = ("FAMILY PRACTICE", "MEDICAL GROUP", "HEALTH CENTER", "PRIMARY CARE", "URGENT CARE")
_HOSPITAL_KINDS = ("COMMUNITY HOSPITAL", "MEDICAL CENTER", "GENERAL HOSPITAL")
_SPECIALITIES = ("GENERAL PRACTICE", "GENERAL PRACTICE", "GENERAL PRACTICE", "INTERNAL MEDICINE", "PEDIATRICS")


class City(NamedTuple):
    name: str
    state: str
    state_abbr: str
    county: str
    fips: str
    zip: str
    lat: float
    lon: float
    weight: float


# Mostly Massachusetts; a few towns whose ZIP starts with 036, 059 or 102 (restricted 3-digit
# prefixes under HIPAA Safe Harbor) so that de-identification has something to do.
_CITIES = (
    City("Boston", "Massachusetts", "MA", "Suffolk County", "25025", "02108", 42.3601, -71.0589, 14),
    City("Somerville", "Massachusetts", "MA", "Middlesex County", "25017", "02143", 42.3876, -71.0995, 5),
    City("Cambridge", "Massachusetts", "MA", "Middlesex County", "25017", "02139", 42.3736, -71.1097, 6),
    City("Worcester", "Massachusetts", "MA", "Worcester County", "25027", "01608", 42.2626, -71.8023, 9),
    City("Springfield", "Massachusetts", "MA", "Hampden County", "25013", "01103", 42.1015, -72.5898, 8),
    City("Lowell", "Massachusetts", "MA", "Middlesex County", "25017", "01852", 42.6334, -71.3162, 6),
    City("Brockton", "Massachusetts", "MA", "Plymouth County", "25023", "02301", 42.0834, -71.0184, 5),
    City("Quincy", "Massachusetts", "MA", "Norfolk County", "25021", "02169", 42.2529, -71.0023, 5),
    City("Lynn", "Massachusetts", "MA", "Essex County", "25009", "01901", 42.4668, -70.9495, 5),
    City("New Bedford", "Massachusetts", "MA", "Bristol County", "25005", "02740", 41.6362, -70.9342, 5),
    City("Fall River", "Massachusetts", "MA", "Bristol County", "25005", "02720", 41.7015, -71.1550, 5),
    City("Newton", "Massachusetts", "MA", "Middlesex County", "25017", "02458", 42.3370, -71.2092, 4),
    City("Framingham", "Massachusetts", "MA", "Middlesex County", "25017", "01701", 42.2793, -71.4162, 4),
    City("Pittsfield", "Massachusetts", "MA", "Berkshire County", "25003", "01201", 42.4501, -73.2454, 3),
    City("Barnstable", "Massachusetts", "MA", "Barnstable County", "25001", "02630", 41.7003, -70.3002, 3),
    City("Plymouth", "Massachusetts", "MA", "Plymouth County", "25023", "02360", 41.9584, -70.6673, 3),
    City("Salem", "Massachusetts", "MA", "Essex County", "25009", "01970", 42.5195, -70.8967, 3),
    City("Attleboro", "Massachusetts", "MA", "Bristol County", "25005", "02703", 41.9445, -71.2856, 3),
    City("Northampton", "Massachusetts", "MA", "Hampshire County", "25015", "01060", 42.3251, -72.6412, 2),
    City("Greenfield", "Massachusetts", "MA", "Franklin County", "25011", "01301", 42.5876, -72.5995, 2),
    City("Charlestown", "New Hampshire", "NH", "Sullivan County", "33019", "03603", 43.2387, -72.4245, 1),
    City("Walpole", "New Hampshire", "NH", "Cheshire County", "33005", "03608", 43.0795, -72.4259, 1),
    City("Averill", "Vermont", "VT", "Essex County", "50009", "05901", 44.9781, -71.6998, 1),
    City("New York", "New York", "NY", "New York County", "36061", "10249", 40.7128, -74.0060, 1),
)

# Payers: (name, ownership, address, city, state, zip, phone, coverage share, monthly premium)
_PAYERS = (
    ("Medicare", "GOVERNMENT", "7500 Security Blvd", "Baltimore", "MD", "21244", "1-800-633-4227", 0.80, 0.0),
    ("Medicaid", "GOVERNMENT", "7500 Security Blvd", "Baltimore", "MD", "21244", "1-877-267-2323", 1.00, 0.0),
    ("Dual Eligible", "GOVERNMENT", "7500 Security Blvd", "Baltimore", "MD", "21244", "1-877-267-2323", 1.00, 0.0),
    ("Aetna", "PRIVATE", "", "", "", "", "", 0.80, 350.0),
    ("Anthem", "PRIVATE", "", "", "", "", "", 0.75, 320.0),
    ("Blue Cross Blue Shield", "PRIVATE", "", "", "", "", "", 0.85, 380.0),
    ("Cigna Health", "PRIVATE", "", "", "", "", "", 0.78, 340.0),
    ("Humana", "PRIVATE", "", "", "", "", "", 0.72, 300.0),
    ("UnitedHealthcare", "PRIVATE", "", "", "", "", "", 0.80, 360.0),
    ("NO_INSURANCE", "NO_INSURANCE", "", "", "", "", "", 0.0, 0.0),
)
_MEDICARE, _MEDICAID, _DUAL, _NO_INSURANCE = 0, 1, 2, 9
_PRIVATE = (3, 4, 5, 6, 7, 8)

# --- formatting helpers ------------------------------------------------------------------------


@cache
def _day_str(ordinal: int) -> str:
    return date.fromordinal(ordinal).isoformat()


@cache
def _time_str(second_of_day: int) -> str:
    hour, rest = divmod(second_of_day, 3600)
    return f"T{hour:02d}:{rest // 60:02d}:{rest % 60:02d}Z"


def _ts(seconds: int) -> str:
    """Seconds since day 0 of the proleptic calendar -> Synthea's ``2023-01-27T16:17:47Z``."""
    day, rest = divmod(seconds, _DAY)
    return _day_str(day) + _time_str(rest)


def _uuid(rng: Random) -> str:
    """A UUID-shaped id from the seeded generator (uuid4 would not repeat)."""
    h = f"{rng.getrandbits(128):032x}"
    return f"{h[:8]}-{h[8:12]}-{h[12:16]}-{h[16:20]}-{h[20:]}"


def _money(value: float) -> str:
    return f"{value:.2f}"


def _uniform(rng: Random, low: float, high: float) -> float:
    return low + (high - low) * rng.random()


def _between(rng: Random, low: int, high: int) -> int:
    """An int in [low, high], cheaper than randint."""
    return low + int((high - low + 1) * rng.random())


def _pick(rng: Random, items: tuple | list) -> Any:
    return items[int(len(items) * rng.random())]


# --- output ------------------------------------------------------------------------------------

# Columns renamed between Synthea versions: v3.0 name -> v3.3 name.
_RENAMED = {
    "payer_transitions": {
        "START_YEAR": "START_DATE",
        "END_YEAR": "END_DATE",
        "OWNERSHIP": "PLAN_OWNERSHIP",
        "OWNERNAME": "OWNER_NAME",
    },
}


def canonical_columns(name: str) -> tuple[str, ...]:
    """The columns the row builders fill: v3.3's, then v3.0-only columns that were not renamed."""
    entity = ENTITIES[name]
    renamed = _RENAMED.get(name, {})
    extra = tuple(c for c in entity.v3_0 if c not in entity.v3_3 and c not in renamed)
    return entity.v3_3 + extra


class _Columns:
    """Rows of a wide table built by column name; unnamed columns stay empty."""

    def __init__(self, name: str) -> None:
        self.columns = canonical_columns(name)
        self.index = {col: i for i, col in enumerate(self.columns)}

    def row(self, base: list[str] | None = None, **values: str) -> list[str]:
        row = base.copy() if base is not None else [""] * len(self.columns)
        index = self.index
        for col, value in values.items():
            row[index[col]] = value
        return row


_CLAIM = _Columns("claims")
_TRANSACTION = _Columns("claims_transactions")
# Positions of the per-line columns of claims_transactions (the hottest rows to build).
(
    _TX_ID, _TX_CHARGEID, _TX_TYPE, _TX_AMOUNT, _TX_METHOD, _TX_FROMDATE, _TX_TODATE, _TX_PROCEDURECODE,
    _TX_NOTES, _TX_UNITAMOUNT, _TX_TRANSFERTYPE, _TX_PAYMENTS, _TX_OUTSTANDING,
) = (
    _TRANSACTION.index[col]
    for col in (
        "ID", "CHARGEID", "TYPE", "AMOUNT", "METHOD", "FROMDATE", "TODATE", "PROCEDURECODE", "NOTES", "UNITAMOUNT",
        "TRANSFERTYPE", "PAYMENTS", "OUTSTANDING",
    )
)  # fmt: skip


class _Table:
    """One output CSV: buffered rows in canonical order, projected onto the chosen header."""

    def __init__(self, folder: Path, name: str, version: str) -> None:
        entity = ENTITIES[name]
        self.header = entity.v3_0 if version == "3.0" else entity.v3_3
        canon = canonical_columns(name)
        renamed = _RENAMED.get(name, {})
        index = [canon.index(renamed.get(col, col)) for col in self.header]
        self.width = len(canon)
        self.project = None if index == list(range(len(canon))) else itemgetter(*index)
        self.final = folder / f"{name}.csv"
        self.part = folder / f"{name}.csv.part"
        self.handle: IO[str] = self.part.open("w", newline="", encoding="utf-8", buffering=1 << 20)
        self.writer = csv.writer(self.handle, lineterminator="\n")
        self.writer.writerow(self.header)
        self.rows: list[Sequence[str]] = []
        self.count = 0

    def flush(self) -> None:
        if not self.rows:
            return
        if len(self.rows[0]) != self.width:
            raise RuntimeError(f"{self.final.name}: row has {len(self.rows[0])} values, expected {self.width}")
        self.writer.writerows(self.rows if self.project is None else map(self.project, self.rows))
        self.count += len(self.rows)
        self.rows.clear()  # in place: the generator holds on to this list

    def close(self) -> None:
        self.flush()
        self.handle.close()


class _Output:
    """The 18 files, written as ``*.part`` and renamed only when everything succeeded."""

    def __init__(self, folder: Path, version: str) -> None:
        self.tables: dict[str, _Table] = {}
        try:
            for name in ENTITIES:
                self.tables[name] = _Table(folder, name, version)
        except OSError:
            self.abort()
            raise
        # The row buffers by file name, where the generator appends rows.
        self.rows: dict[str, list] = {name: table.rows for name, table in self.tables.items()}

    def flush(self) -> None:
        for table in self.tables.values():
            table.flush()

    def commit(self) -> dict[str, int]:
        for table in self.tables.values():
            table.close()
        for table in self.tables.values():
            os.replace(table.part, table.final)
        return {table.final.name: table.count for table in self.tables.values()}

    def abort(self) -> None:
        for table in self.tables.values():
            table.handle.close()
            table.part.unlink(missing_ok=True)


# --- shared entities: organizations, providers, payers ----------------------------------------


class _World:
    """Organizations, providers and payers shared by all patients, with their running totals."""

    def __init__(self, rng: Random, patients: int) -> None:
        self.payer_ids = [_uuid(rng) for _ in _PAYERS]
        # per payer: covered, uncovered, revenue, enc+, enc-, med+, med-, proc+, proc-, imm+, imm-,
        # customers, member months, QOLS sum
        self.payer_stats = [[0.0] * 14 for _ in _PAYERS]
        n_orgs = max(6, min(1500, patients // 40))
        self.orgs: list[list[Any]] = []  # [id, name, address, city, lat offset, lon offset, phone, dept]
        self.hospitals: list[int] = []
        self.clinics: list[int] = []
        self.org_providers: list[list[int]] = []
        self.org_encounters = [0] * n_orgs
        self.org_revenue = [0.0] * n_orgs
        self.providers: list[tuple[str, int, str, str, str]] = []  # id, org, name, gender, speciality
        self.provider_encounters: list[int] = []
        self.provider_procedures: list[int] = []
        weights = _cumulative([c.weight for c in _CITIES])
        for i in range(n_orgs):
            hospital = i % 5 == 0
            city = _CITIES[bisect_right(weights, rng.random() * weights[-1])]
            kind = _pick(rng, _HOSPITAL_KINDS if hospital else _ORG_KINDS)
            address = f"{_between(rng, 1, 2999)} {_pick(rng, _LAST).upper()} {_pick(rng, _STREET_SUFFIX).upper()}"
            self.orgs.append(
                [
                    _uuid(rng),
                    f"{_pick(rng, _LAST).upper()} {kind}",
                    address,
                    city,
                    _uniform(rng, -0.02, 0.02),
                    _uniform(rng, -0.02, 0.02),
                    f"{_between(rng, 201, 989)}{_between(rng, 2000000, 9999999)}",
                    str(1 + i % 20),
                ]
            )
            (self.hospitals if hospital else self.clinics).append(i)
            staff = []
            for _ in range(_between(rng, 3, 8) if hospital else _between(rng, 1, 4)):
                gender = "M" if rng.random() < 0.5 else "F"
                first = _pick(rng, _FIRST_M if gender == "M" else _FIRST_F)
                name = f"{first}{_between(rng, 1, 999)} {_pick(rng, _LAST)}{_between(rng, 1, 999)}"
                staff.append(len(self.providers))
                speciality = "EMERGENCY MEDICINE" if hospital and rng.random() < 0.3 else _pick(rng, _SPECIALITIES)
                self.providers.append((_uuid(rng), i, name, gender, speciality))
                self.provider_encounters.append(0)
                self.provider_procedures.append(0)
            self.org_providers.append(staff)

    def write(self, out: dict[str, list]) -> None:
        for i, (oid, name, address, city, dlat, dlon, phone, _dept) in enumerate(self.orgs):
            out["organizations"].append(
                (
                    oid,
                    name,
                    address,
                    city.name.upper(),
                    city.state_abbr,
                    city.zip,
                    repr(city.lat + dlat),
                    repr(city.lon + dlon),
                    phone,
                    _money(self.org_revenue[i]),
                    str(self.org_encounters[i]),
                )
            )
        for j, (pid, org, name, gender, speciality) in enumerate(self.providers):
            _oid, _n, address, city, dlat, dlon, _phone, _dept = self.orgs[org]
            encounters = str(self.provider_encounters[j])
            out["providers"].append(
                (
                    pid,
                    self.orgs[org][0],
                    name,
                    gender,
                    speciality,
                    address,
                    city.name.upper(),
                    city.state_abbr,
                    city.zip,
                    repr(city.lat + dlat),
                    repr(city.lon + dlon),
                    encounters,
                    str(self.provider_procedures[j]),
                    encounters,
                )
            )
        for k, (name, ownership, address, city, state, zip_code, phone, _share, _premium) in enumerate(_PAYERS):
            s = self.payer_stats[k]
            customers = int(s[11])
            qols = repr(s[13] / customers) if customers else "NaN"
            out["payers"].append(
                (
                    self.payer_ids[k],
                    name,
                    ownership,
                    address,
                    city,
                    state,
                    zip_code,
                    phone,
                    _money(s[0]),
                    _money(s[1]),
                    _money(s[2]),
                    *(str(int(v)) for v in s[3:12]),
                    qols,
                    str(int(s[12])),
                )
            )


def _cumulative(weights: list[float]) -> list[float]:
    total, out = 0.0, []
    for w in weights:
        total += w
        out.append(total)
    return out


# --- one patient ---------------------------------------------------------------------------------


class _Person:
    """What the generator remembers about the patient being written."""

    __slots__ = (
        "id",
        "first",
        "middle",
        "last_name",
        "marital",
        "sex",
        "birth",
        "death",
        "end_day",
        "end_sec",
        "minute_second",
        "last",
        "height",
        "bmi",
        "bmi_child",
        "smoker",
        "chronic",
        "pregnant_until",
        "allergic",
        "clinic",
        "hospital",
        "seg_starts",
        "segs",
        "paid_self",
        "paid_payer",
        "hypertensive",
        "diabetic",
        "prediabetic",
        "ckd",
        "anemic",
        "lipids",
        "employment_until",
        "race",
        "ethnicity",
    )

    def age(self, day: int) -> float:
        return (day - self.birth) / _YEAR

    def segment(self, day: int) -> tuple[int, str, float]:
        """(payer index, member id, coverage share) on a given day."""
        return self.segs[max(0, bisect_right(self.seg_starts, day) - 1)]


class _Visit:
    """One encounter while its events are being written."""

    __slots__ = (
        "id",
        "patient",
        "day",
        "start",
        "start_ts",
        "stop",
        "cls",
        "code",
        "desc",
        "org",
        "provider",
        "payer",
        "member",
        "coverage",
        "age",
        "diagnoses",
        "charges",
        "med_cost",
        "reason",
    )


class _Generator:
    def __init__(
        self, rng: Random, out: _Output, world: _World, version: str, local_share: float, unmapped_share: float
    ) -> None:
        self.rng = rng
        self.out = out.rows
        self.world = world
        self.icd10 = version != "3.0"
        self.local_share = local_share
        self.unmapped_share = unmapped_share
        self.local_by_table = {t: [c for c in LOCAL_CODES if c.table == t] for t in LOCAL_CODE_TABLES}
        self.city_weights = _cumulative([c.weight for c in _CITIES])
        self.charge_id = 0

    # -- noise -------------------------------------------------------------------------------------

    def noise(self, table: str) -> str:
        """'' for a vocabulary code, 'local' or 'unmapped' with the configured shares."""
        u = self.rng.random()
        if table in self.local_by_table:
            if u < self.local_share:
                return "local"
            u -= self.local_share
        if u < self.unmapped_share:
            return "unmapped"
        return ""

    # -- patient -----------------------------------------------------------------------------------

    def patient(self) -> None:
        rng = self.rng
        p = _Person()
        p.id = _uuid(rng)
        p.sex = "M" if rng.random() < 0.49 else "F"
        p.birth = _between(rng, _FIRST_BIRTH, _LAST_BIRTH)
        age_now = (_EXTRACT_DAY - p.birth) / _YEAR
        p.death = 0
        if rng.random() < 0.002 * age_now:
            p.death = p.birth + int((_EXTRACT_DAY - p.birth) * _uniform(rng, 0.55, 1.0))
            p.death = min(max(p.death, p.birth + 1), _EXTRACT_DAY)
        p.end_day = p.death or _EXTRACT_DAY
        p.end_sec = p.end_day * _DAY + _DAY - 1
        p.minute_second = _between(rng, 0, 3599)
        p.race = _pick(rng, ("white",) * 14 + ("black",) * 2 + ("asian", "asian", "native", "hawaiian", "other"))
        p.ethnicity = "hispanic" if rng.random() < 0.12 else "nonhispanic"
        p.last = _pick(rng, _LAST_HISPANIC if p.ethnicity == "hispanic" else _LAST)
        self.name(p)
        p.height = (rng.gauss(176, 7) if p.sex == "M" else rng.gauss(163, 6.5)) / 100
        p.bmi = min(45.0, max(17.5, rng.gauss(27, 4.5)))
        p.bmi_child = rng.gauss(0, 1)
        p.smoker = _pick(rng, ("Never smoker",) * 6 + ("Former smoker",) * 2 + ("Every day smoker",))
        p.chronic = {}
        p.pregnant_until = 0
        p.allergic = rng.random() < 0.15
        p.clinic = _pick(rng, self.world.clinics)
        p.hospital = _pick(rng, self.world.hospitals)
        p.paid_self = p.paid_payer = 0.0
        p.hypertensive = p.diabetic = p.prediabetic = p.ckd = p.anemic = p.lipids = False
        p.employment_until = 0
        self.coverage(p)
        span = p.end_day - p.birth
        n = 10 + int(min(30.0, span / _YEAR * 0.35) * _uniform(rng, 0.4, 1.0))
        for day in sorted(p.birth + int((span + 1) * rng.random()) for _ in range(n)):
            self.encounter(p, day)
        self.out["patients"].append(self.patient_row(p))

    def name(self, p: _Person) -> None:
        """Names with Synthea's digits, and marital status as of the end of the record."""
        rng = self.rng
        firsts = _FIRST_M if p.sex == "M" else _FIRST_F
        p.first = f"{_pick(rng, firsts)}{_between(rng, 1, 999)}"
        p.middle = f"{_pick(rng, firsts)}{_between(rng, 1, 999)}" if rng.random() < 0.5 else ""
        p.last_name = f"{p.last}{_between(rng, 1, 999)}"
        adult = p.age(p.end_day) >= 18
        p.marital = _pick(rng, ("M", "M", "M", "S", "S", "D", "W")) if adult else ""

    def patient_row(self, p: _Person) -> tuple:
        rng = self.rng
        age = p.age(p.end_day)
        adult = age >= 18
        marital = p.marital
        prefix = ("Mr." if p.sex == "M" else "Mrs." if marital == "M" else "Ms.") if adult else ""
        maiden = (
            f"{_pick(rng, _LAST)}{_between(rng, 1, 999)}"
            if p.sex == "F" and marital == "M" and rng.random() < 0.7
            else ""
        )
        city = self.city(rng)
        birthplace = self.city(rng)
        street = f"{_between(rng, 1, 1099)} {_pick(rng, _LAST)} {_pick(rng, _STREET_SUFFIX)}"
        if rng.random() < 0.3:
            street += f" {_pick(rng, ('Unit', 'Apt', 'Suite'))} {_between(rng, 1, 99)}"
        return (
            p.id,
            _day_str(p.birth),
            _day_str(p.death) if p.death else "",
            f"999-{_between(rng, 10, 99)}-{_between(rng, 1000, 9999)}",
            f"S999{_between(rng, 10000, 99999)}" if age >= 16 else "",
            f"X{_between(rng, 10000000, 99999999)}X" if adult and rng.random() < 0.6 else "",
            prefix,
            p.first,
            p.middle,
            p.last_name,
            _pick(rng, ("JD", "MD", "PhD")) if adult and rng.random() < 0.02 else "",
            maiden,
            marital,
            p.race,
            p.ethnicity,
            p.sex,
            f"{birthplace.name}  {birthplace.state}  US",
            street,
            city.name,
            city.state,
            city.county,
            city.fips,
            city.zip if rng.random() < 0.98 else "",
            repr(city.lat + rng.gauss(0, 0.03)),
            repr(city.lon + rng.gauss(0, 0.03)),
            _money(p.paid_self),
            _money(p.paid_payer),
            str(_between(rng, 12000, 190000)),
        )

    def city(self, rng: Random) -> City:
        return _CITIES[bisect_right(self.city_weights, rng.random() * self.city_weights[-1])]

    def coverage(self, p: _Person) -> None:
        """Insurance periods from birth to the end of the record; writes payer_transitions."""
        rng = self.rng
        stats = self.world.payer_stats
        seen: list[int] = []
        guardian = f"{_pick(rng, _FIRST_F)}{_between(rng, 1, 999)} {p.last_name}"
        spouse = f"{_pick(rng, _FIRST_F if p.sex == 'M' else _FIRST_M)}{_between(rng, 1, 999)} {p.last_name}"
        self_name = f"{p.first} {p.last_name}"
        p.segs, p.seg_starts = [], []
        medicaid = rng.random() < 0.2
        day = p.birth
        while day <= p.end_day:
            age = p.age(day)
            if age >= 65:
                payer = _DUAL if medicaid and rng.random() < 0.5 else _MEDICARE
                until = day + _between(rng, 3 * 365, 12 * 365)
            else:
                r = rng.random()
                payer = _MEDICAID if medicaid and r < 0.7 else _NO_INSURANCE if r < 0.08 else _pick(rng, _PRIVATE)
                until = min(day + _between(rng, 2 * 365, 12 * 365), p.birth + int(65 * _YEAR) + 1)
            until = min(until, p.end_day + 1)
            share = _PAYERS[payer][7]
            member = _uuid(rng)
            if payer == _NO_INSURANCE:
                ownership, owner = "", ""
            elif age < 18:
                ownership, owner = "Guardian", guardian
            elif p.marital == "M" and age >= 25 and rng.random() < 0.3:
                ownership, owner = "Spouse", spouse
            else:
                ownership, owner = "Self", self_name
            end = min(until * _DAY + 3600 * 9 + p.minute_second, p.end_sec)
            self.out["payer_transitions"].append(
                (
                    p.id,
                    member,
                    _ts(day * _DAY + 3600 * 9 + p.minute_second),
                    _ts(end),
                    self.world.payer_ids[payer],
                    "",
                    ownership,
                    owner,
                )
            )
            months = max(1, (until - day) // 30)
            stats[payer][12] += months
            stats[payer][2] += months * _PAYERS[payer][8]
            if payer not in seen:
                seen.append(payer)
                stats[payer][11] += 1
                stats[payer][13] += _uniform(rng, 0.7, 1.0)
            p.segs.append((payer, member, share))
            p.seg_starts.append(day)
            day = until

    # -- encounter --------------------------------------------------------------------------------

    def encounter(self, p: _Person, day: int) -> None:
        rng = self.rng
        world = self.world
        v = _Visit()
        v.id = _uuid(rng)
        v.patient = p.id
        v.day = day
        v.age = age = p.age(day)
        mix = next(m for limit, m in _CLASS_MIX if age < limit)
        v.cls = cls = _CLASSES[bisect_right(mix, rng.random())]
        if cls == "wellness":
            v.code, v.desc = WELL_CHILD if age < 18 else WELL_ADULT
        elif cls == "ambulatory" and day <= p.pregnant_until:
            v.code, v.desc = PRENATAL
        else:
            v.code, v.desc = _pick(rng, ENCOUNTER_CODES[cls])
        low, high = _DURATION[cls]
        v.start = day * _DAY + 3600 * _between(rng, 7, 18) + p.minute_second
        v.stop = min(v.start + _between(rng, low, high), p.end_sec)
        v.start_ts = _ts(v.start)
        v.org = (
            p.hospital
            if cls in ("emergency", "inpatient")
            else (p.clinic if rng.random() < 0.8 else _pick(rng, world.clinics))
        )
        v.provider = _pick(rng, world.org_providers[v.org])
        v.payer, v.member, v.coverage = p.segment(day)
        v.diagnoses = []
        v.charges = [(v.code, v.desc, _BASE_COST[cls] * _uniform(rng, 0.9, 1.1), v.start, v.stop)]
        v.med_cost = 0.0
        v.reason = ("", "")

        if cls == "wellness":
            self.wellness(p, v)
        elif cls == "ambulatory":
            self.ambulatory(p, v)
        elif cls == "outpatient":
            self.outpatient(p, v)
        elif cls == "inpatient":
            self.inpatient(p, v)
        else:
            self.acute_care(p, v)
        self.finish(p, v)

    def finish(self, p: _Person, v: _Visit) -> None:
        """Encounter row, claim and claim transactions once the events are known."""
        world = self.world
        total = sum(c[2] for c in v.charges) + v.med_cost
        covered = total * v.coverage
        p.paid_payer += covered
        p.paid_self += total - covered
        stats = world.payer_stats[v.payer]
        stats[0] += covered
        stats[1] += total - covered
        stats[3 if v.coverage > 0 else 4] += 1
        world.org_encounters[v.org] += 1
        world.org_revenue[v.org] += v.charges[0][2]
        world.provider_encounters[v.provider] += 1
        provider_id = world.providers[v.provider][0]
        org_id = world.orgs[v.org][0]
        payer_id = world.payer_ids[v.payer]
        start, stop = v.start_ts, _ts(v.stop)
        base_cost, reason_code, reason_desc = _money(v.charges[0][2]), v.reason[0], v.reason[1]
        self.out["encounters"].append(
            (v.id, start, stop, p.id, org_id, provider_id, payer_id, v.cls, v.code, v.desc, base_cost)
            + (_money(total), _money(covered), reason_code, reason_desc)
        )
        diagnoses = [code for code, _desc in v.diagnoses[:8]] or [reason_code or v.code]
        claim_id = _uuid(self.rng)
        self.out["claims"].append(
            _CLAIM.row(
                Id=claim_id,
                PATIENTID=p.id,
                PROVIDERID=provider_id,
                PRIMARYPATIENTINSURANCEID=payer_id if v.payer != _NO_INSURANCE else "0",
                SECONDARYPATIENTINSURANCEID="0",
                DEPARTMENTID=world.orgs[v.org][7],
                PATIENTDEPARTMENTID=world.orgs[v.org][7],
                **{f"DIAGNOSIS{i + 1}": code for i, code in enumerate(diagnoses)},
                APPOINTMENTID=v.id,
                CURRENTILLNESSDATE=start,
                SERVICEDATE=start,
                SUPERVISINGPROVIDERID=provider_id,
                STATUS1="CLOSED",
                STATUSP="CLOSED",
                OUTSTANDING1="0",
                OUTSTANDINGP="0",
                LASTBILLEDDATE1=stop,
                LASTBILLEDDATEP=stop,
                HEALTHCARECLAIMTYPEID1="2" if v.cls in ("inpatient", "emergency") else "1",
                HEALTHCARECLAIMTYPEID2="0",
            )
        )
        self.transactions(p, v, claim_id, len(diagnoses), start, stop)

    def transactions(self, p: _Person, v: _Visit, claim_id: str, n_diagnoses: int, start: str, stop: str) -> None:
        """One CHARGE line per billed item, then what the payer and the patient paid."""
        rng = self.rng
        provider_id = self.world.providers[v.provider][0]
        shared = _TRANSACTION.row(
            CLAIMID=claim_id,
            PATIENTID=p.id,
            PLACEOFSERVICE=self.world.orgs[v.org][0],
            **{f"DIAGNOSISREF{i + 1}": str(i + 1) for i in range(min(4, n_diagnoses))},
            UNITS="1",
            DEPARTMENTID=self.world.orgs[v.org][7],
            APPOINTMENTID=v.id,
            PATIENTINSURANCEID=v.member,
            FEESCHEDULEID="1",
            PROVIDERID=provider_id,
            SUPERVISINGPROVIDERID=provider_id,
        )
        tx = self.out["claims_transactions"]
        charged = 0.0
        for code, desc, amount, t0, t1 in v.charges:
            money = _money(amount)
            row = shared.copy()
            row[_TX_ID], row[_TX_CHARGEID], row[_TX_TYPE], row[_TX_AMOUNT] = (
                _uuid(rng),
                str(self.charge_id),
                "CHARGE",
                money,
            )
            row[_TX_FROMDATE] = start if t0 == v.start else _ts(t0)
            row[_TX_TODATE] = stop if t1 == v.stop else _ts(t1)
            row[_TX_PROCEDURECODE], row[_TX_NOTES], row[_TX_UNITAMOUNT], row[_TX_TRANSFERTYPE] = code, desc, money, "1"
            tx.append(row)
            self.charge_id += 1
            charged += amount
        outstanding = charged
        patient_method = _pick(rng, ("CASH", "CC", "CHECK", "COPAY"))
        for payment, method in ((charged * v.coverage, "ECHECK"), (charged * (1 - v.coverage), patient_method)):
            if payment < 0.005:
                continue
            outstanding = max(0.0, outstanding - payment)
            row = shared.copy()
            row[_TX_ID], row[_TX_CHARGEID], row[_TX_TYPE], row[_TX_METHOD] = (
                _uuid(rng),
                str(self.charge_id),
                "PAYMENT",
                method,
            )
            row[_TX_FROMDATE], row[_TX_TODATE], row[_TX_PROCEDURECODE], row[_TX_NOTES] = start, stop, v.code, v.desc
            row[_TX_PAYMENTS], row[_TX_OUTSTANDING] = _money(payment), _money(outstanding)
            tx.append(row)
            self.charge_id += 1

    # -- visit kinds ------------------------------------------------------------------------------

    def wellness(self, p: _Person, v: _Visit) -> None:
        rng = self.rng
        age = v.age
        self.vitals(p, v, full=True)
        if age >= 18:
            if rng.random() < 0.5:
                self.observation(v, "72166-2", "Tobacco smoking status NHIS", "survey", p.smoker, "", "text")
            if rng.random() < 0.2:
                self.observation(
                    v,
                    "55758-7",
                    "Patient Health Questionnaire 2 item (PHQ-2) total score [Reported]",
                    "survey",
                    f"{_between(rng, 0, 6)}.0",
                    "{score}",
                    "numeric",
                )
                self.procedure(p, v, "454711000124102" if rng.random() < 0.5 else "171207006")
            if rng.random() < 0.05:
                self.observation(
                    v,
                    "70274-6",
                    "Generalized anxiety disorder 7 item (GAD-7) total score [Reported.PHQ]",
                    "survey",
                    f"{_between(rng, 0, 21)}.0",
                    "{score}",
                    "numeric",
                )
            if rng.random() < 0.05:
                self.observation(
                    v, "75626-2", "Total score [AUDIT-C]", "survey", f"{_between(rng, 0, 8)}.0", "{score}", "numeric"
                )
            if rng.random() < 0.04:
                insurance = (
                    "Medicaid" if v.payer == _MEDICAID else "Medicare" if v.payer == _MEDICARE else "Private insurance"
                )
                self.observation(v, "76437-3", "What is your main insurance?", "survey", insurance, "", "text")
                self.observation(
                    v,
                    "56051-6",
                    "Are you Hispanic or Latino?",
                    "survey",
                    "Yes" if p.ethnicity == "hispanic" else "No",
                    "",
                    "text",
                )
            self.labs(p, v)
            if p.chronic and rng.random() < 0.4:
                self.procedure(p, v, "430193006")
                if rng.random() < 0.5:
                    self.finding(p, v, MEDICATION_REVIEW, _between(rng, 30, 365))
            if rng.random() < 0.2:
                self.procedure(p, v, _pick(rng, ("710824005", "428211000124100")))
            if 18 <= age < 65 and v.day > p.employment_until and rng.random() < 0.2:
                days = _between(rng, 180, 1500)
                p.employment_until = v.day + days
                self.finding(p, v, EMPLOYED if rng.random() < 0.85 else UNEMPLOYED, days)
            if rng.random() < 0.12:
                self.new_chronic(p, v)
            if p.sex == "F" and 18 <= age <= 42 and v.day > p.pregnant_until and rng.random() < 0.05:
                self.condition(p, v, PREGNANCY)
            if p.sex == "F" and 15 <= age <= 45 and rng.random() < 0.08:
                self.medication(p, v, "235389" if rng.random() < 0.1 else "1000126", (90, 90), "", "")
        elif rng.random() < 0.15:
            self.procedure(p, v, "710824005")
        if rng.random() < 0.03:
            self.new_chronic(p, v)
        self.vaccinate(p, v)
        if p.allergic and age >= 1:
            p.allergic = False
            self.allergies(p, v)

    def ambulatory(self, p: _Person, v: _Visit) -> None:
        rng = self.rng
        if v.code == PRENATAL[0]:
            self.procedure(p, v, "5880005")
            for code in ("252160004", "169690007", "167271000"):
                if rng.random() < 0.25:
                    self.procedure(p, v, code)
            self.blood_pressure(p, v)
            return
        r = rng.random()
        if r < 0.7:
            cond = self.acute(p, v, ACUTE)
            if cond is not None and rng.random() < 0.25:
                self.sick_vitals(p, v)
        elif r < 0.9 and p.chronic:
            cond = _pick(rng, list(p.chronic.values()))
            v.reason = (cond.code, cond.desc)
            if p.hypertensive:
                self.blood_pressure(p, v)
            if (p.diabetic or p.prediabetic) and rng.random() < 0.5:
                self.lab(p, v, "4548-4")
            if cond.meds and rng.random() < 0.5:
                self.medication(p, v, _pick(rng, cond.meds), (180, 720), cond.code, cond.desc)
        else:
            self.new_chronic(p, v)

    def outpatient(self, p: _Person, v: _Visit) -> None:
        rng = self.rng
        age = v.age
        if age >= 50 and rng.random() < 0.3:
            self.procedure(p, v, "73761001")
        elif "414545008" in p.chronic and rng.random() < 0.5:
            self.procedure(p, v, "40701008", ("414545008", "Ischemic heart disease (disorder)"))
        elif "232353008" in p.chronic and rng.random() < 0.5:
            self.procedure(p, v, "180256009", ("232353008", _CHRONIC_BY_CODE["232353008"].desc))
        elif rng.random() < 0.3:
            self.procedure(p, v, "76601001")
        if rng.random() < 0.3:
            self.blood_pressure(p, v)

    def acute_care(self, p: _Person, v: _Visit) -> None:
        """Urgent care and emergency visits."""
        rng = self.rng
        if v.cls == "emergency" and v.age >= 45 and rng.random() < 0.08:
            cond = self.condition(p, v, MYOCARDIAL_INFARCTION)
        else:
            cond = self.acute(p, v, ACUTE)
        self.sick_vitals(p, v)
        if cond is not None and cond.code in ("10509002", "840539006", "49727002", "267036007") and rng.random() < 0.3:
            self.procedure(p, v, "399208008", (cond.code, cond.desc))
        if cond is not None and cond.code == "125605004":
            self.procedure(p, v, "168594001", (cond.code, cond.desc))
            self.procedure(p, v, "274474001", (cond.code, cond.desc))
        if cond is not None and cond.code == "840539006" and rng.random() < 0.5:
            self.supply(v, "409526008", _between(rng, 2, 24))
            self.supply(v, "261352009", _between(rng, 2, 24))

    def inpatient(self, p: _Person, v: _Visit) -> None:
        rng = self.rng
        age = v.age
        if age >= 45 and rng.random() < 0.3:
            cond = self.condition(p, v, MYOCARDIAL_INFARCTION)
            self.procedure(p, v, "40701008", (cond.code, cond.desc))
            if rng.random() < 0.5:
                self.procedure(p, v, "415070008", (cond.code, cond.desc))
                self.device(p, v, "705643001")
            elif rng.random() < 0.2:
                self.procedure(p, v, "232717009", (cond.code, cond.desc))
            if rng.random() < 0.1:
                self.device(p, v, "72506001" if rng.random() < 0.5 else "706004007")
        else:
            cond = self.acute(p, v, INPATIENT_CAUSES)
        self.sick_vitals(p, v)
        if age >= 18 and rng.random() < 0.5:
            self.medication(p, v, "854235", (0, 0), "", "", until=v.stop)
        if rng.random() < 0.5:
            self.medication(p, v, "198440", (0, 0), "", "", until=v.stop)

    # -- events -----------------------------------------------------------------------------------

    def acute(self, p: _Person, v: _Visit, pool: tuple[Cond, ...]) -> Cond | None:
        options, weights = _eligible(pool, int(v.age), p.sex, v.day >= _COVID_FROM)
        if not options:
            return None
        return self.condition(p, v, options[bisect_right(weights, self.rng.random() * weights[-1])])

    def new_chronic(self, p: _Person, v: _Visit) -> None:
        rng = self.rng
        age = v.age
        options = [c for c in CHRONIC if c.min_age <= age <= c.max_age and c.code not in p.chronic]
        if not options:
            return
        weights = _cumulative([c.weight for c in options])
        cond = options[bisect_right(weights, rng.random() * weights[-1])]
        self.condition(p, v, cond)
        p.chronic[cond.code] = cond
        if cond.code == "59621000":
            p.hypertensive = True
        elif cond.code == "44054006":
            p.diabetic = True
            if rng.random() < 0.5:
                self.device(p, v, "337414009")
                self.supply(v, "354068006", 1)
        elif cond.code == "15777000":
            p.prediabetic = True
        elif cond.code == "55822004":
            p.lipids = True
        elif cond.code == "271737000":
            p.anemic = True
        elif cond.code in ("431855005", "431856006", "433144002"):
            p.ckd = True
        elif cond.code == "195967001" and rng.random() < 0.3:
            self.device(p, v, "170615005")
            self.supply(v, "334947002", 1)
        elif cond.code == "185086009" and rng.random() < 0.4:
            self.device(p, v, "336621006")
            self.supply(v, "336608004", _between(rng, 1, 4))
        if p.bmi >= 32 and rng.random() < 0.1:
            self.device(p, v, "702172008" if rng.random() < 0.7 else "706180003")

    def condition(self, p: _Person, v: _Visit, cond: Cond) -> Cond:
        """Write a condition row (maybe recoded as noise) and what follows from it."""
        rng = self.rng
        if cond.days[0]:
            stop_day = min(v.day + _between(rng, *cond.days), p.end_day)
            stop = _day_str(stop_day)
            if cond is PREGNANCY:
                p.pregnant_until = stop_day
        else:
            stop_day, stop = p.end_day, ""
        code, desc, system = cond.code, cond.desc, "SNOMED-CT"
        # Draw even for v3.0 (no SYSTEM column, so SNOMED is kept) so both layouts hold the same events.
        if cond.icd10 and rng.random() < 0.5 and self.icd10:
            (code, desc), system = cond.icd10, "ICD10"
        code, desc = self.condition_row(p, v, code, desc, system, stop)
        if not v.reason[0]:
            v.reason = (code, desc)
        if cond.meds and rng.random() < 0.7:
            duration = cond.days if cond.days[0] else (365, 3650)
            self.medication(p, v, _pick(rng, cond.meds), duration, code, desc)
        if cond.careplan and rng.random() < 0.6:
            self.careplan(p, v, cond.careplan, stop_day if cond.days[0] else 0, code, desc)
        return cond

    def finding(self, p: _Person, v: _Visit, finding: tuple[str, str], days: int) -> None:
        self.condition_row(p, v, finding[0], finding[1], "SNOMED-CT", _day_str(min(v.day + days, p.end_day)))

    def condition_row(self, p: _Person, v: _Visit, code: str, desc: str, system: str, stop: str) -> tuple[str, str]:
        """One conditions row, recoded as noise at the configured shares; returns the code written."""
        kind = self.noise("conditions")
        if kind == "local":
            local = _pick(self.rng, self.local_by_table["conditions"])
            code, desc, system = local.code, local.description, LOCAL_SYSTEM
        elif kind == "unmapped":
            (code, desc), system = UNMAPPED_CODES["conditions"], LOCAL_SYSTEM
        self.out["conditions"].append((_day_str(v.day), stop, p.id, v.id, system, code, desc))
        v.diagnoses.append((code, desc))
        return code, desc

    def medication(
        self, p: _Person, v: _Visit, code: str, days: tuple[int, int], reason: str, reason_desc: str, until: int = 0
    ) -> None:
        rng = self.rng
        desc, base = DRUGS[code]
        stop_sec = until or v.start + _between(rng, *days) * _DAY
        if stop_sec > p.end_sec:
            stop, stop_sec = ("", _EXTRACT_DAY * _DAY) if not p.death else (_ts(p.end_sec), p.end_sec)
        else:
            stop = _ts(stop_sec)
        dispenses = max(1, (stop_sec - v.start) // (30 * _DAY))
        if self.noise("medications") == "unmapped":
            code, desc = UNMAPPED_CODES["medications"]
        base *= _uniform(rng, 0.8, 1.2)
        total = base * dispenses
        v.med_cost += total
        stats = self.world.payer_stats[v.payer]
        stats[5 if v.coverage > 0 else 6] += 1
        self.out["medications"].append(
            (
                v.start_ts,
                stop,
                p.id,
                self.world.payer_ids[v.payer],
                v.id,
                code,
                desc,
                _money(base),
                _money(total * v.coverage),
                str(dispenses),
                _money(total),
                reason,
                reason_desc,
            )
        )

    def procedure(self, p: _Person, v: _Visit, code: str, reason: tuple[str, str] = ("", "")) -> None:
        rng = self.rng
        desc, cost = PROCEDURES[code]
        length = v.stop - v.start
        duration = min(length, _between(rng, 600, 2400)) if length < _DAY else _between(rng, 1800, 4 * 3600)
        start = v.start + int((length - duration) * rng.random())
        site = IMAGING_SITES.get(code)
        if self.noise("procedures") == "unmapped":
            code, desc = UNMAPPED_CODES["procedures"]
            site = None
        cost *= _uniform(rng, 0.85, 1.15)
        self.out["procedures"].append(
            (
                _ts(start),
                _ts(start + duration),
                p.id,
                v.id,
                code,
                desc,
                _money(cost),
                reason[0],
                reason[1],
            )
        )
        v.charges.append((code, desc, cost, start, start + duration))
        self.world.provider_procedures[v.provider] += 1
        self.world.payer_stats[v.payer][7 if v.coverage > 0 else 8] += 1
        if site:
            self.imaging(p, v, start, site, code)

    def imaging(self, p: _Person, v: _Visit, start: int, site: tuple[str, str], code: str) -> None:
        rng = self.rng
        millis = (start - _EPOCH_SEC) * 1000
        self.out["imaging_studies"].append(
            (
                _uuid(rng),
                _ts(start),
                p.id,
                v.id,
                f"1.2.840.99999999.1.{_between(rng, 10000000, 99999999)}.{millis}",
                site[0],
                site[1],
                "DX",
                "Digital Radiography",
                f"1.2.840.99999999.1.1.{_between(rng, 10000000, 99999999)}.{millis}",
                "1.2.840.10008.5.1.4.1.1.1.1",
                "Digital X-Ray Image Storage",
                code,
            )
        )

    def vaccinate(self, p: _Person, v: _Visit) -> None:
        rng = self.rng
        age = v.age
        if age < 2:
            codes = [c for c in INFANT_VACCINES if rng.random() < 0.5]
        elif age < 7:
            codes = [c for c in CHILD_VACCINES if rng.random() < 0.25]
        elif 11 <= age < 18:
            codes = [_pick(rng, TEEN_VACCINES)] if rng.random() < 0.5 else []
        elif age >= 18:
            codes = ["140"] if rng.random() < 0.55 else []
            if rng.random() < 0.08:
                codes.append("113")
            if age >= 60 and rng.random() < 0.1:
                codes.append("121")
            if age >= 65 and rng.random() < 0.1:
                codes.append("33" if rng.random() < 0.5 else "133")
            if rng.random() < 0.03:
                codes.append("43" if rng.random() < 0.5 else "52")
        else:
            codes = []
        for code in codes:
            if v.day < VACCINE_SINCE[code]:
                continue
            cost = 136.0 * _uniform(rng, 0.95, 1.05)
            self.out["immunizations"].append((v.start_ts, p.id, v.id, code, VACCINES[code], _money(cost)))
            v.charges.append((code, VACCINES[code], cost, v.start, v.start))
            self.world.payer_stats[v.payer][9 if v.coverage > 0 else 10] += 1

    def allergies(self, p: _Person, v: _Visit) -> None:
        rng = self.rng
        for _ in range(_between(rng, 1, 3)):
            code, system, desc, category = _pick(rng, ALLERGENS)
            reaction = _pick(rng, REACTIONS) if code != "419199007" else ("", "")
            severity = _pick(rng, ("MILD", "MILD", "MODERATE", "SEVERE")) if reaction[0] else ""
            second = _pick(rng, REACTIONS) if reaction[0] and rng.random() < 0.3 else ("", "")
            stop = _day_str(min(v.day + _between(rng, 365, 3650), p.end_day)) if rng.random() < 0.1 else ""
            self.out["allergies"].append(
                (
                    _day_str(v.day),
                    stop,
                    p.id,
                    v.id,
                    code,
                    system,
                    desc,
                    "intolerance" if category == "medication" and rng.random() < 0.3 else "allergy",
                    category,
                    reaction[0],
                    reaction[1],
                    severity,
                    second[0],
                    second[1],
                    "MILD" if second[0] else "",
                )
            )
            if code in ("762952008", "288328004") and severity == "SEVERE":
                self.medication(p, v, "1870230", (365, 730), code, desc)

    def careplan(self, p: _Person, v: _Visit, code: str, stop_day: int, reason: str, reason_desc: str) -> None:
        self.out["careplans"].append(
            (
                _uuid(self.rng),
                _day_str(v.day),
                _day_str(stop_day) if stop_day else "",
                p.id,
                v.id,
                code,
                CAREPLANS[code],
                reason,
                reason_desc,
            )
        )

    def device(self, p: _Person, v: _Visit, code: str) -> None:
        rng = self.rng
        made = date.fromordinal(max(v.day - _between(rng, 30, 700), 1))
        expires = date.fromordinal(v.day + _between(rng, 365, 3650))
        udi = (
            f"(01){_between(rng, 10**13, 10**14 - 1)}(11){made:%y%m%d}(17){expires:%y%m%d}"
            f"(10){_between(rng, 10**6, 10**12)}(21){_between(rng, 1000, 10**9)}"
        )
        self.out["devices"].append((v.start_ts, "", p.id, v.id, code, DEVICES[code], udi))

    def supply(self, v: _Visit, code: str, quantity: int) -> None:
        self.out["supplies"].append((_day_str(v.day), v.patient, v.id, code, SUPPLIES[code], str(quantity)))

    # -- observations -------------------------------------------------------------------------------

    def observation(self, v: _Visit, code: str, desc: str, category: str, value: str, units: str, kind: str) -> None:
        noise = self.noise("observations")
        if noise == "local":
            local = _pick(self.rng, self.local_by_table["observations"])
            code, desc, category, units, kind = local.code, local.description, "laboratory", local.units, "numeric"
            value = f"{_uniform(self.rng, local.low, local.high):.1f}"
        elif noise == "unmapped":
            code, desc = UNMAPPED_CODES["observations"]
            category, units, kind = "laboratory", "%", "numeric"
            value = f"{_uniform(self.rng, 0, 100):.1f}"
        self.out["observations"].append((v.start_ts, v.patient, v.id, category, code, desc, value, units, kind))

    def vitals(self, p: _Person, v: _Visit, full: bool) -> None:
        rng = self.rng
        age = v.age
        height = p.height * _growth(age)
        adult_bmi = p.bmi + 0.04 * (age - 40)
        bmi = adult_bmi if age >= 18 else 15.5 + 0.25 * max(0.0, age - 5) + 1.5 * p.bmi_child
        weight = bmi * height * height
        vital = "vital-signs"
        self.observation(v, "8302-2", "Body Height", vital, f"{height * 100:.1f}", "cm", "numeric")
        if age < 3:
            self.observation(
                v,
                "9843-4",
                "Head Occipital-frontal circumference",
                vital,
                f"{35 + 12 * min(age, 2.5) / 2.5 + rng.gauss(0, 1):.1f}",
                "cm",
                "numeric",
            )
        self.observation(v, "29463-7", "Body Weight", vital, f"{weight:.1f}", "kg", "numeric")
        if age >= 2:
            self.observation(v, "39156-5", "Body Mass Index", vital, f"{bmi:.1f}", "kg/m2", "numeric")
        if 2 <= age < 18 and rng.random() < 0.5:
            percentile = min(99.0, max(1.0, 50 + 30 * p.bmi_child))
            self.observation(
                v,
                "59576-9",
                "Body mass index (BMI) [Percentile] Per age and sex",
                vital,
                f"{percentile:.1f}",
                "%",
                "numeric",
            )
        if full:
            if age >= 3:
                self.blood_pressure(p, v)
            if rng.random() < 0.6:
                rate = f"{_heart_rate(rng, age):.1f}"
                self.observation(v, "8867-4", "Heart rate", vital, rate, "/min", "numeric")
            if rng.random() < 0.3:
                self.observation(
                    v, "9279-1", "Respiratory rate", vital, f"{_resp_rate(rng, age):.1f}", "/min", "numeric"
                )
            if age >= 18 and rng.random() < 0.2:
                self.observation(
                    v,
                    "72514-3",
                    "Pain severity - 0-10 verbal numeric rating [Score] - Reported",
                    vital,
                    f"{_between(rng, 0, 4)}.0",
                    "{score}",
                    "numeric",
                )
        if age >= 18 and bmi >= 30 and rng.random() < 0.1:
            self.finding(p, v, OBESITY, _between(rng, 365, 1500))

    def blood_pressure(self, p: _Person, v: _Visit) -> None:
        rng = self.rng
        age = v.age
        if age < 18:
            systolic, diastolic = _uniform(rng, 85, 115), _uniform(rng, 50, 72)
        else:
            extra = 18 if p.hypertensive else 0
            systolic = 100 + 0.45 * age + rng.gauss(0, 8) + extra
            diastolic = 62 + 0.2 * age + rng.gauss(0, 6) + extra / 2
        self.observation(
            v, "8462-4", "Diastolic Blood Pressure", "vital-signs", f"{diastolic:.1f}", "mm[Hg]", "numeric"
        )
        self.observation(v, "8480-6", "Systolic Blood Pressure", "vital-signs", f"{systolic:.1f}", "mm[Hg]", "numeric")

    def sick_vitals(self, p: _Person, v: _Visit) -> None:
        """A few vital signs at a visit for an acute problem."""
        rng = self.rng
        if rng.random() < 0.6:
            temperature = f"{_uniform(rng, 36.6, 39.2):.1f}"
            self.observation(v, "8310-5", "Body temperature", "vital-signs", temperature, "Cel", "numeric")
        if rng.random() < 0.5:
            rate = f"{_heart_rate(rng, v.age) + 10:.1f}"
            self.observation(v, "8867-4", "Heart rate", "vital-signs", rate, "/min", "numeric")
        if rng.random() < 0.3:
            self.blood_pressure(p, v)

    def labs(self, p: _Person, v: _Visit) -> None:
        rng = self.rng
        if rng.random() < 0.1:
            for code in _METABOLIC_PANEL:
                self.lab(p, v, code)
        if rng.random() < (0.35 if p.lipids else 0.1):
            for code in _LIPID_PANEL:
                self.lab(p, v, code)
        if rng.random() < (0.3 if p.anemic else 0.05):
            for code in _BLOOD_COUNT:
                self.lab(p, v, code)
        if (p.diabetic or p.prediabetic) and rng.random() < 0.6:
            self.lab(p, v, "4548-4")

    def lab(self, p: _Person, v: _Visit, code: str) -> None:
        desc, units, normal, abnormal, flag = _LABS[code]
        low, high = abnormal if flag and getattr(p, flag) else normal
        value = _uniform(self.rng, low, high)
        self.observation(v, code, desc, "laboratory", f"{value:.1f}", units, "numeric")


@cache
def _eligible(pool: tuple[Cond, ...], age: int, sex: str, covid_era: bool) -> tuple[tuple[Cond, ...], list[float]]:
    """Conditions of a pool that fit an age (whole years) and sex, with cumulative weights."""
    options = tuple(
        c for c in pool if c.min_age <= age <= c.max_age and c.sex in ("", sex) and (covid_era or c.code != "840539006")
    )
    return options, _cumulative([c.weight for c in options])


def _growth(age: float) -> float:
    """Share of adult height reached at a given age (rough growth curve)."""
    points = ((0, 0.29), (1, 0.43), (2, 0.50), (5, 0.63), (10, 0.79), (14, 0.93), (18, 1.0))
    if age >= 18:
        return 1.0
    for (a0, f0), (a1, f1) in zip(points, points[1:], strict=False):
        if age < a1:
            return f0 + (f1 - f0) * (age - a0) / (a1 - a0)
    return 1.0


def _heart_rate(rng: Random, age: float) -> float:
    if age < 1:
        return _uniform(rng, 110, 160)
    if age < 6:
        return _uniform(rng, 90, 130)
    if age < 13:
        return _uniform(rng, 70, 110)
    return _uniform(rng, 58, 98)


def _resp_rate(rng: Random, age: float) -> float:
    if age < 1:
        return _uniform(rng, 30, 50)
    if age < 6:
        return _uniform(rng, 22, 34)
    if age < 13:
        return _uniform(rng, 18, 28)
    return _uniform(rng, 12, 20)


# code -> (description, units, normal range, abnormal range, person flag selecting the abnormal range)
_LABS: dict[str, tuple[str, str, tuple[float, float], tuple[float, float], str]] = {
    "2339-0": ("Glucose", "mg/dL", (70, 99), (110, 220), "diabetic"),
    "6299-2": ("Urea Nitrogen", "mg/dL", (7, 20), (20, 45), "ckd"),
    "38483-4": ("Creatinine", "mg/dL", (0.6, 1.2), (1.3, 2.6), "ckd"),
    "49765-1": ("Calcium", "mg/dL", (8.6, 10.3), (8.6, 10.3), ""),
    "2947-0": ("Sodium", "mmol/L", (136, 145), (136, 145), ""),
    "6298-4": ("Potassium", "mmol/L", (3.5, 5.1), (4.5, 5.8), "ckd"),
    "2069-3": ("Chloride", "mmol/L", (98, 107), (98, 107), ""),
    "20565-8": ("Carbon Dioxide", "mmol/L", (22, 29), (20, 29), ""),
    "2093-3": ("Total Cholesterol", "mg/dL", (150, 200), (210, 300), "lipids"),
    "2571-8": ("Triglycerides", "mg/dL", (60, 150), (160, 400), "lipids"),
    "18262-6": ("Low Density Lipoprotein Cholesterol", "mg/dL", (70, 130), (140, 220), "lipids"),
    "2085-9": ("High Density Lipoprotein Cholesterol", "mg/dL", (40, 80), (30, 45), "lipids"),
    "4548-4": ("Hemoglobin A1c/Hemoglobin.total in Blood", "%", (5.7, 6.4), (6.5, 10.0), "diabetic"),
    "718-7": ("Hemoglobin [Mass/volume] in Blood", "g/dL", (12.0, 17.0), (8.0, 11.5), "anemic"),
    "4544-3": ("Hematocrit [Volume Fraction] of Blood by Automated count", "%", (36, 50), (25, 35), "anemic"),
    "6690-2": ("Leukocytes [#/volume] in Blood by Automated count", "10*3/uL", (4.0, 11.0), (4.0, 11.0), ""),
    "777-3": ("Platelets [#/volume] in Blood by Automated count", "10*3/uL", (150, 400), (150, 400), ""),
}
_METABOLIC_PANEL = ("2339-0", "6299-2", "38483-4", "49765-1", "2947-0", "6298-4", "2069-3", "20565-8")
_LIPID_PANEL = ("2093-3", "2571-8", "18262-6", "2085-9")
_BLOOD_COUNT = ("718-7", "4544-3", "6690-2", "777-3")


# --- entry point -----------------------------------------------------------------------------------


def generate_synthea(
    out_dir: Path,
    patients: int,
    seed: int,
    version: str = "3.3",
    progress: Callable[[int], None] | None = None,
    *,
    local_code_share: float = 0.03,
    unmapped_share: float = 0.02,
) -> dict[str, int]:
    """Write the 18 Synthea CSV files for ``patients`` patients into ``out_dir``.

    The same (patients, seed, version, shares) always give byte-identical files. ``progress`` is
    called with the number of patients done, every 1,000 patients and at the end. Returns the
    number of data rows written per file name (``"patients.csv"`` ...).
    """
    if version not in VERSIONS:
        raise ValueError(f"version must be one of {', '.join(VERSIONS)}, not {version!r}")
    if patients < 0:
        raise ValueError(f"patients must be 0 or more, not {patients}")
    for name, share in (("local_code_share", local_code_share), ("unmapped_share", unmapped_share)):
        if not 0.0 <= share <= 1.0:
            raise ValueError(f"{name} must be between 0 and 1, not {share}")
    if local_code_share + unmapped_share > 1.0:
        raise ValueError("local_code_share + unmapped_share must not exceed 1")
    out_dir = Path(out_dir)
    try:
        out_dir.mkdir(parents=True, exist_ok=True)
        output = _Output(out_dir, version)
    except OSError as exc:
        raise UserError(
            f"cannot write the extract to {out_dir}: {exc.strerror or exc}; choose a writable folder with --out"
        ) from exc

    try:
        rng = Random(seed)
        world = _World(rng, patients)
        gen = _Generator(rng, output, world, version, local_code_share, unmapped_share)
        for done in range(1, patients + 1):
            gen.patient()
            if done % _FLUSH_EVERY == 0:
                output.flush()
            if progress is not None and (done % 1000 == 0 or done == patients):
                progress(done)
        world.write(output.rows)
        return output.commit()
    except BaseException:
        output.abort()
        raise


# --- a follow-up batch ------------------------------------------------------------------------

# Tables whose rows belong to an encounter (column ENCOUNTER): they go with it.
_BY_ENCOUNTER = (
    "allergies", "careplans", "conditions", "devices", "imaging_studies", "immunizations", "medications",
    "observations", "procedures", "supplies",
)  # fmt: skip
# Reference tables: every encounter may point into them, so they stay in the first batch.
_REFERENCE = ("organizations", "providers", "payers")


def split_follow_up(extract: Path, follow_up: Path, share: float) -> dict[str, tuple[int, int]]:
    """Move the latest ``share`` of an extract's encounters, with everything that belongs to them, into a second batch.

    The extract in ``extract`` keeps the rest; ``follow_up`` gets the 18 files (header only where
    nothing moved), as a source system's next delivery would: new encounters of known patients
    with their events, claims and claim transactions, and the new patients (those whose every
    encounter moved) with their coverage. Organizations, providers and payers stay in the first
    batch. Files are written as ``*.part`` and renamed when all are done. Returns, per file
    name, the rows (kept, moved).
    """
    if not 0.0 < share < 1.0:
        raise ValueError(f"share must be between 0 and 1 (exclusive), not {share}")
    extract, follow_up = Path(extract), Path(follow_up)
    missing = [f"{name}.csv" for name in ENTITIES if not (extract / f"{name}.csv").is_file()]
    if missing:
        raise UserError(f"{extract}: no {', '.join(missing)}; give the folder `generate synthea --out` wrote")
    if follow_up.resolve() == extract.resolve():
        raise UserError(
            f"--follow-up {follow_up}: must differ from the extract folder; give the second batch its own folder"
        )
    follow_up.mkdir(parents=True, exist_ok=True)

    def rows(name: str) -> tuple[list[str], Any]:
        handle = (extract / f"{name}.csv").open(newline="", encoding="utf-8")
        reader = csv.reader(handle)
        return next(reader), (handle, reader)

    # the cut: the START of the encounter at the (1 - share) quantile; later ones move
    header, (handle, reader) = rows("encounters")
    start, enc_id, patient = (header.index(c) for c in ("START", "Id", "PATIENT"))
    with handle:
        starts = sorted(r[start] for r in reader)
    cut = starts[min(len(starts) - 1, int(len(starts) * (1.0 - share)))] if starts else None
    del starts

    moved_encounters: set[str] = set()
    known_patients: set[str] = set()  # patients with an encounter in the first batch
    late_patients: set[str] = set()  # patients with an encounter in the follow-up
    header, (handle, reader) = rows("encounters")
    with handle:
        for r in reader:
            if cut is not None and r[start] >= cut:
                moved_encounters.add(r[enc_id])
                late_patients.add(r[patient])
            else:
                known_patients.add(r[patient])
    # new patients: every encounter of theirs is in the follow-up
    moved_patients = late_patients - known_patients

    def patient_moves(patient_id: str) -> bool:
        return patient_id in moved_patients

    moved_claims: set[str] = set()
    header, (handle, reader) = rows("claims")
    appointment, claim_id, claim_patient = (header.index(c) for c in ("APPOINTMENTID", "Id", "PATIENTID"))
    with handle:
        for r in reader:
            if r[appointment] in moved_encounters or (not r[appointment] and patient_moves(r[claim_patient])):
                moved_claims.add(r[claim_id])

    def decide(name: str, header: list[str]) -> Callable[[list[str]], bool]:
        if name == "encounters":
            return lambda r: r[enc_id] in moved_encounters
        if name == "patients":
            i = header.index("Id")
            return lambda r: patient_moves(r[i])
        if name == "payer_transitions":
            i = header.index("PATIENT")
            return lambda r: patient_moves(r[i])
        if name == "claims":
            return lambda r: r[claim_id] in moved_claims
        if name == "claims_transactions":
            i = header.index("CLAIMID")
            return lambda r: r[i] in moved_claims
        if name in _BY_ENCOUNTER:
            i, p = header.index("ENCOUNTER"), header.index("PATIENT")
            return lambda r: r[i] in moved_encounters if r[i] else patient_moves(r[p])
        if name in _REFERENCE:
            return lambda r: False
        raise RuntimeError(f"split_follow_up does not know where the rows of {name} go")

    counts: dict[str, tuple[int, int]] = {}
    parts: list[tuple[Path, Path]] = []
    try:
        for name in ENTITIES:
            header, (handle, reader) = rows(name)
            moves = decide(name, header)
            keep_part, move_part = extract / f"{name}.csv.part", follow_up / f"{name}.csv.part"
            parts += [(keep_part, extract / f"{name}.csv"), (move_part, follow_up / f"{name}.csv")]
            kept = moved = 0
            with (
                handle,
                keep_part.open("w", newline="", encoding="utf-8") as keep_out,
                move_part.open("w", newline="", encoding="utf-8") as move_out,
            ):
                keep_writer = csv.writer(keep_out, lineterminator="\n")
                move_writer = csv.writer(move_out, lineterminator="\n")
                keep_writer.writerow(header)
                move_writer.writerow(header)
                for r in reader:
                    if moves(r):
                        move_writer.writerow(r)
                        moved += 1
                    else:
                        keep_writer.writerow(r)
                        kept += 1
            counts[f"{name}.csv"] = (kept, moved)
    except BaseException:
        for part, _final in parts:
            part.unlink(missing_ok=True)
        raise
    for part, final in parts:
        os.replace(part, final)
    return counts
