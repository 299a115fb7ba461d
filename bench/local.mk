# bench/: benchmarks that print figures and ratios against the alternative.

# bench/rpc: RPC round trip, tern C vs oslo.messaging vs raw AMQP.
noinst_PROGRAMS += bench/rpc-bench
bench_rpc_bench_SOURCES = bench/rpc-bench.c
bench_rpc_bench_LDADD = $(TERN_LIBS)
bench_rpc_bench_DEPENDENCIES = $(TERN_LAYER_LIBS)
EXTRA_DIST += bench/rpc bench/rpc-oslo.py bench/steal.py

# bench/rpc-memory: VmRSS of a running tern-conductor and of the rpc test
# server over 100,000 RPCs (calls + casts).
noinst_PROGRAMS += bench/rpc-memory-drive
bench_rpc_memory_drive_SOURCES = bench/rpc-memory-drive.c
bench_rpc_memory_drive_LDADD = $(TERN_LIBS)
bench_rpc_memory_drive_DEPENDENCIES = $(TERN_LAYER_LIBS)
EXTRA_DIST += bench/rpc-memory

# The benchmarks still run and print their tables (small sizes, no figure
# checked).
TESTS += tests/integration/test-bench-smoke.sh
EXTRA_DIST += tests/integration/test-bench-smoke.sh
