# cli/: tern-manage (admin) and tern, the operator's client.
bin_PROGRAMS += tern-manage
tern_manage_SOURCES = cli/manage.c cli/manage.h cli/manage_config.c cli/manage_cpu.c \
	cli/manage_cpu_hosts.c cli/manage_db.c cli/manage_compute.c
tern_manage_LDADD = $(TERN_LIBS)
tern_manage_DEPENDENCIES = $(TERN_LAYER_LIBS)

bin_PROGRAMS += tern
tern_SOURCES = cli/tern.c cli/tern_cli.h cli/tern_output.c cli/tern_output.h \
	cli/tern_server.c cli/tern_host.c cli/tern_migration.c cli/tern_catalog.c
tern_LDADD = $(TERN_LIBS)
tern_DEPENDENCIES = $(TERN_LAYER_LIBS)

# flavors an operator can start from (tern server create --flavor)
dist_pkgdata_DATA += etc/tern/flavors.ini

# tests: the tern CLI against a tern_admin peer on a real RabbitMQ
TESTS += tests/integration/test-cli.sh
EXTRA_DIST += tests/integration/test-cli.sh tests/integration/cli-peer.py
# the tern CLI against the real tern-conductor and tern-scheduler
TESTS += tests/integration/test-cli-daemons.py
EXTRA_DIST += tests/integration/test-cli-daemons.py

# man pages, generated from --help / --version (help2man, in install-deps)
if HAVE_HELP2MAN
man1_MANS = tern.1 tern-manage.1
CLEANFILES += tern.1 tern-manage.1
tern.1: tern$(EXEEXT)
	$(AM_V_GEN)$(HELP2MAN) --no-info --no-discard-stderr \
		--name="operate a tern cloud: servers, hosts, live migrations" \
		--include=$(srcdir)/cli/tern.h2m --output=$@ ./tern$(EXEEXT)
tern-manage.1: tern-manage$(EXEEXT)
	$(AM_V_GEN)$(HELP2MAN) --no-info --no-discard-stderr \
		--name="administer a tern cloud: database, services, config, CPU tools" \
		--output=$@ ./tern-manage$(EXEEXT)
endif
EXTRA_DIST += cli/tern.h2m
# scripts/quickstart in a fresh clone (opt-in: TERN_TEST_QUICKSTART=1, as root)
TESTS += tests/integration/test-quickstart.sh
EXTRA_DIST += tests/integration/test-quickstart.sh
