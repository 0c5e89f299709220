#!/usr/bin/env python3
"""Synthea transaction Bundles -> NDJSON of the resources a transaction would store.

Used by bench/write_bench.sh to give COPY and fhir.load_file the same resources that
fhir.transaction writes from the Bundles. Replica 1 keeps Synthea's ids; replica r > 1
gets new ids (uuid5 of replica and id), consistently in ids and references. urn:uuid:
references are resolved to Type/id as a transaction resolves them, conditional references
("Practitioner?identifier=...") to the resource whose POST carried that ifNoneExist; such
resources (shared providers in newer Synthea Bundles) are written once, as a transaction
creates them once. Bundles whose names start with PROVIDER_PREFIX (hospital and
practitioner information) are written once.

  synthea_ndjson.py --replicas N --out data.ndjson bundle.json...
"""
import argparse
import json
import uuid

NS = uuid.UUID("5b1c1d8e-7a43-4b8c-9c1e-4f0c2f6a9d11")


def remapped(resource_id, replica):
    return resource_id if replica == 1 else str(uuid.uuid5(NS, f"{replica}/{resource_id}"))


def rewrite(node, mapping):
    if isinstance(node, dict):
        return {k: rewrite(v, mapping) for k, v in node.items()}
    if isinstance(node, list):
        return [rewrite(v, mapping) for v in node]
    if isinstance(node, str):
        return mapping.get(node, node)
    return node


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--replicas", type=int, default=1)
    ap.add_argument("--provider-prefix", default="p")
    ap.add_argument("--out", required=True)
    ap.add_argument("bundles", nargs="+")
    args = ap.parse_args()
    n = 0
    shared = {}  # "Type?ifNoneExist" -> Type/id of the first resource POSTed with it
    for path in args.bundles:
        with open(path) as f:
            for e in json.load(f).get("entry", []):
                cond = e.get("request", {}).get("ifNoneExist")
                res = e["resource"]
                key = f"{res['resourceType']}?{cond}"
                if cond and key not in shared:
                    shared[key] = f"{res['resourceType']}/{res['id']}"
    written_shared = set()
    with open(args.out, "w") as out:
        for path in args.bundles:
            name = path.rsplit("/", 1)[-1]
            replicas = 1 if name.startswith(args.provider_prefix) else args.replicas
            with open(path) as f:
                bundle = json.load(f)
            for r in range(1, replicas + 1):
                mapping = dict(shared)
                for e in bundle.get("entry", []):
                    res = e["resource"]
                    cond = e.get("request", {}).get("ifNoneExist")
                    if e.get("fullUrl") and cond:
                        mapping[e["fullUrl"]] = shared[f"{res['resourceType']}?{cond}"]
                    elif e.get("fullUrl") and res.get("id"):
                        mapping[e["fullUrl"]] = f"{res['resourceType']}/{remapped(res['id'], r)}"
                for e in bundle.get("entry", []):
                    cond = e.get("request", {}).get("ifNoneExist")
                    res = rewrite(e["resource"], mapping)
                    if cond:
                        key = f"{res['resourceType']}?{cond}"
                        if key in written_shared:
                            continue
                        written_shared.add(key)
                        res["id"] = shared[key].split("/", 1)[1]
                    elif "id" in res:
                        res["id"] = remapped(res["id"], r)
                    out.write(json.dumps(res, separators=(",", ":"), ensure_ascii=False) + "\n")
                    n += 1
    print(n)


if __name__ == "__main__":
    main()
