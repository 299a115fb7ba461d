/* cpu_host.c: a host's CPU from libvirt's capabilities XML (<host><cpu>:
 * arch, vendor, model, features) and domain capabilities XML (the
 * host-model CPU QEMU would give, and the usable custom models). */
#include <string.h>
#include <libxml/parser.h>

#include "cpu/cpu_db.h"

static xmlNode *
child(xmlNode *node, const char *name)
{
    for (xmlNode *c = node ? node->children : NULL; c; c = c->next)
        if (c->type == XML_ELEMENT_NODE && strcmp((const char *) c->name, name) == 0)
            return c;
    return NULL;
}

static guint
prop_uint(xmlNode *node, const char *name)
{
    g_autofree char *v = tern_cpu_xml_prop(node, name);
    guint64 n = 0;
    if (!v || !g_ascii_string_to_unsigned(v, 10, 0, G_MAXUINT, &n, NULL))
        return 0;
    return (guint) n;
}

static xmlDoc *
parse(const char *xml, const char *what, const char *root_name, GError **error)
{
    xmlDoc *doc = xmlReadMemory(xml, (int) strlen(xml), what, NULL,
                                XML_PARSE_NONET | XML_PARSE_NOERROR | XML_PARSE_NOWARNING);
    xmlNode *root = doc ? xmlDocGetRootElement(doc) : NULL;
    if (!root || strcmp((const char *) root->name, root_name) != 0) {
        g_set_error(error, TERN_CPU_ERROR, TERN_CPU_ERROR_XML,
                    "%s is not libvirt %s XML (<%s>)", what, what, root_name);
        if (doc)
            xmlFreeDoc(doc);
        return NULL;
    }
    return doc;
}

void
tern_cpu_host_free(TernCpuHost *host)
{
    if (!host)
        return;
    tern_cpu_free(host->cpu);
    tern_cpu_free(host->host_model);
    if (host->usable_models)
        g_ptr_array_unref(host->usable_models);
    g_free(host);
}

const TernCpu *
tern_cpu_host_model_cpu(const TernCpuHost *host)
{
    return host->host_model ? host->host_model : host->cpu;
}

static int
parse_domcaps(const TernCpuDb *db, TernCpuHost *host, const char *xml, GError **error)
{
    xmlDoc *doc = parse(xml, "domain capabilities", "domainCapabilities", error);
    if (!doc)
        return -1;
    int rc = 0;
    xmlNode *root = xmlDocGetRootElement(doc);
    xmlNode *cpu = child(root, "cpu");
    host->have_domcaps = TRUE;
    for (xmlNode *m = cpu ? cpu->children : NULL; m && rc == 0; m = m->next) {
        if (m->type != XML_ELEMENT_NODE || strcmp((const char *) m->name, "mode") != 0)
            continue;
        g_autofree char *name = tern_cpu_xml_prop(m, "name");
        g_autofree char *supported = tern_cpu_xml_prop(m, "supported");
        if (!name || !supported || strcmp(supported, "yes") != 0)
            continue;
        if (strcmp(name, "host-model") == 0 && child(m, "model")) {
            host->host_model = tern_cpu_from_node(db, m, host->cpu->arch, TERN_CPU_MODE_HOST,
                                                  error);
            if (!host->host_model)
                rc = -1;
            else if (!host->host_model->vendor && host->cpu->vendor)
                host->host_model->vendor = g_strdup(host->cpu->vendor);
        } else if (strcmp(name, "custom") == 0) {
            for (xmlNode *c = m->children; c; c = c->next) {
                if (c->type != XML_ELEMENT_NODE || strcmp((const char *) c->name, "model") != 0)
                    continue;
                g_autofree char *usable = tern_cpu_xml_prop(c, "usable");
                xmlChar *t = xmlNodeGetContent(c);
                if (usable && strcmp(usable, "yes") == 0 && t)
                    g_ptr_array_add(host->usable_models, g_strdup((const char *) t));
                xmlFree(t);
            }
        }
    }
    xmlFreeDoc(doc);
    return rc;
}

TernCpuHost *
tern_cpu_host_from_xml(const TernCpuDb *db, const char *caps_xml, const char *domcaps_xml,
                       GError **error)
{
    if (!caps_xml) {
        g_set_error(error, TERN_CPU_ERROR, TERN_CPU_ERROR_XML, "no capabilities XML");
        return NULL;
    }
    xmlDoc *doc = parse(caps_xml, "capabilities", "capabilities", error);
    if (!doc)
        return NULL;
    xmlNode *cpu = child(child(xmlDocGetRootElement(doc), "host"), "cpu");
    g_autoptr(TernCpuHost) host = g_new0(TernCpuHost, 1);
    host->usable_models = g_ptr_array_new_with_free_func(g_free);
    if (!cpu || !child(cpu, "arch")) {
        g_set_error(error, TERN_CPU_ERROR, TERN_CPU_ERROR_XML,
                    "capabilities XML has no <host><cpu><arch>");
        xmlFreeDoc(doc);
        return NULL;
    }
    host->cpu = tern_cpu_from_node(db, cpu, TERN_CPU_ARCH_NONE, TERN_CPU_MODE_HOST, error);
    xmlNode *topo = child(cpu, "topology");
    if (topo) {
        host->sockets = prop_uint(topo, "sockets");
        host->cores = prop_uint(topo, "cores");
        host->threads = prop_uint(topo, "threads");
    }
    xmlNode *cells = child(child(child(xmlDocGetRootElement(doc), "host"), "topology"), "cells");
    host->cells = cells ? prop_uint(cells, "num") : 1;
    xmlFreeDoc(doc);
    if (!host->cpu)
        return NULL;
    if (!host->cpu->model) {
        g_set_error(error, TERN_CPU_ERROR, TERN_CPU_ERROR_XML,
                    "capabilities XML names no host CPU model (libvirt could not identify "
                    "this %s CPU)", tern_cpu_arch_name(host->cpu->arch));
        return NULL;
    }
    if (domcaps_xml && parse_domcaps(db, host, domcaps_xml, error) < 0)
        return NULL;
    return g_steal_pointer(&host);
}
