/* compute_manager.c: helpers the tern-compute handlers share: one handler
 * at a time per instance, the libvirt connection, the guest CPU object of
 * docs/tern-rpc.md, argument decoding. */
#include "compute/compute_manager.h"

#include <libxml/tree.h>
#include <string.h>

#include "common/log.h"
#include "compute/compute_error.h"
#include "compute/xml_util.h"
#include "rpc/object.h"

void
tern_compute_instance_lock(TernComputeManager *m, const char *uuid)
{
    g_mutex_lock(&m->lock);
    while (g_hash_table_contains(m->busy, uuid))
        g_cond_wait(&m->busy_cond, &m->lock);
    g_hash_table_add(m->busy, g_strdup(uuid));
    g_mutex_unlock(&m->lock);
}

void
tern_compute_instance_unlock(TernComputeManager *m, const char *uuid)
{
    g_mutex_lock(&m->lock);
    g_hash_table_remove(m->busy, uuid);
    gint64 *now = g_new(gint64, 1);
    *now = g_get_monotonic_time();
    g_hash_table_replace(m->settled, g_strdup(uuid), now);
    g_cond_broadcast(&m->busy_cond);
    g_mutex_unlock(&m->lock);
}

gboolean
tern_compute_instance_is_busy(TernComputeManager *m, const char *uuid)
{
    g_mutex_lock(&m->lock);
    gboolean busy = g_hash_table_contains(m->busy, uuid) || g_hash_table_contains(m->migrating, uuid);
    g_mutex_unlock(&m->lock);
    return busy;
}

virConnectPtr
tern_compute_conn(TernComputeManager *m, GError **error)
{
    return tern_libvirt_conn_get(m->lv, error);
}

static json_t *
flag_list(const TernCpuDb *db, const TernCpu *cpu)
{
    json_t *out = json_array();
    g_autoptr(GPtrArray) req = tern_cpu_feature_names(db, cpu->arch, &cpu->required);
    for (guint i = 0; req && i < req->len; i++)
        json_array_append_new(out, json_string(req->pdata[i]));
    g_autoptr(GPtrArray) dis = tern_cpu_feature_names(db, cpu->arch, &cpu->disabled);
    for (guint i = 0; dis && i < dis->len; i++) {
        g_autofree char *name = g_strdup_printf("-%s", (char *)dis->pdata[i]);
        json_array_append_new(out, json_string(name));
    }
    return out;
}

json_t *
tern_compute_cpu_json(TernComputeManager *m, const TernCpu *cpu, const char *xml)
{
    if (!cpu)
        return json_null();
    json_t *o = json_pack("{s:s, s:s, s:s?, s:o}", "arch", tern_cpu_arch_name(cpu->arch),
                          "mode", tern_cpu_mode_name(cpu->mode), "model", cpu->model,
                          "features", flag_list(m->cpu_db, cpu));
    if (xml)
        json_object_set_new(o, "xml", json_string(xml));
    if (cpu->generation)
        json_object_set_new(o, "generation", json_integer(cpu->generation));
    return o;
}

json_t *
tern_compute_domain_cpu_json(TernComputeManager *m, virDomainPtr dom, const char *arch)
{
    g_autofree char *live = NULL;
    char *x = virDomainGetXMLDesc(dom, 0);
    if (x) {
        live = g_strdup(x);
        free(x);
    }
    if (!live)
        return json_null();
    g_autoptr(GError) err = NULL;
    g_autoptr(xmlDoc) doc = tern_xml_parse(live, "domain XML", &err);
    if (!doc)
        return json_null();
    g_autoptr(xmlXPathContext) ctx = xmlXPathNewContext(doc);
    g_autoptr(GPtrArray) nodes = tern_xml_nodes(ctx, xmlDocGetRootElement(doc), "./cpu");
    if (!nodes || nodes->len == 0)
        return json_pack("{s:s, s:s, s:n}", "arch", arch, "mode", "none", "model");
    g_autofree char *cpu_xml = tern_xml_node_to_string(nodes->pdata[0]);
    TernCpuArch a = tern_cpu_arch_from_name(arch);
    g_autoptr(TernCpu) cpu = tern_cpu_from_xml(m->cpu_db, cpu_xml, a, &err);
    if (!cpu) {
        TERN_DEBUG(TERN_COMPUTE_LOG, "guest CPU of the domain not understood: %s", err->message);
        return json_pack("{s:s, s:s, s:s}", "arch", arch, "mode", "custom", "xml", cpu_xml);
    }
    return tern_compute_cpu_json(m, cpu, cpu_xml);
}

char *
tern_compute_domain_machine(virDomainPtr dom)
{
    return tern_compute_domain_value(dom, "./os/type/@machine");
}

char *
tern_compute_domain_value(virDomainPtr dom, const char *expr)
{
    char *x = virDomainGetXMLDesc(dom, VIR_DOMAIN_XML_INACTIVE);
    if (!x)
        return NULL;
    g_autoptr(GError) err = NULL;
    g_autoptr(xmlDoc) doc = tern_xml_parse(x, "domain XML", &err);
    free(x);
    if (!doc)
        return NULL;
    g_autoptr(xmlXPathContext) ctx = xmlXPathNewContext(doc);
    return tern_xml_string(ctx, xmlDocGetRootElement(doc), expr);
}

const char *
tern_compute_arg_uuid(json_t *args, const char *field, GError **error)
{
    json_t *inst = json_object_get(args, field);
    if (json_object_get(inst, "nova_object.name")) {
        /* a Nova object: it must be an Instance of a version tern reads */
        g_autoptr(TernObject) o = tern_object_from_primitive(inst, "Instance", error);
        if (!o) {
            g_prefix_error(error, "argument '%s': ", field);
            return NULL;
        }
    }
    json_t *data = json_object_get(inst, "nova_object.data");
    const char *uuid = json_string_value(json_object_get(data, "uuid"));
    if (!uuid)
        uuid = json_string_value(json_object_get(inst, "uuid"));
    if (!uuid || strlen(uuid) != 36) {
        g_set_error(error, TERN_COMPUTE_ERROR, TERN_COMPUTE_ERROR_INVALID,
                    "argument '%s' is not an Instance with a uuid", field);
        return NULL;
    }
    return uuid;
}

char *
tern_compute_now_iso(void)
{
    g_autoptr(GDateTime) now = g_date_time_new_now_utc();
    return g_date_time_format(now, "%Y-%m-%dT%H:%M:%SZ");
}
