/* ppc64le.c: tern's guest policy for POWER guests on the pseries machine,
 * little-endian (ppc64le) and big-endian (ppc64): SLOF firmware only, no
 * IDE or SATA, spapr-vscsi or virtio-scsi, spapr-vlan or virtio NICs, VNC
 * only (no SPICE, although QEMU may accept it), USB keyboard and tablet (no
 * PS/2), spapr-vty console (hvc0), CPU models or compat modes without
 * feature flags, SMT threads per core a power of two. */
#include "compute/arch/arch.h"

#include <string.h>

#include "compute/compute_error.h"
#include "compute/xml_util.h"

static const char *const arches_le[] = { "ppc64le", NULL };
static const char *const arches_be[] = { "ppc64", NULL };
static const char *const disk_buses[] = { "virtio", "scsi", "usb", NULL };
static const char *const nic_models[] = { "virtio", "spapr-vlan", "e1000", NULL };
static const char *const graphics[] = { "vnc", NULL };
static const char *const videos[] = { "vga", "virtio", "bochs", "none", NULL };

/* spapr-vscsi takes 8 units per target; unit 7 is kept free as on a
 * narrow SCSI bus, so 7 disks per controller, then the next controller. */
#define VSCSI_UNITS 7

static const char *
default_machine(const TernArchContext *ctx)
{
    return "pseries";
}

static int
check_machine(const TernArchContext *ctx, GError **error)
{
    if (g_str_has_prefix(ctx->machine, "pseries"))
        return 0;
    g_set_error(error, TERN_COMPUTE_ERROR, TERN_COMPUTE_ERROR_UNSUPPORTED,
                "machine type '%s' is not one tern runs %s guests on (pseries only)",
                ctx->machine, ctx->arch);
    return -1;
}

static int
check_firmware(const TernArchContext *ctx, const char *fw, GError **error)
{
    if (strcmp(fw, "bios") == 0)
        return 0;
    g_set_error(error, TERN_COMPUTE_ERROR, TERN_COMPUTE_ERROR_UNSUPPORTED,
                "hw_firmware_type '%s' is not available for %s guests: pseries boots "
                "with SLOF only (use bios or leave it unset)", fw, ctx->arch);
    return -1;
}

static const char *
default_disk_bus(const TernArchContext *ctx, const char *device)
{
    /* SLOF boots virtio-blk; a cdrom needs SCSI (no IDE/SATA here). */
    if (device && strcmp(device, "cdrom") == 0)
        return "scsi";
    return "virtio";
}

static int
check_in(const TernArchContext *ctx, const char *const *list, const char *what,
         const char *value, const char *why, GError **error)
{
    if (tern_arch_strv_has(list, value))
        return 0;
    g_autofree char *ok = tern_arch_strv_join(list);
    g_set_error(error, TERN_COMPUTE_ERROR, TERN_COMPUTE_ERROR_UNSUPPORTED,
                "%s '%s' is not available for %s guests%s (use one of %s)", what, value,
                ctx->arch, why, ok);
    return -1;
}

static int
check_disk_bus(const TernArchContext *ctx, const char *bus, GError **error)
{
    const char *why = "";
    if (strcmp(bus, "ide") == 0 || strcmp(bus, "sata") == 0)
        why = ": the pseries machine has no IDE or SATA controller";
    return check_in(ctx, disk_buses, "disk bus", bus, why, error);
}

static const char *
scsi_controller(const TernArchContext *ctx, const char *model, GError **error)
{
    if (!model || strcmp(model, "spapr-vscsi") == 0 || strcmp(model, "ibmvscsi") == 0)
        return "ibmvscsi";
    if (strcmp(model, "virtio-scsi") == 0)
        return "virtio-scsi";
    g_set_error(error, TERN_COMPUTE_ERROR, TERN_COMPUTE_ERROR_UNSUPPORTED,
                "hw_scsi_model '%s' is not available for %s guests (use spapr-vscsi or "
                "virtio-scsi)", model, ctx->arch);
    return NULL;
}

static guint
scsi_units_per_controller(const char *model)
{
    return strcmp(model, "ibmvscsi") == 0 ? VSCSI_UNITS : 256;
}

static const char *
default_nic_model(const TernArchContext *ctx)
{
    return "virtio";
}

static int
check_nic_model(const TernArchContext *ctx, const char *model, GError **error)
{
    return check_in(ctx, nic_models, "NIC model", model, "", error);
}

static int
check_graphics(const TernArchContext *ctx, const char *type, GError **error)
{
    const char *why = "";
    if (strcmp(type, "spice") == 0)
        why = ": tern offers VNC only on POWER (SPICE has no guest agent or QXL driver there)";
    return check_in(ctx, graphics, "graphics", type, why, error);
}

static const char *
default_video_model(const TernArchContext *ctx)
{
    return "vga";
}

static int
check_video_model(const TernArchContext *ctx, const char *model, GError **error)
{
    return check_in(ctx, videos, "video model", model, "", error);
}

static int
topology(const TernArchContext *ctx, TernTopology *topo, GError **error)
{
    guint t = ctx->spec->cpu_threads ? ctx->spec->cpu_threads : 1;
    if (t != 1 && t != 2 && t != 4 && t != 8) {
        g_set_error(error, TERN_COMPUTE_ERROR, TERN_COMPUTE_ERROR_UNSUPPORTED,
                    "hw_cpu_threads=%u: POWER cores run 1, 2, 4 or 8 SMT threads", t);
        return -1;
    }
    /* Under KVM a guest core is a host core: no more threads than the
     * host's SMT mode (POWER8: 8, POWER9 in SMT4 mode: 4). */
    if (g_strcmp0(ctx->guest->virt_type, "kvm") == 0 && ctx->host->threads_per_core &&
        t > ctx->host->threads_per_core) {
        g_set_error(error, TERN_COMPUTE_ERROR, TERN_COMPUTE_ERROR_UNSUPPORTED,
                    "hw_cpu_threads=%u exceeds this host's %u SMT threads per core (KVM "
                    "guests cannot have more)", t, ctx->host->threads_per_core);
        return -1;
    }
    return tern_arch_topology_default(ctx, topo, error);
}

static int
format_cpu(const TernArchContext *ctx, xmlNode *domain, const TernTopology *topo, GError **error)
{
    xmlNode *cpu = tern_arch_parse_cpu(ctx, domain->doc, error);
    if (!cpu)
        return -1;
    xmlAddChild(domain, cpu);
    for (xmlNode *c = cpu->children; c; c = c->next) {
        if (c->type == XML_ELEMENT_NODE && xmlStrEqual(c->name, BAD_CAST "feature")) {
            g_set_error(error, TERN_COMPUTE_ERROR, TERN_COMPUTE_ERROR_UNSUPPORTED,
                        "%s guest CPUs take no feature flags: name a POWER model or a "
                        "compat mode instead", ctx->arch);
            return -1;
        }
    }
    /* host-model + <model>power9</model> is a compat mode: the guest sees
     * that processor level on a newer host. Its model is a compat level,
     * not one of the custom models, so only the mode is checked. */
    g_autofree char *mode = (char *)xmlGetProp(cpu, BAD_CAST "mode");
    if (g_strcmp0(mode, "host-model") == 0) {
        if (ctx->guest->cpu_modes->len && !tern_str_array_has(ctx->guest->cpu_modes, "host-model")) {
            g_set_error(error, TERN_COMPUTE_ERROR, TERN_COMPUTE_ERROR_UNSUPPORTED,
                        "a POWER compat mode (cpu mode host-model) needs KVM: this host's %s "
                        "%s guests do not support host-model", ctx->arch, ctx->guest->virt_type);
            return -1;
        }
    } else if (tern_arch_check_cpu_domcaps(ctx, cpu, error) < 0) {
        return -1;
    }
    tern_arch_add_topology(cpu, topo);
    return 0;
}

static void
format_os(const TernArchContext *ctx, xmlNode *os)
{
    if (!ctx->spec->kernel) {
        xmlNode *boot = xmlNewChild(os, NULL, BAD_CAST "boot", NULL);
        xmlNewProp(boot, BAD_CAST "dev", BAD_CAST "hd");
    }
}

static void
format_features(const TernArchContext *ctx, xmlNode *domain)
{
}

static void
format_clock(const TernArchContext *ctx, xmlNode *domain)
{
    xmlNode *clock = xmlNewChild(domain, NULL, BAD_CAST "clock", NULL);
    xmlNewProp(clock, BAD_CAST "offset", BAD_CAST "utc");
}

static void
format_input(const TernArchContext *ctx, xmlNode *devices)
{
    static const char *const types[] = { "keyboard", "tablet" };
    for (gsize i = 0; i < G_N_ELEMENTS(types); i++) {
        xmlNode *in = xmlNewChild(devices, NULL, BAD_CAST "input", NULL);
        xmlNewProp(in, BAD_CAST "type", BAD_CAST types[i]);
        xmlNewProp(in, BAD_CAST "bus", BAD_CAST "usb");
    }
}

static void
format_console(const TernArchContext *ctx, xmlNode *devices)
{
    xmlNode *serial = tern_arch_add_serial(ctx, devices, "spapr-vio-serial", "spapr-vty");
    xmlNode *addr = xmlNewChild(serial, NULL, BAD_CAST "address", NULL);
    xmlNewProp(addr, BAD_CAST "type", BAD_CAST "spapr-vio");
    xmlNewProp(addr, BAD_CAST "reg", BAD_CAST "0x30000000");
    tern_arch_add_console(devices);
}

#define PPC64_TABLE(ARCHES, ENDIAN) \
    .arches = ARCHES, \
    .endianness = ENDIAN, \
    .kernel_console = "console=hvc0", \
    .default_machine = default_machine, \
    .check_machine = check_machine, \
    .check_firmware = check_firmware, \
    .default_disk_bus = default_disk_bus, \
    .check_disk_bus = check_disk_bus, \
    .scsi_controller = scsi_controller, \
    .scsi_units_per_controller = scsi_units_per_controller, \
    .default_nic_model = default_nic_model, \
    .check_nic_model = check_nic_model, \
    .check_graphics = check_graphics, \
    .default_video_model = default_video_model, \
    .check_video_model = check_video_model, \
    .topology = topology, \
    .format_cpu = format_cpu, \
    .format_os = format_os, \
    .format_features = format_features, \
    .format_clock = format_clock, \
    .format_input = format_input, \
    .format_console = format_console

const TernArchDriver tern_arch_ppc64le = { .name = "ppc64le", PPC64_TABLE(arches_le, "little") };
/* Big-endian POWER guests: same machine and devices, a different arch:
 * the scheduler never mixes them up because the arch names differ. */
const TernArchDriver tern_arch_ppc64 = { .name = "ppc64", PPC64_TABLE(arches_be, "big") };
