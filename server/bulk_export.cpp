// bulk_export.cpp: $export jobs of fhir-server (see bulk_export.h).
//
// Reading: one statement per page, fhir.search() with _count=1000, whose rows
// are the page's resources (type, id, JSON text) and its next link; the next
// page is the next link passed back to fhir.search(), as the SQL API's paging
// contract says. System level: every type (or _type) searched with
// _lastUpdated=gt<_since> and each _typeFilter. Patient level: the Patients
// themselves, then for each Patient (listed page by page with _elements=id) a
// compartment search over the Patient compartment's member types. Group level:
// the same for the Group's active members. A resource in several patients'
// compartments is written once (a set of "Type/id" strings: the only memory
// that grows with the export).
#include "bulk_export.h"

#include "http_mapping.h"

#include <libpq-fe.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <random>
#include <set>
#include <unordered_set>

namespace fhir_server {
namespace {

namespace fs = std::filesystem;

int hexval(char c) {
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

// Percent-decoding; `plus` also reads '+' as a space (query values).
std::string decode(const std::string &s, bool plus) {
    std::string out;
    for (size_t i = 0; i < s.size(); i++) {
        if (plus && s[i] == '+')
            out += ' ';
        else if (s[i] == '%' && i + 2 < s.size() && hexval(s[i + 1]) >= 0 && hexval(s[i + 2]) >= 0) {
            out += static_cast<char>(hexval(s[i + 1]) * 16 + hexval(s[i + 2]));
            i += 2;
        } else
            out += s[i];
    }
    return out;
}

std::vector<std::string> split(const std::string &s, char sep) {
    std::vector<std::string> out;
    size_t start = 0;
    for (;;) {
        size_t end = s.find(sep, start);
        out.push_back(s.substr(start, end == std::string::npos ? std::string::npos : end - start));
        if (end == std::string::npos)
            return out;
        start = end + 1;
    }
}

std::string random_id() {
    std::random_device rd;
    std::mt19937_64 gen((static_cast<uint64_t>(rd()) << 32) ^ rd());
    char buf[17];
    std::snprintf(buf, sizeof buf, "%016llx", static_cast<unsigned long long>(gen()));
    return buf;
}

ExportReply outcome(int status, const std::string &code, const std::string &text) {
    ExportReply r;
    r.status = status;
    r.body = operation_outcome(status >= 400 ? "error" : "information", code, text);
    return r;
}

bool safe_name(const std::string &s) {
    if (s.empty() || s.size() > 100 || s[0] == '.')
        return false;
    for (char c : s)
        if (!std::isalnum(static_cast<unsigned char>(c)) && c != '.' && c != '-' && c != '_')
            return false;
    return true;
}

const char *page_sql =
    "SELECT x.r->>'resourceType', x.r->>'id', x.r::text, n.url "
    "FROM fhir.search($1, $2, NULL, $3) b "
    "LEFT JOIN LATERAL (SELECT l->>'url' AS url FROM jsonb_array_elements(b->'link') l "
    "                   WHERE l->>'relation' = 'next' LIMIT 1) n ON true "
    "LEFT JOIN LATERAL (SELECT e->'resource' AS r FROM jsonb_array_elements(coalesce(b->'entry', '[]')) e "
    "                   WHERE e->'search'->>'mode' = 'match') x ON true";

// One job's reading and writing, on the job's thread.
class Exporter {
  public:
    Exporter(ExportJob &job, PGconn *conn) : job_(job), conn_(conn) {}
    ~Exporter() {
        for (auto &[type, out] : outputs_)
            if (out.file)
                std::fclose(out.file);
        if (errors_)
            std::fclose(errors_);
    }

    void run() {
        std::string since_clause = job_.since.empty() ? "" : "&_lastUpdated=gt" + job_.since;
        if (job_.level == "system") {
            std::vector<std::string> types = job_.types;
            if (types.empty())
                types = column("SELECT t FROM fhir.resource_types() t ORDER BY 1", {});
            for (const std::string &type : types)
                export_type(type, since_clause, "");
        } else {
            std::vector<std::string> types = column(
                "SELECT DISTINCT resource_type FROM fhir.compartments() WHERE compartment = 'Patient' ORDER BY 1", {});
            if (!job_.types.empty()) {
                std::set<std::string> wanted(job_.types.begin(), job_.types.end());
                std::vector<std::string> kept;
                for (auto &t : types)
                    if (wanted.count(t))
                        kept.push_back(t);
                types = kept;
            }
            const bool patients = job_.types.empty() ||
                                  std::find(job_.types.begin(), job_.types.end(), "Patient") != job_.types.end();
            std::vector<std::string> unfiltered;
            for (auto &t : types)
                if (t != "Patient" && !has_filter(t))
                    unfiltered.push_back(t);
            auto compartment = [&](const std::string &patient_id) {
                const std::string c = "Patient/" + patient_id;
                if (!unfiltered.empty()) {
                    std::string list;
                    for (auto &t : unfiltered)
                        list += (list.empty() ? "" : ",") + t;
                    pages("", "_count=1000&_type=" + list + since_clause, c, true);
                }
                for (auto &[type, query] : job_.type_filters)
                    if (type != "Patient" && std::find(types.begin(), types.end(), type) != types.end())
                        pages(type, query + "&_count=1000" + since_clause, c, true);
            };
            if (job_.level == "patient") {
                if (patients)
                    export_type("Patient", since_clause, "");
                // every Patient, a page of ids at a time, and its compartment
                std::string url = "_count=1000&_elements=id";
                while (!url.empty() && !job_.cancel) {
                    std::vector<std::string> ids;
                    url = page("Patient", url, "", [&](const std::string &, const std::string &id, const char *) {
                        ids.push_back(id);
                    });
                    for (auto &id : ids)
                        if (!job_.cancel)
                            compartment(id);
                }
            } else {
                std::vector<std::string> members = column(
                    "SELECT substr(m->'entity'->>'reference', 9) FROM jsonb_array_elements(coalesce("
                    "fhir.read('Group', $1)->'member', '[]')) m WHERE m->'entity'->>'reference' LIKE 'Patient/%' "
                    "AND NOT coalesce((m->>'inactive')::boolean, false)",
                    {job_.group_id});
                for (auto &id : members) {
                    if (job_.cancel)
                        break;
                    if (patients)
                        export_type("Patient", "&_id=" + id + since_clause, "");
                    compartment(id);
                }
            }
        }
        finish();
    }

  private:
    struct Output {
        std::FILE *file = nullptr;
        std::string name;
        long count = 0;
    };

    bool has_filter(const std::string &type) const {
        for (auto &f : job_.type_filters)
            if (f.first == type)
                return true;
        return false;
    }

    // A type at system level (or the Patients of the patient level): unfiltered, or
    // once per _typeFilter (several filters: union, each resource once).
    void export_type(const std::string &type, const std::string &extra, const std::string &compartment) {
        std::vector<std::string> queries;
        for (auto &[t, q] : job_.type_filters)
            if (t == type)
                queries.push_back(q);
        if (queries.empty())
            queries.push_back("");
        for (auto &q : queries)
            pages(type, q + (q.empty() ? "" : "&") + "_count=1000" + extra, compartment, queries.size() > 1);
    }

    // Writes every page of one search.
    void pages(const std::string &type, std::string url, const std::string &compartment, bool dedupe) {
        while (!url.empty() && !job_.cancel)
            url = page(type, url, compartment, [&](const std::string &rtype, const std::string &id, const char *json) {
                if (dedupe && !seen_.insert(rtype + "/" + id).second)
                    return;
                write(rtype, json);
            });
    }

    // One page: calls `each` per resource, returns the next link ("" at the end or on error).
    template <typename Each>
    std::string page(const std::string &type, const std::string &url, const std::string &compartment, Each &&each) {
        const char *values[3] = {type.empty() ? nullptr : type.c_str(), url.c_str(),
                                 compartment.empty() ? nullptr : compartment.c_str()};
        PGresult *res = PQexecParams(conn_, page_sql, 3, nullptr, values, nullptr, nullptr, 0);
        std::string next;
        if (PQresultStatus(res) != PGRES_TUPLES_OK) {
            std::string message = PQresultErrorMessage(res);
            while (!message.empty() && (message.back() == '\n' || message.back() == ' '))
                message.pop_back();
            error((type.empty() ? std::string("search") : type) + "?" + url +
                  (compartment.empty() ? "" : " in " + compartment) + ": " + message);
            if (PQstatus(conn_) != CONNECTION_OK)
                job_.cancel = true; // the connection is gone: the job fails below
        } else {
            for (int i = 0; i < PQntuples(res); i++) {
                if (i == 0 && !PQgetisnull(res, 0, 3))
                    next = PQgetvalue(res, 0, 3);
                if (!PQgetisnull(res, i, 2))
                    each(PQgetvalue(res, i, 0), PQgetvalue(res, i, 1), PQgetvalue(res, i, 2));
            }
        }
        PQclear(res);
        return next;
    }

    std::vector<std::string> column(const char *sql, const std::vector<std::string> &params) {
        std::vector<const char *> values;
        for (auto &p : params)
            values.push_back(p.c_str());
        PGresult *res = PQexecParams(conn_, sql, static_cast<int>(values.size()), nullptr, values.data(), nullptr,
                                     nullptr, 0);
        std::vector<std::string> out;
        if (PQresultStatus(res) == PGRES_TUPLES_OK) {
            for (int i = 0; i < PQntuples(res); i++)
                out.emplace_back(PQgetvalue(res, i, 0));
        } else {
            error(PQresultErrorMessage(res));
        }
        PQclear(res);
        return out;
    }

    void write(const std::string &type, const char *json) {
        Output &out = outputs_[type];
        if (!out.file) {
            out.name = type + ".ndjson";
            out.file = std::fopen((job_.dir + "/" + out.name).c_str(), "w");
            if (!out.file)
                throw std::runtime_error("cannot write " + job_.dir + "/" + out.name);
        }
        std::fputs(json, out.file);
        std::fputc('\n', out.file);
        out.count++;
        job_.written++;
    }

    void error(const std::string &message) {
        if (!errors_)
            errors_ = std::fopen((job_.dir + "/errors.ndjson").c_str(), "w");
        if (errors_) {
            std::fputs(operation_outcome("error", "processing", message).c_str(), errors_);
            std::fputc('\n', errors_);
        }
        error_count_++;
    }

    void finish() {
        std::lock_guard<std::mutex> lock(job_.mutex);
        for (auto &[type, out] : outputs_) {
            std::fclose(out.file);
            out.file = nullptr;
            job_.files.push_back({type, out.name, out.count});
        }
        if (errors_) {
            std::fclose(errors_);
            errors_ = nullptr;
            job_.error_files.push_back({"OperationOutcome", "errors.ndjson", error_count_});
        }
    }

    ExportJob &job_;
    PGconn *conn_;
    std::map<std::string, Output> outputs_;
    std::FILE *errors_ = nullptr;
    long error_count_ = 0;
    std::unordered_set<std::string> seen_;
};

} // namespace

ExportManager::ExportManager(std::string conninfo, std::string base_url, std::string dir, int max_jobs,
                             bool requires_token)
    : conninfo_(std::move(conninfo)), base_url_(std::move(base_url)), dir_(std::move(dir)), max_jobs_(max_jobs),
      requires_token_(requires_token) {}

ExportManager::~ExportManager() {
    std::lock_guard<std::mutex> lock(mutex_);
    for (auto &[id, job] : jobs_) {
        job->cancel = true;
        if (job->thread.joinable())
            job->thread.join();
    }
}

std::optional<ExportReply> ExportManager::handle(const std::string &method, const std::string &raw_path,
                                                 const std::string &query, const std::string &prefer) {
    const std::string path = decode(raw_path, false);
    std::vector<std::string> seg = split(path, '/');
    if (seg.empty())
        return std::nullopt;
    const bool kickoff = (seg.size() == 1 && seg[0] == "$export") ||
                         (seg.size() == 2 && seg[0] == "Patient" && seg[1] == "$export") ||
                         (seg.size() == 3 && seg[0] == "Group" && seg[2] == "$export");
    if (kickoff) {
        if (method != "GET")
            return outcome(405, "not-supported", "$export is started with GET (POST with Parameters is not supported)");
        return kick_off(seg.size() == 1 ? "system" : seg.size() == 2 ? "patient" : "group",
                        seg.size() == 3 ? seg[1] : "", query, prefer, raw_path);
    }
    if (seg.size() == 2 && seg[0] == "$export-status") {
        if (method == "GET")
            return status(seg[1]);
        if (method == "DELETE")
            return remove(seg[1]);
        return outcome(405, "not-supported", "an export's status takes GET or DELETE");
    }
    if (seg.size() == 3 && seg[0] == "$export-file") {
        if (method != "GET")
            return outcome(405, "not-supported", "export files are read with GET");
        return file(seg[1], seg[2]);
    }
    return std::nullopt;
}

ExportReply ExportManager::kick_off(const std::string &level, const std::string &group_id, const std::string &query,
                                    const std::string &prefer, const std::string &path) {
    if (prefer.find("respond-async") == std::string::npos)
        return outcome(400, "invalid", "$export needs Prefer: respond-async");
    auto job = std::make_shared<ExportJob>();
    job->level = level;
    job->group_id = group_id;
    if (level == "group" && !safe_name(group_id))
        return outcome(400, "invalid", "invalid Group id");
    for (const std::string &pair : split(query, '&')) {
        if (pair.empty())
            continue;
        size_t eq = pair.find('=');
        const std::string name = decode(pair.substr(0, eq), true);
        const std::string raw = eq == std::string::npos ? "" : pair.substr(eq + 1);
        if (name == "_outputFormat") {
            const std::string f = decode(raw, false); // '+' is literal in the media type
            if (f != "application/fhir+ndjson" && f != "application/ndjson" && f != "ndjson")
                return outcome(400, "not-supported", "_outputFormat \"" + f + "\" is not supported: application/fhir+ndjson");
        } else if (name == "_type") {
            for (const std::string &t : split(decode(raw, true), ','))
                if (!t.empty()) {
                    if (!safe_name(t))
                        return outcome(400, "invalid", "invalid _type \"" + t + "\"");
                    job->types.push_back(t);
                }
        } else if (name == "_since") {
            job->since = raw; // passed on percent-encoded (a '+' of an offset stays %2B)
            if (job->since.empty())
                return outcome(400, "invalid", "_since needs an instant");
        } else if (name == "_typeFilter") {
            // a comma-separated list of percent-encoded Type?query searches
            for (const std::string &f : split(raw, ',')) {
                const std::string filter = decode(f, false);
                size_t q = filter.find('?');
                if (q == std::string::npos || !safe_name(filter.substr(0, q)))
                    return outcome(400, "invalid", "_typeFilter \"" + filter + "\" is not Type?query");
                job->type_filters.emplace_back(filter.substr(0, q), filter.substr(q + 1));
            }
        } else if (name == "_elements" || name == "patient" || name == "includeAssociatedData") {
            return outcome(400, "not-supported", "$export parameter " + name + " is not supported");
        } else {
            return outcome(400, "invalid", "unknown $export parameter \"" + name + "\"");
        }
    }
    {
        std::lock_guard<std::mutex> lock(mutex_);
        int running = 0;
        for (auto &[id, j] : jobs_)
            running += !j->done;
        if (running >= max_jobs_) {
            ExportReply r = outcome(429, "throttled", "too many exports are running; try again later");
            r.headers.emplace_back("Retry-After", "10");
            return r;
        }
        job->id = random_id();
        job->request_url = base_url_ + "/" + path + (query.empty() ? "" : "?" + query);
        job->dir = dir_ + "/" + job->id;
        std::error_code ec;
        fs::create_directories(job->dir, ec);
        if (ec)
            return outcome(500, "exception", "cannot create the export directory " + job->dir + ": " + ec.message());
        jobs_[job->id] = job;
        job->thread = std::thread([this, job] { run(job); });
    }
    ExportReply r = outcome(202, "informational", "export " + job->id + " started");
    r.headers.emplace_back("Content-Location", base_url_ + "/$export-status/" + job->id);
    return r;
}

void ExportManager::run(std::shared_ptr<ExportJob> job) {
    PGconn *conn = PQconnectdb(conninfo_.c_str());
    try {
        if (PQstatus(conn) != CONNECTION_OK)
            throw std::runtime_error(std::string("cannot connect to the database: ") + PQerrorMessage(conn));
        PGresult *res = PQexec(conn, "SELECT to_char(now() AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS.MS\"Z\"')");
        if (PQresultStatus(res) == PGRES_TUPLES_OK) {
            std::lock_guard<std::mutex> lock(job->mutex);
            job->transaction_time = PQgetvalue(res, 0, 0);
        }
        PQclear(res);
        Exporter(*job, conn).run();
        if (PQstatus(conn) != CONNECTION_OK)
            throw std::runtime_error("the database connection was lost during the export");
    } catch (const std::exception &e) {
        std::lock_guard<std::mutex> lock(job->mutex);
        job->failure = e.what();
    }
    PQfinish(conn);
    job->done = true;
}

ExportReply ExportManager::status(const std::string &job_id) {
    std::shared_ptr<ExportJob> job;
    {
        std::lock_guard<std::mutex> lock(mutex_);
        auto it = jobs_.find(job_id);
        if (it == jobs_.end())
            return outcome(404, "not-found", "no export " + job_id);
        job = it->second;
    }
    if (!job->done) {
        ExportReply r;
        r.status = 202;
        r.headers.emplace_back("X-Progress", std::to_string(job->written.load()) + " resources written");
        r.headers.emplace_back("Retry-After", "1");
        return r;
    }
    std::lock_guard<std::mutex> lock(job->mutex);
    if (!job->failure.empty())
        return outcome(500, "exception", "export " + job->id + " failed: " + job->failure);
    auto list = [&](const std::vector<ExportFile> &files) {
        std::string out = "[";
        for (auto &f : files) {
            if (out.size() > 1)
                out += ",";
            out += "{\"type\":\"" + json_escape(f.type) + "\",\"url\":\"" +
                   json_escape(base_url_ + "/$export-file/" + job->id + "/" + f.name) +
                   "\",\"count\":" + std::to_string(f.count) + "}";
        }
        return out + "]";
    };
    ExportReply r;
    r.content_type = "application/json; charset=utf-8";
    r.body = "{\"transactionTime\":\"" + json_escape(job->transaction_time) + "\",\"request\":\"" +
             json_escape(job->request_url) + "\",\"requiresAccessToken\":" + (requires_token_ ? "true" : "false") +
             ",\"output\":" + list(job->files) +
             ",\"error\":" + list(job->error_files) + "}";
    return r;
}

ExportReply ExportManager::remove(const std::string &job_id) {
    std::shared_ptr<ExportJob> job;
    {
        std::lock_guard<std::mutex> lock(mutex_);
        auto it = jobs_.find(job_id);
        if (it == jobs_.end())
            return outcome(404, "not-found", "no export " + job_id);
        job = it->second;
        jobs_.erase(it);
    }
    job->cancel = true;
    if (job->thread.joinable())
        job->thread.join();
    std::error_code ec;
    fs::remove_all(job->dir, ec);
    return outcome(202, "informational", "export " + job_id + " deleted");
}

ExportReply ExportManager::file(const std::string &job_id, const std::string &name) {
    std::shared_ptr<ExportJob> job;
    {
        std::lock_guard<std::mutex> lock(mutex_);
        auto it = jobs_.find(job_id);
        if (it == jobs_.end())
            return outcome(404, "not-found", "no export " + job_id);
        job = it->second;
    }
    if (!job->done || !safe_name(name) || name.size() < 8 || name.substr(name.size() - 7) != ".ndjson")
        return outcome(404, "not-found", "no file " + name + " in export " + job_id);
    ExportReply r;
    r.file_path = job->dir + "/" + name;
    if (!fs::exists(r.file_path))
        return outcome(404, "not-found", "no file " + name + " in export " + job_id);
    r.content_type = "application/fhir+ndjson";
    return r;
}

} // namespace fhir_server
