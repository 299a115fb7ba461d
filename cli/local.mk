# cli/: tern-manage (admin) and tern, the operator's client.
bin_PROGRAMS += tern-manage
tern_manage_SOURCES = cli/manage.c cli/manage.h cli/manage_config.c cli/manage_cpu.c cli/manage_cpu_hosts.c \
	cli/manage_db.c
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
