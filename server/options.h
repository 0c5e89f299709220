// options.h: the command line of fhir-server (flags, defaults, limits).
#pragma once

#include <cstddef>
#include <string>

namespace fhir_server {

struct Options {
    std::string db = "dbname=postgres";     // libpq connection string or URI (--db)
    std::string listen_host = "127.0.0.1";  // --listen HOST:PORT
    unsigned short listen_port = 8080;
    std::string base_url;                   // --base-url; default http://HOST:PORT
    int pool = 8;                           // database connections (--pool)
    double pool_wait_s = 2.0;               // longest wait for a free connection, then 503
    size_t max_queue = 0;                   // requests waiting for a connection (0: 16 x pool), then 503
    int threads = 2;                        // HTTP I/O threads
    size_t max_body = 16u << 20;            // request body bytes (413 beyond)
    size_t max_header = 16u << 10;          // request line + headers bytes (431 beyond)
    double read_timeout_s = 10;             // a whole request must arrive within this (408: slowloris)
    double idle_timeout_s = 60;             // keep-alive connection without a request
    double write_timeout_s = 30;            // a response must be taken within this
    double shutdown_timeout_s = 10;         // SIGTERM/SIGINT: longest wait for requests in flight
    int max_connections = 1024;             // open client connections (beyond: accepted and closed with 503)
    size_t gzip_min_bytes = 1024;           // bodies at least this long are gzipped when the client asks
    std::string access_log = "-";           // "-" stdout, "off", or a file path (appended)
    std::string auth_token;                 // --auth-token or FHIR_SERVER_TOKEN: Authorization: Bearer check
    std::string export_dir = "/tmp/fhir-server-export"; // $export files, one directory per job
    int export_jobs = 2;                    // $export jobs running at once (429 beyond)
};

// Parses argv; prints usage and exits on --help or a bad flag.
Options parse_options(int argc, char **argv);

} // namespace fhir_server
