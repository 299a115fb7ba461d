/* host_facts.c: parse libvirt's capabilities and domain capabilities XML
 * into TernHostFacts (no libvirt calls here: host_probe.c fetches the XML). */
#include "compute/host_facts.h"

#include <string.h>

#include "compute/arch/arch.h"
#include "compute/compute_error.h"
#include "compute/xml_util.h"

static void
machine_free(gpointer p)
{
    TernMachineType *m = p;
    g_free(m->name);
    g_free(m->canonical);
    g_free(m);
}

static void
guest_free(gpointer p)
{
    TernGuestFacts *g = p;
    g_free(g->arch);
    g_free(g->virt_type);
    g_free(g->os_type);
    g_free(g->emulator);
    g_ptr_array_unref(g->machines);
    g_free(g->domcaps_xml);
    g_free(g->domcaps_machine);
    g_ptr_array_unref(g->disk_buses);
    g_ptr_array_unref(g->disk_devices);
    g_ptr_array_unref(g->graphics_types);
    g_ptr_array_unref(g->video_models);
    g_ptr_array_unref(g->firmwares);
    g_ptr_array_unref(g->cpu_modes);
    g_ptr_array_unref(g->cpu_models);
    g_ptr_array_unref(g->cpu_models_usable);
    g_free(g);
}

static GPtrArray *
str_array(void)
{
    return g_ptr_array_new_with_free_func(g_free);
}

static TernGuestFacts *
guest_new(void)
{
    TernGuestFacts *g = g_new0(TernGuestFacts, 1);
    g->machines = g_ptr_array_new_with_free_func(machine_free);
    g->disk_buses = str_array();
    g->disk_devices = str_array();
    g->graphics_types = str_array();
    g->video_models = str_array();
    g->firmwares = str_array();
    g->cpu_modes = str_array();
    g->cpu_models = str_array();
    g->cpu_models_usable = str_array();
    return g;
}

TernHostFacts *
tern_host_facts_new(void)
{
    TernHostFacts *f = g_new0(TernHostFacts, 1);
    f->guests = g_ptr_array_new_with_free_func(guest_free);
    return f;
}

void
tern_host_facts_free(TernHostFacts *f)
{
    if (!f)
        return;
    g_free(f->arch);
    g_free(f->hostname);
    g_free(f->hypervisor_type);
    g_free(f->guest_endianness);
    g_free(f->host_cpu_xml);
    g_free(f->capabilities_xml);
    g_ptr_array_unref(f->guests);
    g_free(f);
}

static void
add_machines(GPtrArray *out, xmlXPathContext *ctx, xmlNode *node)
{
    g_autoptr(GPtrArray) nodes = tern_xml_nodes(ctx, node, "machine");
    for (guint i = 0; i < nodes->len; i++) {
        xmlNode *n = nodes->pdata[i];
        TernMachineType *m = g_new0(TernMachineType, 1);
        m->name = tern_xml_string(ctx, n, ".");
        m->canonical = tern_xml_string(ctx, n, "@canonical");
        g_autofree char *dep = tern_xml_string(ctx, n, "@deprecated");
        m->deprecated = g_strcmp0(dep, "yes") == 0;
        m->max_cpus = (int)tern_xml_int(ctx, n, "@maxCpus", 0);
        if (m->name)
            g_ptr_array_add(out, m);
        else
            machine_free(m);
    }
}

int
tern_host_facts_parse_capabilities(TernHostFacts *f, const char *caps_xml, GError **error)
{
    g_autoptr(xmlDoc) doc = tern_xml_parse(caps_xml, "capabilities XML", error);
    if (!doc)
        return -1;
    g_autoptr(xmlXPathContext) ctx = xmlXPathNewContext(doc);
    if (!xmlStrEqual(xmlDocGetRootElement(doc)->name, BAD_CAST "capabilities")) {
        g_set_error(error, TERN_COMPUTE_ERROR, TERN_COMPUTE_ERROR_INVALID,
                    "capabilities XML has root <%s>, expected <capabilities>",
                    (const char *)xmlDocGetRootElement(doc)->name);
        return -1;
    }
    g_free(f->arch);
    f->arch = tern_xml_string(ctx, NULL, "/capabilities/host/cpu/arch");
    if (!f->arch) {
        g_set_error(error, TERN_COMPUTE_ERROR, TERN_COMPUTE_ERROR_INVALID,
                    "capabilities XML names no host arch (/capabilities/host/cpu/arch)");
        return -1;
    }
    g_autoptr(GPtrArray) cpu = tern_xml_nodes(ctx, NULL, "/capabilities/host/cpu");
    g_free(f->host_cpu_xml);
    f->host_cpu_xml = tern_xml_node_to_string(cpu->pdata[0]);
    f->threads_per_core = (guint)tern_xml_int(ctx, NULL, "/capabilities/host/cpu/topology/@threads", 0);
    gint64 kib = 0, cpus = 0;
    g_autoptr(GPtrArray) cells = tern_xml_nodes(ctx, NULL, "/capabilities/host/topology/cells/cell");
    for (guint i = 0; i < cells->len; i++) {
        gint64 mem = tern_xml_int(ctx, cells->pdata[i], "memory", 0);
        g_autofree char *unit = tern_xml_string(ctx, cells->pdata[i], "memory/@unit");
        if (unit && g_ascii_strcasecmp(unit, "KiB") != 0) {
            if (!g_ascii_strcasecmp(unit, "MiB"))
                mem *= 1024;
            else if (!g_ascii_strcasecmp(unit, "GiB"))
                mem *= 1024 * 1024;
        }
        kib += mem;
        cpus += tern_xml_int(ctx, cells->pdata[i], "cpus/@num", 0);
    }
    if (kib > 0)
        f->memory_mb = (guint64)kib / 1024;
    if (cpus > 0)
        f->vcpus = (guint)cpus;

    g_autoptr(GPtrArray) guests = tern_xml_nodes(ctx, NULL, "/capabilities/guest");
    for (guint i = 0; i < guests->len; i++) {
        xmlNode *gn = guests->pdata[i];
        g_autofree char *os_type = tern_xml_string(ctx, gn, "os_type");
        g_autofree char *arch = tern_xml_string(ctx, gn, "arch/@name");
        if (!arch)
            continue;
        g_autoptr(GPtrArray) arch_nodes = tern_xml_nodes(ctx, gn, "arch");
        xmlNode *an = arch_nodes->pdata[0];
        g_autofree char *emulator = tern_xml_string(ctx, an, "emulator");
        g_autoptr(GPtrArray) domains = tern_xml_nodes(ctx, an, "domain");
        for (guint d = 0; d < domains->len; d++) {
            xmlNode *dn = domains->pdata[d];
            TernGuestFacts *g = guest_new();
            g->arch = g_strdup(arch);
            g->os_type = g_strdup(os_type ? os_type : "hvm");
            g->virt_type = tern_xml_string(ctx, dn, "@type");
            g->emulator = tern_xml_string(ctx, dn, "emulator");
            if (!g->emulator)
                g->emulator = g_strdup(emulator);
            /* A <domain> may list its own machines; else the arch's apply. */
            add_machines(g->machines, ctx, dn);
            if (g->machines->len == 0)
                add_machines(g->machines, ctx, an);
            if (!g->virt_type) {
                guest_free(g);
                continue;
            }
            g_ptr_array_add(f->guests, g);
        }
    }
    g_free(f->capabilities_xml);
    f->capabilities_xml = g_strdup(caps_xml);
    return 0;
}

TernGuestFacts *
tern_host_facts_find_guest(const TernHostFacts *f, const char *arch, const char *virt_type)
{
    for (guint i = 0; i < f->guests->len; i++) {
        TernGuestFacts *g = f->guests->pdata[i];
        if (g_strcmp0(g->arch, arch) == 0 && g_strcmp0(g->virt_type, virt_type) == 0)
            return g;
    }
    return NULL;
}

static void
set_strings(GPtrArray *dst, xmlXPathContext *ctx, const char *expr)
{
    g_ptr_array_set_size(dst, 0);
    g_autoptr(GPtrArray) v = tern_xml_strings(ctx, NULL, expr);
    for (guint i = 0; i < v->len; i++)
        g_ptr_array_add(dst, g_strdup(v->pdata[i]));
}

int
tern_host_facts_add_domcaps(TernHostFacts *f, const char *domcaps_xml, GError **error)
{
    g_autoptr(xmlDoc) doc = tern_xml_parse(domcaps_xml, "domain capabilities XML", error);
    if (!doc)
        return -1;
    g_autoptr(xmlXPathContext) ctx = xmlXPathNewContext(doc);
    g_autofree char *arch = tern_xml_string(ctx, NULL, "/domainCapabilities/arch");
    g_autofree char *domain = tern_xml_string(ctx, NULL, "/domainCapabilities/domain");
    if (!arch || !domain) {
        g_set_error(error, TERN_COMPUTE_ERROR, TERN_COMPUTE_ERROR_INVALID,
                    "domain capabilities XML lacks /domainCapabilities/arch or /domain");
        return -1;
    }
    TernGuestFacts *g = tern_host_facts_find_guest(f, arch, domain);
    if (!g) {
        g_set_error(error, TERN_COMPUTE_ERROR, TERN_COMPUTE_ERROR_INVALID,
                    "domain capabilities for arch %s, domain type %s, but the host's "
                    "capabilities offer no such guest", arch, domain);
        return -1;
    }
    g_free(g->domcaps_xml);
    g->domcaps_xml = g_strdup(domcaps_xml);
    g_free(g->domcaps_machine);
    g->domcaps_machine = tern_xml_string(ctx, NULL, "/domainCapabilities/machine");
    g->max_vcpus = (int)tern_xml_int(ctx, NULL, "/domainCapabilities/vcpu/@max", 0);
    set_strings(g->disk_buses, ctx,
                "/domainCapabilities/devices/disk[@supported='yes']/enum[@name='bus']/value");
    set_strings(g->disk_devices, ctx,
                "/domainCapabilities/devices/disk[@supported='yes']/enum[@name='diskDevice']/value");
    set_strings(g->graphics_types, ctx,
                "/domainCapabilities/devices/graphics[@supported='yes']/enum[@name='type']/value");
    set_strings(g->video_models, ctx,
                "/domainCapabilities/devices/video[@supported='yes']/enum[@name='modelType']/value");
    set_strings(g->firmwares, ctx, "/domainCapabilities/os[@supported='yes']/enum[@name='firmware']/value");
    set_strings(g->cpu_modes, ctx, "/domainCapabilities/cpu/mode[@supported='yes']/@name");
    set_strings(g->cpu_models, ctx, "/domainCapabilities/cpu/mode[@name='custom']/model");
    set_strings(g->cpu_models_usable, ctx,
                "/domainCapabilities/cpu/mode[@name='custom']/model[not(@usable='no')]");
    return 0;
}

gboolean
tern_host_facts_endianness_allows(const TernHostFacts *f, const char *endianness)
{
    return !f->guest_endianness || !*f->guest_endianness ||
           strcmp(f->guest_endianness, "any") == 0 ||
           g_strcmp0(f->guest_endianness, endianness) == 0;
}

json_t *
tern_host_facts_supported_instances(const TernHostFacts *f)
{
    json_t *out = json_array();
    for (guint i = 0; i < f->guests->len; i++) {
        TernGuestFacts *g = f->guests->pdata[i];
        const TernArchDriver *drv = tern_arch_driver_find(g->arch);
        if (!drv || !tern_host_facts_endianness_allows(f, drv->endianness))
            continue;
        json_array_append_new(out, json_pack("[sss]", g->arch, g->virt_type, g->os_type));
    }
    return out;
}

char *
tern_guest_facts_resolve_machine(const TernGuestFacts *g, const char *requested, GError **error)
{
    for (guint i = 0; i < g->machines->len; i++) {
        TernMachineType *m = g->machines->pdata[i];
        if (g_strcmp0(m->name, requested) == 0)
            return g_strdup(m->canonical ? m->canonical : m->name);
    }
    g_autoptr(GString) offered = g_string_new(NULL);
    for (guint i = 0; i < g->machines->len; i++) {
        TernMachineType *m = g->machines->pdata[i];
        if (m->canonical) /* aliases are the useful short list */
            g_string_append_printf(offered, "%s%s (%s)", offered->len ? ", " : "", m->name,
                                   m->canonical);
    }
    g_set_error(error, TERN_COMPUTE_ERROR, TERN_COMPUTE_ERROR_UNSUPPORTED,
                "machine type '%s' is not offered for %s guests (%s) on this host; aliases "
                "offered: %s", requested, g->arch, g->virt_type,
                offered->len ? offered->str : "none");
    return NULL;
}

static json_t *
str_list_json(const GPtrArray *a)
{
    json_t *out = json_array();
    for (guint i = 0; i < a->len; i++)
        json_array_append_new(out, json_string(a->pdata[i]));
    return out;
}

json_t *
tern_host_facts_to_json(const TernHostFacts *f)
{
    json_t *guests = json_array();
    for (guint i = 0; i < f->guests->len; i++) {
        TernGuestFacts *g = f->guests->pdata[i];
        if (!tern_arch_driver_find(g->arch))
            continue;
        json_t *aliases = json_object();
        for (guint m = 0; m < g->machines->len; m++) {
            TernMachineType *mt = g->machines->pdata[m];
            if (mt->canonical)
                json_object_set_new(aliases, mt->name, json_string(mt->canonical));
        }
        json_array_append_new(guests, json_pack(
            "{s:s, s:s, s:s?, s:o, s:b, s:o, s:o, s:o, s:o, s:o}",
            "arch", g->arch, "virt_type", g->virt_type, "emulator", g->emulator,
            "machine_aliases", aliases, "domain_capabilities", g->domcaps_xml != NULL,
            "disk_buses", str_list_json(g->disk_buses),
            "graphics", str_list_json(g->graphics_types),
            "video_models", str_list_json(g->video_models),
            "cpu_modes", str_list_json(g->cpu_modes),
            "cpu_models", str_list_json(g->cpu_models)));
    }
    return json_pack("{s:s?, s:s?, s:s?, s:I, s:I, s:i, s:i, s:I, s:I, s:I, s:b, s:o, s:o}",
                     "arch", f->arch, "hostname", f->hostname,
                     "hypervisor_type", f->hypervisor_type,
                     "hypervisor_version", (json_int_t)f->hypervisor_version,
                     "libvirt_version", (json_int_t)f->libvirt_version,
                     "vcpus", (int)f->vcpus, "threads_per_core", (int)f->threads_per_core,
                     "memory_mb", (json_int_t)f->memory_mb, "disk_gb", (json_int_t)f->disk_gb,
                     "disk_free_gb", (json_int_t)f->disk_free_gb, "simulated", f->simulated,
                     "supported_instances", tern_host_facts_supported_instances(f),
                     "guests", guests);
}
