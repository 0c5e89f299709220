// pg_includes.h: the only way glue code includes PostgreSQL headers.
//
// PostgreSQL's headers are C: they go inside extern "C", postgres.h first. The core
// (src/core) must never include this file; it is kept free of server symbols so
// the unit tests link without a server.
#pragma once

// C++ standard headers first: PostgreSQL's port.h redefines snprintf and friends
// as macros, which breaks <string> and others included after it.
#include <algorithm>
#include <cstdio>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <unordered_map>
#include <unordered_set>
#include <vector>

#include <nlohmann/json.hpp>

extern "C" {
#include "postgres.h"

#include "access/htup_details.h"
#include "access/relation.h"
#include "access/xact.h"
#include "catalog/namespace.h"
#include "catalog/pg_type.h"
#include "executor/spi.h"
#include "fmgr.h"
#include "funcapi.h"
#include "miscadmin.h"
#include "storage/bufmgr.h"
#include "storage/ipc.h"
#include "utils/builtins.h"
#include "utils/guc.h"
#include "utils/jsonb.h"
#include "utils/lsyscache.h"
#include "utils/memutils.h"
#include "utils/numeric.h"
#include "utils/rel.h"
#include "utils/timestamp.h"
#include "pgtime.h"
#include "utils/datetime.h"
}

#include "compat.h"
