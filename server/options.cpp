// options.cpp: flag parsing for fhir-server. Sizes take k/m suffixes, times are
// seconds (decimals allowed, so tests can use short timeouts).
#include "options.h"

#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <stdexcept>

namespace fhir_server {
namespace {

const char *usage_text =
    "usage: fhir-server --db CONNINFO [--listen HOST:PORT] [--base-url URL] [--pool N] [options]\n"
    "  --db CONNINFO            libpq connection string or postgresql:// URI (env FHIR_DB)\n"
    "  --listen HOST:PORT       address to listen on (default 127.0.0.1:8080; [::1]:8080 for IPv6)\n"
    "  --base-url URL           the server's public base URL, used in Bundle links and Location\n"
    "                           (default http://HOST:PORT)\n"
    "  --pool N                 database connections (default 8)\n"
    "  --pool-wait SECONDS      longest wait for a free connection before 503 (default 2)\n"
    "  --max-queue N            requests waiting for a connection before 503 at once (default 16 x pool)\n"
    "  --threads N              HTTP I/O threads (default 2)\n"
    "  --max-body BYTES         largest request body, k/m suffixes (default 16m; 413 beyond)\n"
    "  --max-header BYTES       largest request line and headers (default 16k; 431 beyond)\n"
    "  --read-timeout SECONDS   a request must arrive completely within this (default 10; 408)\n"
    "  --idle-timeout SECONDS   keep-alive connection without a request is closed (default 60)\n"
    "  --write-timeout SECONDS  a response must be taken by the client within this (default 30)\n"
    "  --shutdown-timeout SECONDS  SIGTERM/SIGINT: wait this long for requests in flight (default 10)\n"
    "  --max-connections N      open client connections (default 1024; beyond: 503 and close)\n"
    "  --gzip-min-bytes BYTES   smallest body gzipped when Accept-Encoding asks (default 1024)\n"
    "  --access-log PATH        one JSON line per request: - (stdout, default), off, or a file\n"
    "  --auth-token TOKEN       require Authorization: Bearer TOKEN (env FHIR_SERVER_TOKEN;\n"
    "                           metadata stays open)\n"
    "  --export-dir DIR         where $export jobs write their NDJSON files (default /tmp/fhir-server-export)\n"
    "  --export-jobs N          $export jobs running at once (default 2; 429 beyond)\n";

[[noreturn]] void usage(int code, const std::string &why = std::string()) {
    if (!why.empty())
        std::fprintf(stderr, "fhir-server: %s\n", why.c_str());
    std::fputs(usage_text, code == 0 ? stdout : stderr);
    std::exit(code);
}

size_t parse_size(const std::string &flag, const std::string &v) {
    char *end = nullptr;
    unsigned long long n = std::strtoull(v.c_str(), &end, 10);
    if (end == v.c_str())
        usage(2, flag + " needs a size, not \"" + v + "\"");
    std::string suffix(end);
    if (suffix == "k" || suffix == "K")
        n <<= 10;
    else if (suffix == "m" || suffix == "M")
        n <<= 20;
    else if (!suffix.empty())
        usage(2, flag + ": unknown size suffix \"" + suffix + "\"");
    return static_cast<size_t>(n);
}

double parse_seconds(const std::string &flag, const std::string &v) {
    char *end = nullptr;
    double d = std::strtod(v.c_str(), &end);
    if (end == v.c_str() || *end || d <= 0)
        usage(2, flag + " needs a positive number of seconds, not \"" + v + "\"");
    return d;
}

int parse_count(const std::string &flag, const std::string &v) {
    char *end = nullptr;
    long n = std::strtol(v.c_str(), &end, 10);
    if (end == v.c_str() || *end || n < 1 || n > 100000)
        usage(2, flag + " needs a positive count, not \"" + v + "\"");
    return static_cast<int>(n);
}

void parse_listen(Options &o, const std::string &v) {
    size_t colon = v.rfind(':');
    if (colon == std::string::npos)
        usage(2, "--listen needs HOST:PORT, not \"" + v + "\"");
    std::string host = v.substr(0, colon);
    if (host.size() >= 2 && host.front() == '[' && host.back() == ']')
        host = host.substr(1, host.size() - 2);
    int port = parse_count("--listen port", v.substr(colon + 1));
    if (port > 65535)
        usage(2, "--listen: port out of range");
    o.listen_host = host.empty() ? "0.0.0.0" : host;
    o.listen_port = static_cast<unsigned short>(port);
}

} // namespace

Options parse_options(int argc, char **argv) {
    Options o;
    if (const char *db = std::getenv("FHIR_DB"))
        o.db = db;
    if (const char *token = std::getenv("FHIR_SERVER_TOKEN"))
        o.auth_token = token;
    for (int i = 1; i < argc; i++) {
        std::string flag = argv[i];
        if (flag == "--help" || flag == "-h")
            usage(0);
        std::string value;
        size_t eq = flag.find('=');
        if (eq != std::string::npos) {
            value = flag.substr(eq + 1);
            flag = flag.substr(0, eq);
        } else {
            if (i + 1 >= argc)
                usage(2, flag + " needs a value");
            value = argv[++i];
        }
        if (flag == "--db")
            o.db = value;
        else if (flag == "--listen")
            parse_listen(o, value);
        else if (flag == "--base-url")
            o.base_url = value;
        else if (flag == "--pool")
            o.pool = parse_count(flag, value);
        else if (flag == "--pool-wait")
            o.pool_wait_s = parse_seconds(flag, value);
        else if (flag == "--max-queue")
            o.max_queue = static_cast<size_t>(parse_count(flag, value));
        else if (flag == "--threads")
            o.threads = parse_count(flag, value);
        else if (flag == "--max-body")
            o.max_body = parse_size(flag, value);
        else if (flag == "--max-header")
            o.max_header = parse_size(flag, value);
        else if (flag == "--read-timeout")
            o.read_timeout_s = parse_seconds(flag, value);
        else if (flag == "--idle-timeout")
            o.idle_timeout_s = parse_seconds(flag, value);
        else if (flag == "--write-timeout")
            o.write_timeout_s = parse_seconds(flag, value);
        else if (flag == "--shutdown-timeout")
            o.shutdown_timeout_s = parse_seconds(flag, value);
        else if (flag == "--max-connections")
            o.max_connections = parse_count(flag, value);
        else if (flag == "--gzip-min-bytes")
            o.gzip_min_bytes = parse_size(flag, value);
        else if (flag == "--access-log")
            o.access_log = value;
        else if (flag == "--auth-token")
            o.auth_token = value;
        else if (flag == "--export-dir")
            o.export_dir = value;
        else if (flag == "--export-jobs")
            o.export_jobs = parse_count(flag, value);
        else
            usage(2, "unknown flag " + flag);
    }
    if (o.max_queue == 0)
        o.max_queue = static_cast<size_t>(o.pool) * 16;
    if (o.base_url.empty()) {
        std::string host = o.listen_host.find(':') != std::string::npos ? "[" + o.listen_host + "]" : o.listen_host;
        o.base_url = "http://" + host + ":" + std::to_string(o.listen_port);
    }
    while (!o.base_url.empty() && o.base_url.back() == '/')
        o.base_url.pop_back();
    return o;
}

} // namespace fhir_server
