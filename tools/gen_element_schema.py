#!/usr/bin/env python3
# gen_element_schema.py: generates src/core/generated/r4_element_schema.cpp, the
# element definitions (names, cardinality, types) behind FHIRPath Patch and
# validation on write (src/core/element_schema.h, src/core/resource_validation.h),
# from the official FHIR R4 definitions.
#
# Regenerate (from the repository root):
#   python3 tools/gen_element_schema.py --defs ../shared/fhir-r4 --out src/core/generated/r4_element_schema.cpp
#
# Inputs are HL7's R4 (4.0.1) profiles-resources.json.gz and profiles-types.json;
# they are needed only to regenerate, never at build or run time. The output is a
# schema graph read from the snapshots: one structure per resource type, per
# complex data type and per BackboneElement (Patient.contact, Timing.repeat), each
# listing every child element with whether it repeats (max != "1"), whether it
# is required (min >= 1; R4's base definitions have no max other than "1" and
# "*"), whether it is a choice (value[x], stored as "value"), its type codes, and the structure its
# value is (another row of the graph, a data type named by a choice suffix, any
# resource named by its resourceType, or none for primitives). A patch uses it to
# know whether an element it adds is an array, what type its value must have, and
# what an object it descends into is. Python 3 standard library only.

import argparse
import gzip
import json
import os
import sys

REPEATS, CHOICE, REQUIRED = 1, 2, 4     # must match kRepeatsFlag, kChoiceFlag, kRequiredFlag in element_schema.h
PRIMITIVE, BY_SUFFIX, BY_RESOURCE = -1, -2, -3  # special structure values (element_schema.h)
KIND = {"resource": 0, "type": 1, "backbone": 2}
FHIR_TYPE_URL = "http://hl7.org/fhir/StructureDefinition/structuredefinition-fhir-type"


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
    sys.exit("gen_element_schema: %s not found in %s" % (name, defs_dir))


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


def type_code(type_entry):
    """The FHIR type of an ElementDefinition.type entry (System.String ids are 'string')."""
    for ext in type_entry.get("extension", []):
        if ext.get("url") == FHIR_TYPE_URL:
            return ext["valueUrl"]
    code = type_entry["code"]
    if code.startswith("http://hl7.org/fhirpath/System."):
        return code.rsplit(".", 1)[1].lower()
    return code


def collect(sd, kind, structures):
    """Adds the structures (root and backbones) of one definition to `structures`.

    Each structure is {"kind", "children": [element, ...]}, keyed by path; a
    backbone is any element that has children in the snapshot."""
    elements = sd["snapshot"]["element"]
    paths = {el["path"] for el in elements}
    structures.setdefault(elements[0]["path"], {"kind": kind, "children": []})["kind"] = kind
    for el in elements[1:]:
        parent = el["path"].rsplit(".", 1)[0]
        if parent not in paths:
            sys.exit("gen_element_schema: %s has no parent element in %s" % (el["path"], sd["type"]))
        structures.setdefault(parent, {"kind": "backbone", "children": []})["children"].append(el)


def row(el, structures, resources):
    """One child row: (name, flags, target structure path or special value, types text)."""
    name = element_name(el["path"])
    flags = REPEATS if el.get("max", "1") != "1" else 0
    if el.get("min", 0) >= 1:
        flags |= REQUIRED
    codes = [type_code(t) for t in el.get("type", [])]
    if name.endswith("[x]"):
        return name[:-3], flags | CHOICE, BY_SUFFIX, " ".join(codes)
    if el["path"] in structures:  # a backbone (its type is BackboneElement or Element)
        return name, flags, el["path"], codes[0] if codes else "BackboneElement"
    if "contentReference" in el:  # Questionnaire.item.item: the structure named
        target = el["contentReference"].lstrip("#")
        return name, flags, target, "BackboneElement"
    if len(codes) != 1:
        sys.exit("gen_element_schema: %s has %d types but is no choice" % (el["path"], len(codes)))
    code = codes[0]
    if code == "Resource":
        return name, flags, BY_RESOURCE, code
    if code in structures:
        return name, flags, code, code
    return name, flags, PRIMITIVE, code


def build(resources, types):
    """Builds the structure list: [(path, kind, [(name, flags, target, types)])], sorted by path."""
    structures = {}
    for sd in types.values():
        collect(sd, "type", structures)
    for sd in resources.values():
        collect(sd, "resource", structures)
    out = []
    for path in sorted(structures):
        rows = sorted(row(el, structures, resources) for el in structures[path]["children"])
        out.append((path, KIND[structures[path]["kind"]], rows))
    return out


def render(nodes, resource_count):
    """Renders the generated C++ source."""
    index = {name: i for i, (name, _, _) in enumerate(nodes)}
    child_lines, node_lines, first = [], [], 0
    for name, kind, rows in nodes:
        cells = []
        for child, flags, target, codes in rows:
            node = index[target] if isinstance(target, str) else target
            cells.append('{"%s",%d,%d,"%s"}' % (child, flags, node, codes))
        if cells:
            child_lines.append("    /* %d %s */ %s," % (index[name], name, ",".join(cells)))
        node_lines.append('    {"%s",%d,%d,%d},' % (name, kind, first, len(rows)))
        first += len(rows)
    out = [
        "// GENERATED by tools/gen_element_schema.py from the FHIR R4 (4.0.1) definitions. DO NOT EDIT.",
        "//",
        "// Regenerate: python3 tools/gen_element_schema.py --defs ../shared/fhir-r4 "
        "--out src/core/generated/r4_element_schema.cpp",
        "// %d structures (%d resource types), %d elements. Layout: src/core/element_schema.h (namespace r4)."
        % (len(nodes), resource_count, first),
        "// Element {name, flags, structure, types}: flags 1 repeats (max != 1), 2 choice (name without [x]),",
        "// 4 required (min >= 1);",
        "// structure = index into kSchemaStructures of the value, -1 primitive, -2 choice (the data type",
        "// named by the key's suffix), -3 a resource (named by its resourceType); types = type codes.",
        "// Structure {name, kind (0 resource, 1 data type, 2 backbone), first element, element count}.",
        "",
        '#include "../element_schema.h"',
        "",
        "namespace fhir {",
        "namespace r4 {",
        "",
        "const SchemaElement kSchemaElements[] = {",
    ]
    out.extend(child_lines)
    out += ["};", "const int kSchemaElementCount = %d;" % first, "", "const SchemaStructure kSchemaStructures[] = {"]
    out.extend(node_lines)
    out += ["};", "const int kSchemaStructureCount = %d;" % len(nodes), "", "} // namespace r4",
            "} // namespace fhir"]
    return "\n".join(out) + "\n", first


def main():
    """Parses arguments, reads the definitions and writes the generated source."""
    parser = argparse.ArgumentParser(description="Generate the FHIR R4 element schema tables.")
    parser.add_argument("--defs", default="../shared/fhir-r4", help="directory with the R4 definition bundles")
    parser.add_argument("--out", default="src/core/generated/r4_element_schema.cpp", help="output C++ file")
    args = parser.parse_args()

    resources = structure_definitions(load_json(find_input(args.defs, "profiles-resources.json.gz")), "resource")
    types = structure_definitions(load_json(find_input(args.defs, "profiles-types.json")), "complex-type")
    nodes = build(resources, types)
    text, rows = render(nodes, len(resources))

    os.makedirs(os.path.dirname(os.path.abspath(args.out)), exist_ok=True)
    with open(args.out, "w", encoding="ascii", newline="\n") as f:
        f.write(text)
    print("gen_element_schema: %d structures, %d elements, %d bytes -> %s" % (len(nodes), rows, len(text), args.out))


if __name__ == "__main__":
    main()
