#!/usr/bin/env python3
"""Synthea transaction Bundles -> NDJSON of the resources a transaction would store.

Used by bench/write_bench.sh to give COPY and fhir.load_file the same resources that
fhir.transaction writes from the Bundles. Replica 1 keeps Synthea's ids; replica r > 1
gets new ids (uuid5 of replica and id), consistently in ids and references. urn:uuid:
references are resolved to Type/id as a transaction resolves them. Bundles whose names
start with PROVIDER_PREFIX (hospital and practitioner information) are written once.

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
    with open(args.out, "w") as out:
        for path in args.bundles:
            name = path.rsplit("/", 1)[-1]
            replicas = 1 if name.startswith(args.provider_prefix) else args.replicas
            with open(path) as f:
                bundle = json.load(f)
            for r in range(1, replicas + 1):
                mapping = {}
                for e in bundle.get("entry", []):
                    res = e["resource"]
                    if e.get("fullUrl") and res.get("id"):
                        mapping[e["fullUrl"]] = f"{res['resourceType']}/{remapped(res['id'], r)}"
                for e in bundle.get("entry", []):
                    res = rewrite(e["resource"], mapping)
                    if "id" in res:
                        res["id"] = remapped(res["id"], r)
                    out.write(json.dumps(res, separators=(",", ":"), ensure_ascii=False) + "\n")
                    n += 1
    print(n)


if __name__ == "__main__":
    main()
