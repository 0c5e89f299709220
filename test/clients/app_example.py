#!/usr/bin/python3
"""The README's Python example (psycopg 3): a FHIR server's request handler in a few lines.
Usage: app_example.py DSN"""
import sys

import psycopg

dsn = sys.argv[1]
# --- README: Using it from an application (Python) ---
with psycopg.connect(dsn, autocommit=True) as conn:
    # one SQL call per HTTP request: status, body and headers in one row
    created = conn.execute(
        "SELECT status, location, etag FROM fhir.request('POST', 'Patient', %s)",
        ('{"resourceType":"Patient","name":[{"family":"van der Berg"}]}',)).fetchone()
    status, body, cache, total_ms = conn.execute(
        "SELECT status, body, cache, total_ms FROM fhir.request('GET', %s)",
        ("Patient?family=van+der&_count=10",)).fetchone()   # a URL as clients send it
    names = [e["resource"]["name"][0]["family"] for e in body["entry"]]
    # search results as rows, joined with the application's own tables
    rows = conn.execute(
        "SELECT id, resource->'name'->0->>'family' FROM fhir.search_rows('Patient', %s)",
        ("family=van+der",)).fetchall()
# --- end ---
assert created[0] == 201 and created[1].startswith("Patient/") and created[2] == 'W/"1"', created
assert status == 200 and cache in ("MISS", "HIT", "UNAVAILABLE") and names and all(n == "van der Berg" for n in names), body
assert rows and rows[0][1] == "van der Berg", rows
print("python example: created %s, found %d, %d rows" % (created[1], len(names), len(rows)))
