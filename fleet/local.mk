# fleet/: mixed-fleet rules shared by the conductor, the scheduler and the
# CLI without depending on a daemon folder: the per-arch feature gates
# (pure, GLib only; docs/fleet.md §1) and their data file; the guest OS
# rules (osinfo-db through libosinfo + etc/tern/guest-os-rules.ini).
noinst_LIBRARIES += libtern_fleet.a
TERN_LAYER_LIBS += libtern_fleet.a
libtern_fleet_a_SOURCES = fleet/gates.c fleet/gates.h \
	fleet/guest_os_rules.c fleet/guest_os_rules.h

fleet_gatesdir = $(sysconfdir)/tern
dist_fleet_gates_DATA = etc/tern/feature-gates.ini
# tern's guest OS rules on top of osinfo-db
dist_pkgdata_DATA += etc/tern/guest-os-rules.ini

check_PROGRAMS += tests/unit/test-fleet-gates
TESTS += tests/unit/test-fleet-gates
tests_unit_test_fleet_gates_SOURCES = tests/unit/test-fleet-gates.c
tests_unit_test_fleet_gates_LDADD = $(TERN_LIBS)
tests_unit_test_fleet_gates_DEPENDENCIES = $(TERN_LAYER_LIBS)

# e2e: a ppc64le guest emulated on an x86_64 host through the conductor (real
# QEMU TCG on the private libvirtd; skips without it)
TESTS += tests/e2e/test-emulated-guest-e2e.py
EXTRA_DIST += tests/e2e/test-emulated-guest-e2e.py

# tern-manage cpu compare against libvirt's own answers on this host (issue 13 §6)
TESTS += tests/integration/test-manage-cpu-libvirt.sh
EXTRA_DIST += tests/integration/test-manage-cpu-libvirt.sh
