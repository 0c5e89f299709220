#!/usr/bin/env python3
# gen_registry.py: generates src/core/generated/r4_registry.cpp, the built-in
# FHIR R4 resource types and search parameters, from the official definitions.
#
# Regenerate (from the repository root):
#   python3 tools/gen_registry.py --defs ../shared/fhir-r4 --out src/core/generated/r4_registry.cpp
#
# Inputs are HL7's R4 (4.0.1) bundles search-parameters.json and
# profiles-resources.json.gz; they are needed only to regenerate, never at build
# or run time. Each SearchParameter is emitted once per concrete base type with
# only the expression alternatives that apply to that type, so the extractor
# never evaluates another type's path. Parameters on Resource / DomainResource
# are expanded to every (domain) resource type. Ids are 1..N in sorted
# (resource type, code) order; they are stored in search tables, so the order
# must stay deterministic. Python 3 standard library only.

import argparse
import gzip
import json
import os
import sys

FIRST_CUSTOM_PARAM_ID = 100000  # must match kFirstCustomParamId in registry.h

# Common parameters without a FHIRPath that a server cannot index (_query names
# a named query, not a value); _text and _content stay, with an empty expression,
# because they are answered from the narrative / whole resource.
SKIPPED_COMMON_CODES = {"_query"}

PARAM_TYPES = {
    "number": "Number",
    "date": "Date",
    "string": "String",
    "token": "Token",
    "reference": "Reference",
    "composite": "Composite",
    "quantity": "Quantity",
    "uri": "Uri",
    "special": "Special",
}


def load_json(path):
    """Reads a JSON file, gunzipping it when the name says so."""
    opener = gzip.open if path.endswith(".gz") else open
    with opener(path, "rt", encoding="utf-8") as f:
        return json.load(f)


def find_input(defs_dir, name):
    """Finds a definitions file, accepting it with or without a .gz suffix."""
    for candidate in (name, name + ".gz", name[:-3] if name.endswith(".gz") else None):
        if candidate and os.path.exists(os.path.join(defs_dir, candidate)):
            return os.path.join(defs_dir, candidate)
    sys.exit("gen_registry: %s not found in %s" % (name, defs_dir))


def resource_types(profiles):
    """Returns {type name: is DomainResource} for every concrete resource type."""
    sds = {}
    for entry in profiles["entry"]:
        res = entry["resource"]
        if res.get("resourceType") == "StructureDefinition" and res.get("kind") == "resource":
            sds[res["id"]] = res

    def derives_from_domain_resource(sd):
        # Follow baseDefinition rather than trusting one hop, in case of deeper chains.
        seen = set()
        while sd is not None and sd["id"] not in seen:
            seen.add(sd["id"])
            base = sd.get("baseDefinition", "").rsplit("/", 1)[-1]
            if base == "DomainResource":
                return True
            sd = sds.get(base)
        return False

    types = {}
    for sd in sds.values():
        if sd.get("derivation") == "specialization" and not sd.get("abstract"):
            types[sd["type"]] = derives_from_domain_resource(sd)
    return types


def range_paths(profiles):
    """Returns the element paths (choice suffix dropped) whose types include Range."""
    paths = set()
    for entry in profiles["entry"]:
        res = entry["resource"]
        if res.get("resourceType") != "StructureDefinition" or res.get("kind") != "resource":
            continue
        for element in res.get("snapshot", {}).get("element", []):
            if any(t.get("code") == "Range" for t in element.get("type", [])):
                paths.add(element["path"].replace("[x]", ""))
    return paths


def may_hold_ranges(entry, ranges):
    """True when a number/quantity parameter (or a composite's component) can
    index a Range: an alternative selects one with `as Range` / `.as(Range)`, or
    is a plain path to an element whose types include Range."""
    if entry["type"] not in ("Number", "Quantity", "Composite"):
        return False
    expressions = [entry["expression"]] + [c[1] for c in entry["components"]]
    for expression in expressions:
        for alternative in split_top_level_union(expression):
            if "Range" in alternative or alternative.strip("() ") in ranges:
                return True
    return False


def split_top_level_union(expression):
    """Splits a FHIRPath expression on '|' outside parentheses and string literals."""
    parts, depth, quote, start, i = [], 0, None, 0, 0
    while i < len(expression):
        ch = expression[i]
        if quote:
            if ch == "\\":
                i += 1  # skip the escaped character
            elif ch == quote:
                quote = None
        elif ch in "'`\"":
            quote = ch
        elif ch in "([{":
            depth += 1
        elif ch in ")]}":
            depth -= 1
        elif ch == "|" and depth == 0:
            parts.append(expression[start:i].strip())
            start = i + 1
        i += 1
    parts.append(expression[start:].strip())
    return [p for p in parts if p]


def leading_identifier(alternative):
    """Returns the first identifier of an alternative, ignoring opening parentheses."""
    text = alternative.lstrip("( \t\n")
    end = 0
    while end < len(text) and (text[end].isalnum() or text[end] == "_"):
        end += 1
    return text[:end]


def anchor_relative(alternative, base):
    """Prefixes an alternative written relative to the resource with `base.`.

    R4 has a few such slips (InsurancePlan-name is "name | alias"); anchoring
    them keeps every generated expression rooted at its resource type."""
    body = alternative.lstrip("( \t\n")
    at = len(alternative) - len(body)
    return alternative[:at] + base + "." + body


def expression_for(expression, base, resource_type, single_base):
    """Keeps only the alternatives of `expression` that start at `base`, rebased
    onto `resource_type` (they differ only for Resource / DomainResource params)."""
    if not expression:
        return ""
    kept = []
    for alt in split_top_level_union(expression):
        first = leading_identifier(alt)
        if single_base and first[:1].islower():
            alt = anchor_relative(alt, base)
        elif first != base:
            continue
        if base != resource_type:
            at = alt.index(base)  # first occurrence is the leading identifier
            alt = alt[:at] + resource_type + alt[at + len(base):]
        kept.append(alt)
    return " | ".join(kept)


def c_string(text):
    """Renders text as a C++ string literal."""
    if text is None:
        return "nullptr"
    out = ['"']
    for ch in text:
        if ch in '"\\':
            out.append("\\" + ch)
        elif ch == "\n":
            out.append("\\n")
        elif ch == "\t":
            out.append("\\t")
        elif ord(ch) < 0x20 or ord(ch) > 0x7E:
            # Emit as UTF-8 octal escapes so the output stays ASCII.
            out.extend("\\%03o" % b for b in ch.encode("utf-8"))
        else:
            out.append(ch)
    out.append('"')
    return "".join(out)


def build_entries(search_params, types):
    """Expands every SearchParameter into one entry per concrete base type."""
    entries = {}
    problems = []
    by_url = {e["resource"]["url"]: e["resource"] for e in search_params["entry"]
              if e["resource"].get("resourceType") == "SearchParameter"}
    for entry in search_params["entry"]:
        sp = entry["resource"]
        if sp.get("resourceType") != "SearchParameter":
            continue
        code = sp["code"]
        if sp["type"] not in PARAM_TYPES:
            sys.exit("gen_registry: unknown search parameter type %r in %s" % (sp["type"], sp["url"]))
        for base in sp.get("base", []):
            if base == "Resource":
                concrete = sorted(types)
            elif base == "DomainResource":
                concrete = sorted(t for t, domain in types.items() if domain)
            elif base in types:
                concrete = [base]
            else:
                problems.append("%s: unknown base %s" % (sp["url"], base))
                continue
            if base in ("Resource", "DomainResource") and code in SKIPPED_COMMON_CODES:
                continue
            for rtype in concrete:
                expr = expression_for(sp.get("expression", ""), base, rtype, len(sp["base"]) == 1)
                if sp.get("expression") and not expr:
                    problems.append("%s: no expression alternative for %s" % (sp["url"], rtype))
                key = (rtype, code)
                if key in entries:
                    sys.exit("gen_registry: duplicate search parameter %s/%s" % key)
                entries[key] = {
                    "type": PARAM_TYPES[sp["type"]],
                    "expression": expr,
                    "url": sp["url"],
                    "targets": sorted(sp.get("target", [])),
                    "modifiers": list(sp.get("modifier", [])),
                    "comparators": list(sp.get("comparator", [])),
                    "components": composite_components(sp, by_url),
                }
    return entries, problems


def composite_components(sp, by_url):
    """A composite's (definition, relative expression) pairs. R4 4.0.1 has one
    composite whose component expressions are swapped against their definitions:
    DocumentReference-relationship lists relatesto (a reference: relatesTo.target)
    with the expression "code" and relation (a token: relatesTo.code) with "target",
    so "relationship=DocumentReference/x$appends" (R4's documented form) matched
    nothing. When every component's own definition is the composite's expression
    plus a child path, and those paths are the given expressions in another order,
    the definitions' paths are used (R4B and R5 carry exactly that fix)."""
    given = [(c["definition"], c.get("expression", "")) for c in sp.get("component", [])]
    derived = []
    for definition, _ in given:
        own = by_url.get(definition, {}).get("expression", "")
        match = None
        for alternative in sp.get("expression", "").split(" | "):
            if own.startswith(alternative + "."):
                match = own[len(alternative) + 1:]
        derived.append(match)
    if None in derived or derived == [e for _, e in given] or sorted(derived) != sorted(e for _, e in given):
        return given
    return [(definition, path) for (definition, _), path in zip(given, derived)]


class ListTable:
    """Interns string lists (targets, modifiers, comparators) so repeats share one row."""

    def __init__(self):
        self.rows, self.index = [], {}

    def add(self, items):
        """Returns the row index of `items`, or -1 for an empty list."""
        if not items:
            return -1
        joined = " ".join(items)
        if joined not in self.index:
            self.index[joined] = len(self.rows)
            self.rows.append(joined)
        return self.index[joined]


def render(types, entries, ranges):
    """Renders the generated C++ source."""
    lists = ListTable()
    components = []
    rows = []
    range_ids = []
    type_index = {name: i for i, name in enumerate(sorted(types))}
    for param_id, key in enumerate(sorted(entries), start=1):
        e = entries[key]
        if may_hold_ranges(e, ranges):
            range_ids.append(param_id)
        first_component = len(components)
        components.extend(e["components"])
        rows.append(
            "    {%d, %d, %s, ParamType::%s, %s, %s, %d, %d, %d, %d, %d},"
            % (
                param_id,
                type_index[key[0]],
                c_string(key[1]),
                e["type"],
                c_string(e["expression"]),
                c_string(e["url"]),
                lists.add(e["targets"]),
                lists.add(e["modifiers"]),
                lists.add(e["comparators"]),
                first_component if e["components"] else -1,
                len(e["components"]),
            )
        )
    if len(rows) >= FIRST_CUSTOM_PARAM_ID:
        sys.exit("gen_registry: %d built-in parameters collide with custom ids" % len(rows))

    out = []
    out.append("// GENERATED by tools/gen_registry.py from the FHIR R4 (4.0.1) definitions. DO NOT EDIT.")
    out.append("//")
    out.append("// Regenerate: python3 tools/gen_registry.py --defs ../shared/fhir-r4 --out src/core/generated/r4_registry.cpp")
    out.append("// %d resource types, %d search parameter entries (ids 1..%d)." % (len(types), len(rows), len(rows)))
    out.append("// The row layout is declared in src/core/registry_tables.h.")
    out.append("")
    out.append('#include "../registry_tables.h"')
    out.append("")
    out.append("namespace fhir {")
    out.append("namespace r4 {")
    out.append("")
    out.append("const ResourceTypeRow kResourceTypes[] = {")
    for name in sorted(types):
        out.append("    {%s, %s}," % (c_string(name), "true" if types[name] else "false"))
    out.append("};")
    out.append("const int kResourceTypeCount = %d;" % len(types))
    out.append("")
    out.append("const char *const kStringLists[] = {")
    for row in lists.rows:
        out.append("    %s," % c_string(row))
    out.append("};")
    out.append("const int kStringListCount = %d;" % len(lists.rows))
    out.append("")
    out.append("const ComponentRow kComponents[] = {")
    for definition, expression in components:
        out.append("    {%s, %s}," % (c_string(definition), c_string(expression)))
    if not components:
        out.append("    {nullptr, nullptr},")
    out.append("};")
    out.append("const int kComponentCount = %d;" % len(components))
    out.append("")
    out.append("// {id, resource type index, code, type, expression, url, targets, modifiers,")
    out.append("//  comparators, first component, component count}; list indexes are -1 for none.")
    out.append("const ParamRow kParams[] = {")
    out.extend(rows)
    out.append("};")
    out.append("const int kParamCount = %d;" % len(rows))
    out.append("")
    out.append("// Ids of the number/quantity/composite parameters whose values may be Ranges")
    out.append("// (an `as Range` alternative or a path to an element typed Range), ascending.")
    out.append("const int kRangeParams[] = {%s};" % ", ".join(str(i) for i in range_ids))
    out.append("const int kRangeParamCount = %d;" % len(range_ids))
    out.append("")
    out.append("} // namespace r4")
    out.append("} // namespace fhir")
    return "\n".join(out) + "\n", len(rows)


def main():
    """Parses arguments, reads the definitions and writes the generated source."""
    parser = argparse.ArgumentParser(description="Generate the built-in FHIR R4 search-parameter registry.")
    parser.add_argument("--defs", default="../shared/fhir-r4", help="directory with the R4 definition bundles")
    parser.add_argument("--search-parameters", help="path of search-parameters.json (default: in --defs)")
    parser.add_argument("--profiles", help="path of profiles-resources.json[.gz] (default: in --defs)")
    parser.add_argument("--out", default="src/core/generated/r4_registry.cpp", help="output C++ file")
    args = parser.parse_args()

    sp_path = args.search_parameters or find_input(args.defs, "search-parameters.json")
    profiles_path = args.profiles or find_input(args.defs, "profiles-resources.json.gz")
    profiles = load_json(profiles_path)
    types = resource_types(profiles)
    entries, problems = build_entries(load_json(sp_path), types)
    for problem in problems:
        print("gen_registry: warning: " + problem, file=sys.stderr)
    text, count = render(types, entries, range_paths(profiles))

    os.makedirs(os.path.dirname(os.path.abspath(args.out)), exist_ok=True)
    with open(args.out, "w", encoding="ascii", newline="\n") as f:
        f.write(text)
    print("gen_registry: %d resource types, %d parameters, %d bytes -> %s" % (len(types), count, len(text), args.out))


if __name__ == "__main__":
    main()
