# compute/: tern-compute.
sbin_PROGRAMS += tern-compute
tern_compute_SOURCES = compute/main.c compute/compute_service.c compute/compute_service.h
tern_compute_LDADD = $(TERN_LIBS)
tern_compute_DEPENDENCIES = $(TERN_LAYER_LIBS)
