/* arch_common.c: helpers the per-arch strategy tables share. They hold no
 * arch decision: each table chooses whether and how to call them. */
#include "compute/arch/arch.h"

#include <string.h>

#include "compute/compute_error.h"
#include "compute/xml_util.h"

gboolean
tern_arch_strv_has(const char *const *list, const char *s)
{
    return s && list && g_strv_contains(list, s);
}

char *
tern_arch_strv_join(const char *const *list)
{
    return g_strjoinv(", ", (char **)list);
}

int
tern_arch_topology_default(const TernArchContext *ctx, TernTopology *t, GError **error)
{
    const TernGuestSpec *s = ctx->spec;
    guint v = s->vcpus;
    guint threads = s->cpu_threads ? s->cpu_threads : 1;
    guint cores = s->cpu_cores ? s->cpu_cores : 0;
    guint sockets = s->cpu_sockets ? s->cpu_sockets : 0;
    if (v % threads != 0) {
        g_set_error(error, TERN_COMPUTE_ERROR, TERN_COMPUTE_ERROR_UNSUPPORTED,
                    "%u vCPUs cannot be split into cores of hw_cpu_threads=%u threads",
                    v, threads);
        return -1;
    }
    if (!cores && !sockets) {
        cores = 1;
        sockets = v / threads;
    } else if (!cores) {
        if ((v / threads) % sockets != 0)
            goto bad;
        cores = v / threads / sockets;
    } else if (!sockets) {
        if ((v / threads) % cores != 0)
            goto bad;
        sockets = v / threads / cores;
    }
    if (sockets * cores * threads != v)
        goto bad;
    t->sockets = sockets;
    t->cores = cores;
    t->threads = threads;
    return 0;
bad:
    g_set_error(error, TERN_COMPUTE_ERROR, TERN_COMPUTE_ERROR_UNSUPPORTED,
                "%u vCPUs do not fit hw_cpu_sockets=%u, hw_cpu_cores=%u, hw_cpu_threads=%u",
                v, s->cpu_sockets, s->cpu_cores, s->cpu_threads);
    return -1;
}

xmlNode *
tern_arch_parse_cpu(const TernArchContext *ctx, xmlDoc *target, GError **error)
{
    if (!ctx->spec->cpu_xml)
        return xmlNewDocNode(target, NULL, BAD_CAST "cpu", NULL);
    g_autoptr(xmlDoc) doc = tern_xml_parse(ctx->spec->cpu_xml, "guest CPU XML", error);
    if (!doc)
        return NULL;
    xmlNode *root = xmlDocGetRootElement(doc);
    if (!xmlStrEqual(root->name, BAD_CAST "cpu")) {
        g_set_error(error, TERN_COMPUTE_ERROR, TERN_COMPUTE_ERROR_INVALID,
                    "guest CPU XML has root <%s>, expected <cpu>", (const char *)root->name);
        return NULL;
    }
    /* tern sets the topology itself from the flavor and image. */
    for (xmlNode *c = root->children; c;) {
        xmlNode *next = c->next;
        if (c->type != XML_ELEMENT_NODE ||
            xmlStrEqual(c->name, BAD_CAST "topology") ||
            xmlStrEqual(c->name, BAD_CAST "arch")) {
            xmlUnlinkNode(c);
            xmlFreeNode(c);
        }
        c = next;
    }
    return xmlDocCopyNode(root, target, 1);
}

void
tern_arch_add_topology(xmlNode *cpu, const TernTopology *t)
{
    char buf[3][16];
    xmlNode *topo = xmlNewChild(cpu, NULL, BAD_CAST "topology", NULL);
    g_snprintf(buf[0], sizeof buf[0], "%u", t->sockets);
    g_snprintf(buf[1], sizeof buf[1], "%u", t->cores);
    g_snprintf(buf[2], sizeof buf[2], "%u", t->threads);
    xmlNewProp(topo, BAD_CAST "sockets", BAD_CAST buf[0]);
    xmlNewProp(topo, BAD_CAST "cores", BAD_CAST buf[1]);
    xmlNewProp(topo, BAD_CAST "threads", BAD_CAST buf[2]);
}

int
tern_arch_check_cpu_domcaps(const TernArchContext *ctx, xmlNode *cpu, GError **error)
{
    const TernGuestFacts *g = ctx->guest;
    g_autofree char *mode = (char *)xmlGetProp(cpu, BAD_CAST "mode");
    const char *m = mode ? mode : "custom";
    if (g->cpu_modes->len && !tern_str_array_has(g->cpu_modes, m)) {
        g_set_error(error, TERN_COMPUTE_ERROR, TERN_COMPUTE_ERROR_UNSUPPORTED,
                    "CPU mode '%s' is not supported for %s guests (%s) on this host", m,
                    ctx->arch, g->virt_type);
        return -1;
    }
    if (strcmp(m, "custom") != 0)
        return 0;
    for (xmlNode *c = cpu->children; c; c = c->next) {
        if (c->type != XML_ELEMENT_NODE || !xmlStrEqual(c->name, BAD_CAST "model"))
            continue;
        g_autofree char *model = (char *)xmlNodeGetContent(c);
        if (g->cpu_models->len && !tern_str_array_has(g->cpu_models, g_strstrip(model))) {
            g_set_error(error, TERN_COMPUTE_ERROR, TERN_COMPUTE_ERROR_UNSUPPORTED,
                        "CPU model '%s' is not offered for %s guests (%s) on this host",
                        model, ctx->arch, g->virt_type);
            return -1;
        }
    }
    return 0;
}

xmlNode *
tern_arch_add_serial(const TernArchContext *ctx, xmlNode *devices, const char *target_type,
                     const char *model)
{
    xmlNode *serial = xmlNewChild(devices, NULL, BAD_CAST "serial", NULL);
    xmlNewProp(serial, BAD_CAST "type", BAD_CAST "pty");
    if (ctx->spec->console_log) {
        xmlNode *log = xmlNewChild(serial, NULL, BAD_CAST "log", NULL);
        xmlNewProp(log, BAD_CAST "file", BAD_CAST ctx->spec->console_log);
        xmlNewProp(log, BAD_CAST "append", BAD_CAST "off");
    }
    xmlNode *target = xmlNewChild(serial, NULL, BAD_CAST "target", NULL);
    xmlNewProp(target, BAD_CAST "type", BAD_CAST target_type);
    xmlNewProp(target, BAD_CAST "port", BAD_CAST "0");
    xmlNode *mn = xmlNewChild(target, NULL, BAD_CAST "model", NULL);
    xmlNewProp(mn, BAD_CAST "name", BAD_CAST model);
    return serial;
}

void
tern_arch_add_console(xmlNode *devices)
{
    xmlNode *console = xmlNewChild(devices, NULL, BAD_CAST "console", NULL);
    xmlNewProp(console, BAD_CAST "type", BAD_CAST "pty");
    xmlNode *target = xmlNewChild(console, NULL, BAD_CAST "target", NULL);
    xmlNewProp(target, BAD_CAST "type", BAD_CAST "serial");
    xmlNewProp(target, BAD_CAST "port", BAD_CAST "0");
}
