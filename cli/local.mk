# cli/: tern-manage (admin) and, later, the tern operator client.
bin_PROGRAMS += tern-manage
tern_manage_SOURCES = cli/manage.c cli/manage.h cli/manage_config.c cli/manage_cpu.c cli/manage_db.c cli/manage_compute.c
tern_manage_LDADD = $(TERN_LIBS)
tern_manage_DEPENDENCIES = $(TERN_LAYER_LIBS)
