// cpp_wrapper.cpp: the out-of-line half of the C++/PostgreSQL error boundary.
//
// See cpp_wrapper.h for the rules. Everything here runs either inside a catch
// block (capture) or after all C++ objects of the failing call are gone (raise).
#include "cpp_wrapper.h"

#include "resource.h"

namespace fhir_pg {

// Custom SQLSTATEs (class FH) mirror the HTTP status a FHIR server would send.
static const int kSqlstateNotFound = MAKE_SQLSTATE('F', 'H', '4', '0', '4');
static const int kSqlstateGone = MAKE_SQLSTATE('F', 'H', '4', '1', '0');
static const int kSqlstateConflict = MAKE_SQLSTATE('F', 'H', '4', '0', '9');
static const int kSqlstatePrecondition = MAKE_SQLSTATE('F', 'H', '4', '1', '2');

// Maps the core's error classification onto SQLSTATEs (documented in README).
int sqlstate_for(fhir::ErrorKind kind) {
    switch (kind) {
    case fhir::ErrorKind::InvalidJson:
        return ERRCODE_INVALID_TEXT_REPRESENTATION;
    case fhir::ErrorKind::InvalidResource:
    case fhir::ErrorKind::InvalidSearch:
        return ERRCODE_INVALID_PARAMETER_VALUE;
    case fhir::ErrorKind::UnknownResourceType:
    case fhir::ErrorKind::UnknownParameter:
        return ERRCODE_UNDEFINED_OBJECT;
    case fhir::ErrorKind::UnsupportedFeature:
        return ERRCODE_FEATURE_NOT_SUPPORTED;
    case fhir::ErrorKind::NotFound:
        return kSqlstateNotFound;
    case fhir::ErrorKind::Gone:
        return kSqlstateGone;
    case fhir::ErrorKind::VersionConflict:
        return kSqlstateConflict;
    case fhir::ErrorKind::PreconditionFailed:
        return kSqlstatePrecondition;
    case fhir::ErrorKind::Internal:
        break;
    }
    return ERRCODE_INTERNAL_ERROR;
}

// Copies a C++ string into the current memory context without letting an
// allocation failure escape (we are inside a catch block).
static char *copy_text(const char *text) noexcept {
    size_t len = strlen(text);
    char *copy = static_cast<char *>(palloc_extended(len + 1, MCXT_ALLOC_NO_OOM));
    if (!copy)
        return nullptr;
    memcpy(copy, text, len + 1);
    return copy;
}

void capture_current_exception(PendingError *out) noexcept {
    try {
        throw;
    } catch (const PgError &e) {
        out->pg_error = e.data();
    } catch (const fhir::Error &e) {
        out->sqlstate = sqlstate_for(e.kind());
        out->message = copy_text(e.what());
        // Every error of ours carries an OperationOutcome in DETAIL (what an HTTP
        // layer sends as the body): the thrower's, or one made from the message.
        if (!e.detail().empty()) {
            out->detail = copy_text(e.detail().c_str());
        } else {
            try {
                out->detail = copy_text(fhir::operation_outcome("error", fhir::issue_type(e.kind()), e.what()).c_str());
            } catch (...) {
                out->detail = nullptr; // out of memory: the message alone
            }
        }
    } catch (const std::bad_alloc &) {
        out->sqlstate = ERRCODE_OUT_OF_MEMORY;
        out->message = nullptr; // a fixed message is used when raising
    } catch (const std::exception &e) {
        out->sqlstate = ERRCODE_INTERNAL_ERROR;
        out->message = copy_text(e.what());
    } catch (...) {
        out->sqlstate = ERRCODE_INTERNAL_ERROR;
        out->message = nullptr;
    }
}

void raise_pending(const PendingError &pending) {
    if (pending.pg_error)
        ReThrowError(pending.pg_error);
    if (pending.sqlstate == ERRCODE_OUT_OF_MEMORY)
        ereport(ERROR, (errcode(ERRCODE_OUT_OF_MEMORY), errmsg("fhir_search: out of memory")));
    ereport(ERROR, (errcode(pending.sqlstate),
                    errmsg("%s", pending.message ? pending.message : "fhir_search: unexpected internal error"),
                    pending.detail ? errdetail("%s", pending.detail) : 0));
    pg_unreachable();
}

// Fills a SubtransactionFailure from a caught PostgreSQL error.
static void failure_from_error_data(SubtransactionFailure *out, ErrorData *data) {
    out->failed = true;
    out->sqlstate = data->sqlerrcode;
    out->message = data->message ? data->message : "";
    out->detail = data->detail ? data->detail : "";
}

// Runs the C++ body, turning any exception into a PendingError (no throw escapes).
static void call_body_capturing(void (*trampoline)(void *), void *arg, PendingError *pending) noexcept {
    try {
        trampoline(arg);
    } catch (...) {
        capture_current_exception(pending);
    }
}

SubtransactionFailure run_in_subtransaction_impl(void (*trampoline)(void *), void *arg) {
    MemoryContext caller_context = CurrentMemoryContext;
    ResourceOwner caller_owner = CurrentResourceOwner;
    PendingError pending;
    ErrorData *volatile pg_failure = nullptr;

    pg_call([] { BeginInternalSubTransaction(NULL); });
    MemoryContextSwitchTo(caller_context);

    // The body may itself raise PostgreSQL errors directly (outside pg_call);
    // PG_TRY catches those, the capture catches C++ ones.
    PG_TRY();
    {
        call_body_capturing(trampoline, arg, &pending);
    }
    PG_CATCH();
    {
        MemoryContextSwitchTo(caller_context);
        pg_failure = CopyErrorData();
        FlushErrorState();
    }
    PG_END_TRY();

    bool failed = pg_failure || pending.pg_error || pending.sqlstate != 0;
    if (failed)
        pg_call([] { RollbackAndReleaseCurrentSubTransaction(); });
    else
        pg_call([] { ReleaseCurrentSubTransaction(); });
    MemoryContextSwitchTo(caller_context);
    CurrentResourceOwner = caller_owner;

    SubtransactionFailure result;
    if (pg_failure)
        failure_from_error_data(&result, pg_failure);
    else if (pending.pg_error)
        failure_from_error_data(&result, pending.pg_error);
    else if (failed) {
        result.failed = true;
        result.sqlstate = pending.sqlstate;
        result.message = pending.message ? pending.message : "unexpected internal error";
        result.detail = pending.detail ? pending.detail : "";
    }
    return result;
}

} // namespace fhir_pg
