#!/usr/bin/env python3
# gen_summary.py: generates src/core/generated/r4_summary.cpp, the element
# tables behind _summary and _elements (src/core/projection.h), from the
# official FHIR R4 definitions.
#
# Regenerate (from the repository root):
#   python3 tools/gen_summary.py --defs ../shared/fhir-r4 --out src/core/generated/r4_summary.cpp
#
# Inputs are HL7's R4 (4.0.1) profiles-resources.json.gz and profiles-types.json;
# they are needed only to regenerate, never at build or run time. The output is
# a small schema graph read from the snapshots: one node per resource type, per
# complex data type and per BackboneElement (e.g. Observation.component), each
# listing only the children that projection needs, i.e. those marked isSummary,
# those with min >= 1 and the choice elements (value[x], stored as "value" with
# the choice flag), plus any sibling a choice prefix would swallow (amountType
# next to amount[x]), so that an exact match wins. A child that is itself a summary-bearing structure points to
# its node, so _summary=true can filter at every depth. Structures without any
# summary child of their own (Extension, Narrative, a few backbones where only
# modifierExtension is flagged) are not nodes: the projection keeps them whole.
# Python 3 standard library only.

import argparse
import gzip
import json
import os
import sys

SUMMARY, MANDATORY, CHOICE = 1, 2, 4  # must match kSummaryFlag etc. in projection.h
KEEP_WHOLE, BY_SUFFIX = -1, -2        # child node values with a special meaning
KIND = {"resource": 0, "type": 1, "backbone": 2}


def load_json(path):
    """Reads a JSON file, gunzipping it when the name says so."""
    opener = gzip.open if path.endswith(".gz") else open
    with opener(path, "rt", encoding="utf-8") as f:
        return json.load(f)


def find_input(defs_dir, name):
    """Finds a definitions file, accepting it with or without a .gz suffix."""
    base = name[:-3] if name.endswith(".gz") else name
    for candidate in (base, base + ".gz"):
        if os.path.exists(os.path.join(defs_dir, candidate)):
            return os.path.join(defs_dir, candidate)
    sys.exit("gen_summary: %s not found in %s" % (name, defs_dir))


def structure_definitions(bundle, kind):
    """Returns {name: StructureDefinition} of the concrete specializations of one kind."""
    out = {}
    for entry in bundle["entry"]:
        sd = entry["resource"]
        if (sd.get("resourceType") == "StructureDefinition" and sd.get("kind") == kind
                and sd.get("derivation") == "specialization" and not sd.get("abstract")):
            out[sd["type"]] = sd
    return out


def element_name(path):
    """Returns the last segment of an element path."""
    return path.rsplit(".", 1)[1]


def collect(sd, kind, structures):
    """Adds the structures (root and backbones) of one definition to `structures`.

    Each structure is {"kind", "children": [element, ...]}, keyed by path; a
    backbone is any element that has children in the snapshot."""
    elements = sd["snapshot"]["element"]
    paths = {el["path"] for el in elements}
    structures[elements[0]["path"]] = {"kind": kind, "children": []}
    for el in elements[1:]:
        parent = el["path"].rsplit(".", 1)[0]
        if parent not in paths:
            sys.exit("gen_summary: %s has no parent element in %s" % (el["path"], sd["type"]))
        structures.setdefault(parent, {"kind": "backbone", "children": []})["children"].append(el)


def has_summary_child(structure):
    """True when a structure has a summary child besides modifierExtension."""
    return any(c.get("isSummary") and element_name(c["path"]) != "modifierExtension"
               for c in structure["children"])


def shadowing_siblings(structure):
    """Returns the children whose name is a choice base plus an upper-case letter.

    SubstanceAmount has amount[x] next to amountType: such siblings always get
    a row, because the projection tries an exact row match before a choice."""
    names = [element_name(c["path"]) for c in structure["children"]]
    shadows = set()
    for choice in (n[:-3] for n in names if n.endswith("[x]")):
        for other in names:
            if other.startswith(choice) and len(other) > len(choice) and other[len(choice)].isupper():
                shadows.add(other)
    return shadows


def child_target(el, structures, filtering):
    """Returns the node path a kept child descends into, or KEEP_WHOLE / BY_SUFFIX."""
    if el["path"].endswith("[x]"):
        return BY_SUFFIX
    if el["path"] in structures:
        target = el["path"]
    elif "contentReference" in el:
        target = el["contentReference"].lstrip("#")
    else:
        codes = [t["code"] for t in el.get("type", [])]
        if len(codes) != 1:
            sys.exit("gen_summary: %s has %d types but is no choice" % (el["path"], len(codes)))
        target = codes[0]
    return target if target in filtering else KEEP_WHOLE


def build(resources, types):
    """Builds the node list: [(name, kind, [(child name, flags, target path or int)])]."""
    structures = {}
    for sd in types.values():
        collect(sd, "type", structures)
    for sd in resources.values():
        collect(sd, "resource", structures)
    # Resource roots are always nodes (text mode and _elements need their
    # mandatory children); other structures only when they filter anything.
    filtering = {p for p, s in structures.items() if s["kind"] == "resource" or has_summary_child(s)}
    nodes = {}
    for path in filtering:
        rows, shadows = [], shadowing_siblings(structures[path])
        for el in structures[path]["children"]:
            name = element_name(el["path"])
            flags = (SUMMARY if el.get("isSummary") else 0) | (MANDATORY if el.get("min", 0) >= 1 else 0)
            if name.endswith("[x]"):
                name, flags = name[:-3], flags | CHOICE
            if flags or name in shadows:
                rows.append((name, flags, child_target(el, structures, filtering)))
        nodes[path] = (KIND[structures[path]["kind"]], sorted(rows))
    # Keep only the nodes reachable from a resource or data type root.
    reachable, todo = set(), [p for p in nodes if nodes[p][0] != KIND["backbone"]]
    while todo:
        path = todo.pop()
        if path in reachable:
            continue
        reachable.add(path)
        todo.extend(t for _, _, t in nodes[path][1] if isinstance(t, str))
    return [(p, nodes[p][0], nodes[p][1]) for p in sorted(reachable)]


def render(nodes, resource_count):
    """Renders the generated C++ source."""
    index = {name: i for i, (name, _, _) in enumerate(nodes)}
    child_lines, node_lines, first = [], [], 0
    for name, kind, rows in nodes:
        cells = []
        for child, flags, target in rows:
            cells.append('{"%s",%d,%d}' % (child, flags, index[target] if isinstance(target, str) else target))
        if cells:
            child_lines.append("    /* %d %s */ %s," % (index[name], name, ",".join(cells)))
        node_lines.append('    {"%s",%d,%d,%d},' % (name, kind, first, len(rows)))
        first += len(rows)
    out = [
        "// GENERATED by tools/gen_summary.py from the FHIR R4 (4.0.1) definitions. DO NOT EDIT.",
        "//",
        "// Regenerate: python3 tools/gen_summary.py --defs ../shared/fhir-r4 --out src/core/generated/r4_summary.cpp",
        "// %d nodes (%d resource types), %d child rows. Layout: src/core/projection.h (namespace r4)."
        % (len(nodes), resource_count, first),
        "// Child {name, flags, node}: flags 1 isSummary, 2 min >= 1, 4 choice (name without [x]);",
        "// node = index into kSummaryNodes to filter the child's value with, -1 keep it whole,",
        "// -2 choice: the node is the data type named by the key's suffix (valueQuantity -> Quantity).",
        "// Node {name, kind (0 resource, 1 data type, 2 backbone), first child, child count}.",
        "",
        '#include "../projection.h"',
        "",
        "namespace fhir {",
        "namespace r4 {",
        "",
        "const SummaryChild kSummaryChildren[] = {",
    ]
    out.extend(child_lines)
    out += ["};", "const int kSummaryChildCount = %d;" % first, "", "const SummaryNode kSummaryNodes[] = {"]
    out.extend(node_lines)
    out += ["};", "const int kSummaryNodeCount = %d;" % len(nodes), "", "} // namespace r4", "} // namespace fhir"]
    return "\n".join(out) + "\n", first


def main():
    """Parses arguments, reads the definitions and writes the generated source."""
    parser = argparse.ArgumentParser(description="Generate the FHIR R4 _summary / _elements tables.")
    parser.add_argument("--defs", default="../shared/fhir-r4", help="directory with the R4 definition bundles")
    parser.add_argument("--out", default="src/core/generated/r4_summary.cpp", help="output C++ file")
    args = parser.parse_args()

    resources = structure_definitions(load_json(find_input(args.defs, "profiles-resources.json.gz")), "resource")
    types = structure_definitions(load_json(find_input(args.defs, "profiles-types.json")), "complex-type")
    nodes = build(resources, types)
    text, rows = render(nodes, len(resources))

    os.makedirs(os.path.dirname(os.path.abspath(args.out)), exist_ok=True)
    with open(args.out, "w", encoding="ascii", newline="\n") as f:
        f.write(text)
    print("gen_summary: %d nodes, %d rows, %d bytes -> %s" % (len(nodes), rows, len(text), args.out))


if __name__ == "__main__":
    main()
