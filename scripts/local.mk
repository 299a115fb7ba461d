# scripts/: install dependencies, private services, tests, quickstart.
EXTRA_DIST += scripts/install-deps scripts/services scripts/hosts scripts/test scripts/quickstart \
	scripts/lib.sh
