# rpc/: oslo.messaging-compatible AMQP RPC (transport, server, client,
# envelope codec, request contexts, versioned objects).
include rpc/objects/sources.mk

noinst_LIBRARIES += libtern_rpc.a
TERN_LAYER_LIBS += libtern_rpc.a
libtern_rpc_a_SOURCES = \
	rpc/rpc.h rpc/rpc_private.h rpc/object.h \
	rpc/error.c \
	rpc/transport.c \
	rpc/connection.c \
	rpc/envelope.c \
	rpc/server.c \
	rpc/client.c \
	rpc/context.c \
	rpc/object.c \
	rpc/objects/objects.h \
	$(TERN_RPC_OBJECT_SOURCES)
EXTRA_DIST += rpc/objects/gen-tables.py

# The peer program of the compatibility tests (driven by a python script).
check_PROGRAMS += tests/compat/rpc-peer
tests_compat_rpc_peer_SOURCES = tests/compat/rpc-peer.c
tests_compat_rpc_peer_LDADD = $(TERN_LIBS)
tests_compat_rpc_peer_DEPENDENCIES = $(TERN_LAYER_LIBS)
TESTS += tests/compat/test-rpc-compat.py
EXTRA_DIST += tests/compat/test-rpc-compat.py
TESTS += tests/compat/test-rpc-reconnect.sh
EXTRA_DIST += tests/compat/test-rpc-reconnect.sh

# Codec unit tests against captured traffic (tests/data/rpc/, recorded by
# tests/compat/capture-wire.py).
check_PROGRAMS += tests/unit/test-rpc-codec
TESTS += tests/unit/test-rpc-codec
tests_unit_test_rpc_codec_SOURCES = tests/unit/test-rpc-codec.c
tests_unit_test_rpc_codec_LDADD = $(TERN_LIBS)
tests_unit_test_rpc_codec_DEPENDENCIES = $(TERN_LAYER_LIBS)
EXTRA_DIST += tests/data/rpc/trace.jsonl tests/data/rpc/topology.txt tests/compat/capture-wire.py

# libFuzzer target of the envelope and object decoders (runs ~20 s when clang is there).
TESTS += tests/fuzz/run-fuzz.sh
EXTRA_DIST += tests/fuzz/run-fuzz.sh tests/fuzz/fuzz-rpc.c tests/fuzz/corpus
CLEANFILES += tests/fuzz/fuzz-rpc tests/fuzz/build.log tests/fuzz/fuzz.log
TESTS += tests/compat/test-rpc-tls.sh
EXTRA_DIST += tests/compat/test-rpc-tls.sh
TESTS += tests/compat/test-rpc-topology.py
EXTRA_DIST += tests/compat/test-rpc-topology.py
