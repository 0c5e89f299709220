// resource_writer.cpp: single and batched resource writes through SPI.
//
// Statement shapes (all prepared once per backend and partition):
//   lock     SELECT rid, version_id ... FOR UPDATE           current row, if any
//   archive  INSERT INTO resource_history SELECT ...          superseded version
//   insert   INSERT ... ON CONFLICT DO NOTHING RETURNING      new resource
//   update   UPDATE ... RETURNING                             new version in place (rid kept)
//   side     one CTE statement inserting into all five side tables from arrays
//   contained  INSERT of the container's contained resources (see below)
// Side rows of all resources of a batch travel in one set of arrays, so a bulk
// batch costs a handful of statements, not a handful per resource.
//
// Contained resources (fhir.contained_resource) are indexed with their container:
// each one with a known resourceType and a valid, not yet used local id is
// extracted under its own type and stored under its own rid with its own side
// rows; its content is read from the stored container row, so decimals keep their
// text. They belong to the container's current version: an update or delete of
// the container first removes them and their side rows. Whether a container has
// any is read with the lock (or the delete), so resources without contained ones
// pay no extra statement.
#include "resource_writer.h"

#include "cpp_wrapper.h"
#include "pg_json.h"
#include "registry_cache.h"
#include "result_cache.h"
#include "spi.h"
#include "values.h"

#include <algorithm>
#include <unordered_map>
#include <unordered_set>

extern "C" {
#include "utils/timestamp.h"
}

namespace fhir_pg {

using fhir::Error;
using fhir::ErrorKind;

std::string new_resource_id() {
    unsigned char bytes[16];
    unsigned char *buf = bytes;
    pg_call([buf] {
        if (!pg_strong_random(buf, 16))
            elog(ERROR, "could not generate a random resource id");
    });
    return fhir::uuid_v4_from_bytes(bytes);
}

namespace {

// Side-table rows of one or more resources, as parallel arrays.
struct SideRows {
    std::vector<int64_t> s_rid, d_rid, n_rid, q_rid, r_rid;
    std::vector<int32_t> s_param, d_param, n_param, q_param, r_param;
    std::vector<std::string> s_norm, s_exact;
    std::vector<int64_t> d_lo, d_hi;
    std::vector<uint8_t> d_multi; // 1: the resource has several values for the parameter
    // composites with a string component
    std::vector<int64_t> cs_rid, cs_key;
    std::vector<int32_t> cs_param, cs_grp, cs_component;
    std::vector<std::string> cs_norm;
    std::vector<std::string> n_value, n_lo, n_hi;
    std::vector<std::string> q_value, q_lo, q_hi, q_system, q_code, q_unit;
    std::vector<std::string> r_type, r_id;
    // composites with a range component (number/quantity, date), full text
    std::vector<int64_t> cn_rid, cd_rid, t_rid, cn_key, cd_key;
    std::vector<int32_t> cn_param, cn_grp, cn_component, cd_param, cd_grp, cd_component, t_param;
    std::vector<std::string> cn_value, cn_lo, cn_hi, cn_system, cn_code, cn_unit;
    std::vector<int64_t> cd_lo, cd_hi;
    std::vector<std::string> t_doc;

    bool empty() const {
        return s_rid.empty() && d_rid.empty() && n_rid.empty() && q_rid.empty() && r_rid.empty() && cn_rid.empty() &&
               cd_rid.empty() && t_rid.empty() && cs_rid.empty();
    }

    // Appends the extracted values of one resource. Rows of composite nodes
    // (group > 0) are stored only as the pairs in composite_numbers/_dates.
    void add(int64_t rid, const fhir::IndexRows &rows) {
        for (const auto &s : rows.strings) {
            if (s.group != 0)
                continue;
            s_rid.push_back(rid);
            s_param.push_back(s.param_id);
            s_norm.push_back(s.normalized);
            s_exact.push_back(s.exact);
        }
        for (const auto &t : rows.token_texts) { // token :text values, under the negated param id
            s_rid.push_back(rid);
            s_param.push_back(-t.param_id);
            s_norm.push_back(t.normalized);
            s_exact.push_back(t.normalized);
        }
        const size_t first_date = d_rid.size();
        for (const auto &d : rows.dates) {
            if (d.group != 0)
                continue;
            d_rid.push_back(rid);
            d_param.push_back(d.param_id);
            d_lo.push_back(d.lo);
            d_hi.push_back(d.hi);
        }
        // multi: the resource has several values of the parameter (search_sql.h, SqlOptions)
        std::unordered_map<int32_t, int> values_of;
        for (size_t i = first_date; i < d_rid.size(); i++)
            values_of[d_param[i]]++;
        for (size_t i = first_date; i < d_rid.size(); i++)
            d_multi.push_back(values_of[d_param[i]] > 1);
        for (const auto &n : rows.numbers) {
            if (n.group != 0)
                continue;
            n_rid.push_back(rid);
            n_param.push_back(n.param_id);
            n_value.push_back(n.range.value);
            n_lo.push_back(n.range.lo);
            n_hi.push_back(n.range.hi);
        }
        for (const auto &q : rows.quantities) {
            if (q.group != 0)
                continue;
            q_rid.push_back(rid);
            q_param.push_back(q.param_id);
            q_value.push_back(q.range.value);
            q_lo.push_back(q.range.lo);
            q_hi.push_back(q.range.hi);
            q_system.push_back(q.system);
            q_code.push_back(q.code);
            q_unit.push_back(q.unit);
        }
        for (const auto &r : rows.references) {
            r_rid.push_back(rid);
            r_param.push_back(r.param_id);
            r_type.push_back(r.target_type);
            r_id.push_back(r.target_id);
        }
        for (const auto &c : rows.composite_numbers) {
            cn_rid.push_back(rid);
            cn_param.push_back(c.param_id);
            cn_grp.push_back(c.group);
            cn_component.push_back(c.component);
            cn_key.push_back(c.key);
            cn_value.push_back(c.range.value);
            cn_lo.push_back(c.range.lo);
            cn_hi.push_back(c.range.hi);
            cn_system.push_back(c.system);
            cn_code.push_back(c.code);
            cn_unit.push_back(c.unit);
        }
        for (const auto &c : rows.composite_dates) {
            cd_rid.push_back(rid);
            cd_param.push_back(c.param_id);
            cd_grp.push_back(c.group);
            cd_component.push_back(c.component);
            cd_key.push_back(c.key);
            cd_lo.push_back(c.lo);
            cd_hi.push_back(c.hi);
        }
        for (const auto &c : rows.composite_strings) {
            cs_rid.push_back(rid);
            cs_param.push_back(c.param_id);
            cs_grp.push_back(c.group);
            cs_component.push_back(c.component);
            cs_key.push_back(c.key);
            cs_norm.push_back(c.normalized);
        }
        for (const auto &t : rows.texts) {
            t_rid.push_back(rid);
            t_param.push_back(t.param_id);
            t_doc.push_back(t.document);
        }
    }
};

const char *kInsertSideRowsSql =
    "WITH s AS (INSERT INTO fhir.search_string (rid, param, norm, exact) "
    "  SELECT * FROM unnest($1::bigint[], $2::int[], $3::text[], $4::text[])), "
    "d AS (INSERT INTO fhir.search_date (rid, param, lo, hi, multi) "
    "  SELECT * FROM unnest($5::bigint[], $6::int[], $7::timestamptz[], $8::timestamptz[], $47::boolean[])), "
    "n AS (INSERT INTO fhir.search_number (rid, param, value, lo, hi) "
    "  SELECT u.rid, u.param, nullif(u.value, '')::numeric, u.lo, u.hi "
    "  FROM unnest($9::bigint[], $10::int[], $11::text[], $12::numeric[], $13::numeric[]) "
    "    AS u(rid, param, value, lo, hi)), "
    "q AS (INSERT INTO fhir.search_quantity (rid, param, value, lo, hi, system, code, unit) "
    "  SELECT u.rid, u.param, nullif(u.value, '')::numeric, u.lo, u.hi, u.system, u.code, u.unit "
    "  FROM unnest($14::bigint[], $15::int[], $16::text[], $17::numeric[], $18::numeric[], "
    "              $19::text[], $20::text[], $21::text[]) AS u(rid, param, value, lo, hi, system, code, unit)), "
    "r AS (INSERT INTO fhir.search_reference (rid, param, target_type, target_id) "
    "  SELECT * FROM unnest($22::bigint[], $23::int[], $24::text[], $25::text[])), "
    "cn AS (INSERT INTO fhir.search_composite_number "
    "  (rid, param, grp, component, key, value, lo, hi, system, code, unit) "
    "  SELECT u.rid, u.param, u.grp, u.component, u.key, nullif(u.value, '')::numeric, u.lo, u.hi, "
    "         u.system, u.code, u.unit "
    "  FROM unnest($26::bigint[], $27::int[], $28::int[], $29::int[], $30::bigint[], $31::text[], "
    "              $32::numeric[], $33::numeric[], $34::text[], $35::text[], $36::text[]) "
    "    AS u(rid, param, grp, component, key, value, lo, hi, system, code, unit)), "
    "cd AS (INSERT INTO fhir.search_composite_date (rid, param, grp, component, key, lo, hi) "
    "  SELECT * FROM unnest($37::bigint[], $38::int[], $39::int[], $40::int[], $41::bigint[], $42::timestamptz[], "
    "                       $43::timestamptz[])), "
    "t AS (INSERT INTO fhir.search_text (rid, param, doc) "
    "  SELECT u.rid, u.param, to_tsvector('simple'::regconfig, u.doc) "
    "  FROM unnest($44::bigint[], $45::int[], $46::text[]) AS u(rid, param, doc)), "
    "cs AS (INSERT INTO fhir.search_composite_string (rid, param, grp, component, key, norm) "
    "  SELECT * FROM unnest($48::bigint[], $49::int[], $50::int[], $51::int[], $52::bigint[], $53::text[])) "
    "SELECT 1";

// Writes the side rows in one statement.
void insert_side_rows(const SideRows &rows) {
    if (rows.empty())
        return;
    std::vector<Oid> types = {INT8ARRAYOID, INT4ARRAYOID, TEXTARRAYOID, TEXTARRAYOID,                // string
                              INT8ARRAYOID, INT4ARRAYOID, TIMESTAMPTZARRAYOID, TIMESTAMPTZARRAYOID,  // date
                              INT8ARRAYOID, INT4ARRAYOID, TEXTARRAYOID, TEXTARRAYOID, TEXTARRAYOID,  // number
                              INT8ARRAYOID, INT4ARRAYOID, TEXTARRAYOID, TEXTARRAYOID, TEXTARRAYOID,  // quantity
                              TEXTARRAYOID, TEXTARRAYOID, TEXTARRAYOID,                              //
                              INT8ARRAYOID, INT4ARRAYOID, TEXTARRAYOID, TEXTARRAYOID,                // reference
                              INT8ARRAYOID, INT4ARRAYOID, INT4ARRAYOID, INT4ARRAYOID, INT8ARRAYOID,  // composite number
                              TEXTARRAYOID, TEXTARRAYOID, TEXTARRAYOID, TEXTARRAYOID, TEXTARRAYOID,  //
                              TEXTARRAYOID,                                                          //
                              INT8ARRAYOID, INT4ARRAYOID, INT4ARRAYOID, INT4ARRAYOID, INT8ARRAYOID,  // composite date
                              TIMESTAMPTZARRAYOID, TIMESTAMPTZARRAYOID,                              //
                              INT8ARRAYOID, INT4ARRAYOID, TEXTARRAYOID,                              // text
                              BOOLARRAYOID,                                                          // date multi
                              INT8ARRAYOID, INT4ARRAYOID, INT4ARRAYOID, INT4ARRAYOID, INT8ARRAYOID,  // composite string
                              TEXTARRAYOID};
    // Generic: a custom plan would fold every array in as a constant, each time.
    SPIPlanPtr plan = prepare_cached(kInsertSideRowsSql, types, CURSOR_OPT_GENERIC_PLAN);
    Datum v[53] = {
        int8_array(rows.s_rid), int4_array(rows.s_param), text_array(rows.s_norm), text_array(rows.s_exact),
        int8_array(rows.d_rid), int4_array(rows.d_param), timestamptz_array(rows.d_lo), timestamptz_array(rows.d_hi),
        int8_array(rows.n_rid), int4_array(rows.n_param), text_array(rows.n_value), text_array(rows.n_lo),
        text_array(rows.n_hi), int8_array(rows.q_rid), int4_array(rows.q_param), text_array(rows.q_value),
        text_array(rows.q_lo), text_array(rows.q_hi), text_array(rows.q_system), text_array(rows.q_code),
        text_array(rows.q_unit), int8_array(rows.r_rid), int4_array(rows.r_param), text_array(rows.r_type),
        text_array(rows.r_id), int8_array(rows.cn_rid), int4_array(rows.cn_param), int4_array(rows.cn_grp),
        int4_array(rows.cn_component), int8_array(rows.cn_key), text_array(rows.cn_value), text_array(rows.cn_lo),
        text_array(rows.cn_hi), text_array(rows.cn_system), text_array(rows.cn_code), text_array(rows.cn_unit),
        int8_array(rows.cd_rid), int4_array(rows.cd_param), int4_array(rows.cd_grp), int4_array(rows.cd_component),
        int8_array(rows.cd_key), timestamptz_array(rows.cd_lo), timestamptz_array(rows.cd_hi),
        int8_array(rows.t_rid), int4_array(rows.t_param), text_array(rows.t_doc), bool_array(rows.d_multi),
        int8_array(rows.cs_rid), int4_array(rows.cs_param), int4_array(rows.cs_grp), int4_array(rows.cs_component),
        int8_array(rows.cs_key), text_array(rows.cs_norm)};
    spi_execute(plan, v, nullptr, false);
}

const char *kDeleteSideRowsSql =
    "WITH s AS (DELETE FROM fhir.search_string WHERE rid = ANY($1)), "
    "d AS (DELETE FROM fhir.search_date WHERE rid = ANY($1)), "
    "n AS (DELETE FROM fhir.search_number WHERE rid = ANY($1)), "
    "q AS (DELETE FROM fhir.search_quantity WHERE rid = ANY($1)), "
    "r AS (DELETE FROM fhir.search_reference WHERE rid = ANY($1)), "
    "cn AS (DELETE FROM fhir.search_composite_number WHERE rid = ANY($1)), "
    "cd AS (DELETE FROM fhir.search_composite_date WHERE rid = ANY($1)), "
    "t AS (DELETE FROM fhir.search_text WHERE rid = ANY($1)), "
    "cs AS (DELETE FROM fhir.search_composite_string WHERE rid = ANY($1)) "
    "SELECT 1";

// Removes the side rows of resources about to get new values (or deleted).
void delete_side_rows(const std::vector<int64_t> &rids) {
    if (rids.empty())
        return;
    SPIPlanPtr plan = prepare_cached(kDeleteSideRowsSql, {INT8ARRAYOID});
    Datum v[1] = {int8_array(rids)};
    spi_execute(plan, v, nullptr, false);
}

// ---- contained resources --------------------------------------------------

// The contained resources of containers being written, as parallel arrays, each
// extracted under its own type (see the file comment).
struct ContainedRows {
    std::vector<int64_t> container_rid;
    std::vector<std::string> container_id, type, id;
    std::vector<int32_t> index; // position in the container's `contained` array
    std::vector<int64_t> tokens;
    std::vector<int32_t> token_off, token_cnt;
    std::vector<fhir::IndexRows> rows;

    bool empty() const { return container_rid.empty(); }

    // Adds the indexable contained resources of one container: a known
    // resourceType and a valid id not used by an earlier one. Others (and the
    // contained resources of contained resources, which FHIR forbids) are stored
    // with the container but not searchable.
    void add(const fhir::Extractor &extractor, int64_t rid, const std::string &cid, const fhir::Json &container) {
        const fhir::Json *contained = fhir::json_member(container, "contained");
        if (!contained || !contained->is_array())
            return;
        std::unordered_set<std::string> seen;
        for (size_t i = 0; i < contained->size(); i++) {
            const fhir::Json &resource = (*contained)[i];
            if (!resource.is_object())
                continue;
            const fhir::Json *rtype = fhir::json_member(resource, "resourceType");
            const fhir::Json *local_id = fhir::json_member(resource, "id");
            if (!rtype || !rtype->is_string() || !local_id || !local_id->is_string())
                continue;
            const std::string &t = rtype->get_ref<const std::string &>();
            const std::string &lid = local_id->get_ref<const std::string &>();
            if (!fhir::Registry::is_resource_type(t) || !fhir::is_valid_id(lid) || !seen.insert(lid).second)
                continue;
            fhir::IndexRows extracted = extractor.extract(resource);
            container_rid.push_back(rid);
            container_id.push_back(cid);
            type.push_back(t);
            id.push_back(lid);
            index.push_back(static_cast<int32_t>(i));
            token_off.push_back(static_cast<int32_t>(tokens.size()));
            token_cnt.push_back(static_cast<int32_t>(extracted.tokens.size()));
            tokens.insert(tokens.end(), extracted.tokens.begin(), extracted.tokens.end());
            rows.push_back(std::move(extracted));
        }
    }
};

// Inserts the contained resources of containers of one type (stored in `table`,
// where their content is read from) and queues their side rows in `side`.
void insert_contained(const std::string &container_type, const std::string &table, int64_t last_updated,
                      const ContainedRows &c, SideRows &side) {
    if (c.empty())
        return;
    SPIPlanPtr plan = prepare_cached(
        "WITH u AS MATERIALIZED (SELECT nextval('fhir.resource_rid_seq') AS rid, u.* "
        "  FROM unnest($1::bigint[], $2::text[], $3::text[], $4::text[], $5::int[], $6::int[], $7::int[]) "
        "       WITH ORDINALITY AS u(container_rid, container_id, rtype, id, idx, off, cnt, n)), "
        "ins AS (INSERT INTO fhir.contained_resource "
        "  (rid, container_rid, container_type, container_id, rtype, id, last_updated, content, tokens) "
        "  SELECT u.rid, u.container_rid, $8, u.container_id, u.rtype, u.id, $9, p.content->'contained'->u.idx, "
        "         $10[u.off + 1 : u.off + u.cnt] "
        "  FROM u JOIN " + table + " p ON p.rid = u.container_rid) "
        "SELECT u.n, u.rid FROM u",
        {INT8ARRAYOID, TEXTARRAYOID, TEXTARRAYOID, TEXTARRAYOID, INT4ARRAYOID, INT4ARRAYOID, INT4ARRAYOID, TEXTOID,
         TIMESTAMPTZOID, INT8ARRAYOID});
    Datum v[10] = {int8_array(c.container_rid), text_array(c.container_id), text_array(c.type), text_array(c.id),
                   int4_array(c.index),         int4_array(c.token_off),   int4_array(c.token_cnt),
                   text_datum(container_type),  TimestampTzGetDatum(unix_micros_to_timestamptz(last_updated)),
                   int8_array(c.tokens)};
    uint64_t n = spi_execute(plan, v, nullptr, false);
    for (uint64_t r = 0; r < n; r++)
        side.add(spi_get_int64(r, 2), c.rows.at(static_cast<size_t>(spi_get_int64(r, 1) - 1)));
}

// Removes the contained resources of these containers, and their side rows.
void delete_contained(const std::vector<int64_t> &container_rids) {
    SPIPlanPtr plan = prepare_cached("DELETE FROM fhir.contained_resource WHERE container_rid = ANY($1) RETURNING rid",
                                     {INT8ARRAYOID});
    Datum v[1] = {int8_array(container_rids)};
    uint64_t n = spi_execute(plan, v, nullptr, false);
    std::vector<int64_t> rids;
    for (uint64_t r = 0; r < n; r++)
        rids.push_back(spi_get_int64(r, 1));
    delete_side_rows(rids);
}

// True when `parsed` has a `contained` array (then it may have indexable ones).
bool has_contained(const fhir::Json &parsed) {
    const fhir::Json *contained = fhir::json_member(parsed, "contained");
    return contained && contained->is_array() && !contained->empty();
}

// The jsonb expression that stores the client's resource with our id and meta.
// $content, $id, $version, $last_updated_text are SQL placeholders substituted
// by the caller with its own parameter numbers.
std::string stamped_content_sql(const std::string &content, const std::string &id, const std::string &version,
                                const std::string &last_updated_text) {
    return content + " || jsonb_build_object('id', " + id + ", 'meta', coalesce(" + content +
           "->'meta', '{}'::jsonb) || jsonb_build_object('versionId', " + version + "::text, 'lastUpdated', " +
           last_updated_text + "))";
}

// Sets id/meta on the parsed copy so extraction sees what will be stored.
void stamp_parsed(fhir::Json &parsed, const std::string &id, int version, int64_t last_updated) {
    parsed["id"] = id;
    fhir::Json &meta = parsed["meta"];
    if (!meta.is_object())
        meta = fhir::Json::object();
    meta["versionId"] = std::to_string(version);
    meta["lastUpdated"] = fhir::format_instant(last_updated);
}

// Highest version number ever used for (type, id), from history; 0 if none.
int last_history_version(const std::string &type, const std::string &id) {
    SPIPlanPtr plan = prepare_cached(
        "SELECT coalesce(max(version_id), 0) FROM fhir.resource_history WHERE rtype = $1 AND id = $2",
        {TEXTOID, TEXTOID});
    Datum v[2] = {text_datum(type), text_datum(id)};
    spi_execute(plan, v, nullptr, false, 1); // false: see this statement's own writes
    return spi_get_int32(0, 1);
}

// Copies the current row of (type, id) into history.
void archive_current(const std::string &table, const std::string &type, const std::string &id) {
    SPIPlanPtr plan = prepare_cached(
        "INSERT INTO fhir.resource_history (rtype, id, version_id, last_updated, content) "
        "SELECT rtype, id, version_id, last_updated, content FROM " + table + " WHERE rtype = $1 AND id = $2",
        {TEXTOID, TEXTOID});
    Datum v[2] = {text_datum(type), text_datum(id)};
    spi_execute(plan, v, nullptr, false);
}

} // namespace

Error version_conflict(const std::string &type, const std::string &id, std::optional<int> current, int expected) {
    if (!current)
        return Error(ErrorKind::VersionConflict,
                     "version conflict: " + type + "/" + id + " does not exist, but version " +
                         std::to_string(expected) + " was expected",
                     fhir::operation_outcome("error", "conflict", "resource does not exist"));
    return Error(ErrorKind::VersionConflict,
                 "version conflict: " + type + "/" + id + " is at version " + std::to_string(*current) + ", not " +
                     std::to_string(expected),
                 fhir::operation_outcome("error", "conflict", "version mismatch"));
}

StoredResource write_resource(Datum content, fhir::Json parsed, const std::string &type,
                              const std::string &id_in, std::optional<int> if_match) {
    const std::string table = fhir::partition_table(type);
    cache::note_write(type); // cached searches over this type go stale when we commit
    const std::string id = id_in.empty() ? new_resource_id() : id_in;
    const fhir::Extractor &extractor = current_extractor();

    SPIPlanPtr lock = prepare_cached(
        "SELECT rid, version_id, EXISTS (SELECT 1 FROM fhir.contained_resource c WHERE c.container_rid = p.rid) "
        "FROM " + table + " p WHERE rtype = $1 AND id = $2 FOR UPDATE OF p",
        {TEXTOID, TEXTOID});
    std::string stamped = stamped_content_sql("$5", "$2", "$3", "$6");
    SPIPlanPtr insert = prepare_cached(
        "INSERT INTO " + table + " (rid, rtype, id, version_id, last_updated, content, tokens) "
        "VALUES (nextval('fhir.resource_rid_seq'), $1, $2, $3, $4, " + stamped + ", $7) "
        "ON CONFLICT (rtype, id) DO NOTHING RETURNING rid, content",
        {TEXTOID, TEXTOID, INT4OID, TIMESTAMPTZOID, JSONBOID, TEXTOID, INT8ARRAYOID});
    SPIPlanPtr update = prepare_cached(
        "UPDATE " + table + " SET version_id = $3, last_updated = $4, content = " + stamped + ", tokens = $7 "
        "WHERE rtype = $1 AND id = $2 RETURNING rid, content",
        {TEXTOID, TEXTOID, INT4OID, TIMESTAMPTZOID, JSONBOID, TEXTOID, INT8ARRAYOID});

    StoredResource out;
    out.type = type;
    out.id = id;
    out.last_updated = now_unix_micros();
    const std::string last_updated_text = fhir::format_instant(out.last_updated);

    // A concurrent creator of the same id can win between our lock attempt and
    // insert; then the row exists and the next round locks and updates it.
    for (int attempt = 0; attempt < 3; attempt++) {
        Datum key[2] = {text_datum(type), text_datum(id)};
        uint64_t found = spi_execute(lock, key, nullptr, false, 1);
        bool exists = found > 0;
        int64_t old_rid = exists ? spi_get_int64(0, 1) : 0;
        int current_version = exists ? spi_get_int32(0, 2) : 0;
        bool had_contained = exists && spi_get_bool(0, 3);

        if (if_match && (!exists || current_version != *if_match))
            throw version_conflict(type, id, exists ? std::optional<int>(current_version) : std::nullopt, *if_match);
        out.version = exists ? current_version + 1 : last_history_version(type, id) + 1;
        out.created = !exists;
        stamp_parsed(parsed, id, out.version, out.last_updated);
        fhir::IndexRows rows = extractor.extract(parsed);

        if (exists)
            archive_current(table, type, id);
        Datum v[7] = {text_datum(type),
                      text_datum(id),
                      Int32GetDatum(out.version),
                      TimestampTzGetDatum(unix_micros_to_timestamptz(out.last_updated)),
                      content,
                      text_datum(last_updated_text),
                      int8_array(rows.tokens)};
        uint64_t written = spi_execute(exists ? update : insert, v, nullptr, false, 1);
        if (written == 0)
            continue; // lost a race with a concurrent create; retry as an update
        int64_t rid = spi_get_int64(0, 1);
        Datum stored = spi_get_datum(0, 2);
        out.content = pg_call([stored] { return PointerGetDatum(DatumGetJsonbPCopy(stored)); });
        if (exists)
            delete_side_rows({old_rid});
        SideRows side;
        side.add(rid, rows);
        // -- contained resources: the old version's go, the new version's come
        if (had_contained)
            delete_contained({old_rid});
        if (has_contained(parsed)) {
            ContainedRows contained;
            contained.add(extractor, rid, id, parsed);
            insert_contained(type, table, out.last_updated, contained, side);
        }
        insert_side_rows(side);
        return out;
    }
    throw Error(ErrorKind::VersionConflict, "could not write " + type + "/" + id + ": concurrent writers kept winning");
}

bool delete_resource(const std::string &type, const std::string &id) {
    const std::string table = fhir::partition_table(type);
    cache::note_write(type);
    SPIPlanPtr del = prepare_cached(
        "WITH gone AS (DELETE FROM " + table + " WHERE rtype = $1 AND id = $2 "
        "  RETURNING rid, rtype, id, version_id, last_updated, content), "
        "kept AS (INSERT INTO fhir.resource_history (rtype, id, version_id, last_updated, content) "
        "  SELECT rtype, id, version_id, last_updated, content FROM gone), "
        "tomb AS (INSERT INTO fhir.resource_history (rtype, id, version_id, last_updated, deleted, content) "
        "  SELECT rtype, id, version_id + 1, $3, true, NULL FROM gone) "
        "SELECT rid, EXISTS (SELECT 1 FROM fhir.contained_resource c WHERE c.container_rid = gone.rid) FROM gone",
        {TEXTOID, TEXTOID, TIMESTAMPTZOID});
    Datum v[3] = {text_datum(type), text_datum(id), TimestampTzGetDatum(unix_micros_to_timestamptz(now_unix_micros()))};
    uint64_t n = spi_execute(del, v, nullptr, false, 1);
    if (n == 0)
        return false;
    int64_t rid = spi_get_int64(0, 1);
    bool had_contained = spi_get_bool(0, 2);
    delete_side_rows({rid});
    if (had_contained)
        delete_contained({rid});
    return true;
}

SideRowCounts side_row_counts(const fhir::IndexRows &rows) {
    SideRows side;
    side.add(0, rows);
    SideRowCounts c;
    c.strings = static_cast<int32_t>(side.s_rid.size());
    c.dates = static_cast<int32_t>(side.d_rid.size());
    c.numbers = static_cast<int32_t>(side.n_rid.size());
    c.quantities = static_cast<int32_t>(side.q_rid.size());
    c.references = static_cast<int32_t>(side.r_rid.size());
    c.composite_numbers = static_cast<int32_t>(side.cn_rid.size());
    c.composite_dates = static_cast<int32_t>(side.cd_rid.size());
    c.composite_strings = static_cast<int32_t>(side.cs_rid.size());
    c.texts = static_cast<int32_t>(side.t_rid.size());
    return c;
}

uint64_t write_batch(std::vector<PendingWrite> &batch, std::vector<StoredResource> *results) {
    if (results)
        results->assign(batch.size(), StoredResource());
    if (batch.empty())
        return 0;
    const fhir::Extractor &extractor = current_extractor();
    const int64_t last_updated = now_unix_micros();
    const std::string last_updated_text = fhir::format_instant(last_updated);
    const TimestampTz last_updated_ts = unix_micros_to_timestamptz(last_updated);

    // Group by type: each partition gets its own statements.
    std::unordered_map<std::string, std::vector<size_t>> by_type;
    for (size_t i = 0; i < batch.size(); i++)
        by_type[batch[i].type].push_back(i);
    for (const auto &entry : by_type)
        cache::note_write(entry.first);

    uint64_t written = 0;
    SideRows side;
    std::vector<int64_t> replaced_rids;
    for (auto &[type, members] : by_type) {
        const std::string table = fhir::partition_table(type);
        std::vector<std::string> ids; // those that may exist
        ids.reserve(members.size());
        for (size_t i : members)
            if (!batch[i].known_new)
                ids.push_back(batch[i].id);

        // Which of these exist already? Those are written one by one (updates are
        // rare in bulk loads); the rest go in one INSERT.
        std::unordered_set<std::string> existing_ids;
        if (!ids.empty()) {
            SPIPlanPtr existing = prepare_cached(
                "SELECT id FROM " + table + " WHERE rtype = $1 AND id = ANY($2) "
                "UNION SELECT DISTINCT id FROM fhir.resource_history WHERE rtype = $1 AND id = ANY($2)",
                {TEXTOID, TEXTARRAYOID});
            Datum ev[2] = {text_datum(type), text_array(ids)};
            uint64_t n_existing = spi_execute(existing, ev, nullptr, false);
            for (uint64_t r = 0; r < n_existing; r++)
                existing_ids.insert(spi_get_text(r, 1));
        }

        std::vector<std::string> new_ids, new_texts;
        std::vector<size_t> new_members; // batch index of each new resource
        std::vector<int64_t> new_tokens;
        std::vector<int32_t> token_offsets, token_counts;
        std::vector<fhir::IndexRows> new_rows;
        for (size_t i : members) {
            PendingWrite &w = batch[i];
            if (existing_ids.count(w.id)) {
                Datum content = text_to_jsonb(w.text);
                StoredResource stored = write_resource(content, std::move(w.parsed), w.type, w.id, std::nullopt);
                if (results)
                    (*results)[i] = stored;
                written++;
                continue;
            }
            stamp_parsed(w.parsed, w.id, 1, last_updated);
            fhir::IndexRows rows = extractor.extract(w.parsed);
            new_ids.push_back(w.id);
            new_members.push_back(i);
            new_texts.push_back(std::move(w.text));
            token_offsets.push_back(static_cast<int32_t>(new_tokens.size()));
            token_counts.push_back(static_cast<int32_t>(rows.tokens.size()));
            new_tokens.insert(new_tokens.end(), rows.tokens.begin(), rows.tokens.end());
            new_rows.push_back(std::move(rows));
        }
        if (new_ids.empty())
            continue;
        std::string stamped = stamped_content_sql("c.content", "c.id", "1", "$3");
        SPIPlanPtr insert = prepare_cached(
            "INSERT INTO " + table + " (rid, rtype, id, version_id, last_updated, content, tokens) "
            "SELECT nextval('fhir.resource_rid_seq'), $1, c.id, 1, $2, " + stamped + ", "
            "  $5[c.off + 1 : c.off + c.cnt] "
            "FROM unnest($4::text[], $6::text[]::jsonb[], $7::int[], $8::int[]) AS c(id, content, off, cnt) "
            "ON CONFLICT (rtype, id) DO NOTHING RETURNING rid, id",
            {TEXTOID, TIMESTAMPTZOID, TEXTOID, TEXTARRAYOID, INT8ARRAYOID, TEXTARRAYOID, INT4ARRAYOID,
             INT4ARRAYOID},
            CURSOR_OPT_GENERIC_PLAN); // a custom plan would only fold the arrays in as constants
        Datum iv[8] = {text_datum(type),          TimestampTzGetDatum(last_updated_ts), text_datum(last_updated_text),
                       text_array(new_ids),       int8_array(new_tokens),               text_array(new_texts),
                       int4_array(token_offsets), int4_array(token_counts)};
        uint64_t inserted = spi_execute(insert, iv, nullptr, false);
        std::unordered_map<std::string, int64_t> rid_of;
        for (uint64_t r = 0; r < inserted; r++)
            rid_of.emplace(spi_get_text(r, 2), spi_get_int64(r, 1));
        if (inserted < new_ids.size()) // a known_new id that exists, or a concurrent creator won
            for (size_t k = 0; k < new_ids.size(); k++)
                if (!rid_of.count(new_ids[k])) {
                    const std::string what = type + "/" + new_ids[k];
                    throw Error(ErrorKind::VersionConflict,
                                batch[new_members[k]].known_new
                                    ? what + " exists already, but its writer promised a new id"
                                    : what + " was created by another transaction during this write",
                                fhir::operation_outcome("error", "duplicate", what + " exists already"));
                }
        for (size_t k = 0; k < new_ids.size(); k++) {
            side.add(rid_of.at(new_ids[k]), new_rows[k]);
            if (results) {
                StoredResource &stored = (*results)[new_members[k]];
                stored.type = type;
                stored.id = new_ids[k];
                stored.version = 1;
                stored.last_updated = last_updated;
                stored.created = true;
            }
        }
        // -- contained resources of the new resources of this type
        ContainedRows contained;
        for (size_t k = 0; k < new_ids.size(); k++) {
            const fhir::Json &parsed = batch[new_members[k]].parsed;
            if (has_contained(parsed))
                contained.add(extractor, rid_of.at(new_ids[k]), new_ids[k], parsed);
        }
        insert_contained(type, table, last_updated, contained, side);
        written += inserted;
    }
    insert_side_rows(side);
    return written;
}

namespace {

// Re-extracts the rows `next` pages through (rid, content after rid $2 of type
// $1, 500 at a time), storing their tokens with `set_tokens` and replacing their
// side rows. Returns the number of rows.
uint64_t reindex_rows(const std::string &type, SPIPlanPtr next, SPIPlanPtr set_tokens) {
    const fhir::Extractor &extractor = current_extractor();
    MemoryContext batch_context = pg_call([] {
        return AllocSetContextCreate(CurrentMemoryContext, "fhir_search reindex batch", ALLOCSET_DEFAULT_SIZES);
    });
    int64_t after = 0;
    uint64_t total = 0;
    for (;;) {
        check_for_interrupts();
        MemoryContext old = pg_call([batch_context] { return MemoryContextSwitchTo(batch_context); });
        Datum key[2] = {text_datum(type), Int64GetDatum(after)};
        uint64_t n = spi_execute(next, key, nullptr, false);
        if (n == 0) {
            pg_call([old] { MemoryContextSwitchTo(old); });
            break;
        }
        std::vector<int64_t> rids, tokens;
        std::vector<int32_t> offsets, counts;
        SideRows side;
        for (uint64_t row = 0; row < n; row++) {
            int64_t rid = spi_get_int64(row, 1);
            fhir::Json resource = jsonb_datum_to_json(spi_get_datum(row, 2));
            fhir::IndexRows rows = extractor.extract(resource);
            rids.push_back(rid);
            offsets.push_back(static_cast<int32_t>(tokens.size()));
            counts.push_back(static_cast<int32_t>(rows.tokens.size()));
            tokens.insert(tokens.end(), rows.tokens.begin(), rows.tokens.end());
            side.add(rid, rows);
            after = rid;
        }
        Datum v[4] = {int8_array(tokens), int8_array(rids), int4_array(offsets), int4_array(counts)};
        spi_execute(set_tokens, v, nullptr, false);
        delete_side_rows(rids);
        insert_side_rows(side);
        total += n;
        pg_call([old, batch_context] {
            MemoryContextSwitchTo(old);
            MemoryContextReset(batch_context);
        });
    }
    pg_call([batch_context] { MemoryContextDelete(batch_context); });
    return total;
}

} // namespace

uint64_t reindex_type(const std::string &type) {
    const std::string table = fhir::partition_table(type);
    cache::note_write(type);
    const std::vector<Oid> next_types = {TEXTOID, INT8OID};
    const std::vector<Oid> set_types = {INT8ARRAYOID, INT8ARRAYOID, INT4ARRAYOID, INT4ARRAYOID};
    const std::string set_from = " r SET tokens = $1[u.off + 1 : u.off + u.cnt] "
                                 "FROM unnest($2::bigint[], $3::int[], $4::int[]) AS u(rid, off, cnt) WHERE r.rid = u.rid";
    uint64_t total = reindex_rows(
        type,
        prepare_cached("SELECT rid, content FROM " + table + " WHERE rtype = $1 AND rid > $2 ORDER BY rid LIMIT 500",
                       next_types),
        prepare_cached("UPDATE " + table + set_from, set_types));
    // -- contained resources of this type, in containers of any type (not counted:
    //    the result counts the type's resources; the write noted above makes the
    //    _contained searches, which depend on every type, stale)
    reindex_rows(type,
                 prepare_cached("SELECT rid, content FROM fhir.contained_resource WHERE rtype = $1 AND rid > $2 "
                                "ORDER BY rid LIMIT 500",
                                next_types),
                 prepare_cached("UPDATE fhir.contained_resource" + set_from, set_types));
    return total;
}

} // namespace fhir_pg
