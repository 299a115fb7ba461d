# conductor/: tern-conductor.
sbin_PROGRAMS += tern-conductor
tern_conductor_SOURCES = conductor/main.c conductor/conductor_service.c conductor/conductor_service.h
tern_conductor_LDADD = $(TERN_LIBS)
tern_conductor_DEPENDENCIES = $(TERN_LAYER_LIBS)
