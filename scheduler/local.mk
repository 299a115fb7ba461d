# scheduler/: tern-scheduler and libtern_scheduler.a (host cache, filters,
# weighers, selection; the daemon wiring is scheduler_service.c).
noinst_LIBRARIES += libtern_scheduler.a
TERN_LAYER_LIBS += libtern_scheduler.a
libtern_scheduler_a_SOURCES = \
	scheduler/sched_error.c scheduler/sched_error.h \
	scheduler/sched_host.c scheduler/sched_host.h \
	scheduler/sched_cache.c scheduler/sched_cache.h \
	scheduler/sched_request.c scheduler/sched_request.h \
	scheduler/sched_filter.c scheduler/sched_filter.h \
	scheduler/sched_weigh.c scheduler/sched_weigh.h \
	scheduler/sched_select.c scheduler/sched_select.h \
	scheduler/sched_selection.c scheduler/sched_selection.h \
	scheduler/sched_sync.c scheduler/sched_sync.h

sbin_PROGRAMS += tern-scheduler
tern_scheduler_SOURCES = scheduler/main.c scheduler/scheduler_service.c scheduler/scheduler_service.h
tern_scheduler_LDADD = $(TERN_LIBS)
tern_scheduler_DEPENDENCIES = $(TERN_LAYER_LIBS)

# tests
check_PROGRAMS += tests/unit/test-scheduler
TESTS += tests/unit/test-scheduler
tests_unit_test_scheduler_SOURCES = tests/unit/test-scheduler.c
tests_unit_test_scheduler_LDADD = $(TERN_LIBS)
tests_unit_test_scheduler_DEPENDENCIES = $(TERN_LAYER_LIBS)

# fleet loader for the integration tests and bench/scheduler
noinst_PROGRAMS += tests/integration/sched-fleet
tests_integration_sched_fleet_SOURCES = tests/integration/sched-fleet.c
tests_integration_sched_fleet_LDADD = $(TERN_LIBS)
tests_integration_sched_fleet_DEPENDENCIES = $(TERN_LAYER_LIBS)
TESTS += tests/integration/test-scheduler-rpc.py tests/integration/test-scheduler-race.py \
	tests/integration/test-scheduler-fleet.py
EXTRA_DIST += tests/integration/test-scheduler-rpc.py tests/integration/test-scheduler-race.py \
	tests/integration/test-scheduler-fleet.py \
	tests/integration/sched_harness.py

# bench/scheduler (a script) and its load generator
noinst_PROGRAMS += bench/scheduler-client
bench_scheduler_client_SOURCES = bench/scheduler-client.c
bench_scheduler_client_LDADD = $(TERN_LIBS)
bench_scheduler_client_DEPENDENCIES = $(TERN_LAYER_LIBS)
EXTRA_DIST += bench/scheduler
noinst_PROGRAMS += bench/scheduler-core
bench_scheduler_core_SOURCES = bench/scheduler-core.c
bench_scheduler_core_LDADD = $(TERN_LIBS)
bench_scheduler_core_DEPENDENCIES = $(TERN_LAYER_LIBS)
