/* arch.h: the per-architecture guest strategy of tern-compute.
 *
 * Everything that differs between guest arches when tern builds a domain
 * sits in one TernArchDriver table per arch family (x86_64.c, ppc64le.c),
 * and arch.c is the only place that picks a table by arch name: nothing
 * else in tern switches on an arch. The shape is libvirt's cpuArchDriver.
 *
 * A table holds tern's policy only. What the hypervisor can do (disk buses,
 * graphics, video models, firmware, CPU modes and models, machine types)
 * comes from the host facts (host_facts.h: capabilities + domain
 * capabilities) and is checked by the generic builder (domain_xml.c);
 * what a guest OS can drive comes from guest_os_rules.h. Adding an arch
 * (aarch64) is one new file with one table, plus its entry in arch.c. */
#ifndef TERN_COMPUTE_ARCH_H
#define TERN_COMPUTE_ARCH_H

#include <glib.h>
#include <libxml/tree.h>

#include "compute/guest_spec.h"
#include "compute/host_facts.h"

/* What a hook sees: the request and the facts of the host it runs on. */
typedef struct {
    const TernGuestSpec *spec;
    const TernHostFacts *host;
    const TernGuestFacts *guest;   /* facts of (guest arch, virt type) */
    const char *arch;              /* the guest arch (libvirt name) */
    const char *machine;           /* the versioned machine type chosen */
} TernArchContext;

typedef struct {
    guint sockets, cores, threads;
} TernTopology;

typedef struct _TernArchDriver TernArchDriver;
struct _TernArchDriver {
    const char *name;
    const char *const *arches;     /* libvirt arch names this table serves */
    const char *kernel_console;    /* console= argument for direct kernel boot */
    const char *endianness;        /* "little" or "big": guests' byte order */

    /* Machine type alias used when the request names none (q35, pseries). */
    const char *(*default_machine)(const TernArchContext *ctx);
    /* Is the chosen machine type one tern runs on this arch? */
    int (*check_machine)(const TernArchContext *ctx, GError **error);
    /* Firmware (bios, uefi): tern's policy; the builder also checks
     * that the domain capabilities offer it. */
    int (*check_firmware)(const TernArchContext *ctx, const char *firmware, GError **error);

    /* Devices: the default when the request names none, and tern's policy
     * on what the request names (NULL device = a disk, "cdrom" = a cdrom). */
    const char *(*default_disk_bus)(const TernArchContext *ctx, const char *device);
    int (*check_disk_bus)(const TernArchContext *ctx, const char *bus, GError **error);
    /* SCSI controller (libvirt model name) for hw_scsi_model (may be NULL),
     * or NULL + error when the arch cannot use that model. */
    const char *(*scsi_controller)(const TernArchContext *ctx, const char *hw_scsi_model,
                                   GError **error);
    /* Disks one SCSI controller of that model takes before the next one. */
    guint (*scsi_units_per_controller)(const char *controller_model);
    const char *(*default_nic_model)(const TernArchContext *ctx);
    int (*check_nic_model)(const TernArchContext *ctx, const char *model, GError **error);
    int (*check_graphics)(const TernArchContext *ctx, const char *type, GError **error);
    const char *(*default_video_model)(const TernArchContext *ctx);
    int (*check_video_model)(const TernArchContext *ctx, const char *model, GError **error);

    /* vCPU topology from hw_cpu_sockets/cores/threads (0 = unset). */
    int (*topology)(const TernArchContext *ctx, TernTopology *topo, GError **error);
    /* Put the guest <cpu> (from spec->cpu_xml, checked against the arch's
     * rules and the domain capabilities) with the topology under domain. */
    int (*format_cpu)(const TernArchContext *ctx, xmlNode *domain, const TernTopology *topo,
                      GError **error);
    /* <os> children after <type> and the kernel (loader, bios...). */
    void (*format_os)(const TernArchContext *ctx, xmlNode *os);
    void (*format_features)(const TernArchContext *ctx, xmlNode *domain);
    void (*format_clock)(const TernArchContext *ctx, xmlNode *domain);
    /* Input devices for a guest with graphics. */
    void (*format_input)(const TernArchContext *ctx, xmlNode *devices);
    /* The serial console (and its log file, spec->console_log). */
    void (*format_console)(const TernArchContext *ctx, xmlNode *devices);
};

/* The table that serves a libvirt arch name, or NULL. */
const TernArchDriver *tern_arch_driver_find(const char *arch);
/* Same, with an error naming the arches tern has a strategy for. */
const TernArchDriver *tern_arch_driver_get(const char *arch, GError **error);
/* "x86_64, ppc64le, ppc64" */
char *tern_arch_driver_names(void);

/* Helpers the tables share (arch_common.c); they take no arch decision. */
int tern_arch_topology_default(const TernArchContext *ctx, TernTopology *topo, GError **error);
xmlNode *tern_arch_parse_cpu(const TernArchContext *ctx, xmlDoc *target, GError **error);
void tern_arch_add_topology(xmlNode *cpu, const TernTopology *topo);
int tern_arch_check_cpu_domcaps(const TernArchContext *ctx, xmlNode *cpu, GError **error);
xmlNode *tern_arch_add_serial(const TernArchContext *ctx, xmlNode *devices,
                              const char *target_type, const char *model);
void tern_arch_add_console(xmlNode *devices);
gboolean tern_arch_strv_has(const char *const *list, const char *s);
char *tern_arch_strv_join(const char *const *list);

#endif
