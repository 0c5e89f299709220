// bulk_export.h: FHIR Bulk Data $export (Bulk Data Access IG, v2) for fhir-server:
// the asynchronous kick-off / status / file pattern over the SQL API.
//
//   GET [base]/$export, [base]/Patient/$export, [base]/Group/[id]/$export
//       (Prefer: respond-async; _type, _since, _typeFilter, _outputFormat)  -> 202, Content-Location
//   GET [base]/$export-status/[job]   -> 202 (X-Progress) while running, 200 with the manifest
//   DELETE [base]/$export-status/[job] -> 202, the job stops and its files are removed
//   GET [base]/$export-file/[job]/[file].ndjson -> the NDJSON file
//
// Each job runs on its own thread with its own database connection and reads the
// data with fhir.search() page by page (_count=1000, following the next links;
// compartment searches for the Patient and Group levels), appending each page to
// one NDJSON file per type: memory holds one page, never the export.
//
// Ownership and locking: the ExportManager owns the jobs (by id, under its mutex);
// a job's progress and state are atomics or guarded by the job's own mutex; the
// job thread is joined when the job is deleted or the manager is destroyed.
#pragma once

#include <atomic>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

namespace fhir_server {

struct ExportFile {
    std::string type;
    std::string name; // file name in the job's directory
    long count = 0;
};

class ExportJob {
  public:
    std::string id;
    std::string request_url; // the kick-off URL, for the manifest
    std::string level;       // "system", "patient", "group"
    std::string group_id;
    std::vector<std::string> types;                                 // _type, empty = all
    std::string since;                                              // _since
    std::vector<std::pair<std::string, std::string>> type_filters; // _typeFilter: type, query
    std::string dir;

    std::atomic<bool> cancel{false};
    std::atomic<bool> done{false};
    std::atomic<long> written{0};

    std::mutex mutex; // guards the fields below
    std::string transaction_time;
    std::vector<ExportFile> files;
    std::vector<ExportFile> error_files;
    std::string failure; // the job failed as a whole

    std::thread thread;
};

// The outcome of an $export-related request: status, headers, body, or a file to send.
struct ExportReply {
    int status = 200;
    std::vector<std::pair<std::string, std::string>> headers;
    std::string body;
    std::string content_type = "application/fhir+json; charset=utf-8";
    std::string file_path; // non-empty: send this file as the body
};

class ExportManager {
  public:
    // `requires_token`: the server checks a bearer token (--auth-token), also for the files.
    ExportManager(std::string conninfo, std::string base_url, std::string dir, int max_jobs, bool requires_token);
    ~ExportManager();

    // The $export routes: nullopt when `path` (relative to the base, undecoded, no
    // query) is not one of them.
    std::optional<ExportReply> handle(const std::string &method, const std::string &path, const std::string &query,
                                      const std::string &prefer);

  private:
    ExportReply kick_off(const std::string &level, const std::string &group_id, const std::string &query,
                         const std::string &prefer, const std::string &path);
    ExportReply status(const std::string &job_id);
    ExportReply remove(const std::string &job_id);
    ExportReply file(const std::string &job_id, const std::string &name);
    void run(std::shared_ptr<ExportJob> job);

    std::string conninfo_, base_url_, dir_;
    int max_jobs_;
    bool requires_token_;
    std::mutex mutex_;
    std::map<std::string, std::shared_ptr<ExportJob>> jobs_;
};

} // namespace fhir_server
