// bulk_load.cpp: fhir.load() and fhir.load_file(): the fast path for NDJSON and Bundles.
//
// NDJSON lines are parsed and extracted in C++, then written in batches with a
// few set-based statements per resource type (resource_writer.cpp write_batch):
// the JSON text goes to PostgreSQL once, as a text[] cast to jsonb[], so stored
// decimals keep their exact text. A Bundle is loaded as a transaction (or batch)
// when it is one, otherwise its entries are loaded like NDJSON lines. Each
// batch's memory is released before the next; progress goes out as NOTICEs
// every few seconds. Any bad line fails the whole call (nothing half-loaded).
//
// mode => 'mass' wraps the load in fhir.begin_mass_ingestion() and
// fhir.end_mass_ingestion() (src/sql/api/60-mass-ingestion.sql), all in the
// call's transaction: the secondary indexes are dropped, the rows written without
// their entries, the indexes rebuilt from all rows; an interrupted call rolls back
// to the old state. Inside a mass ingestion begun by the DBA it only loads. Only
// the partitions of the types the data names are touched (a quick scan for
// "resourceType" values: a type it misses keeps its indexes, which is slower, never
// wrong).
//
// mode => 'new_ids' (alone or as 'mass,new_ids') is the caller's promise that no
// resource ever had the ids of the data (not even a deleted one): resources are
// inserted without looking for a current or past version first (seed 003's advice
// for initial loads); one that exists after all fails the load with FH409. Lines
// without an id get a fresh UUID and skip that read in every mode.
#include "pg_includes.h"

#include "cpp_wrapper.h"
#include "mass_ingestion.h"
#include "pg_json.h"
#include "resource.h"
#include "registry.h"
#include "resource_writer.h"
#include "spi.h"

#include <set>

extern "C" {
#include "catalog/pg_authid.h"
#include "storage/fd.h"
#include "utils/acl.h"
}

namespace fhir_pg {
namespace {

using fhir::Error;
using fhir::ErrorKind;

// Writes batches and reports progress.
class BatchLoader {
  public:
    BatchLoader(int batch_size, bool new_ids) : batch_size_(batch_size), new_ids_(new_ids) {
        started_ = now_unix_micros();
        last_report_ = started_;
        batch_context_ = pg_call([] {
            return AllocSetContextCreate(CurrentMemoryContext, "fhir_search bulk load batch", ALLOCSET_DEFAULT_SIZES);
        });
    }

    // Queues one resource given as JSON text; `where` names it in errors.
    void add(std::string text, const std::string &where) {
        fhir::Json parsed = fhir::Json::parse(text, nullptr, false);
        if (parsed.is_discarded())
            throw Error(ErrorKind::InvalidJson, where + " is not valid JSON");
        add_parsed(std::move(parsed), std::move(text), where);
    }

    // Queues one parsed resource with its JSON text.
    void add_parsed(fhir::Json parsed, std::string text, const std::string &where) {
        fhir::ResourceIdentity identity;
        try {
            identity = fhir::validate_resource(parsed);
        } catch (const Error &e) {
            throw Error(e.kind(), where + ": " + e.what(), e.detail());
        }
        bool known_new = new_ids_ || identity.id.empty();
        if (identity.id.empty())
            identity.id = new_resource_id();
        std::string key = identity.type + "/" + identity.id;
        if (keys_.count(key))
            flush(); // a second version of the same resource: write the first one first
        keys_.insert(key);
        batch_.push_back({identity.type, identity.id, std::move(parsed), std::move(text), known_new});
        if (static_cast<int>(batch_.size()) >= batch_size_)
            flush();
    }

    // Writes the queued batch.
    void flush() {
        if (batch_.empty())
            return;
        check_for_interrupts();
        MemoryContext batch_context = batch_context_;
        MemoryContext old = pg_call([batch_context] { return MemoryContextSwitchTo(batch_context); });
        written_ += write_batch(batch_);
        pg_call([old, batch_context] {
            MemoryContextSwitchTo(old);
            MemoryContextReset(batch_context);
        });
        batch_.clear();
        keys_.clear();
        report(false);
    }

    // Emits a progress NOTICE every 5 s, and a final one for loads that reported
    // progress (short loads stay quiet).
    void report(bool final) {
        int64_t now = now_unix_micros();
        if (!final && now - last_report_ < 5000000)
            return;
        if (final && !reported_)
            return;
        reported_ = true;
        last_report_ = now;
        double seconds = (now - started_) / 1e6;
        long long written = static_cast<long long>(written_);
        double rate = seconds > 0 ? written_ / seconds : 0.0;
        pg_call([final, written, seconds, rate] {
            ereport(NOTICE, (errmsg("fhir.load: %s%lld resources in %.1f s (%.0f/s)", final ? "done, " : "",
                                    written, seconds, rate)));
        });
    }

    uint64_t written() const { return written_; }
    void add_written(uint64_t n) { written_ += n; }

  private:
    int batch_size_;
    bool new_ids_; // the caller promises every id is new
    std::vector<PendingWrite> batch_;
    std::unordered_set<std::string> keys_;
    uint64_t written_ = 0;
    int64_t started_ = 0;
    int64_t last_report_ = 0;
    bool reported_ = false;
    MemoryContext batch_context_ = nullptr;
};

// Loads a Bundle: transactions and batches through fhir.transaction, any other
// Bundle type by loading each entry's resource.
void load_bundle(const std::string &text, BatchLoader &loader) {
    fhir::Json bundle = fhir::Json::parse(text, nullptr, false);
    if (bundle.is_discarded())
        throw Error(ErrorKind::InvalidJson, "input is not valid JSON");
    std::string type = bundle.value("type", std::string());
    if (type == "transaction" || type == "batch") {
        loader.flush();
        SPIPlanPtr plan = prepare_cached("SELECT jsonb_array_length(coalesce(fhir.transaction($1::jsonb)->'entry', '[]'))",
                                         {TEXTOID});
        Datum v[1] = {text_datum(text)};
        spi_execute(plan, v, nullptr, false, 1);
        loader.add_written(static_cast<uint64_t>(spi_get_int32(0, 1)));
        return;
    }
    if (!bundle.contains("entry") || !bundle["entry"].is_array())
        return;
    size_t i = 0;
    for (auto &entry : bundle["entry"]) {
        if (entry.is_object() && entry.contains("resource")) {
            fhir::Json resource = std::move(entry["resource"]);
            std::string resource_text = resource.dump();
            loader.add_parsed(std::move(resource), std::move(resource_text), "Bundle.entry[" + std::to_string(i) + "]");
        }
        i++;
    }
}

// What the mode argument asks for: words separated by commas.
struct LoadMode {
    bool mass = false;    // 'mass': secondary indexes dropped and rebuilt around the load
    bool new_ids = false; // 'new_ids': no read-before-write (see the file comment)
};

// The resource types the text names ("resourceType": "X", anywhere: NDJSON lines,
// Bundle entries, contained resources), without parsing it.
std::vector<std::string> resource_types_named(const std::string &data) {
    static const std::string key = "\"resourceType\"";
    std::set<std::string> types;
    for (size_t pos = data.find(key); pos != std::string::npos; pos = data.find(key, pos + 1)) {
        size_t p = data.find_first_not_of(" \t\r\n", pos + key.size());
        if (p == std::string::npos || data[p] != ':')
            continue;
        p = data.find_first_not_of(" \t\r\n", p + 1);
        if (p == std::string::npos || data[p] != '"')
            continue;
        size_t end = data.find('"', p + 1);
        if (end == std::string::npos || end - p - 1 > 64)
            continue;
        std::string type = data.substr(p + 1, end - p - 1);
        if (fhir::Registry::is_resource_type(type))
            types.insert(std::move(type));
    }
    return std::vector<std::string>(types.begin(), types.end());
}

// The mode argument (absent with the 0.2.0 SQL definitions).
LoadMode mode_arg(FunctionCallInfo fcinfo, int n) {
    LoadMode out;
    if (PG_NARGS() <= n)
        return out;
    text *t = pg_call([fcinfo, n] { return PG_GETARG_TEXT_PP(n); });
    const std::string mode(VARDATA_ANY(t), VARSIZE_ANY_EXHDR(t));
    size_t pos = 0;
    while (pos <= mode.size()) {
        size_t comma = mode.find(',', pos);
        if (comma == std::string::npos)
            comma = mode.size();
        std::string word = mode.substr(pos, comma - pos);
        word.erase(0, word.find_first_not_of(' '));
        word.erase(word.find_last_not_of(' ') + 1);
        if (word == "mass")
            out.mass = true;
        else if (word == "new_ids")
            out.new_ids = true;
        else if (word != "default")
            throw Error(ErrorKind::InvalidResource,
                        "mode must be 'default', 'mass', 'new_ids' or 'mass,new_ids', not \"" + mode + "\"");
        pos = comma + 1;
    }
    return out;
}

// Loads NDJSON text or one Bundle.
uint64_t load_text(const std::string &data, int batch_size, LoadMode mode) {
    if (batch_size < 1 || batch_size > 100000)
        throw Error(ErrorKind::InvalidResource, "batch_size must be between 1 and 100000");
    BatchLoader loader(batch_size, mode.new_ids);
    spi_connect();
    // A mass ingestion begun before (by the DBA, or fhir-load) is ended by its owner.
    bool own_mass_ingestion = mode.mass && mass_ingestion_pending_indexes() == 0;
    if (own_mass_ingestion) {
        SPIPlanPtr begin = prepare_cached("SELECT fhir.begin_mass_ingestion($1)", {TEXTARRAYOID});
        Datum v[1] = {text_array(resource_types_named(data))};
        spi_execute(begin, v, nullptr, false);
    }
    size_t first = data.find_first_not_of(" \t\r\n");
    bool single_bundle = false;
    if (first != std::string::npos && data[first] == '{') {
        // One JSON document spanning the input (pretty-printed Bundle) vs NDJSON.
        size_t newline = data.find('\n', first);
        bool one_line = newline == std::string::npos || data.find_first_not_of(" \t\r\n", newline) == std::string::npos;
        if (!one_line) {
            fhir::Json probe = fhir::Json::parse(data.substr(first, newline - first), nullptr, false);
            single_bundle = probe.is_discarded(); // first line alone is not JSON: a multi-line document
        } else {
            single_bundle = data.find("\"Bundle\"") != std::string::npos &&
                            fhir::Json::parse(data, nullptr, false).value("resourceType", "") == "Bundle";
        }
    }
    if (single_bundle) {
        load_bundle(data, loader);
    } else {
        size_t line_no = 0, pos = 0;
        while (pos < data.size()) {
            size_t end = data.find('\n', pos);
            if (end == std::string::npos)
                end = data.size();
            line_no++;
            size_t b = data.find_first_not_of(" \t\r", pos);
            if (b != std::string::npos && b < end)
                loader.add(data.substr(pos, end - pos), "line " + std::to_string(line_no));
            pos = end + 1;
        }
    }
    loader.flush();
    loader.report(true);
    if (own_mass_ingestion)
        spi_exec_sql("SELECT fhir.end_mass_ingestion()");
    spi_finish();
    return loader.written();
}

// Reads a whole server-side file; the caller must hold pg_read_server_files.
std::string read_server_file(const std::string &path) {
    const char *cpath = path.c_str();
    pg_call([] {
        if (!has_privs_of_role(GetUserId(), ROLE_PG_READ_SERVER_FILES))
            ereport(ERROR, (errcode(ERRCODE_INSUFFICIENT_PRIVILEGE),
                            errmsg("permission denied to read server files"),
                            errhint("Only superusers and members of pg_read_server_files may use fhir.load_file; "
                                    "others can pass the data to fhir.load.")));
    });
    FILE *file = pg_call([cpath] {
        FILE *f = AllocateFile(cpath, "r");
        if (!f)
            ereport(ERROR, (errcode_for_file_access(), errmsg("could not open file \"%s\" for reading: %m", cpath)));
        return f;
    });
    std::string data;
    char buffer[1 << 16];
    char *buf = buffer;
    for (;;) {
        size_t n = pg_call([file, buf] { return fread(buf, 1, sizeof(buffer), file); });
        if (n == 0)
            break;
        data.append(buffer, n);
    }
    bool failed = pg_call([file] { return ferror(file) != 0; });
    pg_call([file] { FreeFile(file); });
    if (failed)
        throw Error(ErrorKind::InvalidResource, "could not read file \"" + path + "\"");
    return data;
}

} // namespace
} // namespace fhir_pg

FHIR_FUNCTION(fhir_load) {
    text *data = fhir_pg::pg_call([fcinfo] { return PG_GETARG_TEXT_PP(0); });
    int batch_size = PG_GETARG_INT32(1);
    std::string input(VARDATA_ANY(data), VARSIZE_ANY_EXHDR(data));
    fhir_pg::LoadMode mode = fhir_pg::mode_arg(fcinfo, 2);
    PG_RETURN_INT64(static_cast<int64>(fhir_pg::load_text(input, batch_size, mode)));
}

FHIR_FUNCTION(fhir_load_file) {
    text *path = fhir_pg::pg_call([fcinfo] { return PG_GETARG_TEXT_PP(0); });
    int batch_size = PG_GETARG_INT32(1);
    fhir_pg::LoadMode mode = fhir_pg::mode_arg(fcinfo, 2);
    std::string data = fhir_pg::read_server_file(std::string(VARDATA_ANY(path), VARSIZE_ANY_EXHDR(path)));
    PG_RETURN_INT64(static_cast<int64>(fhir_pg::load_text(data, batch_size, mode)));
}
