/* guest_spec.h: TernGuestSpec, everything tern needs to build one guest's
 * domain XML: the instance (uuid, name, flavor sizes), the image properties
 * that shape the guest (Nova's names: hw_architecture,
 * hw_emulation_architecture, hw_machine_type, hw_disk_bus, hw_vif_model,
 * hw_video_model, hw_scsi_model, hw_cpu_*, os_distro...), the guest <cpu>
 * XML cpu/ chose, the disks (already created, see instance_disk.h), NICs,
 * console and an optional direct kernel boot.
 *
 * The RPC layer fills one from Nova's objects; tests read one from JSON
 * with the same key names (tern_guest_spec_from_json). */
#ifndef TERN_GUEST_SPEC_H
#define TERN_GUEST_SPEC_H

#include <glib.h>
#include <jansson.h>

typedef struct {
    char *path;      /* the file: a qcow2 overlay, a raw file, an ISO */
    char *format;    /* qcow2 (default) or raw */
    char *bus;       /* virtio, scsi, sata, ide, usb; NULL: hw_disk_bus / arch default */
    char *device;    /* disk (default) or cdrom */
    gboolean readonly;
} TernDiskSpec;

typedef struct {
    char *type;      /* network (default), bridge, user, ethernet */
    char *source;    /* network / bridge / tap name (not for user) */
    char *mac;       /* NULL: libvirt picks one */
    char *model;     /* virtio, e1000, e1000e, rtl8139, spapr-vlan; NULL: hw_vif_model / arch default */
} TernNicSpec;

typedef struct {
    char *uuid;
    char *name;                   /* any text: escaped in the XML */
    char *virt_type;              /* [libvirt] virt_type: kvm or qemu (TCG) */
    guint vcpus;
    guint64 memory_mb;
    /* image properties (NULL / 0 = unset) */
    char *arch;                   /* hw_architecture; NULL = the host's arch */
    char *emulation_arch;         /* hw_emulation_architecture: a guest arch emulated by TCG */
    char *machine_type;           /* hw_machine_type: alias (q35, pseries) or versioned */
    /* [libvirt] hw_machine_type of the host ("arch=machine" items), used
     * when the image names no machine type */
    char **machine_type_defaults;
    char *firmware;               /* hw_firmware_type: bios or uefi */
    guint cpu_sockets, cpu_cores, cpu_threads;  /* hw_cpu_sockets/cores/threads */
    char *os_distro;              /* os_distro: an osinfo short id, e.g. debian11 */
    char *os_version;             /* os_version: with os_distro "debian", "11" */
    char *disk_bus;               /* hw_disk_bus */
    char *cdrom_bus;              /* hw_cdrom_bus */
    char *vif_model;              /* hw_vif_model */
    char *video_model;            /* hw_video_model */
    char *scsi_model;             /* hw_scsi_model: virtio-scsi or spapr-vscsi */
    char *graphics;               /* vnc, spice or none; NULL = vnc */
    /* the guest <cpu> element produced by cpu/; NULL = hypervisor default */
    char *cpu_xml;
    /* direct kernel boot (tests, appliances) */
    char *kernel, *initrd, *cmdline;
    char *console_log;            /* file the serial console is logged to (NULL: none) */
    GPtrArray *disks;             /* TernDiskSpec* */
    GPtrArray *nics;              /* TernNicSpec* */
} TernGuestSpec;

TernGuestSpec *tern_guest_spec_new(void);
void tern_guest_spec_free(TernGuestSpec *spec);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(TernGuestSpec, tern_guest_spec_free)

TernDiskSpec *tern_guest_spec_add_disk(TernGuestSpec *spec, const char *path, const char *bus);
TernNicSpec *tern_guest_spec_add_nic(TernGuestSpec *spec, const char *type, const char *source,
                                     const char *model);

/* Read a spec from a JSON object with the field names above (image
 * properties under their Nova names, "disks": [{path, format, bus, device,
 * readonly}], "nics": [{type, source, mac, model}]). Unknown keys are an
 * error so that a typo in a test case cannot pass silently. */
TernGuestSpec *tern_guest_spec_from_json(json_t *obj, GError **error);

#endif
