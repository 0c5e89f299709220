// local_time_zone.cpp: fhir_search.default_timezone.
//
// R4 dates ("2020-05-05") and search values written without an offset are read
// in this zone at write time (index rows) and at search time (search values)
// alike, so both agree as long as it stays the same. It is server-wide
// (PGC_SIGHUP: postgresql.conf or ALTER SYSTEM plus a reload), never per
// session, because a session reading searches in another zone than the one the
// rows were written in would get silently wrong answers. Changing it does not
// rewrite stored rows: `SELECT fhir.reindex()` does, and until then rows keep
// the zone they were written in. The setting's description says so, and the
// postmaster logs it when the value changes.
//
// The zone is PostgreSQL's own tz database (pg_tzset), the one TimeZone uses;
// "UTC" (the default) installs nothing, so the core adds no offset lookups.
#include "pg_includes.h"

#include "local_time_zone.h"

#include "../core/values.h"

namespace fhir_pg {
namespace {

char *guc_default_timezone = nullptr;
bool defined = false; // past the values the definition itself assigns

// A PostgreSQL zone as the core's LocalTimeZone.
class PgTimeZone final : public fhir::LocalTimeZone {
  public:
    explicit PgTimeZone(pg_tz *tz) : tz_(tz) {}
    int64_t offset_seconds_at_local(int64_t local_seconds) const override {
        int64_t days = local_seconds / 86400 - (local_seconds % 86400 < 0 ? 1 : 0);
        int64_t in_day = local_seconds - days * 86400;
        struct pg_tm tm = {};
        j2date(static_cast<int>(days + UNIX_EPOCH_JDATE), &tm.tm_year, &tm.tm_mon, &tm.tm_mday);
        tm.tm_hour = static_cast<int>(in_day / 3600);
        tm.tm_min = static_cast<int>(in_day / 60 % 60);
        tm.tm_sec = static_cast<int>(in_day % 60);
        // PostgreSQL counts offsets west of Greenwich; never raises (out of range: 0).
        return -static_cast<int64_t>(DetermineTimeZoneOffset(&tm, tz_));
    }

  private:
    pg_tz *tz_; // pg_tzset's cache keeps it for the life of the process
};

// Accepts a name pg_tzset knows (without leap seconds, as TimeZone requires).
// Runs in PostgreSQL's GUC machinery: plain C, nothing here has a destructor.
bool check_default_timezone(char **newval, void **extra, GucSource) {
    if (*newval == nullptr || **newval == '\0') {
        GUC_check_errdetail("fhir_search.default_timezone must name a time zone, e.g. UTC or Europe/Berlin.");
        return false;
    }
    pg_tz *tz = pg_tzset(*newval);
    if (tz == nullptr || !pg_tz_acceptable(tz)) {
        GUC_check_errdetail("\"%s\" is not a time zone PostgreSQL knows (see pg_timezone_names).", *newval);
        return false;
    }
    pg_tz **slot = static_cast<pg_tz **>(malloc(sizeof(pg_tz *))); // GUC extras are malloc()ed;
    if (slot == nullptr)
        return false;
    *slot = tz;
    *extra = slot;
    return true;
}

void assign_default_timezone(const char *newval, void *extra) {
    static PgTimeZone *installed = nullptr;
    static char previous[128] = "UTC";
    pg_tz *tz = extra ? *static_cast<pg_tz **>(extra) : nullptr;
    delete installed;
    installed = nullptr;
    if (tz && pg_strcasecmp(newval, "UTC") != 0)
        installed = new (std::nothrow) PgTimeZone(tz);
    fhir::set_local_time_zone(installed);
    // Said once, by the postmaster (when preloaded), when a reload changes it.
    if (defined && !IsUnderPostmaster && pg_strcasecmp(previous, newval) != 0)
        ereport(LOG, (errmsg("fhir_search.default_timezone is now \"%s\" (was \"%s\")", newval, previous),
                      errdetail("Dates stored before the change keep the zone they were indexed in."),
                      errhint("Run SELECT fhir.reindex(); in every database using fhir_search.")));
    strlcpy(previous, newval, sizeof(previous));
}

} // namespace

void define_local_time_zone_guc() {
    DefineCustomStringVariable(
        "fhir_search.default_timezone",
        "Time zone of dates and times written without one (R4 dates, search values), at write and search time.",
        "Server-wide. Changing it needs SELECT fhir.reindex() in every database: rows stored before keep the "
        "zone they were indexed in until re-indexed.",
        &guc_default_timezone, "UTC", PGC_SIGHUP, 0, check_default_timezone, assign_default_timezone, nullptr);
    defined = true;
}

std::string local_time_zone_key() { return guc_default_timezone ? guc_default_timezone : "UTC"; }

} // namespace fhir_pg
