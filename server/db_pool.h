// db_pool.h: the database side of fhir-server: a fixed pool of libpq
// connections, one worker thread each, running one fhir.request() call per HTTP
// request.
//
// Ownership and locking: the queue of jobs is guarded by one mutex; each
// connection belongs to its worker thread alone. A job's state moves once from
// Pending to Running (a worker took it) or to Abandoned (the HTTP side gave up
// waiting: 503), by compare-and-swap, so exactly one side answers the client.
// A worker whose connection broke (database restart) answers its request 503
// and connects again for the next one; connection attempts are spaced out so a
// database that is down costs each request one fast refusal, not a wait.
#pragma once

#include <atomic>
#include <condition_variable>
#include <deque>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

namespace fhir_server {

// What fhir.request() is called with.
struct DbRequest {
    std::string method;
    std::string url;                 // the request target as received
    std::optional<std::string> body; // request body text
    std::string headers_json;        // a JSON object of the FHIR-relevant request headers
};

// The fhir.response row, or why there is none (status then 503 or 500 and error set).
struct DbResult {
    int status = 500;
    std::optional<std::string> body;  // JSON text; nullopt for no body
    std::string location, etag, cache;
    std::optional<double> last_modified; // unix seconds
    std::optional<double> db_ms, total_ms, cache_hit_rate;
    double sql_ms = 0;   // the SQL call's round trip as this server measured it
    double queue_ms = 0; // waiting for a free connection
    std::string error;   // no response row: the reason (for an OperationOutcome)
    std::string sqlstate;
};

class DbPool {
  public:
    using Done = std::function<void(DbResult)>;

    struct Job {
        DbRequest request;
        Done done;
        double queued_at = 0;
        std::atomic<int> state{0}; // 0 pending, 1 running, 2 abandoned
        // The HTTP side gives up; true when the job had not started (it never will).
        bool abandon() {
            int expected = 0;
            return state.compare_exchange_strong(expected, 2);
        }
    };

    DbPool(std::string conninfo, int size, size_t max_queue, std::string base_url);
    ~DbPool();
    DbPool(const DbPool &) = delete;
    DbPool &operator=(const DbPool &) = delete;

    void start();
    // Stops the workers after the jobs they run; pending jobs are answered 503.
    void stop();

    // Queues a request; `done` runs on a worker thread. nullptr when the queue is
    // full (the caller answers 503 at once).
    std::shared_ptr<Job> submit(DbRequest request, Done done);

    // Connections currently open (for the startup message).
    int connected() const { return connected_.load(); }

  private:
    void worker_loop(int index);

    std::string conninfo_;
    int size_;
    size_t max_queue_;
    std::string base_url_;
    std::mutex mutex_;
    std::condition_variable cv_;
    std::deque<std::shared_ptr<Job>> queue_;
    bool stopping_ = false;
    std::vector<std::thread> workers_;
    std::atomic<int> connected_{0};
};

double now_ms();

} // namespace fhir_server
