// gzip.h: gzip compression of response bodies (zlib).
#pragma once

#include <string>

namespace fhir_server {

// The gzip member of `data` (level 1: the fastest level already shrinks FHIR JSON
// by 80-90 %, and the server's time matters more than the last bytes).
std::string gzip_compress(const std::string &data);

} // namespace fhir_server
