/* host_facts.h: what a hypervisor host is and can run, as tern-compute
 * reports it and as the domain XML builder checks requests against it.
 *
 * Filled from libvirt's capabilities XML (host arch, host <cpu>, guest
 * arches, emulators, machine types, domain types), domain capabilities XML
 * per guest arch + virt type (disk buses, graphics, video, firmware, CPU
 * modes and models) and node info. The raw host <cpu> and domain
 * capabilities XML are kept as text for cpu/ to read: this file parses no
 * CPU models or features. See host_probe.h for where the XML comes from. */
#ifndef TERN_HOST_FACTS_H
#define TERN_HOST_FACTS_H

#include <glib.h>
#include <jansson.h>

typedef struct {
    char *name;          /* e.g. pc-q35-10.0, pseries-10.0, q35 (an alias) */
    char *canonical;     /* what an alias stands for (NULL if not an alias) */
    gboolean deprecated;
    int max_cpus;        /* 0 if unknown */
} TernMachineType;

/* One (guest arch, virt type) the host offers. */
typedef struct {
    char *arch;          /* libvirt arch name: x86_64, ppc64le, ppc64, i686... */
    char *virt_type;     /* libvirt domain type: qemu (TCG), kvm, test */
    char *os_type;       /* hvm */
    char *emulator;      /* e.g. /usr/bin/qemu-system-ppc64 */
    GPtrArray *machines; /* TernMachineType* */
    /* From the domain capabilities (NULL/empty when libvirt gave none,
     * e.g. the test driver without host facts files): */
    char *domcaps_xml;
    char *domcaps_machine;     /* the versioned machine they describe */
    int max_vcpus;             /* 0 if unknown */
    GPtrArray *disk_buses;     /* char*: virtio, scsi, sata, ide, usb, fdc */
    GPtrArray *disk_devices;   /* disk, cdrom, lun, floppy */
    GPtrArray *graphics_types; /* vnc, spice, sdl... */
    GPtrArray *video_models;   /* vga, virtio, cirrus, qxl, bochs, none... */
    GPtrArray *firmwares;      /* efi, bios (empty: only the default) */
    GPtrArray *cpu_modes;      /* supported modes: custom, host-model... */
    GPtrArray *cpu_models;     /* models of custom mode */
    GPtrArray *cpu_models_usable; /* of which those not marked usable='no' (under TCG:
                                     what QEMU can emulate) */
} TernGuestFacts;

typedef struct {
    char *arch;                 /* host arch */
    char *hostname;
    char *hypervisor_type;      /* QEMU, Test */
    guint64 hypervisor_version; /* libvirt encoding: major*1000000+minor*1000+micro */
    guint64 libvirt_version;
    guint vcpus;
    guint threads_per_core;     /* from the host <cpu><topology>; 0 if unknown */
    guint64 memory_mb;
    guint64 disk_gb;            /* size of the instances folder's file system */
    guint64 disk_free_gb;
    char *host_cpu_xml;         /* raw <cpu> of <host>, for cpu/ */
    char *capabilities_xml;     /* raw capabilities */
    gboolean simulated;         /* facts read from [libvirt] host_facts_dir */
    /* [compute] guest_endianness: NULL/"any", or "little"/"big" when every
     * guest of this host must share one byte order (PowerKVM's rule) */
    char *guest_endianness;
    GPtrArray *guests;          /* TernGuestFacts* */
} TernHostFacts;

TernHostFacts *tern_host_facts_new(void);
void tern_host_facts_free(TernHostFacts *facts);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(TernHostFacts, tern_host_facts_free)

/* Fill arch, host CPU XML, threads per core, memory and vCPUs (from the
 * NUMA cells) and one TernGuestFacts per (guest arch, domain type). */
int tern_host_facts_parse_capabilities(TernHostFacts *facts, const char *caps_xml,
                                       GError **error);
/* Attach one domain capabilities document to the guest facts of its
 * (arch, domain type); an error if the host offers no such guest. */
int tern_host_facts_add_domcaps(TernHostFacts *facts, const char *domcaps_xml,
                                GError **error);

/* The guest facts for (arch, virt type), or NULL. */
TernGuestFacts *tern_host_facts_find_guest(const TernHostFacts *facts, const char *arch,
                                           const char *virt_type);

/* Nova's supported_instances: [[arch, hv_type, vm_mode], ...] for the guest
 * arches tern has a strategy for (compute/arch/arch.h) and whose byte order
 * guest_endianness allows. */
json_t *tern_host_facts_supported_instances(const TernHostFacts *facts);

/* May this host run guests of that byte order ("little", "big")? */
gboolean tern_host_facts_endianness_allows(const TernHostFacts *facts, const char *endianness);

/* A JSON summary for operators and inventory reports: host figures,
 * supported_instances, and per guest (arch, virt type) the emulator,
 * machine type aliases, disk buses, graphics, video models, CPU modes. */
json_t *tern_host_facts_to_json(const TernHostFacts *facts);

/* The versioned machine type a request resolves to: an alias (q35,
 * pseries) becomes its canonical name; a versioned name must be offered.
 * NULL + error naming the offered ones otherwise. */
char *tern_guest_facts_resolve_machine(const TernGuestFacts *guest, const char *requested,
                                       GError **error);

#endif
