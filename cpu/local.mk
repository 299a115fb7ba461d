# cpu/: CPU models, feature flags and compatibility for x86_64 and ppc64le,
# from libvirt's cpu_map (see cpu/cpu.h and docs/cpu.md).
noinst_LIBRARIES += libtern_cpu.a
TERN_LAYER_LIBS += libtern_cpu.a
libtern_cpu_a_SOURCES = \
	cpu/cpu.h cpu/cpu.c \
	cpu/cpu_db.h cpu/cpu_db.c \
	cpu/cpu_featureset.h cpu/cpu_featureset.c \
	cpu/cpu_x86.c cpu/cpu_ppc64.c \
	cpu/cpu_host.c cpu/cpu_guest.c cpu/cpu_compare.c \
	cpu/cpu_traits.c cpu/cpu_xml.c cpu/cpu_info.c

# Tests: table tests (unit), traits against python3-nova, and differential
# tests against real libvirt (test:///default; a real libvirtd when
# TERN_TEST_LIBVIRT_URI is set).
check_PROGRAMS += tests/unit/test-cpu tests/integration/test-cpu-libvirt
TESTS += tests/unit/test-cpu tests/unit/test-cpu-traits.py tests/unit/test-manage-cpu.sh \
	tests/integration/test-cpu-libvirt
EXTRA_DIST += tests/unit/test-cpu-traits.py tests/unit/test-manage-cpu.sh tests/data/cpu
tests_unit_test_cpu_SOURCES = tests/unit/test-cpu.c
tests_unit_test_cpu_LDADD = $(TERN_LIBS)
tests_unit_test_cpu_DEPENDENCIES = $(TERN_LAYER_LIBS)
tests_integration_test_cpu_libvirt_SOURCES = tests/integration/test-cpu-libvirt.c
tests_integration_test_cpu_libvirt_LDADD = $(TERN_LIBS)
tests_integration_test_cpu_libvirt_DEPENDENCIES = $(TERN_LAYER_LIBS)

# bench/cpu: one request against 10,000 hosts, memory per host.
noinst_PROGRAMS += bench/cpu
bench_cpu_SOURCES = bench/cpu.c
bench_cpu_LDADD = $(TERN_LIBS)
bench_cpu_DEPENDENCIES = $(TERN_LAYER_LIBS)

# Fuzz target of the decoders (capabilities/domcaps/<cpu> XML, cpu_info
# JSON): a seeded replay + mutation test in `make check`; `make fuzz-cpu`
# builds the libFuzzer binary with clang (run: mkdir corpus; ./fuzz-cpu corpus
# tests/data/cpu -- the first folder collects new inputs).
check_PROGRAMS += tests/fuzz/fuzz-cpu
TESTS += tests/fuzz/fuzz-cpu
tests_fuzz_fuzz_cpu_SOURCES = tests/fuzz/fuzz-cpu.c
tests_fuzz_fuzz_cpu_LDADD = $(TERN_LIBS)
tests_fuzz_fuzz_cpu_DEPENDENCIES = $(TERN_LAYER_LIBS)
CLEANFILES += fuzz-cpu
fuzz-cpu: $(libtern_cpu_a_SOURCES) tests/fuzz/fuzz-cpu.c
	clang -g -O1 -fsanitize=fuzzer,address,undefined -DTERN_LIBFUZZER \
		$(DEFAULT_INCLUDES) $(AM_CPPFLAGS) \
		$(addprefix $(srcdir)/,$(filter %.c,$(libtern_cpu_a_SOURCES))) \
		$(srcdir)/tests/fuzz/fuzz-cpu.c -o $@ $(LIBXML_LIBS) $(JANSSON_LIBS) $(GLIB_LIBS)
