/* cpu_xml.c: libvirt <cpu> XML, built and read with libxml2: the guest
 * <cpu> element of domain XML, the host-style <cpu> that
 * virConnectBaselineCPU takes, and any <cpu> read back into a TernCpu.
 * Names always go through libxml2, so nothing reaches the XML unescaped. */
#include <string.h>
#include <libxml/parser.h>

#include "cpu/cpu_db.h"

static gint
cmp_name(gconstpointer a, gconstpointer b)
{
    return strcmp(*(const char *const *) a, *(const char *const *) b);
}

void
tern_cpu_xml_add_features(const TernCpuMap *map, xmlNode *node, const char *policy,
                          const TernCpuFeatureSet *set)
{
    g_autoptr(GPtrArray) names = g_ptr_array_new();
    guint n = map->features->len ? map->features->len - 1 : 0;
    for (int i = tern_cpu_set_next(set, -1); i >= 0; i = tern_cpu_set_next(set, i))
        if ((guint) i < n)
            g_ptr_array_add(names, g_ptr_array_index(map->features, i));
    g_ptr_array_sort(names, cmp_name);
    for (guint i = 0; i < names->len; i++) {
        xmlNode *f = xmlNewChild(node, NULL, BAD_CAST "feature", NULL);
        if (policy)
            xmlNewProp(f, BAD_CAST "policy", BAD_CAST policy);
        xmlNewProp(f, BAD_CAST "name", BAD_CAST names->pdata[i]);
    }
}

static char *
node_to_string(xmlNode *node)
{
    xmlBuffer *buf = xmlBufferCreate();
    xmlNodeDump(buf, NULL, node, 0, 1);
    char *s = g_strdup_printf("%s\n", (const char *) xmlBufferContent(buf));
    xmlBufferFree(buf);
    return s;
}

char *
tern_cpu_guest_xml(const TernCpuDb *db, const TernCpu *guest, GError **error)
{
    if (!tern_cpu_db_map(db, guest->arch, error))
        return NULL;
    if (guest->mode == TERN_CPU_MODE_NONE)
        return NULL;
    if (guest->mode == TERN_CPU_MODE_HOST) {
        g_set_error(error, TERN_CPU_ERROR, TERN_CPU_ERROR_XML,
                    "a host CPU is not a guest CPU (use tern_cpu_host_xml)");
        return NULL;
    }
    xmlNode *node = xmlNewNode(NULL, BAD_CAST "cpu");
    tern_cpu_format_guest(db, guest, node);
    char *s = node_to_string(node);
    xmlFreeNode(node);
    return s;
}

char *
tern_cpu_host_xml(const TernCpuDb *db, const TernCpu *cpu, GError **error)
{
    const TernCpuMap *map = tern_cpu_db_map(db, cpu->arch, error);
    if (!map)
        return NULL;
    xmlNode *node = xmlNewNode(NULL, BAD_CAST "cpu");
    xmlNewTextChild(node, NULL, BAD_CAST "arch", BAD_CAST tern_cpu_arch_name(cpu->arch));
    if (cpu->model)
        xmlNewTextChild(node, NULL, BAD_CAST "model", BAD_CAST cpu->model);
    if (cpu->vendor)
        xmlNewTextChild(node, NULL, BAD_CAST "vendor", BAD_CAST cpu->vendor);
    /* Everything beyond the model, so the list stays short. */
    TernCpuFeatureSet model = { { 0 } }, extra;
    const TernCpuModel *m = tern_cpu_map_model(map, cpu->model);
    if (m)
        model = m->features;
    tern_cpu_set_minus(&extra, &cpu->features, &model);
    tern_cpu_xml_add_features(map, node, NULL, &extra);
    char *s = node_to_string(node);
    xmlFreeNode(node);
    return s;
}

static char *
child_text(xmlNode *node, const char *name)
{
    for (xmlNode *c = node->children; c; c = c->next) {
        if (c->type == XML_ELEMENT_NODE && strcmp((const char *) c->name, name) == 0) {
            xmlChar *t = xmlNodeGetContent(c);
            char *s = g_strstrip(g_strdup((const char *) t));
            xmlFree(t);
            return s;
        }
    }
    return NULL;
}

/* A <cpu> (or domain capabilities <mode>) element -> TernCpu. `mode` is
 * used when the element has no mode attribute. Unknown features are an
 * error for guests and skipped for hosts (libvirt only reports its own). */
TernCpu *
tern_cpu_from_node(const TernCpuDb *db, xmlNode *node, TernCpuArch arch, TernCpuMode mode,
                   GError **error)
{
    g_autofree char *arch_s = child_text(node, "arch");
    if (arch_s) {
        arch = tern_cpu_arch_from_name(arch_s);
        if (arch == TERN_CPU_ARCH_NONE) {
            g_set_error(error, TERN_CPU_ERROR, TERN_CPU_ERROR_ARCH,
                        "no CPU support for arch %s", arch_s);
            return NULL;
        }
    }
    const TernCpuMap *map = tern_cpu_db_map(db, arch, error);
    if (!map)
        return NULL;
    g_autofree char *mode_s = tern_cpu_xml_prop(node, "mode");
    if (mode_s && strcmp((const char *) node->name, "cpu") == 0) {
        if (strcmp(mode_s, "host-model") == 0)
            mode = TERN_CPU_MODE_HOST_MODEL;
        else if (strcmp(mode_s, "host-passthrough") == 0 || strcmp(mode_s, "maximum") == 0)
            mode = TERN_CPU_MODE_HOST_PASSTHROUGH;
        else if (strcmp(mode_s, "custom") == 0)
            mode = TERN_CPU_MODE_CUSTOM;
        else {
            g_set_error(error, TERN_CPU_ERROR, TERN_CPU_ERROR_XML, "unknown CPU mode '%s'", mode_s);
            return NULL;
        }
    }
    g_autoptr(TernCpu) cpu = tern_cpu_new(arch, mode);
    g_autofree char *model = child_text(node, "model");
    cpu->vendor = child_text(node, "vendor");
    if (cpu->vendor && !*cpu->vendor)
        g_clear_pointer(&cpu->vendor, g_free);
    TernCpuFeatureSet req = { { 0 } }, dis = { { 0 } }, forbid = { { 0 } }, force = { { 0 } };
    for (xmlNode *c = node->children; c; c = c->next) {
        if (c->type != XML_ELEMENT_NODE || strcmp((const char *) c->name, "feature") != 0)
            continue;
        g_autofree char *name = tern_cpu_xml_prop(c, "name");
        g_autofree char *policy = tern_cpu_xml_prop(c, "policy");
        int bit = tern_cpu_map_feature(map, name);
        if (bit < 0) {
            if (mode == TERN_CPU_MODE_HOST)
                continue;
            g_set_error(error, TERN_CPU_ERROR, TERN_CPU_ERROR_UNKNOWN_FEATURE,
                        "unknown CPU feature '%s' for %s", name ? name : "(none)",
                        tern_cpu_arch_name(arch));
            return NULL;
        }
        if (policy && strcmp(policy, "forbid") == 0) {
            tern_cpu_set_add(&dis, (guint) bit);
            tern_cpu_set_add(&forbid, (guint) bit);
        } else if (policy && strcmp(policy, "disable") == 0)
            tern_cpu_set_add(&dis, (guint) bit);
        else if (!policy || strcmp(policy, "optional") != 0) {
            tern_cpu_set_add(&req, (guint) bit);
            if (policy && strcmp(policy, "force") == 0)
                tern_cpu_set_add(&force, (guint) bit);
        }
    }
    if (map->driver->from_model(map, cpu, model && *model ? model : NULL, &req, &dis, error) < 0)
        return NULL;
    cpu->forbidden = forbid;
    cpu->forced = force;
    tern_cpu_set_minus(&cpu->disabled, &cpu->disabled, &forbid);
    /* ppc64 host-model with a compat <model>powerN</model>: a custom level. */
    if (mode == TERN_CPU_MODE_HOST_MODEL && cpu->generation && model &&
        g_str_has_prefix(model, "power"))
        cpu->mode = TERN_CPU_MODE_CUSTOM;
    return g_steal_pointer(&cpu);
}

TernCpu *
tern_cpu_from_xml(const TernCpuDb *db, const char *xml, TernCpuArch arch, GError **error)
{
    xmlDoc *doc = xml ? xmlReadMemory(xml, (int) strlen(xml), "cpu.xml", NULL,
                                      XML_PARSE_NONET | XML_PARSE_NOERROR | XML_PARSE_NOWARNING)
                      : NULL;
    xmlNode *root = doc ? xmlDocGetRootElement(doc) : NULL;
    if (!root || strcmp((const char *) root->name, "cpu") != 0) {
        g_set_error(error, TERN_CPU_ERROR, TERN_CPU_ERROR_XML,
                    "not a libvirt <cpu> element%s", doc ? "" : " (XML does not parse)");
        if (doc)
            xmlFreeDoc(doc);
        return NULL;
    }
    /* A <cpu> with <arch> is host-style (capabilities, baseline input). */
    TernCpuMode mode = TERN_CPU_MODE_CUSTOM;
    for (xmlNode *c = root->children; c; c = c->next)
        if (c->type == XML_ELEMENT_NODE && strcmp((const char *) c->name, "arch") == 0)
            mode = TERN_CPU_MODE_HOST;
    TernCpu *cpu = tern_cpu_from_node(db, root, arch, mode, error);
    xmlFreeDoc(doc);
    return cpu;
}
