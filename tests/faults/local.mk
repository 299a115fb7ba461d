# tests/faults/local.mk: issue 11's fault tests on real daemons (kill -9 of
# tern-conductor, tern-scheduler and tern-compute in the middle of builds,
# RabbitMQ and PostgreSQL restarts, duplicate deliveries). They start a
# RabbitMQ, PostgreSQL or libvirtd of their own with scripts/services where
# they restart or freeze it, and skip without the services of scripts/test.
TESTS += tests/faults/test-faults-build.py tests/faults/test-faults-delivery.py
EXTRA_DIST += tests/faults/faults_env.py tests/faults/test-faults-build.py \
	tests/faults/test-faults-delivery.py

# Mid-migration faults with real QEMU guests on two namespaced hosts
# (tests/e2e/migration_world.py); skipped without root or guest assets.
TESTS += tests/e2e/test-faults-migration-e2e.py
EXTRA_DIST += tests/e2e/test-faults-migration-e2e.py
