/* domain_xml.c: the generic part of building a domain: check the request
 * against the host facts (what the hypervisor offers), the arch strategy
 * (tern's policy) and the guest OS rules, then write the XML with libxml2,
 * calling the strategy's hooks where arches differ. */
#include "compute/domain_xml.h"

#include <libxml/xmlsave.h>
#include <string.h>

#include "compute/arch/arch.h"
#include "compute/compute_error.h"
#include "compute/xml_util.h"

/* A disk after defaults are applied. */
typedef struct {
    const TernDiskSpec *spec;
    const char *device, *bus, *format;
    char dev[16];
    int controller, unit;   /* SCSI address; -1 otherwise */
} Disk;

typedef struct {
    const TernNicSpec *spec;
    const char *type, *model;
} Nic;

static int
fail(GError **error, TernComputeError code, const char *fmt, ...) G_GNUC_PRINTF(3, 4);

static int
fail(GError **error, TernComputeError code, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    g_autofree char *msg = g_strdup_vprintf(fmt, ap);
    va_end(ap);
    g_set_error_literal(error, TERN_COMPUTE_ERROR, code, msg);
    return -1;
}

/* Text that goes into the XML: valid UTF-8 without control characters
 * (XML 1.0 cannot carry them); escaping is libxml2's job. */
static gboolean
clean_text(const char *s)
{
    if (!g_utf8_validate(s, -1, NULL))
        return FALSE;
    for (const char *p = s; *p; p++)
        if ((unsigned char)*p < 0x20 || *p == 0x7f)
            return FALSE;
    return TRUE;
}

static int
check_path(const char *what, const char *path, GError **error)
{
    if (!path)
        return 0;
    if (!clean_text(path) || !g_path_is_absolute(path))
        return fail(error, TERN_COMPUTE_ERROR_INVALID,
                    "%s must be an absolute path of printable UTF-8 text", what);
    return 0;
}

static int
check_basics(const TernGuestSpec *s, GError **error)
{
    if (!s->uuid || !g_uuid_string_is_valid(s->uuid))
        return fail(error, TERN_COMPUTE_ERROR_INVALID, "instance uuid '%s' is not a UUID",
                    s->uuid && clean_text(s->uuid) ? s->uuid : "(missing or unprintable)");
    if (!s->name || !*s->name || strlen(s->name) > 255 || !clean_text(s->name) ||
        strchr(s->name, '/'))
        return fail(error, TERN_COMPUTE_ERROR_INVALID,
                    "instance name must be 1-255 bytes of printable UTF-8 without '/'");
    if (s->vcpus < 1 || s->vcpus > 4096)
        return fail(error, TERN_COMPUTE_ERROR_INVALID, "vcpus must be 1-4096, not %u", s->vcpus);
    if (s->memory_mb < 16 || s->memory_mb > G_GUINT64_CONSTANT(64) * 1024 * 1024)
        return fail(error, TERN_COMPUTE_ERROR_INVALID,
                    "memory_mb must be 16 MiB-64 TiB, not %" G_GUINT64_FORMAT, s->memory_mb);
    if (!s->virt_type || (strcmp(s->virt_type, "kvm") && strcmp(s->virt_type, "qemu")))
        return fail(error, TERN_COMPUTE_ERROR_INVALID, "virt_type must be kvm or qemu");
    if (check_path("kernel", s->kernel, error) < 0 || check_path("initrd", s->initrd, error) < 0 ||
        check_path("console_log", s->console_log, error) < 0)
        return -1;
    if ((s->initrd || s->cmdline) && !s->kernel)
        return fail(error, TERN_COMPUTE_ERROR_INVALID, "initrd and cmdline need a kernel");
    if (s->cmdline && !clean_text(s->cmdline))
        return fail(error, TERN_COMPUTE_ERROR_INVALID, "cmdline must be printable UTF-8 text");
    return 0;
}

/* vda, vdb, ... vdz, vdaa: libvirt's disk naming. */
static void
disk_name(char *out, gsize size, const char *prefix, guint index)
{
    char letters[8];
    int n = 0;
    guint i = index;
    do {
        letters[n++] = (char)('a' + i % 26);
        i = i / 26;
    } while (i-- > 0 && n < 7);
    GString *s = g_string_new(prefix);
    while (n > 0)
        g_string_append_c(s, letters[--n]);
    g_strlcpy(out, s->str, size);
    g_string_free(s, TRUE);
}

static int
offered(const GPtrArray *list, const char *what, const char *value,
        const TernArchContext *ctx, GError **error)
{
    /* An empty list means libvirt gave no domain capabilities (test
     * driver without host facts): nothing to check against. */
    if (!ctx->guest->domcaps_xml || tern_str_array_has(list, value))
        return 0;
    g_autoptr(GString) ok = g_string_new(NULL);
    for (guint i = 0; i < list->len; i++)
        g_string_append_printf(ok, "%s%s", i ? ", " : "", (char *)list->pdata[i]);
    if (!list->len)
        g_string_append(ok, "none");
    return fail(error, TERN_COMPUTE_ERROR_UNSUPPORTED,
                "%s '%s' is not offered by this host's hypervisor for %s guests (%s) on %s "
                "(it offers %s)", what, value, ctx->arch, ctx->guest->virt_type, ctx->machine,
                ok->str);
}

static xmlNode *
text_child(xmlNode *parent, const char *name, const char *text)
{
    return xmlNewTextChild(parent, NULL, BAD_CAST name, BAD_CAST text);
}

static void
prop(xmlNode *n, const char *name, const char *value)
{
    xmlNewProp(n, BAD_CAST name, BAD_CAST value);
}

static void
propu(xmlNode *n, const char *name, guint64 value)
{
    char buf[32];
    g_snprintf(buf, sizeof buf, "%" G_GUINT64_FORMAT, value);
    xmlNewProp(n, BAD_CAST name, BAD_CAST buf);
}

static const char *
supported_list(const TernHostFacts *facts, GString *out)
{
    for (guint i = 0; i < facts->guests->len; i++) {
        const TernGuestFacts *g = facts->guests->pdata[i];
        if (tern_arch_driver_find(g->arch))
            g_string_append_printf(out, "%s%s/%s", out->len ? ", " : "", g->arch, g->virt_type);
    }
    return out->len ? out->str : "none";
}

static int
check_mac(const char *mac, GError **error)
{
    if (!mac)
        return 0;
    static const char hex[] = "0123456789abcdefABCDEF";
    if (strlen(mac) != 17)
        goto bad;
    for (int i = 0; i < 17; i++) {
        if (i % 3 == 2 ? mac[i] != ':' : !strchr(hex, mac[i]))
            goto bad;
    }
    return 0;
bad:
    return fail(error, TERN_COMPUTE_ERROR_INVALID, "NIC MAC address is not of the form "
                "52:54:00:12:34:56");
}

int
tern_compute_build_domain_xml(const TernGuestSpec *s, const TernHostFacts *facts,
                              TernGuestOsRules *rules, char **xml, GError **error)
{
    *xml = NULL;
    if (check_basics(s, error) < 0)
        return -1;

    /* Which arch, and can this host run it with this virt type? */
    const char *arch = s->emulation_arch ? s->emulation_arch : s->arch ? s->arch : facts->arch;
    const TernArchDriver *drv = tern_arch_driver_get(arch, error);
    if (!drv)
        return -1;
    const char *virt_type = s->virt_type;
    if (s->emulation_arch && g_strcmp0(s->emulation_arch, facts->arch) != 0)
        virt_type = "qemu";  /* another arch is emulated by TCG */
    const TernGuestFacts *guest = tern_host_facts_find_guest(facts, arch, virt_type);
    if (!guest) {
        g_autoptr(GString) sup = g_string_new(NULL);
        return fail(error, TERN_COMPUTE_ERROR_UNSUPPORTED,
                    "this %s host cannot run %s guests with virt_type %s (it runs: %s)%s",
                    facts->arch, arch, virt_type, supported_list(facts, sup),
                    strcmp(virt_type, "kvm") == 0 && strcmp(arch, facts->arch) != 0 ?
                    "; set hw_emulation_architecture to emulate it with TCG" : "");
    }
    if (!tern_host_facts_endianness_allows(facts, drv->endianness))
        return fail(error, TERN_COMPUTE_ERROR_UNSUPPORTED,
                    "%s guests are %s-endian, and this host runs %s-endian guests only "
                    "([compute] guest_endianness)", arch, drv->endianness,
                    facts->guest_endianness);
    TernArchContext ctx = { .spec = s, .host = facts, .guest = guest, .arch = arch };

    /* Machine type and firmware. */
    const char *want_machine = s->machine_type;
    g_autofree char *conf_machine = NULL;
    for (char **m = s->machine_type_defaults; !want_machine && m && *m; m++) {
        const char *eq = strchr(*m, '=');
        if (eq && (gsize)(eq - *m) == strlen(arch) && strncmp(*m, arch, eq - *m) == 0)
            want_machine = conf_machine = g_strstrip(g_strdup(eq + 1));
    }
    if (!want_machine)
        want_machine = drv->default_machine(&ctx);
    g_autofree char *machine = NULL;
    if (guest->machines->len) {
        if (!(machine = tern_guest_facts_resolve_machine(guest, want_machine, error)))
            return -1;
    } else {
        machine = g_strdup(want_machine);
    }
    ctx.machine = machine;
    if (drv->check_machine(&ctx, error) < 0)
        return -1;
    for (guint i = 0; i < guest->machines->len; i++) {
        const TernMachineType *m = guest->machines->pdata[i];
        if (strcmp(m->name, machine) == 0 && m->max_cpus && (int)s->vcpus > m->max_cpus)
            return fail(error, TERN_COMPUTE_ERROR_UNSUPPORTED,
                        "%u vCPUs exceed the %d machine type %s takes", s->vcpus, m->max_cpus,
                        machine);
    }
    const char *firmware = s->firmware ? s->firmware : "bios";
    if (drv->check_firmware(&ctx, firmware, error) < 0)
        return -1;
    if (strcmp(firmware, "uefi") == 0 && offered(guest->firmwares, "firmware", "efi", &ctx, error) < 0)
        return -1;

    /* Devices: defaults, tern's arch policy, then what the hypervisor offers. */
    const char *graphics = s->graphics ? s->graphics : "vnc";
    const char *video = NULL;
    if (strcmp(graphics, "none") != 0) {
        if (drv->check_graphics(&ctx, graphics, error) < 0 ||
            offered(guest->graphics_types, "graphics", graphics, &ctx, error) < 0)
            return -1;
        video = s->video_model ? s->video_model : drv->default_video_model(&ctx);
        if (drv->check_video_model(&ctx, video, error) < 0 ||
            offered(guest->video_models, "video model", video, &ctx, error) < 0)
            return -1;
    } else if (s->video_model) {
        return fail(error, TERN_COMPUTE_ERROR_INVALID, "hw_video_model needs graphics");
    }

    g_autofree Disk *disks = g_new0(Disk, s->disks->len + 1);
    const char *scsi_model = NULL;
    guint nscsi = 0, nvd = 0, nsd = 0, nhd = 0;
    for (guint i = 0; i < s->disks->len; i++) {
        Disk *d = &disks[i];
        d->spec = s->disks->pdata[i];
        d->controller = d->unit = -1;
        d->device = d->spec->device ? d->spec->device : "disk";
        if (strcmp(d->device, "disk") && strcmp(d->device, "cdrom"))
            return fail(error, TERN_COMPUTE_ERROR_INVALID,
                        "disk %u: device must be disk or cdrom", i);
        gboolean cdrom = strcmp(d->device, "cdrom") == 0;
        d->bus = d->spec->bus ? d->spec->bus : cdrom ? s->cdrom_bus : s->disk_bus;
        if (!d->bus)
            d->bus = drv->default_disk_bus(&ctx, d->device);
        d->format = d->spec->format ? d->spec->format : cdrom ? "raw" : "qcow2";
        if (strcmp(d->format, "qcow2") && strcmp(d->format, "raw"))
            return fail(error, TERN_COMPUTE_ERROR_INVALID,
                        "disk %u: format must be qcow2 or raw", i);
        if (!d->spec->path)
            return fail(error, TERN_COMPUTE_ERROR_INVALID, "disk %u has no path", i);
        if (check_path("disk path", d->spec->path, error) < 0)
            return -1;
        /* Buses depend on the machine type (q35 has no IDE, pc has): the
         * domain capabilities speak for the machine they were probed for. */
        if (drv->check_disk_bus(&ctx, d->bus, error) < 0 ||
            (g_strcmp0(guest->domcaps_machine, machine) == 0 &&
             offered(guest->disk_buses, "disk bus", d->bus, &ctx, error) < 0))
            return -1;
        if (strcmp(d->bus, "virtio") == 0) {
            if (cdrom)
                return fail(error, TERN_COMPUTE_ERROR_UNSUPPORTED,
                            "disk %u: a cdrom cannot be on the virtio bus", i);
            disk_name(d->dev, sizeof d->dev, "vd", nvd++);
        } else if (strcmp(d->bus, "ide") == 0) {
            disk_name(d->dev, sizeof d->dev, "hd", nhd++);
        } else {
            disk_name(d->dev, sizeof d->dev, "sd", nsd++);
        }
        if (strcmp(d->bus, "scsi") == 0) {
            if (!scsi_model && !(scsi_model = drv->scsi_controller(&ctx, s->scsi_model, error)))
                return -1;
            guint per = drv->scsi_units_per_controller(scsi_model);
            d->controller = (int)(nscsi / per);
            d->unit = (int)(nscsi % per);
            nscsi++;
        }
    }

    g_autofree Nic *nics = g_new0(Nic, s->nics->len + 1);
    for (guint i = 0; i < s->nics->len; i++) {
        Nic *n = &nics[i];
        n->spec = s->nics->pdata[i];
        n->type = n->spec->type ? n->spec->type : "network";
        n->model = n->spec->model ? n->spec->model : s->vif_model;
        if (!n->model)
            n->model = drv->default_nic_model(&ctx);
        if (strcmp(n->type, "network") && strcmp(n->type, "bridge") && strcmp(n->type, "user") &&
            strcmp(n->type, "ethernet"))
            return fail(error, TERN_COMPUTE_ERROR_INVALID,
                        "NIC %u: type must be network, bridge, user or ethernet", i);
        if (strcmp(n->type, "user") && (!n->spec->source || !*n->spec->source ||
                                        !clean_text(n->spec->source)))
            return fail(error, TERN_COMPUTE_ERROR_INVALID,
                        "NIC %u of type %s needs a source name", i, n->type);
        if (check_mac(n->spec->mac, error) < 0 || drv->check_nic_model(&ctx, n->model, error) < 0)
            return -1;
    }

    /* The guest OS: its arch and the device choices just made. */
    if (rules && s->os_distro) {
        g_autoptr(GPtrArray) devs = g_ptr_array_new_with_free_func(g_free);
        for (guint i = 0; i < s->disks->len; i++)
            g_ptr_array_add(devs, g_strdup_printf("disk:%s", disks[i].bus));
        if (scsi_model)
            g_ptr_array_add(devs, g_strdup_printf("scsi:%s", scsi_model));
        for (guint i = 0; i < s->nics->len; i++)
            g_ptr_array_add(devs, g_strdup_printf("nic:%s", nics[i].model));
        if (video)
            g_ptr_array_add(devs, g_strdup_printf("video:%s", video));
        g_ptr_array_add(devs, g_strdup_printf("graphics:%s", graphics));
        g_ptr_array_add(devs, NULL);
        g_autoptr(GError) rerr = NULL;
        /* as the scheduler: os_distro, else os_distro + os_version; an
         * unknown one is refused under the name the image gave */
        g_autofree char *os_id = tern_guest_os_rules_resolve(rules, s->os_distro, s->os_version);
        if (tern_guest_os_rules_check(rules, os_id ? os_id : s->os_distro, arch,
                                      (const char *const *)devs->pdata, &rerr) < 0)
            return fail(error, TERN_COMPUTE_ERROR_UNSUPPORTED, "%s", rerr->message);
    }

    TernTopology topo;
    if (drv->topology(&ctx, &topo, error) < 0)
        return -1;
    if (guest->max_vcpus && (int)s->vcpus > guest->max_vcpus)
        return fail(error, TERN_COMPUTE_ERROR_UNSUPPORTED,
                    "%u vCPUs exceed the %d this hypervisor gives %s guests", s->vcpus,
                    guest->max_vcpus, arch);

    /* Write the XML. */
    g_autoptr(xmlDoc) doc = xmlNewDoc(BAD_CAST "1.0");
    xmlNode *dom = xmlNewDocNode(doc, NULL, BAD_CAST "domain", NULL);
    xmlDocSetRootElement(doc, dom);
    prop(dom, "type", guest->virt_type);
    text_child(dom, "name", s->name);
    text_child(dom, "uuid", s->uuid);
    xmlNode *mem = text_child(dom, "memory", NULL);
    char buf[64];
    g_snprintf(buf, sizeof buf, "%" G_GUINT64_FORMAT, s->memory_mb);
    xmlNodeSetContent(mem, BAD_CAST buf);
    prop(mem, "unit", "MiB");
    g_snprintf(buf, sizeof buf, "%u", s->vcpus);
    text_child(dom, "vcpu", buf);

    xmlNode *os = xmlNewChild(dom, NULL, BAD_CAST "os", NULL);
    if (strcmp(firmware, "uefi") == 0)
        prop(os, "firmware", "efi");
    xmlNode *type = text_child(os, "type", guest->os_type);
    prop(type, "arch", arch);
    prop(type, "machine", machine);
    if (s->kernel) {
        text_child(os, "kernel", s->kernel);
        if (s->initrd)
            text_child(os, "initrd", s->initrd);
        g_autofree char *cmdline = NULL;
        if (s->cmdline && strstr(s->cmdline, "console="))
            cmdline = g_strdup(s->cmdline);
        else
            cmdline = g_strjoin(s->cmdline ? " " : "", drv->kernel_console,
                                s->cmdline ? s->cmdline : "", NULL);
        text_child(os, "cmdline", cmdline);
    }
    drv->format_os(&ctx, os);
    drv->format_features(&ctx, dom);
    if (drv->format_cpu(&ctx, dom, &topo, error) < 0)
        return -1;
    drv->format_clock(&ctx, dom);
    text_child(dom, "on_poweroff", "destroy");
    text_child(dom, "on_reboot", "restart");
    text_child(dom, "on_crash", "destroy");

    xmlNode *devices = xmlNewChild(dom, NULL, BAD_CAST "devices", NULL);
    if (guest->emulator)
        text_child(devices, "emulator", guest->emulator);
    for (guint i = 0; i < s->disks->len; i++) {
        Disk *d = &disks[i];
        xmlNode *disk = xmlNewChild(devices, NULL, BAD_CAST "disk", NULL);
        prop(disk, "type", "file");
        prop(disk, "device", d->device);
        xmlNode *drvn = xmlNewChild(disk, NULL, BAD_CAST "driver", NULL);
        prop(drvn, "name", "qemu");
        prop(drvn, "type", d->format);
        xmlNode *src = xmlNewChild(disk, NULL, BAD_CAST "source", NULL);
        prop(src, "file", d->spec->path);
        xmlNode *target = xmlNewChild(disk, NULL, BAD_CAST "target", NULL);
        prop(target, "dev", d->dev);
        prop(target, "bus", d->bus);
        if (d->spec->readonly || strcmp(d->device, "cdrom") == 0)
            xmlNewChild(disk, NULL, BAD_CAST "readonly", NULL);
        if (d->controller >= 0) {
            xmlNode *addr = xmlNewChild(disk, NULL, BAD_CAST "address", NULL);
            prop(addr, "type", "drive");
            propu(addr, "controller", (guint64)d->controller);
            prop(addr, "bus", "0");
            prop(addr, "target", "0");
            propu(addr, "unit", (guint64)d->unit);
        }
    }
    if (scsi_model) {
        guint per = drv->scsi_units_per_controller(scsi_model);
        for (guint c = 0; c < (nscsi + per - 1) / per; c++) {
            xmlNode *ctl = xmlNewChild(devices, NULL, BAD_CAST "controller", NULL);
            prop(ctl, "type", "scsi");
            propu(ctl, "index", c);
            prop(ctl, "model", scsi_model);
        }
    }
    for (guint i = 0; i < s->nics->len; i++) {
        Nic *n = &nics[i];
        xmlNode *nic = xmlNewChild(devices, NULL, BAD_CAST "interface", NULL);
        prop(nic, "type", n->type);
        if (n->spec->mac) {
            xmlNode *mac = xmlNewChild(nic, NULL, BAD_CAST "mac", NULL);
            prop(mac, "address", n->spec->mac);
        }
        if (strcmp(n->type, "network") == 0 || strcmp(n->type, "bridge") == 0) {
            xmlNode *src = xmlNewChild(nic, NULL, BAD_CAST "source", NULL);
            prop(src, n->type, n->spec->source);
        } else if (strcmp(n->type, "ethernet") == 0) {
            xmlNode *t = xmlNewChild(nic, NULL, BAD_CAST "target", NULL);
            prop(t, "dev", n->spec->source);
            prop(t, "managed", "no");
        }
        xmlNode *model = xmlNewChild(nic, NULL, BAD_CAST "model", NULL);
        prop(model, "type", n->model);
    }
    drv->format_console(&ctx, devices);
    if (video) {
        xmlNode *g = xmlNewChild(devices, NULL, BAD_CAST "graphics", NULL);
        prop(g, "type", graphics);
        prop(g, "autoport", "yes");
        xmlNode *listen = xmlNewChild(g, NULL, BAD_CAST "listen", NULL);
        prop(listen, "type", "address");
        prop(listen, "address", "127.0.0.1");
        xmlNode *v = xmlNewChild(devices, NULL, BAD_CAST "video", NULL);
        xmlNode *vm = xmlNewChild(v, NULL, BAD_CAST "model", NULL);
        prop(vm, "type", video);
        drv->format_input(&ctx, devices);
    }
    xmlNode *balloon = xmlNewChild(devices, NULL, BAD_CAST "memballoon", NULL);
    prop(balloon, "model", "virtio");

    xmlBuffer *xbuf = xmlBufferCreate();
    xmlSaveCtxt *save = xmlSaveToBuffer(xbuf, "UTF-8", XML_SAVE_FORMAT | XML_SAVE_NO_DECL);
    xmlSaveDoc(save, doc);
    xmlSaveClose(save);
    *xml = g_strdup((const char *)xmlBufferContent(xbuf));
    xmlBufferFree(xbuf);
    return 0;
}
