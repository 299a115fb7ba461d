# tests/reliability.mk: issue 11's tests (TLS, bad config, fuzzing).

# TLS: AMQP and PostgreSQL against `scripts/services start rabbitmq-tls postgresql-tls`.
TESTS += tests/integration/test-tls.sh
EXTRA_DIST += tests/integration/test-tls.sh

# Bad config files through the real daemons' start.
TESTS += tests/integration/test-bad-config.sh
EXTRA_DIST += tests/integration/test-bad-config.sh

# Fuzz targets: in `make check`, a replay of the corpus plus seeded
# mutations (fuzz-replay.c, any compiler); `scripts/fuzz` builds them with
# clang's libFuzzer (`make libfuzzer-targets` in a clang build) for long runs.
check_PROGRAMS += tests/fuzz/replay-config tests/fuzz/replay-host-facts
TESTS += tests/fuzz/replay-config tests/fuzz/replay-host-facts
tests_fuzz_replay_config_SOURCES = tests/fuzz/fuzz-config.c tests/fuzz/fuzz-replay.c
tests_fuzz_replay_config_CPPFLAGS = $(AM_CPPFLAGS) -DTERN_FUZZ_TARGET=\"config\"
tests_fuzz_replay_config_LDADD = $(TERN_LIBS)
tests_fuzz_replay_config_DEPENDENCIES = $(TERN_LAYER_LIBS)
tests_fuzz_replay_host_facts_SOURCES = tests/fuzz/fuzz-host-facts.c tests/fuzz/fuzz-replay.c
tests_fuzz_replay_host_facts_CPPFLAGS = $(AM_CPPFLAGS) -DTERN_FUZZ_TARGET=\"host-facts\"
tests_fuzz_replay_host_facts_LDADD = $(TERN_LIBS)
tests_fuzz_replay_host_facts_DEPENDENCIES = $(TERN_LAYER_LIBS)
EXTRA_DIST += tests/fuzz/corpus/config tests/fuzz/corpus/host-facts

# The libFuzzer binaries of every target (config, host-facts, cpu, rpc);
# only meaningful in a build configured with CC=clang and CFLAGS containing
# -fsanitize=fuzzer-no-link (scripts/fuzz does that in _build/fuzz).
LIBFUZZER_TARGETS = config host-facts cpu rpc
libfuzzer-targets: $(TERN_LAYER_LIBS)
	@mkdir -p tests/fuzz
	for t in $(LIBFUZZER_TARGETS); do \
		$(CC) $(CFLAGS) -fsanitize=fuzzer -DTERN_LIBFUZZER $(DEFAULT_INCLUDES) $(AM_CPPFLAGS) $(CPPFLAGS) \
			$(srcdir)/tests/fuzz/fuzz-$$t.c -o tests/fuzz/libfuzzer-$$t $(TERN_LIBS) || exit 1; \
	done
.PHONY: libfuzzer-targets
EXTRA_DIST += scripts/fuzz

# Resource bounds (prefetch, worker pool, message size) through rpc/'s server.
TESTS += tests/integration/test-rpc-bounds.py
EXTRA_DIST += tests/integration/test-rpc-bounds.py

# libvirt live migration over TLS between two namespaced hosts (real TCG guest).
TESTS += tests/e2e/test-migration-tls.py
EXTRA_DIST += tests/e2e/test-migration-tls.py

# Bad RPC input against the running conductor, scheduler and compute.
TESTS += tests/integration/test-bad-input-daemons.py
EXTRA_DIST += tests/integration/test-bad-input-daemons.py
