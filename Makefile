# Makefile: PGXS build of the fhir_search extension (the install path of record).
#
#   make && make install          build and install into the pg_config on PATH
#   make installcheck             pg_regress against a throwaway instance (see below)
#   make regenerate               rebuild generated sources from the FHIR R4 definitions
#
# The pure C++ core (src/core) is compiled into the same shared library as the
# PostgreSQL glue (src/pg). CMakeLists.txt builds the core alone for unit tests.

EXTENSION    = fhir_search
EXTVERSION   = $(shell grep default_version $(EXTENSION).control | sed -e "s/default_version[[:space:]]*=[[:space:]]*'\([^']*\)'/\1/")
MODULE_big   = fhir_search

CORE_SRCS    = $(sort $(wildcard src/core/*.cpp src/core/generated/*.cpp))
PG_SRCS      = $(sort $(wildcard src/pg/*.cpp))
OBJS         = $(CORE_SRCS:.cpp=.o) $(PG_SRCS:.cpp=.o)

# The current version's install script is built from src/sql; every earlier
# version's install script is kept frozen in src/sql/versions with the upgrade
# scripts (fhir_search--A--B.sql) that lead from it to the current version.
# While a version is in development its upgrade script from the previous one is built
# from pieces in src/sql/upgrade/<A>--<B>/ (one per feature, applied in name order);
# releasing it freezes the built script into src/sql/versions.
UPGRADE_DIRS = $(notdir $(wildcard src/sql/upgrade/*--*))
UPGRADE_BUILT = $(foreach d,$(UPGRADE_DIRS),$(EXTENSION)--$(d).sql)
DATA_built   = $(EXTENSION)--$(EXTVERSION).sql $(UPGRADE_BUILT)
DATA         = $(sort $(wildcard src/sql/versions/*.sql src/sql/versions/*.control))
EXTRA_CLEAN  = $(EXTENSION)--$(EXTVERSION).sql $(UPGRADE_BUILT)
# The parallel loader (a Python script: loader/fhir-load explains why), installed
# next to the PostgreSQL client programs (pg_config --bindir).
SCRIPTS      = loader/fhir-load

# pg_regress: sql/*.sql against expected/*.out, in a throwaway instance that
# preloads the library (test/regress.conf). The order lives in test/schedule.
REGRESS      = $(shell sed -e 's/\#.*//' -e '/^[[:space:]]*$$/d' test/schedule)
REGRESS_OUTDIR ?= results_dir
REGRESS_OPTS = --inputdir=. --outputdir=$(REGRESS_OUTDIR) --temp-instance=$(REGRESS_OUTDIR)/tmp_check \
               --temp-config=test/regress.conf

# isolationtester: test/isolation/specs/*.spec against test/isolation/expected/*.out
# (concurrent sessions: cache invalidation, uncommitted writes, row-level security).
# pgxs runs them after pg_regress in installcheck, in a second throwaway instance
# (its own directory; the first one is stopped by then, so ports do not clash).
ISOLATION      = $(sort $(basename $(notdir $(wildcard test/isolation/specs/*.spec))))
ISOLATION_OPTS = --inputdir=test/isolation --outputdir=$(REGRESS_OUTDIR)/isolation \
                 --temp-instance=$(REGRESS_OUTDIR)/tmp_check_iso --temp-config=test/regress.conf

PG_CONFIG   ?= pg_config
PG_CPPFLAGS  = -Isrc/core -Isrc/pg
# -Wshadow=compatible-local: PostgreSQL 16+ adds it to CFLAGS; set here so a 15 build warns alike.
PG_CXXFLAGS  = -MMD -MP -std=c++17 -Wall -Wextra -Wshadow=compatible-local -Wno-register -Wno-unused-parameter -Wno-missing-field-initializers
SHLIB_LINK   = -lstdc++

# PGXS would compile LLVM bitcode for every .cpp with flags that ignore PG_CXXFLAGS
# (no C++17); JIT inlining of our code is not worth that, so we opt out.
override with_llvm = no

.SECONDEXPANSION:
PGXS := $(shell $(PG_CONFIG) --pgxs)
include $(PGXS)

# Header dependencies (PGXS tracks none for C++): rebuild objects whose headers changed.
-include $(OBJS:.o=.d)
EXTRA_CLEAN += $(OBJS:.o=.d)

# The install script: storage and core functions, the cache, backups, the API
# functions added since 0.2.0 (src/sql/api/*.sql, in name order), then the roles,
# every GRANT and the blanket REVOKE from PUBLIC (src/sql/privileges.sql).
INSTALL_PIECES = src/sql/$(EXTENSION).sql src/sql/cache.sql src/sql/backup.sql \
                 $(sort $(wildcard src/sql/api/*.sql)) src/sql/privileges.sql
$(EXTENSION)--$(EXTVERSION).sql: $(INSTALL_PIECES)
	cat $^ > $@

# The upgrade to the version in development also runs the API pieces (every one is
# new in it) right after its header, so each new function is written once; its
# upgrade piece then holds only what differs for an existing install (REVOKE from
# PUBLIC, since privileges.sql's blanket REVOKE ran at the older version).
API_PIECES = $(sort $(wildcard src/sql/api/*.sql))
upgrade_pieces = $(sort $(wildcard src/sql/upgrade/$(1)/*.sql))
$(EXTENSION)--%.sql: $$(sort $$(wildcard src/sql/upgrade/%/*.sql)) $(API_PIECES)
	cat $(firstword $(call upgrade_pieces,$*)) $(if $(filter %--$(EXTVERSION),$*),$(API_PIECES)) \
	    $(wordlist 2,999,$(call upgrade_pieces,$*)) > $@

# fhir-server (server/): the FHIR REST server, a program of its own on the public
# SQL API (C++17, Boost.Beast/Asio headers, libpq, zlib; docs/rest-server.md).
# `make` builds it with the extension; `make install` puts it into PostgreSQL's
# bindir (pg_config --bindir) as fhir-server.
SERVER_SRCS     = $(sort $(wildcard server/*.cpp))
SERVER_OBJS     = $(SERVER_SRCS:.cpp=.o)
SERVER_CXXFLAGS = -std=c++17 -O2 -g -Wall -Wextra -pthread -DBOOST_BEAST_USE_STD_STRING_VIEW -I$(shell $(PG_CONFIG) --includedir)
SERVER_LIBS     = -L$(shell $(PG_CONFIG) --libdir) -lpq -lz -pthread
.PHONY: server install-server
all: server/fhir-server
server: server/fhir-server
server/%.o: server/%.cpp
	$(CXX) $(SERVER_CXXFLAGS) -MMD -MP -c -o $@ $<
server/fhir-server: $(SERVER_OBJS)
	$(CXX) $(SERVER_CXXFLAGS) -o $@ $^ $(SERVER_LIBS)
install: install-server
install-server: server/fhir-server
	$(MKDIR_P) '$(DESTDIR)$(bindir)'
	$(INSTALL_PROGRAM) server/fhir-server '$(DESTDIR)$(bindir)/fhir-server'
-include $(SERVER_OBJS:.o=.d)
EXTRA_CLEAN += server/fhir-server $(SERVER_OBJS) $(SERVER_OBJS:.o=.d)

# Regenerate sources derived from the official FHIR R4 definitions.
FHIR_DEFS ?= ../shared/fhir-r4
.PHONY: regenerate
regenerate:
	python3 tools/gen_registry.py --defs $(FHIR_DEFS) --out src/core/generated/r4_registry.cpp
	python3 tools/gen_summary.py --defs $(FHIR_DEFS) --out src/core/generated/r4_summary.cpp
	python3 tools/gen_element_names.py --defs $(FHIR_DEFS) --out src/core/generated/r4_element_names.cpp
	python3 tools/gen_compartments.py --defs $(FHIR_DEFS) --out src/core/generated/r4_compartments.cpp
	python3 tools/gen_element_schema.py --defs $(FHIR_DEFS) --out src/core/generated/r4_element_schema.cpp
