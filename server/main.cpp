// main.cpp: fhir-server, a FHIR R4 REST server on the fhir_search SQL API.
//
//   fhir-server --db "postgresql://app@localhost/fhir" --listen 127.0.0.1:8080 --base-url http://localhost:8080/fhir
//
// Every request is one fhir.request() call on a pooled connection; the database
// routes it, runs it and returns status, body and headers. This program maps
// HTTP onto that call and back (docs/rest-server.md). SIGTERM and SIGINT stop
// it gracefully: no new connections, requests in flight finish (up to
// --shutdown-timeout), idle keep-alive connections are closed.
#include "access_log.h"
#include "db_pool.h"
#include "http_server.h"
#include "options.h"

#include <boost/asio.hpp>

#include <csignal>
#include <cstdio>
#include <functional>
#include <iostream>
#include <thread>
#include <vector>

int main(int argc, char **argv) {
    using namespace fhir_server;
    namespace net = boost::asio;
    Options options = parse_options(argc, argv);
    std::signal(SIGPIPE, SIG_IGN);
    try {
        AccessLog log(options.access_log);
        DbPool pool(options.db, options.pool, options.max_queue, options.base_url);
        pool.start();
        net::io_context io(options.threads);
        ExportManager exports(options.db, options.base_url, options.export_dir, options.export_jobs,
                              !options.auth_token.empty());
        auto server = std::make_shared<Server>(io, options, pool, log, exports);
        server->start();
        std::fprintf(stderr, "fhir-server: listening on %s:%u, base %s, pool %d, %d threads\n",
                     options.listen_host.c_str(), options.listen_port, options.base_url.c_str(), options.pool,
                     options.threads);

        net::signal_set signals(io, SIGINT, SIGTERM);
        net::steady_timer deadline(io), poll(io);
        // While stopping, a poll every 20 ms ends the wait as soon as the last
        // connection is closed (the deadline timer would keep io.run() going).
        std::function<void()> watch = [&] {
            if (server->connections() == 0) {
                deadline.cancel();
                return;
            }
            poll.expires_after(std::chrono::milliseconds(20));
            poll.async_wait([&](const boost::system::error_code &pec) {
                if (!pec)
                    watch();
            });
        };
        signals.async_wait([&](const boost::system::error_code &ec, int sig) {
            if (ec)
                return;
            std::fprintf(stderr, "fhir-server: signal %d, shutting down (up to %.1f s for requests in flight)\n", sig,
                         options.shutdown_timeout_s);
            server->shutdown();
            deadline.expires_after(std::chrono::duration_cast<std::chrono::steady_clock::duration>(
                std::chrono::duration<double>(options.shutdown_timeout_s)));
            deadline.async_wait([&](const boost::system::error_code &tec) {
                if (!tec) {
                    std::fprintf(stderr, "fhir-server: shutdown timeout; closing what is left\n");
                    io.stop();
                }
            });
            watch();
        });
        std::vector<std::thread> threads;
        for (int i = 1; i < options.threads; i++)
            threads.emplace_back([&io] { io.run(); });
        io.run();
        for (auto &t : threads)
            t.join();
        pool.stop();
        std::fprintf(stderr, "fhir-server: stopped\n");
    } catch (const std::exception &e) {
        std::fprintf(stderr, "fhir-server: %s\n", e.what());
        return 1;
    }
    return 0;
}
