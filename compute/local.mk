# compute/: tern-compute and libtern_compute.a (libvirt connection, host
# probe, per-arch guest strategies, guest OS rules, domain XML, disks,
# lifecycle). The daemon's RPC side comes with rpc/.
noinst_LIBRARIES += libtern_compute.a
TERN_LAYER_LIBS += libtern_compute.a
libtern_compute_a_SOURCES = \
	compute/compute.h \
	compute/compute_error.c compute/compute_error.h \
	compute/xml_util.c compute/xml_util.h \
	compute/host_facts.c compute/host_facts.h \
	compute/guest_spec.c compute/guest_spec.h \
	compute/domain_xml.c compute/domain_xml.h \
	compute/arch/arch.c compute/arch/arch.h compute/arch/arch_common.c \
	compute/arch/x86_64.c compute/arch/ppc64le.c \
	compute/host_probe.c compute/host_probe.h \
	compute/libvirt_conn.c compute/libvirt_conn.h \
	compute/instance_disk.c compute/instance_disk.h \
	compute/guest_lifecycle.c compute/guest_lifecycle.h

sbin_PROGRAMS += tern-compute
tern_compute_SOURCES = compute/main.c compute/compute_service.c compute/compute_service.h \
	compute/compute_manager.c compute/compute_manager.h compute/conductor_api.c \
	compute/inventory_report.c compute/manager_reconcile.c compute/manager_build.c \
	compute/manager_power.c compute/rpc_handlers.c compute/live_migration.c
tern_compute_LDADD = $(TERN_LIBS)
tern_compute_DEPENDENCIES = $(TERN_LAYER_LIBS)

# tests
check_PROGRAMS += tests/unit/test-compute-xml
TESTS += tests/unit/test-compute-xml
tests_unit_test_compute_xml_SOURCES = tests/unit/test-compute-xml.c
tests_unit_test_compute_xml_LDADD = $(TERN_LIBS)
tests_unit_test_compute_xml_DEPENDENCIES = $(TERN_LAYER_LIBS)
EXTRA_DIST += $(wildcard $(srcdir)/tests/data/compute/*.json) \
	$(wildcard $(srcdir)/tests/data/compute/*.xml) \
	$(wildcard $(srcdir)/tests/data/hosts/*/*) tests/data/hosts/make-power-facts.py
check_PROGRAMS += tests/integration/test-compute-libvirt
TESTS += tests/integration/test-compute-libvirt
tests_integration_test_compute_libvirt_SOURCES = tests/integration/test-compute-libvirt.c
tests_integration_test_compute_libvirt_LDADD = $(TERN_LIBS)
tests_integration_test_compute_libvirt_DEPENDENCIES = $(TERN_LAYER_LIBS)
check_PROGRAMS += tests/e2e/test-compute-boot
TESTS += tests/e2e/test-compute-boot
tests_e2e_test_compute_boot_SOURCES = tests/e2e/test-compute-boot.c
tests_e2e_test_compute_boot_LDADD = $(TERN_LIBS)
tests_e2e_test_compute_boot_DEPENDENCIES = $(TERN_LAYER_LIBS)
EXTRA_DIST += tests/e2e/guest-assets.sh
TESTS += tests/integration/test-compute-manage.sh
EXTRA_DIST += tests/integration/test-compute-manage.sh

# bench/compute-build: tern's domain XML build against libvirt's define/start.
noinst_PROGRAMS += bench/compute-build
bench_compute_build_SOURCES = bench/compute-build.c
bench_compute_build_LDADD = $(TERN_LIBS)
bench_compute_build_DEPENDENCIES = $(TERN_LAYER_LIBS)

# tern-compute as a daemon over real RPC (tests/integration/test-compute-daemon.py)
TESTS += tests/integration/test-compute-daemon.py tests/integration/test-compute-migrate-checks.py
EXTRA_DIST += tests/integration/test-compute-daemon.py tests/integration/compute_peer.py \
	tests/integration/test-compute-migrate-checks.py
# real QEMU guests through the RPC and live migration between two real
# libvirt hosts (skips without TERN_TEST_LIBVIRT_URI; hosts part needs root)
TESTS += tests/e2e/test-compute-daemon-e2e.py
EXTRA_DIST += tests/e2e/test-compute-daemon-e2e.py
EXTRA_DIST += bench/compute
# live migration through the whole stack: conductor, scheduler, a tern-compute
# in each of two real libvirt hosts (tests/e2e/migration_world.py)
TESTS += tests/e2e/test-live-migration-e2e.py tests/e2e/test-live-migration-failures-e2e.py
EXTRA_DIST += tests/e2e/test-live-migration-e2e.py tests/e2e/migration_world.py \
	tests/integration/host_lease.py \
	tests/e2e/test-live-migration-failures-e2e.py
# bench/migration: live migration by tern (through the conductor) vs plain
# `virsh migrate --live --p2p`, same guest and hosts (needs root + services)
EXTRA_DIST += bench/migration
