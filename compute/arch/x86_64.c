/* x86_64.c: tern's guest policy for x86_64 (q35/pc machines, SeaBIOS or
 * UEFI, x86 CPU models with features, SPICE or VNC, ISA serial console). */
#include "compute/arch/arch.h"

#include <string.h>

#include "compute/compute_error.h"

static const char *const arches[] = { "x86_64", NULL };
static const char *const disk_buses[] = { "virtio", "scsi", "sata", "ide", "usb", NULL };
static const char *const nic_models[] = { "virtio", "e1000", "e1000e", "rtl8139", NULL };
static const char *const graphics[] = { "vnc", "spice", NULL };
static const char *const videos[] = { "virtio", "vga", "cirrus", "qxl", "bochs", "none", NULL };
static const char *const scsi_models[] = { "virtio-scsi", NULL };

static gboolean
machine_is_q35(const TernArchContext *ctx)
{
    return g_str_has_prefix(ctx->machine, "pc-q35") || strcmp(ctx->machine, "q35") == 0;
}

static const char *
default_machine(const TernArchContext *ctx)
{
    return "q35";
}

static int
check_machine(const TernArchContext *ctx, GError **error)
{
    if (machine_is_q35(ctx) || g_str_has_prefix(ctx->machine, "pc-i440fx") ||
        strcmp(ctx->machine, "pc") == 0)
        return 0;
    g_set_error(error, TERN_COMPUTE_ERROR, TERN_COMPUTE_ERROR_UNSUPPORTED,
                "machine type '%s' is not one tern runs x86_64 guests on (q35 or pc)",
                ctx->machine);
    return -1;
}

static int
check_firmware(const TernArchContext *ctx, const char *fw, GError **error)
{
    if (strcmp(fw, "bios") == 0 || strcmp(fw, "uefi") == 0)
        return 0;
    g_set_error(error, TERN_COMPUTE_ERROR, TERN_COMPUTE_ERROR_UNSUPPORTED,
                "hw_firmware_type '%s' is not one of bios, uefi", fw);
    return -1;
}

static const char *
default_disk_bus(const TernArchContext *ctx, const char *device)
{
    if (device && strcmp(device, "cdrom") == 0)
        return machine_is_q35(ctx) ? "sata" : "ide";
    return "virtio";
}

static int
check_disk_bus(const TernArchContext *ctx, const char *bus, GError **error)
{
    if (!tern_arch_strv_has(disk_buses, bus)) {
        g_autofree char *ok = tern_arch_strv_join(disk_buses);
        g_set_error(error, TERN_COMPUTE_ERROR, TERN_COMPUTE_ERROR_UNSUPPORTED,
                    "disk bus '%s' is not available for x86_64 guests (use one of %s)", bus, ok);
        return -1;
    }
    if (strcmp(bus, "ide") == 0 && machine_is_q35(ctx)) {
        g_set_error(error, TERN_COMPUTE_ERROR, TERN_COMPUTE_ERROR_UNSUPPORTED,
                    "disk bus 'ide' is not available on machine type %s (q35 has no IDE "
                    "controller): use sata, or hw_machine_type=pc", ctx->machine);
        return -1;
    }
    return 0;
}

static const char *
scsi_controller(const TernArchContext *ctx, const char *model, GError **error)
{
    if (!model || tern_arch_strv_has(scsi_models, model))
        return "virtio-scsi";
    g_set_error(error, TERN_COMPUTE_ERROR, TERN_COMPUTE_ERROR_UNSUPPORTED,
                "hw_scsi_model '%s' is not available for x86_64 guests (use virtio-scsi)", model);
    return NULL;
}

static guint
scsi_units_per_controller(const char *model)
{
    return 256;
}

static const char *
default_nic_model(const TernArchContext *ctx)
{
    return "virtio";
}

static int
check_in(const char *const *list, const char *what, const char *value, GError **error)
{
    if (tern_arch_strv_has(list, value))
        return 0;
    g_autofree char *ok = tern_arch_strv_join(list);
    g_set_error(error, TERN_COMPUTE_ERROR, TERN_COMPUTE_ERROR_UNSUPPORTED,
                "%s '%s' is not available for x86_64 guests (use one of %s)", what, value, ok);
    return -1;
}

static int
check_nic_model(const TernArchContext *ctx, const char *model, GError **error)
{
    return check_in(nic_models, "NIC model", model, error);
}

static int
check_graphics(const TernArchContext *ctx, const char *type, GError **error)
{
    return check_in(graphics, "graphics", type, error);
}

static const char *
default_video_model(const TernArchContext *ctx)
{
    return "vga";
}

static int
check_video_model(const TernArchContext *ctx, const char *model, GError **error)
{
    if (check_in(videos, "video model", model, error) < 0)
        return -1;
    if (strcmp(model, "qxl") == 0 && g_strcmp0(ctx->spec->graphics, "spice") != 0) {
        g_set_error(error, TERN_COMPUTE_ERROR, TERN_COMPUTE_ERROR_UNSUPPORTED,
                    "video model 'qxl' is only offered with SPICE graphics");
        return -1;
    }
    return 0;
}

static int
format_cpu(const TernArchContext *ctx, xmlNode *domain, const TernTopology *topo, GError **error)
{
    xmlNode *cpu = tern_arch_parse_cpu(ctx, domain->doc, error);
    if (!cpu)
        return -1;
    xmlAddChild(domain, cpu);
    if (tern_arch_check_cpu_domcaps(ctx, cpu, error) < 0)
        return -1;
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
    /* SeaBIOS prints on the serial port too: boot problems reach the log. */
    if (g_strcmp0(ctx->spec->firmware, "uefi") != 0) {
        xmlNode *bios = xmlNewChild(os, NULL, BAD_CAST "bios", NULL);
        xmlNewProp(bios, BAD_CAST "useserial", BAD_CAST "yes");
    }
}

static void
format_features(const TernArchContext *ctx, xmlNode *domain)
{
    xmlNode *f = xmlNewChild(domain, NULL, BAD_CAST "features", NULL);
    xmlNewChild(f, NULL, BAD_CAST "acpi", NULL);
    xmlNewChild(f, NULL, BAD_CAST "apic", NULL);
}

static void
format_clock(const TernArchContext *ctx, xmlNode *domain)
{
    static const char *const timers[][3] = {
        { "pit", "tickpolicy", "delay" },
        { "rtc", "tickpolicy", "catchup" },
        { "hpet", "present", "no" },
    };
    xmlNode *clock = xmlNewChild(domain, NULL, BAD_CAST "clock", NULL);
    xmlNewProp(clock, BAD_CAST "offset", BAD_CAST "utc");
    for (gsize i = 0; i < G_N_ELEMENTS(timers); i++) {
        xmlNode *t = xmlNewChild(clock, NULL, BAD_CAST "timer", NULL);
        xmlNewProp(t, BAD_CAST "name", BAD_CAST timers[i][0]);
        xmlNewProp(t, BAD_CAST timers[i][1], BAD_CAST timers[i][2]);
    }
}

static void
format_input(const TernArchContext *ctx, xmlNode *devices)
{
    /* PS/2 keyboard and mouse come with the machine; a USB tablet gives
     * VNC/SPICE an absolute pointer. */
    xmlNode *in = xmlNewChild(devices, NULL, BAD_CAST "input", NULL);
    xmlNewProp(in, BAD_CAST "type", BAD_CAST "tablet");
    xmlNewProp(in, BAD_CAST "bus", BAD_CAST "usb");
}

static void
format_console(const TernArchContext *ctx, xmlNode *devices)
{
    tern_arch_add_serial(ctx, devices, "isa-serial", "isa-serial");
    tern_arch_add_console(devices);
}

const TernArchDriver tern_arch_x86_64 = {
    .name = "x86_64",
    .arches = arches,
    .kernel_console = "console=ttyS0",
    .endianness = "little",
    .default_machine = default_machine,
    .check_machine = check_machine,
    .check_firmware = check_firmware,
    .default_disk_bus = default_disk_bus,
    .check_disk_bus = check_disk_bus,
    .scsi_controller = scsi_controller,
    .scsi_units_per_controller = scsi_units_per_controller,
    .default_nic_model = default_nic_model,
    .check_nic_model = check_nic_model,
    .check_graphics = check_graphics,
    .default_video_model = default_video_model,
    .check_video_model = check_video_model,
    .topology = tern_arch_topology_default,
    .format_cpu = format_cpu,
    .format_os = format_os,
    .format_features = format_features,
    .format_clock = format_clock,
    .format_input = format_input,
    .format_console = format_console,
};
