# db/: the PostgreSQL inventory: libpq access, schema migrations
# (db/migrations/NNN_name.sql, built in as a GResource and also installed
# under $(pkgdatadir)/db/migrations), the queries of each table, atomic
# claims and the change feed.
noinst_LIBRARIES += libtern_db.a
TERN_LAYER_LIBS += libtern_db.a
libtern_db_a_SOURCES = \
	db/db.h db/db_private.h \
	db/conn.c db/params.c \
	db/schema.c db/schema.h db/schema_data.c \
	db/services.c db/services.h \
	db/compute_nodes.c db/compute_nodes.h \
	db/instances.c db/instances.h \
	db/migrations.c db/migrations.h \
	db/claims.c db/claims.h \
	db/server_groups.c db/server_groups.h \
	db/changes.c db/changes.h

DB_MIGRATIONS = db/migrations/001_initial.sql db/migrations/002_guest_endianness.sql \
	db/migrations/003_server_groups.sql db/migrations/004_change_usage.sql
nobase_dist_pkgdata_DATA += $(DB_MIGRATIONS)
EXTRA_DIST += db/migrations/migrations.gresource.xml

# The migrations compiled in: db/schema_data.c includes the generated file.
CLEANFILES += db/migrations_resource.c
db/schema_data.$(OBJEXT): db/migrations_resource.c
db/migrations_resource.c: $(srcdir)/db/migrations/migrations.gresource.xml $(addprefix $(srcdir)/,$(DB_MIGRATIONS))
	$(AM_V_GEN)$(MKDIR_P) db && \
	$$($(PKG_CONFIG) --variable=glib_compile_resources gio-2.0) \
		--sourcedir=$(srcdir)/db/migrations --generate-source \
		--c-name tern_db_migrations --target=$@ $(srcdir)/db/migrations/migrations.gresource.xml

# Tests against the real PostgreSQL of scripts/services (skipped without
# TERN_TEST_DB_URL). Each program works in its own database.
DB_TEST_COMMON = tests/integration/db_fixture.c tests/integration/db_fixture.h
check_PROGRAMS += tests/integration/test-db-schema
TESTS += tests/integration/test-db-schema
tests_integration_test_db_schema_SOURCES = tests/integration/test-db-schema.c $(DB_TEST_COMMON)
tests_integration_test_db_schema_LDADD = $(TERN_LIBS)
tests_integration_test_db_schema_DEPENDENCIES = $(TERN_LAYER_LIBS)
check_PROGRAMS += tests/integration/test-db-tables
TESTS += tests/integration/test-db-tables
tests_integration_test_db_tables_SOURCES = tests/integration/test-db-tables.c $(DB_TEST_COMMON)
tests_integration_test_db_tables_LDADD = $(TERN_LIBS)
tests_integration_test_db_tables_DEPENDENCIES = $(TERN_LAYER_LIBS)
check_PROGRAMS += tests/integration/test-db-claims
TESTS += tests/integration/test-db-claims
tests_integration_test_db_claims_SOURCES = tests/integration/test-db-claims.c $(DB_TEST_COMMON)
tests_integration_test_db_claims_LDADD = $(TERN_LIBS)
tests_integration_test_db_claims_DEPENDENCIES = $(TERN_LAYER_LIBS)
check_PROGRAMS += tests/integration/test-db-race
TESTS += tests/integration/test-db-race
tests_integration_test_db_race_SOURCES = tests/integration/test-db-race.c $(DB_TEST_COMMON)
tests_integration_test_db_race_LDADD = $(TERN_LIBS)
tests_integration_test_db_race_DEPENDENCIES = $(TERN_LAYER_LIBS)
check_PROGRAMS += tests/integration/test-db-restart
TESTS += tests/integration/test-db-restart
tests_integration_test_db_restart_SOURCES = tests/integration/test-db-restart.c
tests_integration_test_db_restart_LDADD = $(TERN_LIBS)
tests_integration_test_db_restart_DEPENDENCIES = $(TERN_LAYER_LIBS)

# bench/db: claims/s with 1 and 8 clients next to pgbench's bare UPDATE.
noinst_PROGRAMS += bench/db
bench_db_SOURCES = bench/db.c tests/integration/db_fixture.c tests/integration/db_fixture.h
bench_db_LDADD = $(TERN_LIBS)
bench_db_DEPENDENCIES = $(TERN_LAYER_LIBS)

# Unit tests of db/ (no server).
check_PROGRAMS += tests/unit/test-db-util
TESTS += tests/unit/test-db-util
tests_unit_test_db_util_SOURCES = tests/unit/test-db-util.c
tests_unit_test_db_util_LDADD = $(TERN_LIBS)
tests_unit_test_db_util_DEPENDENCIES = $(TERN_LAYER_LIBS)
