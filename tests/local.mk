# tests/: unit tests (GTest, no services), integration tests (real RabbitMQ,
# PostgreSQL, libvirt started by scripts/services), compat tests (Debian's
# python3-nova / oslo.messaging as the peer), e2e tests (QEMU guests).
# Tests that need a service skip themselves when scripts/services has not
# exported it (TERN_TEST_TRANSPORT_URL, TERN_TEST_DB_URL, TERN_TEST_LIBVIRT_URI).
EXTRA_DIST += tests/run-one tests/tap.sh tests/lsan.supp

check_PROGRAMS += tests/unit/test-config tests/unit/test-log
TESTS += tests/unit/test-config tests/unit/test-log tests/unit/test-sample.sh \
	tests/integration/test-daemons.sh
EXTRA_DIST += tests/unit/test-sample.sh tests/integration/test-daemons.sh

tests_unit_test_config_SOURCES = tests/unit/test-config.c
tests_unit_test_config_LDADD = $(TERN_LIBS)
tests_unit_test_config_DEPENDENCIES = $(TERN_LAYER_LIBS)
tests_unit_test_log_SOURCES = tests/unit/test-log.c
tests_unit_test_log_LDADD = $(TERN_LIBS)
tests_unit_test_log_DEPENDENCIES = $(TERN_LAYER_LIBS)
