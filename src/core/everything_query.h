// everything_query.h: the R4 operations Patient/[id]/$everything and
// Encounter/[id]/$everything (OperationDefinitions Patient-everything,
// Encounter-everything) as one query over fhir.resource: their parameters, the
// cursors of their pages and the SQL of a page.
//
// What a page holds, in this order (keyset-paged by (group, rid)):
//   group 0  the focal resource (Patient/123)
//   group 1  every resource in its compartment (compartments.h: the linking
//            parameters' Reference hashes in the tokens GIN array, one condition
//            over all member types through the parent table)
//   group 2  the resources those (and the focal resource) reference, one level,
//            that are not in groups 0-1 (Practitioner, Organization, Location,
//            Medication, ...): search_reference rows of the group 0-1 rids
// Groups 1 and 2 pass the same filters (the focal resource is always returned:
// "at a minimum, the patient resource itself is returned"):
//   _type   a comma list of resource types (repeatable: the lists add up): only
//            those are returned
//   _since  lastUpdated >= the instant (a partial date: its start)
//   start, end  (Patient only: Encounter-everything has no such parameters)
//            the care date range: a resource whose type has a clinical date
//            parameter (clinical_date_param) and a value of it is kept when a
//            value overlaps [start, end] (dates: start's first and end's last
//            instant); resources without a clinical date are kept
//   _count  page size (the glue caps it at fhir_search.max_count)
//   _cursor ours: the position of a next link
// Anything else, or a repeated parameter, is an error (Error(InvalidSearch)).
#pragma once

#include "registry.h"
#include "values.h"

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace fhir {

struct EverythingCursor {
    int group = 0; // 0 focal, 1 compartment, 2 referenced
    int64_t rid = 0;
};

struct EverythingQuery {
    std::optional<int> count;
    std::vector<std::string> types; // _type; empty = every type
    int64_t since = kMinTime;
    int64_t start = kMinTime;       // care date range [start, end)
    int64_t end = kMaxTime;
    bool dated = false;             // start or end given
    std::optional<EverythingCursor> cursor;
    std::string link_query;         // the parameters but _cursor, re-encoded, for links
};

// Parses a query string as clients send it (query_string.h: a leading '?' or a
// whole URL such as a next link, '+' as space). `care_dates`: start and end are
// parameters (Patient); else they are errors (Encounter).
EverythingQuery parse_everything_query(std::string_view query, bool care_dates = true);

std::string encode_everything_cursor(const EverythingCursor &cursor);
// Throws Error(InvalidSearch) when the token is not one of ours.
EverythingCursor decode_everything_cursor(const std::string &token);

// Whether `type` has the $everything operation (Patient, Encounter).
bool has_everything_operation(std::string_view type);

// The date search parameter that holds a resource type's care date, or nullptr:
// for the types whose care time has its own parameter, that one (Condition
// onset-date, MedicationRequest authoredon (its `date` is the dosage schedule),
// MedicationAdministration effective-time, MedicationDispense whenhandedover,
// MedicationStatement effective, ServiceRequest authored, DeviceRequest event-date,
// ImagingStudy started, Specimen collected, Claim/ExplanationOfBenefit created);
// else the type's `date` parameter when it is a date parameter (R4's clinical-date
// and the like: Observation, Encounter, Procedure, DiagnosticReport,
// AllergyIntolerance, Immunization, CarePlan, ...). Disabled parameters do not count.
const SearchParamDef *clinical_date_param(const Registry &registry, std::string_view type);

// A member type of the compartment searched in groups 1 (its partition, tested
// with its own linking parameters' hashes, compartments.h).
struct EverythingMember {
    std::string type;
    bool many_hashes = false; // above 64: fhir.tokens_overlap instead of &&
};

// The page statement. Parameters:
//   $1 text focal type          $2 text focal id         $3 timestamptz _since
//   $4, $5 timestamptz care range [start, end)           $6 int[] clinical date parameter ids
//   $7 text[] _type (group 2)   $8 int cursor group      $9 bigint cursor rid
//   $10 bigint limit (count + 1)
//   $11, $12, ...  bigint[] the hashes of each of `members`, in order
// Columns: grp int, rid bigint, rtype text, id text, content jsonb, total bigint
// (the entries of groups 0-1 within the filters, the Bundle's total; the same on
// every row).
constexpr int kEverythingParamCount = 10;
// Every row is read from its partition (so partitions' row-level security
// policies apply); group 2's targets and the page's content are looked up by
// (type, id) in `stored_types`, the types whose partitions can hold rows (others
// have nothing to find).
std::string everything_page_sql(const std::string &focal_type, const EverythingQuery &query,
                                const std::vector<EverythingMember> &members,
                                const std::vector<std::string> &stored_types);

} // namespace fhir
