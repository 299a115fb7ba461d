# scheduler/: tern-scheduler.
sbin_PROGRAMS += tern-scheduler
tern_scheduler_SOURCES = scheduler/main.c scheduler/scheduler_service.c scheduler/scheduler_service.h
tern_scheduler_LDADD = $(TERN_LIBS)
tern_scheduler_DEPENDENCIES = $(TERN_LAYER_LIBS)
