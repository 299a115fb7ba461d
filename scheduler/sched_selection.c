/* sched_selection.c: Selection objects (and the legacy form) from picks. */
#include "scheduler/sched_selection.h"

#include "rpc/rpc.h"

static json_t *
allocation_request(const TernSchedPick *p)
{
    json_t *res = json_pack("{sIsIsI}", "VCPU", (json_int_t) p->vcpus, "MEMORY_MB",
                            (json_int_t) p->memory_mb, "DISK_GB", (json_int_t) p->disk_gb);
    json_t *alloc = json_object();
    json_object_set_new(alloc, p->uuid, json_pack("{so}", "resources", res));
    return json_pack("{so}", "allocations", alloc);
}

static json_t *
selection(const TernSchedPick *p, const char *az)
{
    g_autoptr(TernObject) limits = tern_object_new("SchedulerLimits");
    tern_object_set_int(limits, "vcpu", p->vcpu_limit);
    tern_object_set_int(limits, "memory_mb", p->memory_limit);
    tern_object_set_int(limits, "disk_gb", p->disk_limit);
    tern_object_set_json(limits, "numa_topology", json_null());
    g_autoptr(TernObject) s = tern_object_new("Selection");
    tern_object_set_string(s, "compute_node_uuid", p->uuid);
    tern_object_set_string(s, "service_host", p->host);
    tern_object_set_string(s, "nodename", p->nodename);
    tern_object_set_string(s, "cell_uuid", TERN_SCHED_CELL_UUID);
    tern_object_set_object(s, "limits", g_steal_pointer(&limits));
    g_autoptr(json_t) ar = allocation_request(p);
    g_autofree char *ar_text = json_dumps(ar, JSON_COMPACT);
    tern_object_set_string(s, "allocation_request", ar_text);
    tern_object_set_string(s, "allocation_request_version", "1.36");
    tern_object_set_string(s, "availability_zone", az);
    return tern_object_to_primitive(s);
}

json_t *
tern_sched_selections_to_json(const GPtrArray *result, gboolean return_objects, const char *az)
{
    json_t *out = json_array();
    for (guint i = 0; i < result->len; i++) {
        const GPtrArray *list = result->pdata[i];
        if (!return_objects) {
            /* Nova's legacy answer: one dict per instance (the chosen host). */
            const TernSchedPick *p = list->pdata[0];
            json_array_append_new(out, json_pack("{sssss{sIsIsI}}", "host", p->host, "nodename",
                                                 p->nodename, "limits", "vcpu",
                                                 (json_int_t) p->vcpu_limit, "memory_mb",
                                                 (json_int_t) p->memory_limit, "disk_gb",
                                                 (json_int_t) p->disk_limit));
            continue;
        }
        json_t *sels = json_array();
        for (guint j = 0; j < list->len; j++)
            json_array_append_new(sels, selection(list->pdata[j], az));
        json_array_append_new(out, sels);
    }
    return out;
}
