// compat.h: every PostgreSQL-version difference the extension depends on, in one place.
//
// Supported and tested: PostgreSQL 15-18 (docs/postgresql-versions.md); 16-18 needed no
// shim. The 13/14 branches below are untested.
// Include through pg_includes.h, never directly before postgres.h.
#pragma once

#if PG_VERSION_NUM < 130000
#error "fhir_search requires PostgreSQL 13 or later"
#endif

// shmem_request_hook exists from 15 on; before that, RequestAddinShmemSpace is
// called directly from _PG_init.
#if PG_VERSION_NUM >= 150000
#define FHIR_HAVE_SHMEM_REQUEST_HOOK 1
#else
#define FHIR_HAVE_SHMEM_REQUEST_HOOK 0
#endif

// MarkGUCPrefixReserved replaced EmitWarningsOnPlaceholders in 15.
#if PG_VERSION_NUM >= 150000
#define FHIR_RESERVE_GUC_PREFIX(prefix) MarkGUCPrefixReserved(prefix)
#else
#define FHIR_RESERVE_GUC_PREFIX(prefix) EmitWarningsOnPlaceholders(prefix)
#endif

// int64_to_numeric was int64 -> Numeric from 14 on (named so); 13 needs DirectFunctionCall.
#if PG_VERSION_NUM >= 140000
#define FHIR_INT64_TO_NUMERIC(v) int64_to_numeric(v)
#else
#define FHIR_INT64_TO_NUMERIC(v) DatumGetNumeric(DirectFunctionCall1(int8_numeric, Int64GetDatum(v)))
#endif

// enable_memoize (and the Memoize node) exists from 14 on.
#if PG_VERSION_NUM >= 140000
#define FHIR_HAVE_ENABLE_MEMOIZE 1
#else
#define FHIR_HAVE_ENABLE_MEMOIZE 0
#endif
