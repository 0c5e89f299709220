// http_server.h: the HTTP/1.1 side of fhir-server on Boost.Beast: the listener
// and one Session per client connection.
//
// Threads and ownership: the io_context runs on --threads threads; each
// connection has its own strand, so a Session's handlers never run
// concurrently. Database calls run on the DbPool's worker threads and post
// their result back to the session's strand. The Server keeps weak references
// to its sessions (under a mutex) only to close idle ones at shutdown.
#pragma once

#include "access_log.h"
#include "bulk_export.h"
#include "db_pool.h"
#include "options.h"

#include <boost/asio.hpp>

#include <atomic>
#include <cstdint>
#include <memory>
#include <mutex>
#include <unordered_map>

namespace fhir_server {

class Session;

class Server : public std::enable_shared_from_this<Server> {
  public:
    Server(boost::asio::io_context &io, const Options &options, DbPool &pool, AccessLog &log, ExportManager &exports);

    // Binds and listens; throws on failure (address in use, ...).
    void start();
    // Graceful shutdown: stops accepting, closes idle connections, lets requests
    // in flight finish (their responses say Connection: close).
    void shutdown();
    bool stopping() const { return stopping_.load(); }

    const Options &options() const { return options_; }
    DbPool &pool() { return pool_; }
    AccessLog &log() { return log_; }
    ExportManager &exports() { return exports_; }
    // The path of --base-url ("/fhir", or "" for the root).
    const std::string &base_path() const { return base_path_; }

    void forget(uint64_t session_id);
    // Open client connections.
    size_t connections();

  private:
    void accept();

    boost::asio::io_context &io_;
    const Options &options_;
    DbPool &pool_;
    AccessLog &log_;
    ExportManager &exports_;
    std::string base_path_;
    boost::asio::ip::tcp::acceptor acceptor_;
    std::atomic<bool> stopping_{false};
    std::mutex sessions_mutex_;
    std::unordered_map<uint64_t, std::weak_ptr<Session>> sessions_;
    uint64_t next_session_id_ = 1;
};

} // namespace fhir_server
