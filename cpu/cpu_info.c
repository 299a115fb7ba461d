/* cpu_info.c: Nova's ComputeNode.cpu_info JSON (nova/virt/libvirt/driver.py
 * _get_cpu_info), written and read with jansson, so that a tern compute and
 * a Nova one describe their CPU to the scheduler and to a migration source
 * in the same words. */
#include <string.h>
#include <jansson.h>

#include "cpu/cpu_db.h"

char *
tern_cpu_info_json(const TernCpuDb *db, const TernCpuHost *host)
{
    const TernCpu *cpu = host->cpu;
    json_t *root = json_object();
    json_object_set_new(root, "arch", json_string(tern_cpu_arch_name(cpu->arch)));
    json_object_set_new(root, "model", cpu->model ? json_string(cpu->model) : json_null());
    json_object_set_new(root, "vendor", cpu->vendor ? json_string(cpu->vendor) : json_null());
    json_t *topo = json_object();
    json_object_set_new(topo, "cells", json_integer(host->cells ? host->cells : 1));
    json_object_set_new(topo, "sockets", json_integer(host->sockets));
    json_object_set_new(topo, "cores", json_integer(host->cores));
    json_object_set_new(topo, "threads", json_integer(host->threads));
    json_object_set_new(root, "topology", topo);
    json_t *features = json_array();
    g_autoptr(GPtrArray) names = tern_cpu_feature_names(db, cpu->arch, &cpu->features);
    for (guint i = 0; i < names->len; i++)
        json_array_append_new(features, json_string(g_ptr_array_index(names, i)));
    json_object_set_new(root, "features", features);
    char *dumped = json_dumps(root, JSON_COMPACT);
    json_decref(root);
    char *s = g_strdup(dumped);
    free(dumped);
    return s;
}

TernCpu *
tern_cpu_from_info_json(const TernCpuDb *db, const char *json, GError **error)
{
    json_error_t jerr;
    json_t *root = json ? json_loads(json, 0, &jerr) : NULL;
    if (!root || !json_is_object(root)) {
        g_set_error(error, TERN_CPU_ERROR, TERN_CPU_ERROR_XML,
                    "cpu_info is not a JSON object%s%s", root ? "" : ": ",
                    root ? "" : (json ? jerr.text : "(none)"));
        json_decref(root);
        return NULL;
    }
    TernCpu *cpu = NULL;
    const char *arch_s = json_string_value(json_object_get(root, "arch"));
    const char *model = json_string_value(json_object_get(root, "model"));
    const char *vendor = json_string_value(json_object_get(root, "vendor"));
    json_t *features = json_object_get(root, "features");
    TernCpuArch arch = tern_cpu_arch_from_name(arch_s);
    const TernCpuMap *map = arch != TERN_CPU_ARCH_NONE ? tern_cpu_db_map(db, arch, error) : NULL;
    if (!map) {
        if (arch == TERN_CPU_ARCH_NONE)
            g_set_error(error, TERN_CPU_ERROR, TERN_CPU_ERROR_ARCH,
                        "cpu_info has no arch tern supports (%s)", arch_s ? arch_s : "none");
        goto out;
    }
    if (features && !json_is_array(features)) {
        g_set_error(error, TERN_CPU_ERROR, TERN_CPU_ERROR_XML, "cpu_info features is not a list");
        goto out;
    }
    TernCpuFeatureSet req = { { 0 } }, dis = { { 0 } };
    size_t i;
    json_t *f;
    json_array_foreach(features, i, f) {
        int bit = tern_cpu_map_feature(map, json_string_value(f));
        if (bit >= 0)
            tern_cpu_set_add(&req, (guint) bit);
    }
    cpu = tern_cpu_new(arch, TERN_CPU_MODE_HOST);
    if (map->driver->from_model(map, cpu, model, &req, &dis, error) < 0) {
        g_clear_pointer(&cpu, tern_cpu_free);
        goto out;
    }
    cpu->vendor = g_strdup(vendor);
out:
    json_decref(root);
    return cpu;
}
