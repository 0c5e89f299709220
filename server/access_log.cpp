// access_log.cpp: see access_log.h.
#include "access_log.h"

#include <chrono>
#include <ctime>
#include <stdexcept>

namespace fhir_server {

AccessLog::AccessLog(const std::string &target) {
    if (target == "off")
        return;
    if (target == "-" || target.empty()) {
        out_ = stdout;
        return;
    }
    out_ = std::fopen(target.c_str(), "a");
    if (!out_)
        throw std::runtime_error("cannot open access log " + target);
    owned_ = true;
}

AccessLog::~AccessLog() {
    if (owned_)
        std::fclose(out_);
}

void AccessLog::write(const std::string &line) {
    if (!out_)
        return;
    std::lock_guard<std::mutex> lock(mutex_);
    std::fwrite(line.data(), 1, line.size(), out_);
    std::fputc('\n', out_);
    std::fflush(out_);
}

std::string iso_now() {
    using namespace std::chrono;
    auto now = system_clock::now();
    std::time_t t = system_clock::to_time_t(now);
    int ms = static_cast<int>(duration_cast<milliseconds>(now.time_since_epoch()).count() % 1000);
    std::tm tm{};
    gmtime_r(&t, &tm);
    char buf[80];
    std::snprintf(buf, sizeof buf, "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ", tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday,
                  tm.tm_hour, tm.tm_min, tm.tm_sec, ms);
    return buf;
}

} // namespace fhir_server
