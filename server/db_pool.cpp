// db_pool.cpp: libpq connections and the worker threads that run fhir.request().
//
// One statement per request, with unnamed parameters (PQexecParams), so the pool
// works behind pgbouncer in transaction pooling mode: no session state, no named
// prepared statements. The base URL is set with set_config(..., is_local => true)
// inside the same statement, as an argument of fhir.request, so it holds for that
// call only and never leaks to another client of a pooled backend.
#include "db_pool.h"

#include <libpq-fe.h>

#include <chrono>
#include <poll.h>
#include <cstdlib>
#include <cstring>

namespace fhir_server {

double now_ms() {
    using namespace std::chrono;
    return duration<double, std::milli>(steady_clock::now().time_since_epoch()).count();
}

namespace {

const char *request_sql =
    "SELECT status, body, location, etag, extract(epoch FROM last_modified), cache, db_ms, total_ms, "
    "cache_hit_rate FROM fhir.request($1, $2, $3, "
    "CASE WHEN set_config('fhir_search.base_url', $5, true) IS NULL THEN NULL ELSE $4::jsonb END)";

// SQLSTATEs that mean "try again": the connection or the server went away, the
// server is starting or shutting down, out of connections, or a statement timeout.
bool transient_sqlstate(const std::string &state) {
    return state.rfind("08", 0) == 0 || state.rfind("57P0", 0) == 0 || state.rfind("53", 0) == 0 ||
           state == "57014";
}

// An error that escaped fhir.request() (it answers most failures itself): the
// SQLSTATE's status as the README's table maps it.
int status_for_sqlstate(const std::string &state, bool if_match) {
    if (transient_sqlstate(state))
        return 503;
    if (state.rfind("22", 0) == 0 || state == "42704")
        return 400;
    if (state == "0A000")
        return 501;
    if (state == "FH404")
        return 404;
    if (state == "FH410")
        return 410;
    if (state == "FH409")
        return if_match ? 412 : 409;
    if (state == "FH412")
        return 412;
    if (state == "42501")
        return 403;
    if (state == "40001" || state == "40P01")
        return 409;
    return 500;
}

std::optional<double> optional_double(PGresult *res, int col) {
    if (PQgetisnull(res, 0, col))
        return std::nullopt;
    return std::strtod(PQgetvalue(res, 0, col), nullptr);
}

std::string first_line(const char *message) {
    std::string s = message ? message : "";
    size_t nl = s.find('\n');
    if (nl != std::string::npos)
        s.resize(nl);
    if (s.rfind("ERROR:  ", 0) == 0)
        s = s.substr(8);
    return s;
}

// One connection of the pool, owned by its worker thread.
class Connection {
  public:
    Connection(const std::string &conninfo, std::atomic<int> &connected) : conninfo_(conninfo), connected_(connected) {}
    ~Connection() { close(); }

    // Connects now (at start, so the first requests find a connection); failures are retried later.
    void warm_up() {
        DbResult ignored;
        ensure_connected(ignored);
        last_failure_ms_ = -1e9;
    }

    // Runs the request on a live connection, connecting first when needed.
    DbResult run(const DbRequest &req, const std::string &base_url) {
        DbResult out;
        if (!ensure_connected(out))
            return out;
        const char *values[5];
        int lengths[5] = {0, 0, 0, 0, 0};
        values[0] = req.method.c_str();
        values[1] = req.url.c_str();
        values[2] = req.body ? req.body->c_str() : nullptr;
        values[3] = req.headers_json.c_str();
        values[4] = base_url.c_str();
        const double started = now_ms();
        PGresult *res = PQexecParams(conn_, request_sql, 5, nullptr, values, lengths, nullptr, 0);
        out.sql_ms = now_ms() - started;
        if (PQresultStatus(res) == PGRES_TUPLES_OK && PQntuples(res) == 1) {
            out.status = std::atoi(PQgetvalue(res, 0, 0));
            if (!PQgetisnull(res, 0, 1))
                out.body = std::string(PQgetvalue(res, 0, 1), PQgetlength(res, 0, 1));
            out.location = PQgetvalue(res, 0, 2);
            out.etag = PQgetvalue(res, 0, 3);
            out.last_modified = optional_double(res, 4);
            out.cache = PQgetvalue(res, 0, 5);
            out.db_ms = optional_double(res, 6);
            out.total_ms = optional_double(res, 7);
            out.cache_hit_rate = optional_double(res, 8);
        } else {
            const char *state = res ? PQresultErrorField(res, PG_DIAG_SQLSTATE) : nullptr;
            out.sqlstate = state ? state : "";
            out.error = first_line(res ? PQresultErrorMessage(res) : PQerrorMessage(conn_));
            if (out.error.empty())
                out.error = first_line(PQerrorMessage(conn_));
            if (PQstatus(conn_) != CONNECTION_OK) {
                out.status = 503;
                out.error = "the database connection was lost: " + out.error;
                close();
            } else {
                out.status = status_for_sqlstate(out.sqlstate, !req.headers_json.empty() &&
                                                                   req.headers_json.find("\"if-match\"") != std::string::npos);
                // The extension's errors carry an OperationOutcome in DETAIL: that is the body.
                const char *detail = res ? PQresultErrorField(res, PG_DIAG_MESSAGE_DETAIL) : nullptr;
                if (detail && std::strstr(detail, "\"OperationOutcome\"") && detail[0] == '{')
                    out.body = detail;
            }
        }
        PQclear(res);
        return out;
    }

  private:
    // A backend that went away while the connection sat idle (a database restart
    // terminates it with a FATAL message, then closes the socket) has left the
    // socket readable: notice that before sending, so the request gets a fresh
    // connection instead of a 503 for a connection that was dead already.
    bool idle_connection_alive() {
        pollfd pfd{PQsocket(conn_), POLLIN, 0};
        if (poll(&pfd, 1, 0) <= 0)
            return true; // nothing arrived: the usual case
        return PQconsumeInput(conn_) == 1 && PQstatus(conn_) == CONNECTION_OK && !PQisBusy(conn_);
    }

    bool ensure_connected(DbResult &out) {
        if (conn_ && PQstatus(conn_) == CONNECTION_OK && idle_connection_alive())
            return true;
        close();
        // Space out attempts while the database is away: a refused attempt is answered at once.
        const double now = now_ms();
        if (now - last_failure_ms_ < 250) {
            out.status = 503;
            out.error = "the database is not available: " + last_error_;
            return false;
        }
        conn_ = PQconnectdb(conninfo_.c_str());
        if (PQstatus(conn_) != CONNECTION_OK) {
            last_error_ = first_line(PQerrorMessage(conn_));
            last_failure_ms_ = now_ms();
            PQfinish(conn_);
            conn_ = nullptr;
            out.status = 503;
            out.error = "the database is not available: " + last_error_;
            return false;
        }
        connected_++;
        return true;
    }

    void close() {
        if (!conn_)
            return;
        PQfinish(conn_);
        conn_ = nullptr;
        connected_--;
    }

    std::string conninfo_;
    std::atomic<int> &connected_;
    PGconn *conn_ = nullptr;
    double last_failure_ms_ = -1e9;
    std::string last_error_;
};

} // namespace

DbPool::DbPool(std::string conninfo, int size, size_t max_queue, std::string base_url)
    : conninfo_(std::move(conninfo)), size_(size), max_queue_(max_queue), base_url_(std::move(base_url)) {}

DbPool::~DbPool() { stop(); }

void DbPool::start() {
    for (int i = 0; i < size_; i++)
        workers_.emplace_back([this, i] { worker_loop(i); });
}

void DbPool::stop() {
    std::deque<std::shared_ptr<Job>> left;
    {
        std::lock_guard<std::mutex> lock(mutex_);
        if (stopping_ && workers_.empty())
            return;
        stopping_ = true;
        left.swap(queue_);
    }
    cv_.notify_all();
    for (auto &job : left) {
        if (job->abandon()) {
            DbResult r;
            r.status = 503;
            r.error = "the server is shutting down";
            job->done(std::move(r));
        }
    }
    for (auto &t : workers_)
        t.join();
    workers_.clear();
}

std::shared_ptr<DbPool::Job> DbPool::submit(DbRequest request, Done done) {
    auto job = std::make_shared<Job>();
    job->request = std::move(request);
    job->done = std::move(done);
    job->queued_at = now_ms();
    {
        std::lock_guard<std::mutex> lock(mutex_);
        // Jobs the HTTP side abandoned still sit in the queue until a worker pops them.
        while (!queue_.empty() && queue_.front()->state.load() == 2)
            queue_.pop_front();
        if (stopping_ || queue_.size() >= max_queue_)
            return nullptr;
        queue_.push_back(job);
    }
    cv_.notify_one();
    return job;
}

void DbPool::worker_loop(int) {
    Connection conn(conninfo_, connected_);
    conn.warm_up();
    for (;;) {
        std::shared_ptr<Job> job;
        {
            std::unique_lock<std::mutex> lock(mutex_);
            cv_.wait(lock, [this] { return stopping_ || !queue_.empty(); });
            if (stopping_ && queue_.empty())
                return;
            job = std::move(queue_.front());
            queue_.pop_front();
        }
        int expected = 0;
        if (!job->state.compare_exchange_strong(expected, 1))
            continue; // abandoned: the client has its 503 already
        const double started = now_ms();
        DbResult result = conn.run(job->request, base_url_);
        result.queue_ms = started - job->queued_at;
        job->done(std::move(result));
    }
}

} // namespace fhir_server
