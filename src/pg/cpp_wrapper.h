// cpp_wrapper.h: the C++/PostgreSQL error boundary, done once for every entry point.
//
// Two directions, two rules:
//  * C++ -> PostgreSQL. Every SQL-callable function runs its body through
//    fhir_pg::guarded_call(). It catches every C++ exception, copies what it needs
//    into palloc'd memory, lets every C++ object die, and only then raises the
//    PostgreSQL error (ereport longjmps, which would skip destructors).
//  * PostgreSQL -> C++. Inside C++ code, every call into PostgreSQL that may raise
//    an error goes through fhir_pg::pg_call(). It runs the call under PG_TRY,
//    turns an error into a fhir_pg::PgError exception (with the copied ErrorData),
//    and restores PostgreSQL's error state, so C++ unwinds normally. The error is
//    re-raised unchanged by guarded_call() at the boundary. Nothing may touch
//    PostgreSQL between the catch and that re-raise: destructors never call into
//    PostgreSQL, and no C++ code "handles" a PgError and carries on, except
//    run_in_subtransaction(), which rolls its subtransaction back first.
#pragma once

#include "pg_includes.h"

#include "error.h"

#include <exception>
#include <new>
#include <string>
#include <type_traits>
#include <utility>

namespace fhir_pg {

// A PostgreSQL error caught by pg_call(), travelling up through C++ frames.
class PgError : public std::exception {
  public:
    explicit PgError(ErrorData *data) : data_(data) {}
    ErrorData *data() const noexcept { return data_; }
    const char *what() const noexcept override { return data_ && data_->message ? data_->message : "postgres error"; }

  private:
    ErrorData *data_; // palloc'd in the caller's memory context; freed with it
};

// SQLSTATE for a core error kind.
int sqlstate_for(fhir::ErrorKind kind);

// What guarded_call() needs to raise an error after its catch blocks have closed.
// Plain C data only: it lives on the frame that longjmps.
struct PendingError {
    ErrorData *pg_error = nullptr; // re-raised as is when set
    int sqlstate = 0;
    char *message = nullptr;       // palloc'd
    char *detail = nullptr;        // palloc'd, may be null
};

// Fills `out` from the exception currently being handled. Called only inside a catch.
void capture_current_exception(PendingError *out) noexcept;

// Raises the pending error. Never returns.
[[noreturn]] void raise_pending(const PendingError &pending);

// Runs `body` (returning Datum) and converts any C++ exception into a PostgreSQL
// error once no C++ object is alive in this frame.
template <typename Body>
Datum guarded_call(Body &&body) {
    PendingError pending;
    {
        try {
            return body();
        } catch (...) {
            capture_current_exception(&pending);
        }
    }
    raise_pending(pending);
}

// Runs a call into PostgreSQL, converting a PostgreSQL error into PgError. The
// callable must not create C++ objects with destructors that matter (it may be
// left by longjmp); keep it to C calls.
template <typename Fn>
auto pg_call(Fn &&fn) -> decltype(fn()) {
    using Result = decltype(fn());
    MemoryContext caller_context = CurrentMemoryContext;
    ErrorData *volatile caught = nullptr;
    if constexpr (std::is_void_v<Result>) {
        PG_TRY();
        {
            fn();
        }
        PG_CATCH();
        {
            MemoryContextSwitchTo(caller_context);
            caught = CopyErrorData();
            FlushErrorState();
        }
        PG_END_TRY();
        if (caught)
            throw PgError(caught);
    } else {
        static_assert(std::is_trivially_copyable_v<Result>, "pg_call results must be plain C values");
        Result volatile_result{};
        Result *volatile result_ptr = &volatile_result;
        PG_TRY();
        {
            *result_ptr = fn();
        }
        PG_CATCH();
        {
            MemoryContextSwitchTo(caller_context);
            caught = CopyErrorData();
            FlushErrorState();
        }
        PG_END_TRY();
        if (caught)
            throw PgError(caught);
        return *result_ptr;
    }
}

// Checks for query cancel / termination from inside long C++ loops.
inline void check_for_interrupts() {
    pg_call([] { CHECK_FOR_INTERRUPTS(); });
}

// Outcome of a subtransaction: empty on success.
struct SubtransactionFailure {
    bool failed = false;
    int sqlstate = 0;
    std::string message;
    std::string detail;
};

// Runs `body` inside an internal subtransaction (like a PL/pgSQL EXCEPTION block):
// on any error, C++ or PostgreSQL, the subtransaction is rolled back and the
// failure is returned instead of raised. Used by batch Bundles and bulk load.
template <typename Body>
SubtransactionFailure run_in_subtransaction(Body &&body);

// Implementation detail of run_in_subtransaction, in cpp_wrapper.cpp.
SubtransactionFailure run_in_subtransaction_impl(void (*trampoline)(void *), void *arg);

template <typename Body>
SubtransactionFailure run_in_subtransaction(Body &&body) {
    auto trampoline = [](void *arg) { (*static_cast<std::remove_reference_t<Body> *>(arg))(); };
    return run_in_subtransaction_impl(trampoline, static_cast<void *>(&body));
}

} // namespace fhir_pg

// Declares a SQL-callable function whose body is C++: the body sees `fcinfo` and
// returns a Datum; all errors go through fhir_pg::guarded_call.
#define FHIR_FUNCTION(name)                                                                  \
    static Datum name##_impl(FunctionCallInfo fcinfo);                                       \
    extern "C" {                                                                             \
    PG_FUNCTION_INFO_V1(name);                                                               \
    Datum name(PG_FUNCTION_ARGS) { return fhir_pg::guarded_call([&] { return name##_impl(fcinfo); }); } \
    }                                                                                        \
    static Datum name##_impl(FunctionCallInfo fcinfo)
