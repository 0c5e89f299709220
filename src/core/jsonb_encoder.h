// jsonb_encoder.h: writes PostgreSQL's binary jsonb format directly, embedding
// existing jsonb containers byte for byte.
//
// A searchset Bundle is a small frame (id, meta, links, entry objects) around
// resources that are already binary jsonb. PostgreSQL's own builder
// (pushJsonbValue + JsonbValueToJsonb) unpacks every embedded container into a
// JsonbValue tree and encodes it again: at 1M resources that was most of the CPU
// of a 20-row first page, and its transient memory made the backend's heap grow
// and shrink on every call. A nested container in jsonb is stored exactly as the
// root container of a standalone jsonb value (offsets are relative to the
// container, padding is to 4-byte boundaries, and both start 4-byte aligned), so a
// resource can be copied in whole; only the frame is encoded here.
//
// The format (PostgreSQL's src/include/utils/jsonb.h, stable because it is the
// on-disk format): a container is a uint32 header (count | object/array flag),
// one JEntry (uint32) per child (keys first, then values, for objects), then
// the children's data. A JEntry holds the child's type and either its length or,
// for every 32nd child, the end offset of its data. Object keys are unique and
// sorted by length, then bytewise. Numerics and containers start 4-byte aligned
// (the zero padding counts toward their length). Byte order is the machine's.
//
// Pure C++, no PostgreSQL headers: the PostgreSQL side checks the constants
// below against its own (src/pg/bundle_jsonb.cpp) and wraps the result in a
// varlena.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace fhir::jsonb {

// Constants of the format (PostgreSQL's JENTRY_* and JB_* macros).
inline constexpr uint32_t kOffLenMask = 0x0FFFFFFF;
inline constexpr uint32_t kTypeMask = 0x70000000;
inline constexpr uint32_t kHasOff = 0x80000000;
inline constexpr uint32_t kIsString = 0x00000000;
inline constexpr uint32_t kIsNumeric = 0x10000000;
inline constexpr uint32_t kIsBoolFalse = 0x20000000;
inline constexpr uint32_t kIsBoolTrue = 0x30000000;
inline constexpr uint32_t kIsNull = 0x40000000;
inline constexpr uint32_t kIsContainer = 0x50000000;
inline constexpr uint32_t kCountMask = 0x0FFFFFFF;
inline constexpr uint32_t kFlagScalar = 0x10000000;
inline constexpr uint32_t kFlagObject = 0x20000000;
inline constexpr uint32_t kFlagArray = 0x40000000;
inline constexpr int kOffsetStride = 32;

// A value to encode. Strings, numerics and embedded containers refer to bytes
// the caller keeps alive until encode() returns.
class Value {
  public:
    enum class Kind { Null, False, True, String, Numeric, Container, Array, Object };

    static Value null() { return Value(Kind::Null); }
    static Value boolean(bool b) { return Value(b ? Kind::True : Kind::False); }
    static Value string(std::string_view s) { return Value(Kind::String, s); }
    // A numeric's complete varlena (header included), as PostgreSQL stores it.
    static Value numeric(std::string_view varlena) { return Value(Kind::Numeric, varlena); }
    // An existing object or array container: a jsonb datum's bytes after its
    // 4-byte varlena header. Raw scalars (jsonb '1') are refused by encode().
    static Value container(std::string_view bytes) { return Value(Kind::Container, bytes); }
    static Value array(std::vector<Value> elements);
    // Keys must be unique; encode() sorts them into jsonb's order.
    static Value object(std::vector<std::pair<std::string_view, Value>> members);

    Kind kind() const { return kind_; }

  private:
    explicit Value(Kind kind, std::string_view bytes = {}) : kind_(kind), bytes_(bytes) {}
    friend class Encoder;

    Kind kind_;
    std::string_view bytes_;
    std::vector<Value> elements_;                               // Array
    std::vector<std::pair<std::string_view, Value>> members_;   // Object
};

// jsonb's key order: shorter keys first, equal lengths bytewise.
bool key_less(std::string_view a, std::string_view b);

// The root container's bytes (what follows the varlena header of a jsonb datum).
// A scalar root becomes a one-element raw-scalar array, as in PostgreSQL.
// `size_hint` reserves the output buffer. Throws fhir::Error(Internal) on
// duplicate keys, a scalar embedded container, or data beyond jsonb's 256 MB
// limit of a container.
std::string encode(const Value &root, size_t size_hint = 0);

} // namespace fhir::jsonb
