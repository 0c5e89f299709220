// jsonb_encoder.cpp: see jsonb_encoder.h.
#include "jsonb_encoder.h"

#include "error.h"

#include <algorithm>
#include <cstring>

namespace fhir::jsonb {

Value Value::array(std::vector<Value> elements) {
    Value v(Kind::Array);
    v.elements_ = std::move(elements);
    return v;
}

Value Value::object(std::vector<std::pair<std::string_view, Value>> members) {
    Value v(Kind::Object);
    v.members_ = std::move(members);
    return v;
}

bool key_less(std::string_view a, std::string_view b) {
    if (a.size() != b.size())
        return a.size() < b.size();
    return a.compare(b) < 0;
}

namespace {

[[noreturn]] void fail(const std::string &message) { throw Error(ErrorKind::Internal, "jsonb encoder: " + message); }

void put_u32(std::string &out, uint32_t v) { out.append(reinterpret_cast<const char *>(&v), sizeof v); }

void set_u32(std::string &out, size_t at, uint32_t v) { std::memcpy(&out[at], &v, sizeof v); }

// Zero bytes up to the next 4-byte boundary; returns how many.
uint32_t pad_to_int(std::string &out) {
    size_t pad = (4 - out.size() % 4) % 4;
    out.append(pad, '\0');
    return static_cast<uint32_t>(pad);
}

uint32_t checked_length(size_t n) {
    if (n > kOffLenMask)
        fail("value exceeds the jsonb size limit");
    return static_cast<uint32_t>(n);
}

} // namespace

// Appends values' data and returns their JEntries; one recursive writer for the
// three container kinds, following PostgreSQL's convertJsonb* functions.
class Encoder {
  public:
    explicit Encoder(std::string &out) : out_(out) {}

    // Appends v's data; returns its JEntry (type | length of what was appended).
    uint32_t write(const Value &v) {
        switch (v.kind_) {
        case Value::Kind::Null:
            return kIsNull;
        case Value::Kind::False:
            return kIsBoolFalse;
        case Value::Kind::True:
            return kIsBoolTrue;
        case Value::Kind::String:
            out_.append(v.bytes_);
            return kIsString | checked_length(v.bytes_.size());
        case Value::Kind::Numeric: {
            uint32_t pad = pad_to_int(out_);
            out_.append(v.bytes_);
            return kIsNumeric | checked_length(pad + v.bytes_.size());
        }
        case Value::Kind::Container: {
            check_container(v.bytes_);
            uint32_t pad = pad_to_int(out_);
            out_.append(v.bytes_);
            return kIsContainer | checked_length(pad + v.bytes_.size());
        }
        case Value::Kind::Array:
            return write_array(v.elements_, false);
        case Value::Kind::Object:
            return write_object(v.members_);
        }
        fail("unknown value kind");
    }

    // A root scalar is wrapped in a one-element array flagged as a raw scalar.
    void write_root(const Value &v) {
        switch (v.kind_) {
        case Value::Kind::Array:
        case Value::Kind::Object:
            write(v);
            return;
        case Value::Kind::Container:
            check_container(v.bytes_);
            out_.append(v.bytes_);
            return;
        default: {
            std::vector<Value> one{v};
            write_array(one, true);
        }
        }
    }

  private:
    static void check_container(std::string_view bytes) {
        uint32_t header = 0;
        if (bytes.size() < sizeof header)
            fail("embedded container is too short");
        std::memcpy(&header, bytes.data(), sizeof header);
        if ((header & kFlagScalar) || !(header & (kFlagObject | kFlagArray)))
            fail("embedded jsonb must be an object or an array");
    }

    // Records child i's JEntry: every kOffsetStride-th holds the running end offset.
    void set_entry(size_t entries_at, size_t i, uint32_t entry, uint32_t &total) {
        total = checked_length(static_cast<size_t>(total) + (entry & kOffLenMask));
        if (i % kOffsetStride == 0)
            entry = (entry & kTypeMask) | total | kHasOff;
        set_u32(out_, entries_at + i * sizeof(uint32_t), entry);
    }

    uint32_t write_array(const std::vector<Value> &elements, bool raw_scalar) {
        const size_t base = out_.size();
        pad_to_int(out_);
        uint32_t count = checked_length(elements.size());
        put_u32(out_, count | kFlagArray | (raw_scalar ? kFlagScalar : 0));
        const size_t entries_at = out_.size();
        out_.append(elements.size() * sizeof(uint32_t), '\0');
        uint32_t total = 0;
        for (size_t i = 0; i < elements.size(); i++)
            set_entry(entries_at, i, write(elements[i]), total);
        return kIsContainer | checked_length(out_.size() - base);
    }

    uint32_t write_object(const std::vector<std::pair<std::string_view, Value>> &members) {
        std::vector<const std::pair<std::string_view, Value> *> sorted;
        sorted.reserve(members.size());
        for (const auto &m : members)
            sorted.push_back(&m);
        std::sort(sorted.begin(), sorted.end(), [](const auto *a, const auto *b) { return key_less(a->first, b->first); });
        for (size_t i = 1; i < sorted.size(); i++)
            if (sorted[i - 1]->first == sorted[i]->first)
                fail("duplicate key \"" + std::string(sorted[i]->first) + "\"");

        const size_t base = out_.size();
        pad_to_int(out_);
        const size_t n = sorted.size();
        put_u32(out_, checked_length(n) | kFlagObject);
        const size_t entries_at = out_.size();
        out_.append(2 * n * sizeof(uint32_t), '\0');
        uint32_t total = 0;
        for (size_t i = 0; i < n; i++) {
            out_.append(sorted[i]->first);
            set_entry(entries_at, i, kIsString | checked_length(sorted[i]->first.size()), total);
        }
        for (size_t i = 0; i < n; i++)
            set_entry(entries_at, n + i, write(sorted[i]->second), total);
        return kIsContainer | checked_length(out_.size() - base);
    }

    std::string &out_;
};

std::string encode(const Value &root, size_t size_hint) {
    std::string out;
    out.reserve(size_hint);
    Encoder(out).write_root(root);
    return out;
}

} // namespace fhir::jsonb
