// http_server.cpp: listener and sessions of fhir-server (see http_server.h).
//
// A request goes through: wait for its first byte (idle timeout) -> read the
// request line and headers (read timeout, header limit) -> checks that need no
// database (auth, _format/Accept 406, Content-Type 415, body limit 413), answered
// before any body is read -> 100 Continue if asked -> read the body (same read
// deadline) -> one fhir.request() call on a pooled connection (bounded wait, then
// 503) -> the response with headers mapped from the fhir.response row, gzipped
// when asked -> one access log line -> next request on the connection (keep-alive)
// or close.
#include "http_server.h"

#include "gzip.h"
#include "http_mapping.h"

#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>

#include <chrono>
#include <cstdio>
#include <iostream>

namespace fhir_server {

namespace beast = boost::beast;
namespace http = beast::http;
namespace net = boost::asio;
using tcp = net::ip::tcp;

namespace {

std::chrono::steady_clock::duration seconds(double s) {
    return std::chrono::duration_cast<std::chrono::steady_clock::duration>(std::chrono::duration<double>(s));
}

std::string ms_text(double ms) {
    char buf[32];
    std::snprintf(buf, sizeof buf, "%.3f", ms);
    return buf;
}

std::string lower(beast::string_view s) {
    std::string out(s);
    for (char &c : out)
        c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    return out;
}

} // namespace

class Session : public std::enable_shared_from_this<Session> {
  public:
    Session(tcp::socket socket, std::shared_ptr<Server> server, uint64_t id)
        : stream_(std::move(socket)), server_(std::move(server)), opts_(server_->options()), id_(id),
          pool_timer_(stream_.get_executor()) {
        beast::error_code ec;
        auto ep = stream_.socket().remote_endpoint(ec);
        if (!ec)
            remote_ = ep.address().to_string() + ":" + std::to_string(ep.port());
        stream_.socket().set_option(tcp::no_delay(true), ec);
    }

    ~Session() { server_->forget(id_); }

    void start() {
        net::dispatch(stream_.get_executor(), [self = shared_from_this()] { self->wait_for_request(); });
    }

    // Server shutdown: an idle connection is closed now, a busy one after its response.
    void on_shutdown() {
        net::post(stream_.get_executor(), [self = shared_from_this()] {
            if (self->state_ == State::Idle) {
                beast::error_code ec;
                self->stream_.socket().shutdown(tcp::socket::shutdown_both, ec);
                self->stream_.cancel();
            }
        });
    }

  private:
    enum class State { Idle, Reading, Processing, Writing };

    void wait_for_request() {
        state_ = State::Idle;
        if (server_->stopping())
            return close();
        if (buffer_.size() > 0)
            return read_header(); // a pipelined request is already here
        stream_.expires_after(seconds(opts_.idle_timeout_s));
        stream_.async_read_some(buffer_.prepare(8192),
                                [self = shared_from_this()](beast::error_code ec, std::size_t n) {
                                    if (ec)
                                        return self->close(); // idle timeout, client gone, or shutdown
                                    self->buffer_.commit(n);
                                    self->read_header();
                                });
    }

    void read_header() {
        state_ = State::Reading;
        started_ = now_ms();
        requests_++;
        parser_.emplace();
        parser_->header_limit(static_cast<std::uint32_t>(opts_.max_header));
        parser_->body_limit(opts_.max_body);
        // One deadline for the whole request, headers and body: a client that
        // trickles bytes (slowloris) is cut off when it passes.
        stream_.expires_after(seconds(opts_.read_timeout_s));
        http::async_read_header(stream_, buffer_, *parser_,
                                [self = shared_from_this()](beast::error_code ec, std::size_t) {
                                    if (ec)
                                        return self->on_read_error(ec);
                                    self->on_header();
                                });
    }

    void on_read_error(beast::error_code ec) {
        if (ec == http::error::header_limit || ec == http::error::buffer_overflow)
            return reply_error(431, "the request line and headers exceed " + std::to_string(opts_.max_header) +
                                        " bytes");
        if (ec == http::error::body_limit)
            return reply_error(413, "the request body exceeds " + std::to_string(opts_.max_body) + " bytes");
        if (ec == beast::error::timeout) {
            log_line(408, 0, "timeout");
            return close(); // Beast closed the socket at the deadline
        }
        if (ec == http::error::end_of_stream || ec == net::error::eof || ec == net::error::operation_aborted ||
            ec == net::error::connection_reset)
            return close();
        if (ec.category() == http::make_error_code(http::error::end_of_stream).category())
            return reply_error(400, "malformed HTTP request: " + ec.message());
        close();
    }

    void on_header() {
        auto &req = parser_->get();
        keep_alive_ = req.keep_alive();
        method_ = std::string(req.method_string());
        target_ = std::string(req.target());
        if (!opts_.auth_token.empty()) {
            const std::string auth(req[http::field::authorization]);
            const bool metadata = target_.find("metadata") != std::string::npos && req.method() == http::verb::get;
            if (!metadata && auth != "Bearer " + opts_.auth_token) {
                extra_headers_.emplace_back("WWW-Authenticate", "Bearer");
                return reply_error(401, "this server needs Authorization: Bearer <token>", false);
            }
        }
        Negotiation out = negotiate_response_type(target_, req[http::field::accept]);
        if (out.error_status)
            return reply_error(out.error_status, out.error, false);
        content_type_ = out.content_type;
        gzip_ = accepts_gzip(req[http::field::accept_encoding]);
        const bool has_body = req.chunked() || (req.has_content_length() && parser_->content_length().value_or(0) > 0);
        if (has_body) {
            Negotiation in = check_request_type(req[http::field::content_type], req[http::field::content_encoding]);
            if (in.error_status)
                return reply_error(in.error_status, in.error, false);
        }
        if (parser_->is_done())
            return process();
        if (lower(req[http::field::expect]) == "100-continue") {
            static const std::string continue_line = "HTTP/1.1 100 Continue\r\n\r\n";
            return net::async_write(stream_, net::buffer(continue_line),
                                    [self = shared_from_this()](beast::error_code ec, std::size_t) {
                                        if (ec)
                                            return self->close();
                                        self->read_body();
                                    });
        }
        read_body();
    }

    void read_body() {
        http::async_read(stream_, buffer_, *parser_, [self = shared_from_this()](beast::error_code ec, std::size_t) {
            if (ec)
                return self->on_read_error(ec);
            self->process();
        });
    }

    // The request target's path relative to the base ("Patient/1"), and its query.
    std::pair<std::string, std::string> relative_target() const {
        size_t q = target_.find('?');
        std::string path = target_.substr(0, q);
        std::string query = q == std::string::npos ? std::string() : target_.substr(q + 1);
        const std::string &base = server_->base_path();
        if (!base.empty() && path.compare(0, base.size(), base) == 0 &&
            (path.size() == base.size() || path[base.size()] == '/'))
            path = path.substr(base.size());
        while (!path.empty() && path.front() == '/')
            path.erase(0, 1);
        return {path, query};
    }

    void process() {
        state_ = State::Processing;
        stream_.expires_never();
        auto &req = parser_->get();
        // Bulk Data $export: asynchronous jobs of this server, not one SQL call.
        if (target_.find("export") != std::string::npos) {
            auto [path, query] = relative_target();
            if (auto reply = server_->exports().handle(method_, path, query, std::string(req[http::field::prefer])))
                return send_export(std::move(*reply));
        }
        DbRequest db;
        db.method = method_;
        db.url = target_;
        if (!req.body().empty())
            db.body = std::move(req.body());
        std::vector<std::pair<std::string, std::string>> headers;
        for (const auto &field : req) {
            std::string name = lower(field.name_string());
            if (is_api_header(name))
                headers.emplace_back(std::move(name), std::string(field.value()));
        }
        db.headers_json = headers_json(headers);
        // The work guard keeps the io_context running until the result is posted back.
        auto guard = net::make_work_guard(stream_.get_executor());
        auto self = shared_from_this();
        job_ = server_->pool().submit(std::move(db), [self, guard](DbResult result) mutable {
            net::post(self->stream_.get_executor(),
                      [self, result = std::move(result)]() mutable { self->on_result(std::move(result)); });
            guard.reset();
        });
        if (!job_)
            return reply_error(503, server_->stopping() ? "the server is shutting down"
                                                        : "too many requests are waiting for a database connection");
        pool_timer_.expires_after(seconds(opts_.pool_wait_s));
        pool_timer_.async_wait([self](beast::error_code ec) {
            if (ec || !self->job_ || !self->job_->abandon())
                return; // the request got a connection in time
            self->job_->done = nullptr;
            self->job_.reset();
            self->reply_error(503, "no database connection became free within " + ms_text(self->opts_.pool_wait_s * 1000) +
                                       " ms (--pool " + std::to_string(self->opts_.pool) + ")");
        });
    }

    void on_result(DbResult r) {
        pool_timer_.cancel();
        job_.reset();
        result_ = std::move(r);
        have_result_ = true;
        res_ = {};
        res_.version(11);
        res_.result(static_cast<unsigned>(result_.status));
        std::string body;
        if (result_.body)
            body = std::move(*result_.body);
        else if (!result_.error.empty())
            body = operation_outcome("error", issue_code(result_.status), result_.error);
        if (!result_.etag.empty())
            res_.set(http::field::etag, result_.etag);
        if (result_.last_modified)
            res_.set(http::field::last_modified, http_date(*result_.last_modified));
        if (!result_.location.empty())
            res_.set(method_ == "GET" || method_ == "HEAD" ? http::field::content_location : http::field::location,
                     result_.location);
        if (!result_.cache.empty())
            res_.set("X-Cache", result_.cache == "HIT" ? "HIT from " + opts_.base_url : result_.cache);
        const double process_ms = now_ms() - started_;
        res_.set("X-Process-Time", ms_text(process_ms));
        res_.set("X-DB-Time", ms_text(result_.sql_ms));
        if (result_.cache_hit_rate)
            res_.set("X-Cache-Hit-Rate", ms_text(*result_.cache_hit_rate));
        std::string timing = "db;dur=" + ms_text(result_.sql_ms);
        if (result_.total_ms)
            timing += ", request;dur=" + ms_text(*result_.total_ms);
        if (result_.db_ms)
            timing += ", search;dur=" + ms_text(*result_.db_ms);
        if (result_.queue_ms > 0.05)
            timing += ", pool;dur=" + ms_text(result_.queue_ms);
        res_.set("Server-Timing", timing);
        if (result_.status == 503)
            res_.set(http::field::retry_after, "1");
        send(std::move(body));
    }

    // An answer of the server itself (no database call): OperationOutcome body.
    // `read_all` false: the request's body was not read, so the connection closes.
    void reply_error(int status, const std::string &why, bool read_all = true) {
        if (!read_all || !parser_ || !parser_->is_done() || status == 400 || status == 413 || status == 431 ||
            status == 408)
            keep_alive_ = false;
        res_ = {};
        res_.version(11);
        res_.result(static_cast<unsigned>(status));
        if (content_type_.empty())
            content_type_ = "application/fhir+json; charset=utf-8";
        error_ = why;
        for (auto &[name, value] : extra_headers_)
            res_.set(name, value);
        extra_headers_.clear();
        if (status == 503)
            res_.set(http::field::retry_after, "1");
        send(operation_outcome("error", issue_code(status), why));
    }

    void send(std::string body) {
        state_ = State::Writing;
        const bool head = method_ == "HEAD";
        if (!body.empty()) {
            res_.set(http::field::content_type, content_type_.empty() ? "application/fhir+json; charset=utf-8"
                                                                      : content_type_);
            res_.set(http::field::vary, "Accept, Accept-Encoding");
            if (gzip_ && body.size() >= opts_.gzip_min_bytes) {
                body = gzip_compress(body);
                res_.set(http::field::content_encoding, "gzip");
                gzipped_ = true;
            }
        }
        if (server_->stopping())
            keep_alive_ = false;
        res_.set(http::field::server, "fhir-server");
        res_.keep_alive(keep_alive_);
        bytes_ = body.size();
        res_.body() = head ? std::string() : std::move(body);
        res_.prepare_payload();
        if (head && bytes_)
            res_.content_length(bytes_);
        else if (head)
            res_.erase(http::field::content_length); // the SQL API sends no body for HEAD: length unknown
        log_line(static_cast<int>(res_.result_int()), bytes_, nullptr);
        stream_.expires_after(seconds(opts_.write_timeout_s));
        http::async_write(stream_, res_, [self = shared_from_this()](beast::error_code ec, std::size_t) {
            if (ec)
                return self->close();
            if (!self->keep_alive_)
                return self->close();
            self->reset_request();
            self->wait_for_request();
        });
    }

    void send_export(ExportReply reply) {
        if (reply.file_path.empty()) {
            res_ = {};
            res_.version(11);
            res_.result(static_cast<unsigned>(reply.status));
            for (auto &[name, value] : reply.headers)
                res_.set(name, value);
            content_type_ = reply.content_type;
            if (reply.status >= 400)
                error_ = reply.body;
            return send(std::move(reply.body));
        }
        state_ = State::Writing;
        beast::error_code ec;
        file_res_.emplace();
        file_res_->version(11);
        file_res_->result(http::status::ok);
        file_res_->body().open(reply.file_path.c_str(), beast::file_mode::scan, ec);
        if (ec)
            return reply_error(500, "cannot open " + reply.file_path + ": " + ec.message());
        file_res_->set(http::field::content_type, reply.content_type);
        file_res_->set(http::field::server, "fhir-server");
        if (server_->stopping())
            keep_alive_ = false;
        file_res_->keep_alive(keep_alive_);
        file_res_->prepare_payload();
        bytes_ = static_cast<size_t>(file_res_->body().size());
        log_line(200, bytes_, nullptr);
        // A large file may take a while: the write deadline scales with its size (1 MB/s at least).
        stream_.expires_after(seconds(opts_.write_timeout_s + static_cast<double>(bytes_) / 1e6));
        http::async_write(stream_, *file_res_, [self = shared_from_this()](beast::error_code wec, std::size_t) {
            self->file_res_.reset();
            if (wec || !self->keep_alive_)
                return self->close();
            self->reset_request();
            self->wait_for_request();
        });
    }

    void reset_request() {
        parser_.reset();
        res_ = {};
        have_result_ = false;
        gzipped_ = false;
        gzip_ = false;
        error_.clear();
        content_type_.clear();
        method_.clear();
        target_.clear();
    }

    void log_line(int status, size_t bytes, const char *event) {
        if (!server_->log().enabled())
            return;
        std::string line = "{\"ts\":\"" + iso_now() + "\",\"conn\":" + std::to_string(id_) +
                           ",\"req\":" + std::to_string(requests_) + ",\"remote\":\"" + remote_ + "\"";
        if (!method_.empty())
            line += ",\"method\":\"" + json_escape(method_) + "\",\"target\":\"" +
                    json_escape(target_.substr(0, 2048)) + "\"";
        line += ",\"status\":" + std::to_string(status) + ",\"bytes\":" + std::to_string(bytes) +
                ",\"ms\":" + ms_text(now_ms() - started_);
        if (have_result_) {
            line += ",\"db_ms\":" + ms_text(result_.sql_ms) + ",\"pool_ms\":" + ms_text(result_.queue_ms);
            if (result_.total_ms)
                line += ",\"request_ms\":" + ms_text(*result_.total_ms);
            if (result_.db_ms)
                line += ",\"search_ms\":" + ms_text(*result_.db_ms);
            if (!result_.cache.empty())
                line += ",\"cache\":\"" + result_.cache + "\"";
            if (!result_.error.empty())
                error_ = result_.error;
        }
        if (gzipped_)
            line += ",\"gzip\":true";
        if (event)
            line += ",\"event\":\"" + std::string(event) + "\"";
        if (!error_.empty())
            line += ",\"error\":\"" + json_escape(error_.substr(0, 500)) + "\"";
        server_->log().write(line + "}");
    }

    void close() {
        beast::error_code ec;
        stream_.socket().shutdown(tcp::socket::shutdown_send, ec);
        stream_.close();
    }

    beast::tcp_stream stream_;
    beast::flat_buffer buffer_;
    std::shared_ptr<Server> server_;
    const Options &opts_;
    uint64_t id_;
    net::steady_timer pool_timer_;
    std::shared_ptr<DbPool::Job> job_;
    std::optional<http::request_parser<http::string_body>> parser_;
    http::response<http::string_body> res_;
    std::optional<http::response<http::file_body>> file_res_;
    State state_ = State::Idle;
    std::string remote_, method_, target_, content_type_, error_;
    std::vector<std::pair<std::string, std::string>> extra_headers_;
    DbResult result_;
    bool have_result_ = false;
    bool keep_alive_ = true;
    bool gzip_ = false, gzipped_ = false;
    size_t bytes_ = 0;
    double started_ = 0;
    uint64_t requests_ = 0;
};

Server::Server(net::io_context &io, const Options &options, DbPool &pool, AccessLog &log, ExportManager &exports)
    : io_(io), options_(options), pool_(pool), log_(log), exports_(exports), acceptor_(net::make_strand(io)) {
    // scheme://host[:port]/path -> /path
    const std::string &base = options_.base_url;
    size_t scheme = base.find("://");
    size_t slash = base.find('/', scheme == std::string::npos ? 0 : scheme + 3);
    if (slash != std::string::npos)
        base_path_ = base.substr(slash);
}

void Server::start() {
    auto address = net::ip::make_address(options_.listen_host);
    tcp::endpoint endpoint(address, options_.listen_port);
    acceptor_.open(endpoint.protocol());
    acceptor_.set_option(net::socket_base::reuse_address(true));
    acceptor_.bind(endpoint);
    acceptor_.listen(net::socket_base::max_listen_connections);
    accept();
}

void Server::accept() {
    acceptor_.async_accept(net::make_strand(io_), [self = shared_from_this()](beast::error_code ec, tcp::socket socket) {
        if (ec) {
            if (ec == net::error::operation_aborted || !self->acceptor_.is_open())
                return;
            // EMFILE and the like: keep accepting after a pause rather than spin.
            std::this_thread::sleep_for(std::chrono::milliseconds(10));
            return self->accept();
        }
        std::shared_ptr<Session> session;
        {
            std::lock_guard<std::mutex> lock(self->sessions_mutex_);
            if (self->sessions_.size() >= static_cast<size_t>(self->options_.max_connections)) {
                static const std::string busy =
                    "HTTP/1.1 503 Service Unavailable\r\nConnection: close\r\nContent-Length: 0\r\nRetry-After: 1\r\n\r\n";
                beast::error_code wec;
                net::write(socket, net::buffer(busy), wec);
                socket.close(wec);
            } else {
                uint64_t id = self->next_session_id_++;
                session = std::make_shared<Session>(std::move(socket), self, id);
                self->sessions_[id] = session;
            }
        }
        if (session)
            session->start();
        self->accept();
    });
}

void Server::forget(uint64_t session_id) {
    std::lock_guard<std::mutex> lock(sessions_mutex_);
    sessions_.erase(session_id);
}

size_t Server::connections() {
    std::lock_guard<std::mutex> lock(sessions_mutex_);
    return sessions_.size();
}

void Server::shutdown() {
    if (stopping_.exchange(true))
        return;
    net::post(acceptor_.get_executor(), [self = shared_from_this()] {
        beast::error_code ec;
        self->acceptor_.close(ec);
    });
    std::vector<std::shared_ptr<Session>> live;
    {
        std::lock_guard<std::mutex> lock(sessions_mutex_);
        for (auto &[id, weak] : sessions_)
            if (auto s = weak.lock())
                live.push_back(std::move(s));
    }
    for (auto &s : live)
        s->on_shutdown();
}

} // namespace fhir_server
