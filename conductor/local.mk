# conductor/: tern-conductor: build and live-migration flows, writes for
# computes, admin queries, recovery of stuck records.
sbin_PROGRAMS += tern-conductor
tern_conductor_SOURCES = \
	conductor/main.c \
	conductor/conductor.h \
	conductor/conductor_service.c conductor/conductor_service.h \
	conductor/views.c \
	conductor/build_task.c \
	conductor/live_migrate_task.c \
	conductor/compute_writes.c \
	conductor/admin.c \
	conductor/recovery.c \
	conductor/fleet_gates.c \
	conductor/fleet_claims.c
tern_conductor_LDADD = $(TERN_LIBS)
tern_conductor_DEPENDENCIES = $(TERN_LAYER_LIBS)

# tests: the flows on real RabbitMQ + PostgreSQL, driven by python3-nova
TESTS += tests/integration/test-conductor.py tests/integration/test-conductor-computes.py \
	tests/integration/test-conductor-fleet.py
EXTRA_DIST += tests/integration/test-conductor.py tests/integration/test-conductor-computes.py \
	tests/integration/test-conductor-fleet.py \
	tests/integration/conductor_env.py
