#!/usr/bin/env python3
"""gen_sample.py - deterministic synthetic FHIR R4 sample data for fhir_search.

Standard library only.  Same flags -> byte-identical output.

Output formats
  ndjson  (default)  one resource per line, dependency order:
                     Organizations, Practitioners, then per patient:
                     Patient, Encounters, Observations, Conditions,
                     MedicationRequests.  References are relative "Type/id".
  bundles            one FHIR transaction Bundle per patient in
                     DIR/patient-NNNNN.json (+ DIR/00-practitioners.json with
                     Organizations and Practitioners as PUT entries).
                     Intra-bundle references are urn:uuid fullUrls;
                     Practitioner/Organization references are conditional
                     references (Type?identifier=system|value), like Synthea.

See tools/README.md for examples.
"""

import argparse
import datetime
import json
import os
import random
import sys
import time
import uuid

# ---------------------------------------------------------------------------
# Time helpers.  All times are integer seconds since the Unix epoch (UTC).
# Everything is relative to a fixed base date (2024-01-01), never "now".
# ---------------------------------------------------------------------------

BASE_TS = 1704067200            # 2024-01-01T00:00:00Z
DAY = 86400
YEAR = 31556952                 # mean Gregorian year in seconds
_EPOCH_ORD = datetime.date(1970, 1, 1).toordinal()
_DAY_MIN = datetime.date(1900, 1, 1).toordinal() - _EPOCH_ORD
_DAY_MAX = datetime.date(2031, 1, 1).toordinal() - _EPOCH_ORD
DAY_STR = [datetime.date.fromordinal(d + _EPOCH_ORD).isoformat()
           for d in range(_DAY_MIN, _DAY_MAX)]
BIRTH_MIN = (datetime.date(1930, 1, 1).toordinal() - _EPOCH_ORD) * DAY
BIRTH_MAX = (datetime.date(2020, 12, 31).toordinal() - _EPOCH_ORD) * DAY


def _tz_suffix(off):
    sign = '+' if off >= 0 else '-'
    a = abs(off)
    return '%s%02d:%02d' % (sign, a // 60, a % 60)


TZ_SUFFIX = {off: _tz_suffix(off) for off in range(-720, 841, 30)}


def fmt_date(ts):
    return DAY_STR[ts // DAY - _DAY_MIN]


def fmt_dt(ts, off):
    """dateTime with seconds; off = offset minutes, or None for 'Z'."""
    if off is None:
        local, suffix = ts, 'Z'
    else:
        local, suffix = ts + off * 60, TZ_SUFFIX[off]
    d, s = divmod(local, DAY)
    return '%sT%02d:%02d:%02d%s' % (DAY_STR[d - _DAY_MIN], s // 3600,
                                     s // 60 % 60, s % 60, suffix)


def fmt_instant_ms(ts, ms):
    d, s = divmod(ts, DAY)
    return '%sT%02d:%02d:%02d.%03dZ' % (DAY_STR[d - _DAY_MIN], s // 3600,
                                         s // 60 % 60, s % 60, ms)


def month_of(ts):
    return int(DAY_STR[ts // DAY - _DAY_MIN][5:7])


# ---------------------------------------------------------------------------
# Terminology / vocabulary tables (module-level, shared dict objects).
# ---------------------------------------------------------------------------

SYS_LOINC = 'http://loinc.org'
SYS_SNOMED = 'http://snomed.info/sct'
SYS_UCUM = 'http://unitsofmeasure.org'
SYS_RXNORM = 'http://www.nlm.nih.gov/research/umls/rxnorm'
SYS_ICD10 = 'http://hl7.org/fhir/sid/icd-10-cm'
SYS_NPI = 'http://hl7.org/fhir/sid/us-npi'
SYS_SSN = 'http://hl7.org/fhir/sid/us-ssn'
SYS_MRN = 'http://hospital.example.org/mrn'
SYS_SYNTHEA = 'https://github.com/synthetichealth/synthea'
SYS_V2_0203 = 'http://terminology.hl7.org/CodeSystem/v2-0203'
SYS_OBS_CAT = 'http://terminology.hl7.org/CodeSystem/observation-category'
SYS_INTERP = 'http://terminology.hl7.org/CodeSystem/v3-ObservationInterpretation'
SYS_ACTCODE = 'http://terminology.hl7.org/CodeSystem/v3-ActCode'
SYS_COND_CLIN = 'http://terminology.hl7.org/CodeSystem/condition-clinical'
SYS_COND_VER = 'http://terminology.hl7.org/CodeSystem/condition-ver-status'
SYS_COND_CAT = 'http://terminology.hl7.org/CodeSystem/condition-category'
SYS_MARITAL = 'http://terminology.hl7.org/CodeSystem/v3-MaritalStatus'
SYS_PART_TYPE = 'http://terminology.hl7.org/CodeSystem/v3-ParticipationType'
SYS_ORG_TYPE = 'http://terminology.hl7.org/CodeSystem/organization-type'
SYS_V2_0360 = 'http://terminology.hl7.org/CodeSystem/v2-0360'
SYS_TAGS = 'http://example.org/tags'
SYS_BCP47 = 'urn:ietf:bcp:47'


def cc(system, code, display, text=None):
    c = {'coding': [{'system': system, 'code': code, 'display': display}]}
    c['text'] = text if text is not None else display
    return c


# --- names -----------------------------------------------------------------
FAMILY_PLAIN = [
    'Smith', 'Johnson', 'Williams', 'Brown', 'Jones', 'Garcia', 'Miller',
    'Davis', 'Rodriguez', 'Martinez', 'Hernandez', 'Lopez', 'Gonzalez',
    'Wilson', 'Anderson', 'Thomas', 'Taylor', 'Moore', 'Jackson', 'Martin',
    'Lee', 'Perez', 'Thompson', 'White', 'Harris', 'Sanchez', 'Clark',
    'Ramirez', 'Lewis', 'Robinson', 'Walker', 'Young', 'Allen', 'King',
    'Wright', 'Scott', 'Torres', 'Nguyen', 'Hill', 'Flores', 'Green',
    'Adams', 'Nelson', 'Baker', 'Hall', 'Rivera', 'Campbell', 'Mitchell',
    'Carter', 'Roberts', "O'Brien", 'Smith-Jones', 'Van der Berg', 'McDonald',
    'Kowalski', 'Schmidt', 'Rossi', 'Kim', 'Patel', 'Chen', 'Wang', 'Singh',
]
FAMILY_ACCENT = [
    'Müller', 'Núñez', 'Ångström', 'Peña', 'Gómez', 'Dvořák', 'Šimek',
    'Björk', 'Lefèvre', 'Côté', 'Böhm', 'Jiménez', 'Wałęsa', 'Ibáñez',
    'Çelik', 'Öztürk', 'Fernández', 'Rodríguez', 'Søndergaard', 'Håkansson',
    'Nowicka-Żak', 'Gonçalves', 'Strauß',
]
GIVEN_MALE_PLAIN = [
    'James', 'John', 'Robert', 'Michael', 'William', 'David', 'Richard',
    'Joseph', 'Thomas', 'Charles', 'Daniel', 'Matthew', 'Anthony', 'Mark',
    'Steven', 'Paul', 'Andrew', 'Kevin', 'Brian', 'George', 'Edward',
    'Ryan', 'Jacob', 'Ethan', 'Liam', 'Noah', 'Hiroshi', 'Wei', 'Ahmed',
]
GIVEN_MALE_ACCENT = [
    'José', 'François', 'Łukasz', 'Jérôme', 'André', 'Søren', 'Jürgen',
    'Björn', 'Ramón', 'Jesús', 'Tomáš', 'Noël', 'Çağan', 'Joaquín',
]
GIVEN_FEMALE_PLAIN = [
    'Mary', 'Patricia', 'Jennifer', 'Linda', 'Elizabeth', 'Barbara', 'Susan',
    'Jessica', 'Sarah', 'Karen', 'Lisa', 'Nancy', 'Betty', 'Sandra', 'Ashley',
    'Emily', 'Olivia', 'Emma', 'Sophia', 'Margaret', 'Anna', 'Grace',
    'Mia', 'Yuki', 'Mei', 'Fatima', 'Priya',
]
GIVEN_FEMALE_ACCENT = [
    'Zoë', 'Chloé', 'Renée', 'Zoé', 'Inês', 'Małgorzata', 'Ágnes', 'Björg',
    'Léa', 'María', 'Sofía', 'Hélène', 'Anaïs', 'Åsa', 'Dóra',
]
NICKNAMES = {
    'William': 'Bill', 'Robert': 'Bob', 'Richard': 'Rick', 'Michael': 'Mike',
    'James': 'Jim', 'Joseph': 'Joe', 'Thomas': 'Tom', 'Charles': 'Chuck',
    'Daniel': 'Dan', 'Matthew': 'Matt', 'Anthony': 'Tony', 'Steven': 'Steve',
    'Andrew': 'Andy', 'Edward': 'Ted', 'Elizabeth': 'Liz',
    'Patricia': 'Patty', 'Jennifer': 'Jen', 'Margaret': 'Peggy',
    'Susan': 'Sue', 'Jessica': 'Jess', 'Barbara': 'Barb', 'Sandra': 'Sandy',
    'José': 'Pepe', 'François': 'Franck', 'María': 'Mari',
    'Małgorzata': 'Gosia', 'Jürgen': 'Jürg', 'Hélène': 'Lène',
}
_ASCII_FOLD = {'Ł': 'L', 'ł': 'l', 'ø': 'o', 'Ø': 'O', 'ß': 'ss', 'æ': 'ae',
               'œ': 'oe', 'ı': 'i', 'ğ': 'g'}


def _ascii(s):
    import unicodedata
    s = ''.join(_ASCII_FOLD.get(ch, ch) for ch in s)
    s = unicodedata.normalize('NFKD', s)
    s = ''.join(ch for ch in s if ch.isascii() and (ch.isalnum() or ch == '-'))
    return s.lower()


EMAIL_NAME = {n: _ascii(n) for n in (FAMILY_PLAIN + FAMILY_ACCENT +
                                      GIVEN_MALE_PLAIN + GIVEN_MALE_ACCENT +
                                      GIVEN_FEMALE_PLAIN + GIVEN_FEMALE_ACCENT)}

# --- places: (city, state, country, postal prefix, postal digits, std tz min, dst)
CITIES = [
    ('Boston', 'MA', 'US', '021', 2, -300, True),
    ('Springfield', 'MA', 'US', '011', 2, -300, True),
    ('Worcester', 'MA', 'US', '016', 2, -300, True),
    ('Cambridge', 'MA', 'US', '021', 2, -300, True),
    ('Hartford', 'CT', 'US', '061', 2, -300, True),
    ('Providence', 'RI', 'US', '029', 2, -300, True),
    ('New York', 'NY', 'US', '100', 2, -300, True),
    ('Albany', 'NY', 'US', '122', 2, -300, True),
    ('Chicago', 'IL', 'US', '606', 2, -360, True),
    ('Springfield', 'IL', 'US', '627', 2, -360, True),
    ('Austin', 'TX', 'US', '787', 2, -360, True),
    ('Houston', 'TX', 'US', '770', 2, -360, True),
    ('San Antonio', 'TX', 'US', '782', 2, -360, True),
    ('Seattle', 'WA', 'US', '981', 2, -480, True),
    ('Portland', 'OR', 'US', '972', 2, -480, True),
    ('Denver', 'CO', 'US', '802', 2, -420, True),
    ('Phoenix', 'AZ', 'US', '850', 2, -420, False),
    ('Miami', 'FL', 'US', '331', 2, -300, True),
    ('Atlanta', 'GA', 'US', '303', 2, -300, True),
    ('San José', 'CA', 'US', '951', 2, -480, True),
    ('Los Angeles', 'CA', 'US', '900', 2, -480, True),
    ('San Francisco', 'CA', 'US', '941', 2, -480, True),
    ('Saint Paul', 'MN', 'US', '551', 2, -360, True),
    ("Cœur d'Alene", 'ID', 'US', '838', 2, -480, True),
    ('Honolulu', 'HI', 'US', '968', 2, -600, False),
]
CITIES_INTL = [
    ('Montréal', 'QC', 'CA', 'H2X 1Y', 1, -300, True),
    ('Berlin', 'BE', 'DE', '10', 3, 60, True),
    ('Kraków', 'Małopolskie', 'PL', '31-', 3, 60, True),
    ('Paris', 'IDF', 'FR', '750', 2, 60, True),
    ('Zürich', 'ZH', 'CH', '80', 2, 60, True),
    ('Kolkata', 'WB', 'IN', '700', 3, 330, False),
]
STREETS = ['Main', 'Oak', 'Maple', 'Cedar', 'Elm', 'Washington', 'Lake',
           'Hill', 'Park', 'Pine', 'Church', 'Mill', 'River', 'Sunset',
           'Highland', 'Jefferson', 'Lincoln', 'Franklin', 'Prospect']
INTL_STREETS = {'CA': ['Rue Saint-Denis', 'Boulevard René-Lévesque'],
                'DE': ['Friedrichstraße', 'Müllerstraße'],
                'PL': ['Ulica Floriańska', 'Ulica Świętego Tomasza'],
                'FR': ['Rue de la Paix', 'Avenue des Champs-Élysées'],
                'CH': ['Bahnhofstrasse', 'Rämistrasse'],
                'IN': ['Park Street', 'Rashbehari Avenue']}
STREET_SUFFIX = ['Street', 'St', 'Avenue', 'Ave', 'Road', 'Rd', 'Lane',
                 'Drive', 'Way', 'Court', 'Boulevard']

MARITAL = [
    ('M', 'Married'), ('S', 'Never Married'), ('D', 'Divorced'),
    ('W', 'Widowed'), ('L', 'Legally Separated'),
]
MARITAL_CC = {c: cc(SYS_MARITAL, c, d) for c, d in MARITAL}
LANGS = [('en-US', 'English (United States)'), ('es', 'Spanish'),
         ('fr', 'French'), ('de', 'German'), ('pl', 'Polish'),
         ('zh', 'Chinese'), ('vi', 'Vietnamese')]

MRN_TYPE = cc(SYS_V2_0203, 'MR', 'Medical Record Number', 'Medical Record Number')
SSN_TYPE = cc(SYS_V2_0203, 'SS', 'Social Security Number', 'Social Security Number')
NPI_TYPE = cc(SYS_V2_0203, 'NPI', 'National provider identifier')

# --- encounters: class code, display, weight, [(snomed, display)]
ENC_CLASSES = [
    ('AMB', 'ambulatory', 75, [
        ('185349003', 'Encounter for check up (procedure)'),
        ('162673000', 'General examination of patient (procedure)'),
        ('185345009', 'Encounter for symptom (procedure)'),
        ('390906007', 'Follow-up encounter (procedure)'),
        ('410620009', 'Well child visit (procedure)'),
    ]),
    ('EMER', 'emergency', 15, [
        ('50849002', 'Emergency room admission (procedure)'),
        ('183452005', 'Emergency hospital admission (procedure)'),
    ]),
    ('IMP', 'inpatient encounter', 10, [
        ('32485007', 'Hospital admission (procedure)'),
        ('305408004', 'Admission to surgical department (procedure)'),
    ]),
]
ENC_CLASS_WEIGHTS = [c[2] for c in ENC_CLASSES]
ENC_CLASS_CODING = [{'system': SYS_ACTCODE, 'code': c[0], 'display': c[1]}
                    for c in ENC_CLASSES]
ENC_TYPE_CC = [[[cc(SYS_SNOMED, code, disp)] for code, disp in c[3]]
               for c in ENC_CLASSES]
PART_PPRF = [cc(SYS_PART_TYPE, 'PPRF', 'primary performer')]
PART_ATND = [cc(SYS_PART_TYPE, 'ATND', 'attender')]

# --- observations
CAT_VITAL = [cc(SYS_OBS_CAT, 'vital-signs', 'Vital Signs', 'Vital Signs')]
CAT_LAB = [cc(SYS_OBS_CAT, 'laboratory', 'Laboratory', 'Laboratory')]
CAT_SOCIAL = [cc(SYS_OBS_CAT, 'social-history', 'Social History', 'Social History')]


def _loinc(code, display):
    return cc(SYS_LOINC, code, display)


OBS_CODE = {
    'height': _loinc('8302-2', 'Body height'),
    'weight': _loinc('29463-7', 'Body weight'),
    'bmi': _loinc('39156-5', 'Body mass index (BMI) [Ratio]'),
    'hr': _loinc('8867-4', 'Heart rate'),
    'rr': _loinc('9279-1', 'Respiratory rate'),
    'temp': _loinc('8310-5', 'Body temperature'),
    'bp': _loinc('85354-9', 'Blood pressure panel with all children optional'),
    'spo2': {'coding': [
        {'system': SYS_LOINC, 'code': '59408-5',
         'display': 'Oxygen saturation in Arterial blood by Pulse oximetry'},
        {'system': SYS_LOINC, 'code': '2708-6',
         'display': 'Oxygen saturation in Arterial blood'}],
        'text': 'Oxygen saturation in Arterial blood'},
    'pain': _loinc('72514-3', 'Pain severity - 0-10 verbal numeric rating [Score] - Reported'),
    'glucose': _loinc('2339-0', 'Glucose [Mass/volume] in Blood'),
    'a1c': _loinc('4548-4', 'Hemoglobin A1c/Hemoglobin.total in Blood'),
    'chol': _loinc('2093-3', 'Cholesterol [Mass/volume] in Serum or Plasma'),
    'hdl': _loinc('2085-9', 'Cholesterol in HDL [Mass/volume] in Serum or Plasma'),
    'ldl': _loinc('18262-6', 'Cholesterol in LDL [Mass/volume] in Serum or Plasma by Direct assay'),
    'tg': _loinc('2571-8', 'Triglyceride [Mass/volume] in Serum or Plasma'),
    'creat': _loinc('2160-0', 'Creatinine [Mass/volume] in Serum or Plasma'),
    'ucolor': _loinc('5778-6', 'Color of Urine'),
    'uclar': _loinc('32167-9', 'Clarity of Urine'),
    'smoking': _loinc('72166-2', 'Tobacco smoking status'),
}
BP_SYS_CODE = _loinc('8480-6', 'Systolic blood pressure')
BP_DIA_CODE = _loinc('8462-4', 'Diastolic blood pressure')
VITAL_KEYS = ['bp', 'hr', 'weight', 'rr', 'temp', 'height', 'bmi', 'spo2', 'pain']
LAB_KEYS = ['glucose', 'a1c', 'chol', 'hdl', 'ldl', 'tg', 'creat', 'ucolor', 'uclar']
# unit, UCUM code, reference range (low, high) or None
UNITS = {
    'height': ('cm', 'cm', None), 'weight': ('kg', 'kg', None),
    'bmi': ('kg/m2', 'kg/m2', (18.5, 25.0)), 'hr': ('/min', '/min', (60, 100)),
    'rr': ('/min', '/min', (12, 20)), 'temp': ('Cel', 'Cel', (36.1, 37.5)),
    'spo2': ('%', '%', (95, 100)), 'pain': ('{score}', '{score}', None),
    'glucose': ('mg/dL', 'mg/dL', (70, 99)), 'a1c': ('%', '%', (4.0, 5.6)),
    'chol': ('mg/dL', 'mg/dL', (125, 200)), 'hdl': ('mg/dL', 'mg/dL', (40, 80)),
    'ldl': ('mg/dL', 'mg/dL', (0, 130)), 'tg': ('mg/dL', 'mg/dL', (0, 150)),
    'creat': ('mg/dL', 'mg/dL', (0.6, 1.3)),
}
VITAL_PROFILES = {
    'height': 'http://hl7.org/fhir/StructureDefinition/bodyheight',
    'weight': 'http://hl7.org/fhir/StructureDefinition/bodyweight',
    'bmi': 'http://hl7.org/fhir/StructureDefinition/bmi',
    'hr': 'http://hl7.org/fhir/StructureDefinition/heartrate',
    'rr': 'http://hl7.org/fhir/StructureDefinition/resprate',
    'temp': 'http://hl7.org/fhir/StructureDefinition/bodytemp',
    'bp': 'http://hl7.org/fhir/StructureDefinition/bp',
    'spo2': 'http://hl7.org/fhir/StructureDefinition/oxygensat',
}
INTERP = {
    'H': [cc(SYS_INTERP, 'H', 'High')],
    'L': [cc(SYS_INTERP, 'L', 'Low')],
    'N': [cc(SYS_INTERP, 'N', 'Normal')],
    'HH': [cc(SYS_INTERP, 'HH', 'Critical high')],
}
SMOKING = [
    cc(SYS_SNOMED, '266919005', 'Never smoked tobacco (finding)'),
    cc(SYS_SNOMED, '8517006', 'Ex-smoker (finding)'),
    cc(SYS_SNOMED, '449868002', 'Smokes tobacco daily (finding)'),
    cc(SYS_SNOMED, '428041000124106', 'Occasional tobacco smoker (finding)'),
]
URINE_COLOR = ['yellow', 'yellow', 'yellow', 'straw', 'amber', 'dark yellow',
               'colorless', 'red']
URINE_CLARITY = ['clear', 'clear', 'clear', 'slightly cloudy', 'cloudy', 'turbid']

# --- conditions: key -> (snomed, display, icd10 or None, chronic)
CONDITIONS = {
    'diabetes': ('44054006', 'Diabetes mellitus type 2 (disorder)', ('E11.9', 'Type 2 diabetes mellitus without complications'), True),
    'prediabetes': ('15777000', 'Prediabetes (finding)', ('R73.03', 'Prediabetes'), True),
    'hypertension': ('38341003', 'Hypertensive disorder, systemic arterial (disorder)', ('I10', 'Essential (primary) hypertension'), True),
    'hyperlipidemia': ('55822004', 'Hyperlipidemia (disorder)', ('E78.5', 'Hyperlipidemia, unspecified'), True),
    'asthma': ('195967001', 'Asthma (disorder)', ('J45.909', 'Unspecified asthma, uncomplicated'), True),
    'obesity': ('414916001', 'Obesity (disorder)', ('E66.9', 'Obesity, unspecified'), True),
    'ckd': ('433144002', 'Chronic kidney disease stage 3 (disorder)', ('N18.30', 'Chronic kidney disease, stage 3 unspecified'), True),
    'copd': ('13645005', 'Chronic obstructive lung disease (disorder)', ('J44.9', 'Chronic obstructive pulmonary disease, unspecified'), True),
    'depression': ('35489007', 'Depressive disorder (disorder)', ('F32.A', 'Depression, unspecified'), True),
    'osteoarthritis': ('239873007', 'Osteoarthritis of knee (disorder)', ('M17.9', 'Osteoarthritis of knee, unspecified'), True),
    'afib': ('49436004', 'Atrial fibrillation (disorder)', ('I48.91', 'Unspecified atrial fibrillation'), True),
    'chd': ('53741008', 'Coronary arteriosclerosis (disorder)', ('I25.10', 'Atherosclerotic heart disease of native coronary artery without angina pectoris'), True),
    'migraine': ('37796009', 'Migraine (disorder)', ('G43.909', 'Migraine, unspecified, not intractable, without status migrainosus'), True),
    'gerd': ('235595009', 'Gastroesophageal reflux disease (disorder)', ('K21.9', 'Gastro-esophageal reflux disease without esophagitis'), True),
    'bronchitis': ('10509002', 'Acute bronchitis (disorder)', ('J20.9', 'Acute bronchitis, unspecified'), False),
    'sinusitis': ('444814009', 'Viral sinusitis (disorder)', ('J01.90', 'Acute sinusitis, unspecified'), False),
    'strep': ('43878008', 'Streptococcal sore throat (disorder)', ('J02.0', 'Streptococcal pharyngitis'), False),
    'otitis': ('65363002', 'Otitis media (disorder)', ('H66.90', 'Otitis media, unspecified, unspecified ear'), False),
    'pharyngitis': ('195662009', 'Acute viral pharyngitis (disorder)', ('J02.9', 'Acute pharyngitis, unspecified'), False),
    'uti': ('68566005', 'Urinary tract infectious disease (disorder)', ('N39.0', 'Urinary tract infection, site not specified'), False),
    'sprain': ('44465007', 'Sprain of ankle (disorder)', ('S93.409A', 'Sprain of unspecified ligament of unspecified ankle, initial encounter'), False),
    'fracture': ('16114001', 'Fracture of ankle (disorder)', ('S82.899A', 'Other fracture of unspecified lower leg, initial encounter'), False),
    'laceration': ('284551006', 'Laceration of foot (disorder)', None, False),
    'concussion': ('110030002', 'Concussion injury of brain (disorder)', ('S06.0X0A', 'Concussion without loss of consciousness, initial encounter'), False),
    'covid': ('840539006', 'Disease caused by severe acute respiratory syndrome coronavirus 2 (disorder)', ('U07.1', 'COVID-19'), False),
    'anemia': ('271737000', 'Anemia (disorder)', ('D64.9', 'Anemia, unspecified'), False),
}
ACUTE_KEYS = ['bronchitis', 'sinusitis', 'strep', 'otitis', 'pharyngitis', 'uti',
              'sprain', 'fracture', 'laceration', 'concussion', 'covid', 'anemia']
ACUTE_WEIGHTS = [14, 16, 8, 6, 14, 8, 8, 3, 5, 3, 8, 4]


def _cond_code(key):
    sct, disp, icd, _ = CONDITIONS[key]
    coding = [{'system': SYS_SNOMED, 'code': sct, 'display': disp}]
    code_icd = {'coding': coding + ([{'system': SYS_ICD10, 'code': icd[0],
                                      'display': icd[1]}] if icd else []),
                'text': disp}
    return {'coding': coding, 'text': disp}, code_icd


COND_CODE = {k: _cond_code(k) for k in CONDITIONS}
CLIN = {c: cc(SYS_COND_CLIN, c, d) for c, d in [
    ('active', 'Active'), ('recurrence', 'Recurrence'), ('relapse', 'Relapse'),
    ('inactive', 'Inactive'), ('remission', 'Remission'), ('resolved', 'Resolved')]}
for _v in CLIN.values():
    del _v['text']
VER = {c: cc(SYS_COND_VER, c, d) for c, d in [
    ('confirmed', 'Confirmed'), ('provisional', 'Provisional'),
    ('differential', 'Differential'), ('unconfirmed', 'Unconfirmed')]}
for _v in VER.values():
    del _v['text']
VER_KEYS = ['confirmed', 'provisional', 'differential', 'unconfirmed']
VER_WEIGHTS = [90, 5, 2, 3]
COND_CAT_PROBLEM = [cc(SYS_COND_CAT, 'problem-list-item', 'Problem List Item')]
COND_CAT_ENCDX = [cc(SYS_COND_CAT, 'encounter-diagnosis', 'Encounter Diagnosis')]

# --- medications: key -> (rxnorm, display, dose unit, [(text, freq, period, unit, prn)])
MEDS = {
    'metformin': ('860975', '24 HR Metformin hydrochloride 500 MG Extended Release Oral Tablet', 'tablet'),
    'insulin': ('106892', 'insulin isophane, human 70 UNT/ML / insulin, regular, human 30 UNT/ML Injectable Suspension [Humulin]', 'unit'),
    'lisinopril': ('314076', 'lisinopril 10 MG Oral Tablet', 'tablet'),
    'amlodipine': ('197361', 'amlodipine 5 MG Oral Tablet', 'tablet'),
    'hctz': ('310798', 'Hydrochlorothiazide 25 MG Oral Tablet', 'tablet'),
    'atorvastatin': ('259255', 'atorvastatin 80 MG Oral Tablet', 'tablet'),
    'simvastatin': ('312961', 'simvastatin 20 MG Oral Tablet', 'tablet'),
    'albuterol': ('745679', '200 ACTUAT Albuterol 0.09 MG/ACTUAT Metered Dose Inhaler', 'puff'),
    'fluticasone': ('895994', '120 ACTUAT fluticasone propionate 0.044 MG/ACTUAT Metered Dose Inhaler', 'puff'),
    'amoxicillin': ('308182', 'Amoxicillin 250 MG Oral Capsule', 'capsule'),
    'amoxclav': ('562251', 'Amoxicillin 250 MG / Clavulanate 125 MG Oral Tablet', 'tablet'),
    'penicillin': ('834061', 'Penicillin V Potassium 250 MG Oral Tablet', 'tablet'),
    'ibuprofen': ('310965', 'Ibuprofen 200 MG Oral Tablet', 'tablet'),
    'acetaminophen': ('313782', 'Acetaminophen 325 MG Oral Tablet', 'tablet'),
    'naproxen': ('849574', 'Naproxen sodium 220 MG Oral Tablet', 'tablet'),
    'sertraline': ('312938', 'Sertraline 100 MG Oral Tablet', 'tablet'),
    'clopidogrel': ('309362', 'Clopidogrel 75 MG Oral Tablet', 'tablet'),
    'warfarin': ('855332', 'Warfarin Sodium 5 MG Oral Tablet', 'tablet'),
    'nitroglycerin': ('705129', 'Nitroglycerin 0.4 MG/ACTUAT Mucosal Spray', 'spray'),
    'omeprazole': ('198053', 'omeprazole 20 MG Delayed Release Oral Capsule', 'capsule'),
    'sumatriptan': ('313416', 'sumatriptan 50 MG Oral Tablet', 'tablet'),
    'tiotropium': ('2123111', 'tiotropium 0.0025 MG/ACTUAT Metered Dose Inhaler', 'puff'),
    'paxlovid': ('2587899', 'nirmatrelvir 150 MG / ritonavir 100 MG Oral Tablet Pack', 'tablet'),
    'ferrous': ('310325', 'ferrous sulfate 325 MG Oral Tablet', 'tablet'),
}
MED_CC = {k: cc(SYS_RXNORM, v[0], v[1]) for k, v in MEDS.items()}
DOSE_UNIT = {'tablet': ('tablet', '{tbl}'), 'capsule': ('capsule', '{cap}'),
             'puff': ('puff', '{puff}'), 'unit': ('U', 'U'),
             'spray': ('spray', '{spray}')}
# condition -> candidate meds (first is preferred)
COND_MEDS = {
    'diabetes': ['metformin', 'insulin'], 'prediabetes': ['metformin'],
    'hypertension': ['lisinopril', 'amlodipine', 'hctz'],
    'hyperlipidemia': ['atorvastatin', 'simvastatin'],
    'asthma': ['albuterol', 'fluticasone'], 'copd': ['tiotropium', 'albuterol'],
    'depression': ['sertraline'], 'osteoarthritis': ['naproxen', 'acetaminophen'],
    'afib': ['warfarin'], 'chd': ['clopidogrel', 'nitroglycerin'],
    'migraine': ['sumatriptan'], 'gerd': ['omeprazole'],
    'bronchitis': ['acetaminophen'], 'sinusitis': ['amoxclav'],
    'strep': ['penicillin', 'amoxicillin'], 'otitis': ['amoxicillin'],
    'pharyngitis': ['ibuprofen'], 'uti': ['amoxclav'],
    'sprain': ['ibuprofen', 'naproxen'], 'fracture': ['acetaminophen', 'ibuprofen'],
    'laceration': ['acetaminophen'], 'concussion': ['acetaminophen'],
    'covid': ['paxlovid', 'acetaminophen'], 'anemia': ['ferrous'],
    'obesity': [], 'ckd': [],
}
# (text, frequency, period, periodUnit, asNeeded)
SCHEDULES = [
    ('Take 1 {u} by mouth once daily', 1, 1, 'd', False),
    ('Take 1 {u} by mouth twice daily', 2, 1, 'd', False),
    ('Take 1 {u} by mouth three times daily', 3, 1, 'd', False),
    ('Take 1 {u} every 6 hours as needed', 1, 6, 'h', True),
    ('Take 1 {u} every 4 hours as needed for pain', 1, 4, 'h', True),
    ('Take 1 {u} at bedtime', 1, 1, 'd', False),
]
PRN_MEDS = {'ibuprofen', 'acetaminophen', 'naproxen', 'sumatriptan',
            'nitroglycerin', 'albuterol'}
SCHED_CHRONIC = (0, 0, 0, 1, 1, 5)
SCHED_PRN = (3, 4)
SCHED_COURSE = (1, 1, 2)

ORG_KINDS = ['General Hospital', 'Medical Center', 'Community Hospital',
             'Family Practice', 'Urgent Care', 'Health Clinic',
             'Children’s Hospital', 'Clínica de Salud', 'Heart Institute']
ORG_TYPE_PROV = [cc(SYS_ORG_TYPE, 'prov', 'Healthcare Provider')]
ORG_TYPE_DEPT = [cc(SYS_ORG_TYPE, 'dept', 'Hospital Department')]
QUALS = [('MD', 'Doctor of Medicine'), ('DO', 'Doctor of Osteopathy'),
         ('NP', 'Nurse practitioner'), ('PA', 'Physician Assistant'),
         ('RN', 'Registered Nurse')]
QUAL_CC = {c: cc(SYS_V2_0360, c, d) for c, d in QUALS}

PATIENT_PROFILE = 'http://hl7.org/fhir/us/core/StructureDefinition/us-core-patient'
BIRTHSEX_URL = 'http://hl7.org/fhir/us/core/StructureDefinition/us-core-birthsex'

# ---------------------------------------------------------------------------
# Sizing
# ---------------------------------------------------------------------------


def n_orgs(p):
    return max(3, -(-p // 50))


def n_pracs(p):
    return max(5, -(-p // 20))


def npi_of(k):
    return str(9999900000 + k) if k < 100000 else str(9000000000 + k)


# Per-patient RNG seeds: patient i uses content seed (seed<<41)|(i<<1) and a
# separate uuid RNG ((...)|1), so content is identical across output formats
# and patient i does not depend on how many patients are generated.
def content_rng(seed, i):
    return random.Random((seed << 41) | (i << 1))


def uuid_rng(seed, i):
    return random.Random((seed << 41) | (i << 1) | 1)


SHARED_IDX = (1 << 40) - 1


def new_uuid(rng):
    return str(uuid.UUID(int=rng.getrandbits(128), version=4))


# ---------------------------------------------------------------------------
# Shared resources
# ---------------------------------------------------------------------------


def make_address(rng, intl_ok=True):
    if intl_ok and rng.random() < 0.04:
        city = rng.choice(CITIES_INTL)
    else:
        city = rng.choice(CITIES)
    name, state, country, pprefix, pdigits, _, _ = city
    if country == 'US':
        street = rng.choice(STREETS) + ' ' + rng.choice(STREET_SUFFIX)
    else:
        street = rng.choice(INTL_STREETS[country])
    line = ['%d %s' % (rng.randint(1, 9999), street)]
    if rng.random() < 0.2:
        line.append('Apt %d%s' % (rng.randint(1, 40), rng.choice('ABCD')))
    postal = pprefix + ''.join(str(rng.randrange(10)) for _ in range(pdigits))
    addr = {'line': line, 'city': name, 'state': state,
            'postalCode': postal, 'country': country}
    return addr, city


def phone(rng):
    return '555-%03d-%04d' % (rng.randint(200, 999), rng.randint(0, 9999))


def gen_shared(seed, P):
    """Returns (orgs, pracs) as lists of dicts with resource + metadata."""
    rng = content_rng(seed, SHARED_IDX)
    urng = uuid_rng(seed, SHARED_IDX)
    orgs = []
    for k in range(1, n_orgs(P) + 1):
        addr, city = make_address(rng)
        oid = 'org-%04d' % k
        ident = new_uuid(rng)           # Synthea-style org identifier value
        name = '%s %s' % (city[0], rng.choice(ORG_KINDS))
        if rng.random() < 0.3:
            name = 'Saint %s %s' % (rng.choice(['Mary', 'Joseph', 'Luke', 'Jérôme', 'Anne']),
                                    rng.choice(ORG_KINDS))
        res = {'resourceType': 'Organization', 'id': oid,
               'identifier': [{'system': SYS_SYNTHEA, 'value': ident}],
               'active': True,
               'type': ORG_TYPE_PROV if rng.random() < 0.9 else ORG_TYPE_DEPT,
               'name': name,
               'telecom': [{'system': 'phone', 'value': phone(rng)}],
               'address': [addr]}
        if rng.random() < 0.3:
            res['alias'] = ['%s %s' % (city[0], 'Health')]
        orgs.append({'res': res, 'id': oid, 'uuid': new_uuid(urng),
                     'cond': 'Organization?identifier=%s|%s' % (SYS_SYNTHEA, ident),
                     'display': name, 'tz': city})
    pracs = []
    for k in range(1, n_pracs(P) + 1):
        pid = 'prac-%05d' % k
        npi = npi_of(k)
        female = rng.random() < 0.5
        accent = rng.random() < 0.15
        if female:
            given = rng.choice(GIVEN_FEMALE_ACCENT if accent else GIVEN_FEMALE_PLAIN)
        else:
            given = rng.choice(GIVEN_MALE_ACCENT if accent else GIVEN_MALE_PLAIN)
        family = rng.choice(FAMILY_ACCENT if accent else FAMILY_PLAIN)
        addr, _ = make_address(rng, intl_ok=False)
        q = rng.choice(QUALS)[0] if rng.random() < 0.6 else None
        doctor = q in (None, 'MD', 'DO')
        pname = {'use': 'official', 'family': family, 'given': [given]}
        if doctor:
            pname['prefix'] = ['Dr.']
        res = {'resourceType': 'Practitioner', 'id': pid,
               'identifier': [{'system': SYS_NPI, 'value': npi}],
               'active': rng.random() < 0.97,
               'name': [pname],
               'telecom': [{'system': 'email', 'use': 'work',
                            'value': '%s.%s@example.org' % (EMAIL_NAME[given],
                                                            EMAIL_NAME[family])}],
               'address': [addr],
               'gender': 'female' if female else 'male'}
        if q is not None:
            res['qualification'] = [{'code': QUAL_CC[q]}]
        pracs.append({'res': res, 'id': pid, 'uuid': new_uuid(urng),
                      'cond': 'Practitioner?identifier=%s|%s' % (SYS_NPI, npi),
                      'display': '%s%s %s' % ('Dr. ' if doctor else '', given, family)})
    return orgs, pracs


# ---------------------------------------------------------------------------
# Per-patient plan (cheap; determines all resource counts)
# ---------------------------------------------------------------------------


class Plan(object):
    __slots__ = ('gender', 'birth', 'death', 'start', 'end', 'bmi', 'adult_h',
                 'smoke', 'traits', 'encs', 'conds', 'meds', 'n_obs')


def plan_patient(rng):
    p = Plan()
    r = rng.random()
    p.gender = 'female' if r < 0.505 else 'male' if r < 0.99 else \
        ('other' if r < 0.995 else 'unknown')
    p.birth = rng.randrange(BIRTH_MIN // DAY, BIRTH_MAX // DAY + 1) * DAY
    age = (BASE_TS - p.birth) / YEAR
    pdeath = 0.25 if age > 80 else 0.06 if age > 60 else 0.01
    p.death = None
    if rng.random() < pdeath:
        lo = max(p.birth + 2 * YEAR, BASE_TS - 12 * YEAR)
        p.death = rng.randrange(lo, BASE_TS - DAY)
    p.end = (p.death if p.death is not None else BASE_TS) - DAY
    p.start = max(p.birth + 3 * DAY, p.end - 10 * YEAR)
    adult_age = (p.end - p.birth) / YEAR
    # body & risk traits
    female = p.gender == 'female'
    p.adult_h = rng.gauss(163.0 if female else 176.5, 7.0)
    p.bmi = min(55.0, max(16.5, rng.gauss(27.5, 5.5)))
    old = adult_age >= 45
    t = set()
    if adult_age >= 18:
        dm = 0.02 + (0.10 if old else 0) + (0.08 if p.bmi >= 30 else 0)
        if rng.random() < dm:
            t.add('diabetes')
        elif rng.random() < 0.12:
            t.add('prediabetes')
        if rng.random() < (0.35 if old else 0.08) + (0.1 if p.bmi >= 30 else 0):
            t.add('hypertension')
        if rng.random() < (0.25 if old else 0.05):
            t.add('hyperlipidemia')
        if p.bmi >= 30 and rng.random() < 0.5:
            t.add('obesity')
        if old and rng.random() < 0.06:
            t.add('ckd')
        if rng.random() < 0.08:
            t.add('depression')
        if old and rng.random() < 0.12:
            t.add('osteoarthritis')
        if adult_age >= 60 and rng.random() < 0.06:
            t.add('afib')
        if old and rng.random() < 0.06:
            t.add('chd')
        if rng.random() < 0.06:
            t.add('gerd')
    if rng.random() < 0.09:
        t.add('asthma')
    if adult_age >= 10 and rng.random() < 0.05:
        t.add('migraine')
    # smoking status index into SMOKING
    if adult_age < 15:
        p.smoke = 0
    else:
        p.smoke = rng.choices((0, 1, 2, 3), (60, 22, 13, 5))[0]
        if p.smoke in (1, 2) and old and rng.random() < 0.25:
            t.add('copd')
    p.traits = sorted(t)
    # encounters: (ts, class_idx, type_idx, n_vitals, n_labs, smoke_obs)
    n_enc = 1 + min(60, int(rng.expovariate(1.0 / 4.2)))
    n_enc += len(t) // 2
    span = max(DAY, p.end - p.start)
    times = sorted(p.start + rng.randrange(span) for _ in range(n_enc))
    encs = []
    n_obs = 0
    for ts in times:
        ci = rng.choices((0, 1, 2), ENC_CLASS_WEIGHTS)[0]
        ti = rng.randrange(len(ENC_CLASSES[ci][3]))
        if ci == 0 and ti == 4 and ts - p.birth >= 18 * YEAR:
            ti = 0      # well child visit only for children
        if ci == 0:
            nv = rng.randint(1, 5)
            nl = rng.randint(2, 5) if rng.random() < 0.3 else 0
            sm = rng.random() < 0.2
        elif ci == 1:
            nv, nl, sm = rng.randint(2, 6), (rng.randint(1, 3) if rng.random() < 0.4 else 0), False
        else:
            nv, nl, sm = rng.randint(4, 12), rng.randint(1, 5), rng.random() < 0.5
        encs.append((ts, ci, ti, nv, nl, sm))
        n_obs += nv + nl + (1 if sm else 0)
    p.encs = encs
    p.n_obs = n_obs
    # conditions: (key, enc_idx)
    conds = []
    for key in p.traits:
        conds.append((key, rng.randrange(n_enc)))
    for ei, e in enumerate(encs):
        ci, ti = e[1], e[2]
        pa = 0.7 if ci == 1 else 0.9 if (ci == 0 and ti == 2) else 0.4 if ci == 2 else 0.12
        if rng.random() < pa:
            key = rng.choices(ACUTE_KEYS, ACUTE_WEIGHTS)[0]
            conds.append((key, ei))
    p.conds = conds
    # medication requests: (med_key, cond_idx or -1, enc_idx)
    meds = []
    for k, (key, ei) in enumerate(conds):
        cands = COND_MEDS[key]
        if not cands:
            continue
        if CONDITIONS[key][3]:
            if rng.random() < 0.85:
                meds.append((cands[0], k, ei))
                # renewal at a later encounter
                if ei + 1 < n_enc and rng.random() < 0.5:
                    meds.append((cands[0], k, rng.randrange(ei + 1, n_enc)))
            if len(cands) > 1 and rng.random() < 0.3:
                meds.append((cands[1], k, ei))
        else:
            if rng.random() < 0.7:
                meds.append((rng.choice(cands), k, ei))
    for ei, e in enumerate(encs):
        if rng.random() < 0.06:
            meds.append((rng.choice(('ibuprofen', 'acetaminophen', 'naproxen')), -1, ei))
    p.meds = meds
    return p


def plan_count(p):
    return 1 + len(p.encs) + p.n_obs + len(p.conds) + len(p.meds)


# ---------------------------------------------------------------------------
# Per-patient resource generation
# ---------------------------------------------------------------------------


def height_at(p, age):
    if age >= 18:
        return p.adult_h
    if age < 2:
        h = 50.0 + 37.0 * (age / 2.0)
    elif age < 12:
        h = 87.0 + (age - 2.0) * 6.3
    else:
        h = 150.0
    if age >= 12:
        h = 150.0 + (p.adult_h - 150.0) * min(1.0, (age - 12.0) / 5.0)
    return h * (p.adult_h / 170.0) ** 0.3


def gen_patient(i, p, rng, urng, shared, mode):
    """Returns list of (resourceType, resource, uuid-or-None)."""
    orgs, pracs = shared
    bundle = mode == 'bundles'
    out = []
    pid = 'pat-%06d' % i

    def ref_prac(pr):
        if bundle:
            return {'reference': pr['cond'], 'display': pr['display']}
        return {'reference': 'Practitioner/' + pr['id'], 'display': pr['display']}

    def ref_org(o):
        if bundle:
            return {'reference': o['cond'], 'display': o['display']}
        return {'reference': 'Organization/' + o['id'], 'display': o['display']}

    # ---------------- Patient
    female = p.gender == 'female'
    male_names = not female if p.gender in ('male', 'female') else rng.random() < 0.5
    accent = rng.random() < 0.14
    if male_names:
        gpool = GIVEN_MALE_ACCENT if accent else GIVEN_MALE_PLAIN
    else:
        gpool = GIVEN_FEMALE_ACCENT if accent else GIVEN_FEMALE_PLAIN
    family = rng.choice(FAMILY_ACCENT if accent and rng.random() < 0.8 else FAMILY_PLAIN)
    given = [rng.choice(gpool)]
    if rng.random() < 0.45:
        g2 = rng.choice(gpool)
        if g2 != given[0]:
            given.append(g2)
    adult = (p.end - p.birth) / YEAR >= 18
    name = {'use': 'official', 'family': family, 'given': given}
    if adult and rng.random() < 0.5:
        name['prefix'] = ['Mr.' if male_names else rng.choice(('Mrs.', 'Ms.'))]
    if rng.random() < 0.3:
        name['text'] = ' '.join(given) + ' ' + family
    names = [name]
    marital = None
    if adult:
        marital = rng.choices(('M', 'S', 'D', 'W', 'L'), (50, 30, 12, 6, 2))[0]
        if female and marital in ('M', 'D', 'W') and rng.random() < 0.4:
            names.append({'use': 'maiden', 'family': rng.choice(FAMILY_PLAIN + FAMILY_ACCENT),
                          'given': given})
    if given[0] in NICKNAMES and rng.random() < 0.35:
        names.append({'use': 'nickname', 'given': [NICKNAMES[given[0]]]})
    addr, city = make_address(rng)
    std_off, dst = city[5], city[6]
    addr['use'] = 'home'
    mrn = str((i * 7919 + 1234567) % 90000000 + 10000000)
    ssn = '999-%02d-%04d' % (rng.randint(10, 99), rng.randint(1, 9999))
    gp = pracs[rng.randrange(len(pracs))]
    org = orgs[rng.randrange(len(orgs))]
    bd = fmt_date(p.birth)
    r = rng.random()
    if r < 0.07:
        bd = bd[:7]
    elif r < 0.10:
        bd = bd[:4]
    telecom = [{'system': 'phone', 'value': phone(rng),
                'use': rng.choice(('home', 'mobile', 'mobile'))}]
    if rng.random() < 0.7:
        telecom.append({'system': 'email', 'value': '%s.%s%d@example.com' % (
            EMAIL_NAME[given[0]], EMAIL_NAME[family], rng.randint(1, 99))})
    pat = {'resourceType': 'Patient', 'id': pid}
    meta = {}
    if rng.random() < 0.3:
        meta['profile'] = [PATIENT_PROFILE]
    if rng.random() < 0.02:
        meta['tag'] = [{'system': SYS_TAGS, 'code': 'vip', 'display': 'VIP'}]
    if meta:
        pat['meta'] = meta
    if p.gender in ('male', 'female') and rng.random() < 0.5:
        pat['extension'] = [{'url': BIRTHSEX_URL, 'valueCode': 'F' if female else 'M'}]
    pat['identifier'] = [
        {'use': 'usual', 'type': MRN_TYPE, 'system': SYS_MRN, 'value': mrn},
        {'type': SSN_TYPE, 'system': SYS_SSN, 'value': ssn}]
    pat['active'] = rng.random() < 0.98
    pat['name'] = names
    pat['telecom'] = telecom
    pat['gender'] = p.gender
    pat['birthDate'] = bd
    if p.death is not None:
        pat['deceasedDateTime'] = fmt_dt(p.death, None if rng.random() < 0.5 else std_off)
    pat['address'] = [addr]
    if marital:
        pat['maritalStatus'] = MARITAL_CC[marital]
    if rng.random() < 0.2:
        lc, ld = rng.choice(LANGS)
        pat['communication'] = [{'language': cc(SYS_BCP47, lc, ld), 'preferred': True}]
    pat['generalPractitioner'] = [ref_prac(gp)]
    pat['managingOrganization'] = ref_org(org)
    pat_uuid = None
    if bundle:
        pat_uuid = new_uuid(urng)
        pat['id'] = pat_uuid
    out.append(('Patient', pat, pat_uuid))
    subj = {'reference': ('urn:uuid:' + pat_uuid) if bundle else 'Patient/' + pid}

    # ---------------- Encounters
    enc_refs = []
    enc_info = []   # (start, end, off, prac)
    n_enc = len(p.encs)
    for j, (ts, ci, ti, nv, nl, sm) in enumerate(p.encs, 1):
        eid = 'enc-%06d-%02d' % (i, j)
        if ci == 0:
            ts = ts - ts % DAY + rng.randint(8 * 3600, 17 * 3600) - std_off * 60
            dur = rng.randint(15, 60) * 60
        elif ci == 1:
            dur = rng.randint(60, 8 * 60) * 60
        else:
            dur = rng.randint(1, 10) * DAY + rng.randint(0, 23) * 3600
        dur = max(900, min(dur, p.end + DAY - ts))    # not past death / base date
        if rng.random() < 0.35:
            off = None
        else:
            off = std_off + (60 if dst and 4 <= month_of(ts) <= 10 else 0)
        prac = gp if (ci == 0 and rng.random() < 0.7) else pracs[rng.randrange(len(pracs))]
        status = 'finished'
        r = rng.random()
        if j == n_enc and p.death is None and r < 0.05:
            status = 'in-progress'
        elif r < 0.01:
            status = 'cancelled'
        period = {'start': fmt_dt(ts, off)}
        if status != 'in-progress':
            period['end'] = fmt_dt(ts + dur, off)
        enc = {'resourceType': 'Encounter', 'id': eid, 'status': status,
               'class': ENC_CLASS_CODING[ci], 'type': ENC_TYPE_CC[ci][ti],
               'subject': subj,
               'participant': [{'type': PART_PPRF if ci == 0 else PART_ATND,
                                'individual': ref_prac(prac)}],
               'period': period,
               'serviceProvider': ref_org(org if ci == 0 or rng.random() < 0.6
                                          else orgs[rng.randrange(len(orgs))])}
        if rng.random() < 0.15 and p.conds:
            key = p.conds[rng.randrange(len(p.conds))][0]
            enc['reasonCode'] = [COND_CODE[key][0]]
        u = None
        if bundle:
            u = new_uuid(urng)
            enc['id'] = u
            enc_refs.append({'reference': 'urn:uuid:' + u})
        else:
            enc_refs.append({'reference': 'Encounter/' + eid})
        enc_info.append((ts, dur, off, prac))
        out.append(('Encounter', enc, u))

    # ---------------- Observations
    k = 0
    for j, (ts0, ci, ti, nv, nl, sm) in enumerate(p.encs):
        start, dur, off, prac = enc_info[j]
        eref = enc_refs[j]
        age = (start - p.birth) / YEAR
        h = height_at(p, age)
        bmi_base = p.bmi if age >= 18 else max(13.5, 14.5 + age * 0.25 + (p.bmi - 27.5) * 0.2)
        keys = []
        if nv:
            order = rng.sample(VITAL_KEYS, len(VITAL_KEYS))
            keys.extend(order[x % len(order)] for x in range(nv))
        if nl:
            order = rng.sample(LAB_KEYS, len(LAB_KEYS))
            keys.extend(order[x % len(order)] for x in range(nl))
        if sm:
            keys.append('smoking')
        fever = ci != 0 and rng.random() < 0.3
        for key in keys:
            k += 1
            oid = 'obs-%06d-%03d' % (i, k)
            et = start + rng.randrange(max(300, dur))
            r = rng.random()
            status = 'final' if r < 0.95 else 'amended' if r < 0.98 else 'preliminary'
            obs = {'resourceType': 'Observation', 'id': oid}
            if key in VITAL_PROFILES and rng.random() < 0.25:
                obs['meta'] = {'profile': [VITAL_PROFILES[key]]}
            obs['status'] = status
            cat = CAT_VITAL if key in UNITS and key in VITAL_PROFILES or key == 'pain' \
                else CAT_SOCIAL if key == 'smoking' else CAT_LAB
            obs['category'] = cat
            obs['code'] = OBS_CODE[key]
            obs['subject'] = subj
            obs['encounter'] = eref
            if rng.random() < 0.04:
                obs['effectivePeriod'] = {'start': fmt_dt(et, off),
                                          'end': fmt_dt(et + rng.randint(5, 120) * 60, off)}
            else:
                obs['effectiveDateTime'] = fmt_dt(et, off)
            lab = cat is CAT_LAB
            iss = et + (rng.randint(3600, 2 * DAY) if lab else rng.randint(0, 600))
            obs['issued'] = fmt_instant_ms(iss, rng.randrange(1000))
            if rng.random() < 0.15:
                obs['performer'] = [ref_prac(prac)]
            value = None
            interp = None
            if key == 'bp':
                hyper = 'hypertension' in p.traits
                sy = int(rng.gauss(142 if hyper else 118, 12))
                di = int(rng.gauss(90 if hyper else 76, 8))
                if age < 12:
                    sy, di = sy - 15, di - 12
                u = {'unit': 'mm[Hg]', 'system': SYS_UCUM, 'code': 'mm[Hg]'}
                cs = {'code': BP_SYS_CODE, 'valueQuantity': dict(u, value=sy)}
                cd = {'code': BP_DIA_CODE, 'valueQuantity': dict(u, value=di)}
                if sy >= 140 and rng.random() < 0.5:
                    cs['interpretation'] = INTERP['H']
                obs['component'] = [cs, cd]
            elif key == 'smoking':
                obs['valueCodeableConcept'] = SMOKING[p.smoke]
            elif key == 'ucolor':
                obs['valueString'] = rng.choice(URINE_COLOR)
            elif key == 'uclar':
                obs['valueString'] = rng.choice(URINE_CLARITY)
            else:
                if key == 'height':
                    value = round(h + rng.gauss(0, 0.4), 1)
                elif key == 'weight':
                    value = round(bmi_base * (h / 100.0) ** 2 * (1 + rng.gauss(0, 0.02)), 1)
                elif key == 'bmi':
                    value = round(bmi_base * (1 + rng.gauss(0, 0.02)), 2)
                elif key == 'hr':
                    value = max(42, int(rng.gauss(110 if age < 6 else 74, 11) + (12 if fever else 0)))
                elif key == 'rr':
                    value = max(9, int(rng.gauss(28 if age < 6 else 15, 2.5)))
                elif key == 'temp':
                    value = round(rng.uniform(38.0, 39.8) if fever else rng.gauss(36.8, 0.3), 1)
                elif key == 'spo2':
                    value = min(100, int(rng.gauss(97.5, 1.5)) - (4 if 'copd' in p.traits else 0))
                elif key == 'pain':
                    value = rng.randint(0, 10) if ci != 0 else rng.choice((0, 0, 0, 1, 2, 3))
                elif key == 'glucose':
                    value = round(max(62.0, rng.gauss(165, 40) if 'diabetes' in p.traits else
                                      rng.gauss(105, 8) if 'prediabetes' in p.traits else
                                      rng.gauss(88, 9)), 1)
                elif key == 'a1c':
                    value = round(rng.uniform(6.5, 10.5) if 'diabetes' in p.traits else
                                  rng.uniform(5.7, 6.4) if 'prediabetes' in p.traits else
                                  rng.uniform(4.4, 5.6), 1)
                elif key == 'chol':
                    value = round(rng.gauss(235 if 'hyperlipidemia' in p.traits else 180, 25), 2)
                elif key == 'hdl':
                    value = round(max(22.0, rng.gauss(52, 12)), 2)
                elif key == 'ldl':
                    value = round(max(45.0, rng.gauss(155 if 'hyperlipidemia' in p.traits else 105, 25)), 2)
                elif key == 'tg':
                    value = round(max(35.0, rng.gauss(190 if 'hyperlipidemia' in p.traits else 120, 40)), 2)
                elif key == 'creat':
                    value = round(rng.uniform(1.5, 3.2) if 'ckd' in p.traits else
                                  max(0.45, rng.gauss(0.95, 0.15)), 2)
                unit, ucode, rr = UNITS[key]
                obs['valueQuantity'] = {'value': value, 'unit': unit,
                                        'system': SYS_UCUM, 'code': ucode}
                if rr is not None and (lab or key in ('hr', 'temp', 'spo2')):
                    if value > rr[1]:
                        if rng.random() < 0.7:
                            interp = INTERP['HH' if value > rr[1] * 1.8 and lab else 'H']
                    elif value < rr[0]:
                        if rng.random() < 0.7:
                            interp = INTERP['L']
                    elif lab and rng.random() < 0.1:
                        interp = INTERP['N']
                    if interp is not None:
                        obs['interpretation'] = interp
                    if lab and rng.random() < 0.5:
                        obs['referenceRange'] = [{
                            'low': {'value': rr[0], 'unit': unit, 'system': SYS_UCUM, 'code': ucode},
                            'high': {'value': rr[1], 'unit': unit, 'system': SYS_UCUM, 'code': ucode}}]
            u = None
            if bundle:
                u = new_uuid(urng)
                obs['id'] = u
            out.append(('Observation', obs, u))

    # ---------------- Conditions
    cond_refs = []
    for k, (key, ei) in enumerate(p.conds, 1):
        cid = 'cond-%06d-%02d' % (i, k)
        start, dur, off, prac = enc_info[ei]
        chronic = CONDITIONS[key][3]
        sct_cc, icd_cc = COND_CODE[key]
        code = icd_cc if rng.random() < 0.4 else sct_cc
        ver = rng.choices(VER_KEYS, VER_WEIGHTS)[0]
        abate = None
        if chronic:
            onset = start
            if rng.random() < 0.3:
                lo = p.birth + (15 * YEAR if (start - p.birth) > 20 * YEAR else DAY)
                onset = rng.randrange(lo, start + 1)
            clin = 'active'
            if rng.random() < 0.06:
                clin = rng.choice(('remission', 'inactive'))
                abate = start + rng.randint(30, 900) * DAY
            elif rng.random() < 0.03:
                clin = 'recurrence'
        else:
            onset = start - rng.randint(0, 5) * DAY - rng.randint(0, 86399)
            abate = start + rng.randint(5, 40) * DAY
            clin = 'resolved'
        if abate is not None and abate >= min(BASE_TS, p.end + DAY):
            abate = None
            if clin in ('resolved', 'remission', 'inactive'):
                clin = 'active'
        cond = {'resourceType': 'Condition', 'id': cid,
                'clinicalStatus': CLIN[clin], 'verificationStatus': VER[ver],
                'category': COND_CAT_PROBLEM if chronic else COND_CAT_ENCDX,
                'code': code, 'subject': subj, 'encounter': enc_refs[ei]}
        if rng.random() < 0.1:
            cond['onsetDateTime'] = fmt_date(onset)
        else:
            cond['onsetDateTime'] = fmt_dt(onset, off)
        if abate is not None:
            cond['abatementDateTime'] = fmt_dt(abate, off)
        cond['recordedDate'] = fmt_dt(start + rng.randrange(max(300, dur)), off)
        if rng.random() < 0.5:
            cond['recorder'] = ref_prac(prac)
        u = None
        if bundle:
            u = new_uuid(urng)
            cond['id'] = u
            cond_refs.append({'reference': 'urn:uuid:' + u})
        else:
            cond_refs.append({'reference': 'Condition/' + cid})
        out.append(('Condition', cond, u))

    # ---------------- MedicationRequests
    for k, (mkey, ck, ei) in enumerate(p.meds, 1):
        mid = 'mreq-%06d-%02d' % (i, k)
        start, dur, off, prac = enc_info[ei]
        chronic = ck >= 0 and CONDITIONS[p.conds[ck][0]][3]
        if chronic:
            later = any(m[0] == mkey and m[2] > ei for m in p.meds)
            status = 'stopped' if later else ('active' if p.death is None else 'stopped')
            if status == 'active' and rng.random() < 0.05:
                status = 'on-hold'
        else:
            status = 'completed'
        if rng.random() < 0.02:
            status = 'cancelled'
        med = {'resourceType': 'MedicationRequest', 'id': mid, 'status': status,
               'intent': 'order', 'medicationCodeableConcept': MED_CC[mkey],
               'subject': subj, 'encounter': enc_refs[ei],
               'authoredOn': fmt_dt(start + rng.randrange(max(300, dur)), off),
               'requester': ref_prac(prac)}
        if ck >= 0 and rng.random() < 0.6:
            med['reasonReference'] = [cond_refs[ck]]
        if rng.random() < 0.6:
            dunit = MEDS[mkey][2]
            sched = SCHEDULES[rng.choice(SCHED_PRN if mkey in PRN_MEDS else
                                         SCHED_CHRONIC if chronic else SCHED_COURSE)]
            text, freq, per, punit, prn = sched
            du, dc = DOSE_UNIT[dunit]
            dose = 1 if dunit != 'unit' else rng.choice((10, 15, 20, 25))
            di = {'sequence': 1, 'text': text.format(u=dunit),
                  'timing': {'repeat': {'frequency': freq, 'period': per, 'periodUnit': punit}},
                  'asNeededBoolean': prn,
                  'doseAndRate': [{'doseQuantity': {'value': dose, 'unit': du,
                                                    'system': SYS_UCUM, 'code': dc}}]}
            if not chronic:
                di['timing']['repeat']['boundsDuration'] = {
                    'value': rng.choice((5, 7, 10, 14)), 'unit': 'd',
                    'system': SYS_UCUM, 'code': 'd'}
            med['dosageInstruction'] = [di]
        u = None
        if bundle:
            u = new_uuid(urng)
            med['id'] = u
        out.append(('MedicationRequest', med, u))
    return out


# ---------------------------------------------------------------------------
# Driver
# ---------------------------------------------------------------------------

TYPES_ORDER = ['Organization', 'Practitioner', 'Patient', 'Encounter',
               'Observation', 'Condition', 'MedicationRequest']


def patients_for_resources(seed, n):
    """Patient count whose total resource count is closest to n (>= 1)."""
    prev = None         # total for p - 1 patients
    total = 0           # clinical resources of patients 1..p
    p = 0
    while True:
        cur = total + n_orgs(p) + n_pracs(p)
        if cur >= n:
            if p > 1 and prev is not None and n - prev < cur - n:
                return p - 1
            return max(p, 1)
        prev = cur
        p += 1
        total += plan_count(plan_patient(content_rng(seed, p)))


def main(argv=None):
    ap = argparse.ArgumentParser(
        description='Deterministic synthetic FHIR R4 sample data generator.')
    ap.add_argument('--patients', type=int, default=None,
                    help='number of patients (default 100)')
    ap.add_argument('--resources', type=int, default=None,
                    help='pick the patient count to reach ~N resources in total')
    ap.add_argument('--seed', type=int, default=42, help='RNG seed (>= 0, default 42)')
    ap.add_argument('--format', choices=('ndjson', 'bundles'), default='ndjson')
    ap.add_argument('--out', default=None,
                    help='ndjson: output file (default stdout); bundles: output directory (required)')
    ap.add_argument('--stats', action='store_true',
                    help='print per-type counts to stderr at the end')
    a = ap.parse_args(argv)
    if a.seed < 0:
        ap.error('--seed must be >= 0')
    if a.patients is not None and a.resources is not None:
        ap.error('use either --patients or --resources, not both')
    if a.format == 'bundles' and not a.out:
        ap.error('--format bundles requires --out DIR')
    t0 = time.time()
    if a.resources is not None:
        if a.resources < 1:
            ap.error('--resources must be >= 1')
        P = patients_for_resources(a.seed, a.resources)
    else:
        P = 100 if a.patients is None else a.patients
        if P < 0:
            ap.error('--patients must be >= 0')

    encode = json.JSONEncoder(ensure_ascii=False, separators=(',', ':'),
                              check_circular=False).encode
    counts = dict.fromkeys(TYPES_ORDER, 0)
    orgs, pracs = gen_shared(a.seed, P)
    shared = (orgs, pracs)
    counts['Organization'] = len(orgs)
    counts['Practitioner'] = len(pracs)

    if a.format == 'ndjson':
        if a.out and a.out != '-':
            f = open(a.out, 'w', encoding='utf-8', newline='\n', buffering=1 << 20)
            close = True
        else:
            f = open(sys.stdout.fileno(), 'w', encoding='utf-8', newline='\n',
                     buffering=1 << 20, closefd=False)
            close = False
        try:
            f.write(''.join(encode(x['res']) + '\n' for x in orgs))
            f.write(''.join(encode(x['res']) + '\n' for x in pracs))
            for i in range(1, P + 1):
                rng = content_rng(a.seed, i)
                plan = plan_patient(rng)
                res = gen_patient(i, plan, rng, None, shared, 'ndjson')
                for t, _, _ in res:
                    counts[t] += 1
                f.write(''.join([encode(r) + '\n' for _, r, _ in res]))
            f.flush()
        except BrokenPipeError:
            # reader went away (e.g. `| head`): exit quietly, data is partial
            devnull = os.open(os.devnull, os.O_WRONLY)
            os.dup2(devnull, f.fileno())
            return 1
        finally:
            if close:
                f.close()
    else:
        os.makedirs(a.out, exist_ok=True)
        entries = []
        for x in orgs + pracs:
            r = x['res']
            entries.append({'fullUrl': 'urn:uuid:' + x['uuid'], 'resource': r,
                            'request': {'method': 'PUT',
                                        'url': '%s/%s' % (r['resourceType'], r['id'])}})
        with open(os.path.join(a.out, '00-practitioners.json'), 'w',
                  encoding='utf-8', newline='\n') as f:
            f.write(encode({'resourceType': 'Bundle', 'type': 'transaction',
                            'entry': entries}) + '\n')
        for i in range(1, P + 1):
            rng = content_rng(a.seed, i)
            urng = uuid_rng(a.seed, i)
            plan = plan_patient(rng)
            res = gen_patient(i, plan, rng, urng, shared, 'bundles')
            entries = []
            for t, r, u in res:
                counts[t] += 1
                entries.append({'fullUrl': 'urn:uuid:' + u, 'resource': r,
                                'request': {'method': 'POST', 'url': t}})
            with open(os.path.join(a.out, 'patient-%05d.json' % i), 'w',
                      encoding='utf-8', newline='\n') as f:
                f.write(encode({'resourceType': 'Bundle', 'type': 'transaction',
                                'entry': entries}) + '\n')

    if a.stats:
        total = sum(counts.values())
        w = sys.stderr.write
        w('gen_sample: seed=%d patients=%d format=%s\n' % (a.seed, P, a.format))
        for t in TYPES_ORDER:
            w('  %-18s %10d  (%.2f/patient)\n' % (t, counts[t], counts[t] / P if P else 0))
        w('  %-18s %10d\n' % ('total', total))
        w('  elapsed %.2fs\n' % (time.time() - t0))
    return 0


if __name__ == '__main__':
    sys.exit(main())
