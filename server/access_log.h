// access_log.h: the structured access log of fhir-server, one JSON object per
// line and request. Lines are written whole under a mutex, so threads never
// interleave them.
#pragma once

#include <cstdio>
#include <mutex>
#include <string>

namespace fhir_server {

class AccessLog {
  public:
    // "-" is standard output, "off" disables the log, anything else a file appended to.
    explicit AccessLog(const std::string &target);
    ~AccessLog();
    bool enabled() const { return out_ != nullptr; }
    void write(const std::string &line);

  private:
    std::FILE *out_ = nullptr;
    bool owned_ = false;
    std::mutex mutex_;
};

// The current time as an ISO 8601 UTC timestamp with milliseconds.
std::string iso_now();

} // namespace fhir_server
