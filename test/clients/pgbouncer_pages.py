#!/usr/bin/python3
"""Eight clients page through searches concurrently behind pgbouncer in transaction
pooling mode (fewer server connections than clients, so consecutive statements of a
client run on different backends). Every page must be the right one, and every cache
status a client is told (fhir.search_response's row) must be its own search's.

Usage: pgbouncer_pages.py BOUNCER_DSN DIRECT_DSN
"""
import sys
import threading
import urllib.parse

import psycopg

CLIENTS = 8
PAGE = 7


def next_url(bundle):
    for link in bundle.get("link", []):
        if link["relation"] == "next":
            return link["url"]
    return None


def match_ids(bundle):
    return [e["resource"]["id"] for e in bundle.get("entry", []) if e["search"]["mode"] == "match"]


def client(k, bouncer_dsn, expected, failures):
    # autocommit: each statement is its own transaction, the pooler's unit
    with psycopg.connect(bouncer_dsn, autocommit=True, prepare_threshold=None) as conn:
        query = "family=F%d&_sort=birthdate&_count=%d" % (k, PAGE)
        for run in (1, 2):
            ids, url, page = [], query, 0
            while url:
                status, body, cache, entry_id = conn.execute(
                    "SELECT status, body, cache, cache_entry_id FROM fhir.search_response('Patient', %s)",
                    (url,)).fetchone()
                if status != 200:
                    failures.append("client %d: status %d: %s" % (k, status, body))
                    return
                # first pass: a search nobody ran before is a MISS; second pass: HIT
                # (first page from the entry, later ones from the result set)
                want = "MISS" if run == 1 and page == 0 else ("HIT" if run == 2 else None)
                if want and cache != want:
                    failures.append("client %d run %d page %d: cache %s, expected %s" % (k, run, page, cache, want))
                if cache in ("HIT", "MISS") and page == 0 and entry_id != body["id"]:
                    failures.append("client %d: entry id %s is not its Bundle's %s" % (k, entry_id, body["id"]))
                ids += match_ids(body)
                url = next_url(body)
                page += 1
            if ids != expected[k]:
                failures.append("client %d run %d: %d ids, expected %d (order or content differs)"
                                % (k, run, len(ids), len(expected[k])))
        # SET LOCAL inside a transaction reaches the search on the same backend
        with conn.transaction():
            conn.execute("SET LOCAL fhir_search.strict_handling = on")
            status, = conn.execute("SELECT status FROM fhir.search_response('Patient', 'nonsense=1')").fetchone()
            if status != 400:
                failures.append("client %d: strict handling under SET LOCAL gave %d, expected 400" % (k, status))


def main():
    bouncer_dsn, direct_dsn = sys.argv[1], sys.argv[2]
    with psycopg.connect(direct_dsn, autocommit=True) as conn:
        conn.execute("SELECT fhir.cache_reset()")
        expected = {}
        for k in range(CLIENTS):
            rows = conn.execute("SELECT id FROM fhir.search_rows('Patient', %s)",
                                ("family=F%d&_sort=birthdate" % k,)).fetchall()
            expected[k] = [r[0] for r in rows]
            if len(expected[k]) < 3 * PAGE:
                sys.exit("client %d's search has only %d matches; the data is too small" % (k, len(expected[k])))
    failures = []
    threads = [threading.Thread(target=client, args=(k, bouncer_dsn, expected, failures)) for k in range(CLIENTS)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    with psycopg.connect(direct_dsn, autocommit=True) as conn:
        backends = conn.execute("SELECT count(*) FROM pg_stat_activity WHERE usename = 'postgres' "
                                "AND application_name <> 'direct'").fetchone()[0]
    pages = sum((len(v) + PAGE - 1) // PAGE for v in expected.values()) * 2
    if failures:
        print("\n".join(failures))
        sys.exit(1)
    print("pgbouncer: %d clients paged %d pages through %d server connections: every page and cache status right"
          % (CLIENTS, pages, backends))


if __name__ == "__main__":
    main()
