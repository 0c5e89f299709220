// srf.cpp: materialize-mode set-returning function setup, written out by hand
// (InitMaterializedSRF exists only from PostgreSQL 15 on).
#include "srf.h"

#include "cpp_wrapper.h"

extern "C" {
#include "utils/tuplestore.h"
}

namespace fhir_pg {

ReturnSetInfo *begin_materialized_srf(FunctionCallInfo fcinfo) {
    return pg_call([fcinfo] {
        ReturnSetInfo *rsinfo = (ReturnSetInfo *)fcinfo->resultinfo;
        if (rsinfo == NULL || !IsA(rsinfo, ReturnSetInfo) || !(rsinfo->allowedModes & SFRM_Materialize))
            ereport(ERROR, (errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
                            errmsg("set-valued function called in context that cannot accept a set")));
        TupleDesc desc;
        if (get_call_result_type(fcinfo, NULL, &desc) != TYPEFUNC_COMPOSITE) {
            // A function returning SETOF <scalar>.
            desc = CreateTemplateTupleDesc(1);
            TupleDescInitEntry(desc, (AttrNumber)1, "value", get_fn_expr_rettype(fcinfo->flinfo), -1, 0);
        }
        MemoryContext per_query = rsinfo->econtext->ecxt_per_query_memory;
        MemoryContext old = MemoryContextSwitchTo(per_query);
        rsinfo->returnMode = SFRM_Materialize;
        rsinfo->setDesc = CreateTupleDescCopy(desc);
        rsinfo->setResult = tuplestore_begin_heap(true, false, work_mem);
        MemoryContextSwitchTo(old);
        return rsinfo;
    });
}

void srf_put_row(ReturnSetInfo *rsinfo, Datum *values, bool *nulls) {
    pg_call([rsinfo, values, nulls] { tuplestore_putvalues(rsinfo->setResult, rsinfo->setDesc, values, nulls); });
}

} // namespace fhir_pg
