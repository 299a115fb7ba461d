# common/: configuration, logging, service main loop, small utilities.
noinst_LIBRARIES += libtern_common.a
TERN_LAYER_LIBS += libtern_common.a
libtern_common_a_SOURCES = \
	common/config.c common/config.h \
	common/config_opts.h \
	common/conf/all.c \
	common/conf/default.c \
	common/conf/database.c \
	common/conf/libvirt.c \
	common/conf/rabbit.c \
	common/conf/scheduler.c \
	common/conf/compute.c \
	common/conf/conductor.c \
	common/log.c common/log.h \
	common/mask.c common/mask.h \
	common/service.c common/service.h \
	common/util.c common/util.h
