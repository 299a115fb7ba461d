/* views.c: how the conductor shows its records on the wire: plain JSON for
 * tern's own methods, Nova object primitives (Instance, Migration, Flavor,
 * RequestSpec) and the image dict for computes and the scheduler. */
#include "conductor.h"

#include "rpc/objects/objects.h"

json_t *
tern_conductor_json_parse(const char *text)
{
    if (!text)
        return json_object();
    json_t *j = json_loads(text, JSON_DECODE_ANY, NULL);
    return j ? j : json_object();
}

static json_t *
str_or_null(const char *s)
{
    return s ? json_string(s) : json_null();
}

static json_t *
time_or_null(gint64 usec)
{
    if (!usec)
        return json_null();
    g_autoptr(GDateTime) dt = g_date_time_new_from_unix_utc(usec / G_USEC_PER_SEC);
    if (!dt)
        return json_null();
    g_autofree char *s = g_date_time_format(dt, "%Y-%m-%dT%H:%M:%SZ");
    return json_string(s);
}

json_t *
tern_conductor_instance_json(const TernDbInstance *inst)
{
    json_t *o = json_object();
    json_object_set_new(o, "uuid", json_string(inst->uuid));
    json_object_set_new(o, "name", str_or_null(inst->display_name));
    json_object_set_new(o, "host", str_or_null(inst->host));
    json_object_set_new(o, "node", str_or_null(inst->node));
    json_object_set_new(o, "vm_state", str_or_null(inst->vm_state));
    json_object_set_new(o, "task_state", str_or_null(inst->task_state));
    json_object_set_new(o, "power_state", json_integer(inst->power_state));
    json_object_set_new(o, "arch", str_or_null(inst->arch));
    json_object_set_new(o, "vcpus", json_integer(inst->vcpus));
    json_object_set_new(o, "memory_mb", json_integer(inst->memory_mb));
    json_object_set_new(o, "root_gb", json_integer(inst->root_gb));
    json_object_set_new(o, "image_ref", str_or_null(inst->image_ref));
    json_object_set_new(o, "image_properties", tern_conductor_json_parse(inst->image_properties));
    json_object_set_new(o, "flavor", tern_conductor_json_parse(inst->flavor));
    json_object_set_new(o, "guest_cpu",
                        inst->guest_cpu ? tern_conductor_json_parse(inst->guest_cpu) : json_null());
    json_object_set_new(o, "project_id", str_or_null(inst->project_id));
    json_object_set_new(o, "user_id", str_or_null(inst->user_id));
    json_object_set_new(o, "launched_at", time_or_null(inst->launched_at));
    json_object_set_new(o, "created_at", time_or_null(inst->created_at));
    json_object_set_new(o, "updated_at", time_or_null(inst->updated_at));
    return o;
}

json_t *
tern_conductor_nova_object(const char *name, json_t *data)
{
    const TernObjectClass *cls = tern_object_class_find(name);
    json_t *changes = json_array();
    const char *key;
    json_t *v;
    json_object_foreach(data, key, v)
        json_array_append_new(changes, json_string(key));
    return json_pack("{s:s, s:s, s:s, s:o, s:o}",
                     "nova_object.name", name, "nova_object.namespace", "nova",
                     "nova_object.version", cls ? cls->version : "1.0",
                     "nova_object.data", data, "nova_object.changes", changes);
}

json_t *
tern_conductor_flavor_primitive(const TernDbInstance *inst)
{
    g_autoptr(json_t) fl = tern_conductor_json_parse(inst->flavor);
    json_t *name = json_object_get(fl, "name");
    json_t *specs = json_object_get(fl, "extra_specs");
    json_t *d = json_object();
    json_object_set_new(d, "id", json_integer(json_integer_value(json_object_get(fl, "id"))));
    json_object_set(d, "name", json_is_string(name) ? name : json_null());
    json_object_set_new(d, "flavorid", json_string(json_is_string(name) ? json_string_value(name)
                                                                         : "tern"));
    json_object_set_new(d, "vcpus", json_integer(inst->vcpus));
    json_object_set_new(d, "memory_mb", json_integer(inst->memory_mb));
    json_object_set_new(d, "root_gb", json_integer(inst->root_gb));
    json_object_set_new(d, "ephemeral_gb", json_integer(inst->ephemeral_gb));
    json_object_set_new(d, "swap", json_integer(json_integer_value(json_object_get(fl, "swap"))));
    json_object_set_new(d, "rxtx_factor", json_real(1.0));
    json_object_set_new(d, "vcpu_weight", json_null());
    json_object_set_new(d, "disabled", json_false());
    json_object_set_new(d, "is_public", json_true());
    json_object_set_new(d, "extra_specs", json_is_object(specs) ? json_incref(specs) : json_object());
    json_object_set_new(d, "description", json_null());
    return tern_conductor_nova_object("Flavor", d);
}

/* Nova keeps image properties in system_metadata as image_<name> strings. */
static json_t *
system_metadata(const TernDbInstance *inst)
{
    json_t *sm = json_object();
    g_autoptr(json_t) props = tern_conductor_json_parse(inst->image_properties);
    const char *k;
    json_t *v;
    json_object_foreach(props, k, v) {
        g_autofree char *key = g_strconcat("image_", k, NULL);
        if (json_is_string(v))
            json_object_set(sm, key, v);
        else {
            g_autofree char *s = json_dumps(v, JSON_ENCODE_ANY | JSON_COMPACT);
            json_object_set_new(sm, key, json_string(s ? s : ""));
        }
    }
    return sm;
}

json_t *
tern_conductor_instance_primitive(const TernDbInstance *inst)
{
    json_t *d = json_object();
    json_object_set_new(d, "id", json_integer(inst->id));
    json_object_set_new(d, "uuid", json_string(inst->uuid));
    json_object_set_new(d, "display_name", str_or_null(inst->display_name));
    json_object_set_new(d, "hostname", str_or_null(inst->hostname ? inst->hostname
                                                                    : inst->display_name));
    json_object_set_new(d, "project_id", str_or_null(inst->project_id));
    json_object_set_new(d, "user_id", str_or_null(inst->user_id));
    json_object_set_new(d, "host", str_or_null(inst->host));
    json_object_set_new(d, "node", str_or_null(inst->node));
    json_object_set_new(d, "launched_on", str_or_null(inst->host));
    json_object_set_new(d, "vm_state", str_or_null(inst->vm_state));
    json_object_set_new(d, "task_state", str_or_null(inst->task_state));
    json_object_set_new(d, "power_state", json_integer(inst->power_state));
    json_object_set_new(d, "vcpus", json_integer(inst->vcpus));
    json_object_set_new(d, "memory_mb", json_integer(inst->memory_mb));
    json_object_set_new(d, "root_gb", json_integer(inst->root_gb));
    json_object_set_new(d, "ephemeral_gb", json_integer(inst->ephemeral_gb));
    json_object_set_new(d, "image_ref", str_or_null(inst->image_ref));
    json_object_set_new(d, "architecture", str_or_null(inst->arch));
    json_object_set_new(d, "availability_zone", str_or_null(inst->availability_zone));
    json_object_set_new(d, "metadata", tern_conductor_json_parse(inst->metadata));
    json_object_set_new(d, "system_metadata", system_metadata(inst));
    json_object_set_new(d, "flavor", tern_conductor_flavor_primitive(inst));
    json_object_set_new(d, "launch_index", json_integer(0));
    json_object_set_new(d, "deleted", json_boolean(inst->deleted));
    json_object_set_new(d, "created_at", time_or_null(inst->created_at));
    json_object_set_new(d, "updated_at", time_or_null(inst->updated_at));
    json_object_set_new(d, "launched_at", time_or_null(inst->launched_at));
    return tern_conductor_nova_object("Instance", d);
}

json_t *
tern_conductor_migration_json(const TernDbMigration *m)
{
    json_t *o = json_object();
    json_object_set_new(o, "uuid", json_string(m->uuid));
    json_object_set_new(o, "instance_uuid", str_or_null(m->instance_uuid));
    json_object_set_new(o, "migration_type", str_or_null(m->migration_type));
    json_object_set_new(o, "source_compute", str_or_null(m->source_compute));
    json_object_set_new(o, "source_node", str_or_null(m->source_node));
    json_object_set_new(o, "dest_compute", str_or_null(m->dest_compute));
    json_object_set_new(o, "dest_node", str_or_null(m->dest_node));
    json_object_set_new(o, "status", str_or_null(m->status));
    json_object_set_new(o, "progress", json_integer(m->progress));
    json_object_set_new(o, "memory_total", json_integer(m->memory_total));
    json_object_set_new(o, "memory_processed", json_integer(m->memory_processed));
    json_object_set_new(o, "memory_remaining", json_integer(m->memory_remaining));
    json_object_set_new(o, "disk_total", json_integer(m->disk_total));
    json_object_set_new(o, "disk_processed", json_integer(m->disk_processed));
    json_object_set_new(o, "disk_remaining", json_integer(m->disk_remaining));
    json_object_set_new(o, "error", str_or_null(m->error));
    json_object_set_new(o, "created_at", time_or_null(m->created_at));
    json_object_set_new(o, "updated_at", time_or_null(m->updated_at));
    return o;
}

json_t *
tern_conductor_migration_primitive(const TernDbMigration *m)
{
    json_t *d = json_object();
    json_object_set_new(d, "id", json_integer(m->id));
    json_object_set_new(d, "uuid", json_string(m->uuid));
    json_object_set_new(d, "instance_uuid", str_or_null(m->instance_uuid));
    json_object_set_new(d, "migration_type", json_string(m->migration_type ? m->migration_type
                                                                           : "live-migration"));
    json_object_set_new(d, "source_compute", str_or_null(m->source_compute));
    json_object_set_new(d, "source_node", str_or_null(m->source_node));
    json_object_set_new(d, "dest_compute", str_or_null(m->dest_compute));
    json_object_set_new(d, "dest_node", str_or_null(m->dest_node));
    json_object_set_new(d, "dest_host", str_or_null(m->dest_compute));
    json_object_set_new(d, "status", str_or_null(m->status));
    json_object_set_new(d, "memory_total", json_integer(m->memory_total));
    json_object_set_new(d, "memory_processed", json_integer(m->memory_processed));
    json_object_set_new(d, "memory_remaining", json_integer(m->memory_remaining));
    json_object_set_new(d, "disk_total", json_integer(m->disk_total));
    json_object_set_new(d, "disk_processed", json_integer(m->disk_processed));
    json_object_set_new(d, "disk_remaining", json_integer(m->disk_remaining));
    json_object_set_new(d, "cross_cell_move", json_false());
    json_object_set_new(d, "hidden", json_false());
    json_object_set_new(d, "deleted", json_false());
    json_object_set_new(d, "created_at", time_or_null(m->created_at));
    json_object_set_new(d, "updated_at", time_or_null(m->updated_at));
    return tern_conductor_nova_object("Migration", d);
}

json_t *
tern_conductor_image_dict(const TernDbInstance *inst)
{
    json_t *img = json_object();
    json_object_set_new(img, "id", str_or_null(inst->image_ref));
    json_object_set_new(img, "name", str_or_null(inst->image_ref));
    json_object_set_new(img, "status", json_string("active"));
    json_object_set_new(img, "min_disk", json_integer(0));
    json_object_set_new(img, "min_ram", json_integer(0));
    json_object_set_new(img, "properties", tern_conductor_json_parse(inst->image_properties));
    return img;
}

json_t *
tern_conductor_request_spec(const TernDbInstance *inst, const char *const *ignore_hosts,
                            const char *force_host, json_t *hints)
{
    json_t *props = tern_conductor_json_parse(inst->image_properties);
    json_t *image = json_object();
    if (inst->image_ref && g_uuid_string_is_valid(inst->image_ref))
        json_object_set_new(image, "id", json_string(inst->image_ref));
    json_object_set_new(image, "name", str_or_null(inst->image_ref));
    json_object_set_new(image, "min_disk", json_integer(0));
    json_object_set_new(image, "min_ram", json_integer(0));
    json_object_set_new(image, "properties", tern_conductor_nova_object("ImageMetaProps", props));

    json_t *d = json_object();
    json_object_set_new(d, "instance_uuid", json_string(inst->uuid));
    json_object_set_new(d, "project_id", str_or_null(inst->project_id));
    json_object_set_new(d, "user_id", str_or_null(inst->user_id));
    json_object_set_new(d, "num_instances", json_integer(1));
    json_object_set_new(d, "is_bfv", json_false());
    json_object_set_new(d, "availability_zone", str_or_null(inst->availability_zone));
    json_object_set_new(d, "flavor", tern_conductor_flavor_primitive(inst));
    json_object_set_new(d, "image", tern_conductor_nova_object("ImageMeta", image));
    json_t *ign = json_array();
    for (guint i = 0; ignore_hosts && ignore_hosts[i]; i++)
        json_array_append_new(ign, json_string(ignore_hosts[i]));
    json_object_set_new(d, "ignore_hosts", ign);
    if (force_host) {
        json_object_set_new(d, "force_hosts", json_pack("[s]", force_host));
        json_t *dest = json_pack("{s:s}", "host", force_host);
        json_object_set_new(d, "requested_destination",
                            tern_conductor_nova_object("Destination", dest));
    } else {
        json_object_set_new(d, "force_hosts", json_null());
    }
    json_object_set_new(d, "scheduler_hints", hints ? hints : json_object());
    return tern_conductor_nova_object("RequestSpec", d);
}

void
tern_conductor_instance_resources(const TernDbInstance *inst, TernDbResources *out)
{
    out->vcpus = inst->vcpus;
    out->memory_mb = inst->memory_mb;
    out->disk_gb = inst->root_gb + inst->ephemeral_gb;
}
