# cpu/: CPU models, feature flags and compatibility for x86_64 and ppc64le,
# from libvirt's cpu_map (see cpu/cpu.h and docs/cpu.md).
noinst_LIBRARIES += libtern_cpu.a
TERN_LAYER_LIBS += libtern_cpu.a
libtern_cpu_a_SOURCES = \
	cpu/cpu.h cpu/cpu.c \
	cpu/cpu_db.h cpu/cpu_db.c \
	cpu/cpu_featureset.h cpu/cpu_featureset.c \
	cpu/cpu_x86.c cpu/cpu_ppc64.c \
	cpu/cpu_host.c cpu/cpu_guest.c cpu/cpu_compare.c \
	cpu/cpu_traits.c cpu/cpu_xml.c
