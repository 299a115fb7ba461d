/* guest_spec.c: TernGuestSpec memory and its JSON reader. */
#include "compute/guest_spec.h"

#include <string.h>

#include "compute/compute_error.h"

static void
disk_free(gpointer p)
{
    TernDiskSpec *d = p;
    g_free(d->path);
    g_free(d->format);
    g_free(d->bus);
    g_free(d->device);
    g_free(d);
}

static void
nic_free(gpointer p)
{
    TernNicSpec *n = p;
    g_free(n->type);
    g_free(n->source);
    g_free(n->mac);
    g_free(n->model);
    g_free(n);
}

TernGuestSpec *
tern_guest_spec_new(void)
{
    TernGuestSpec *s = g_new0(TernGuestSpec, 1);
    s->disks = g_ptr_array_new_with_free_func(disk_free);
    s->nics = g_ptr_array_new_with_free_func(nic_free);
    return s;
}

void
tern_guest_spec_free(TernGuestSpec *s)
{
    if (!s)
        return;
    char **strs[] = { &s->uuid, &s->name, &s->virt_type, &s->arch, &s->emulation_arch,
                      &s->machine_type, &s->firmware, &s->os_distro, &s->os_version, &s->disk_bus,
                      &s->cdrom_bus, &s->vif_model, &s->video_model, &s->scsi_model,
                      &s->graphics, &s->cpu_xml, &s->kernel, &s->initrd, &s->cmdline,
                      &s->console_log };
    for (gsize i = 0; i < G_N_ELEMENTS(strs); i++)
        g_free(*strs[i]);
    g_strfreev(s->machine_type_defaults);
    g_ptr_array_unref(s->disks);
    g_ptr_array_unref(s->nics);
    g_free(s);
}

TernDiskSpec *
tern_guest_spec_add_disk(TernGuestSpec *s, const char *path, const char *bus)
{
    TernDiskSpec *d = g_new0(TernDiskSpec, 1);
    d->path = g_strdup(path);
    d->bus = g_strdup(bus);
    g_ptr_array_add(s->disks, d);
    return d;
}

TernNicSpec *
tern_guest_spec_add_nic(TernGuestSpec *s, const char *type, const char *source, const char *model)
{
    TernNicSpec *n = g_new0(TernNicSpec, 1);
    n->type = g_strdup(type);
    n->source = g_strdup(source);
    n->model = g_strdup(model);
    g_ptr_array_add(s->nics, n);
    return n;
}

/* One JSON key: its name and where its value goes. */
typedef struct {
    const char *key;
    enum { F_STR, F_UINT, F_BOOL } kind;
    gsize offset;
} Field;

#define S(k, m) { k, F_STR, G_STRUCT_OFFSET(TernGuestSpec, m) }
#define U(k, m) { k, F_UINT, G_STRUCT_OFFSET(TernGuestSpec, m) }
static const Field spec_fields[] = {
    S("uuid", uuid), S("name", name), S("virt_type", virt_type),
    S("hw_architecture", arch), S("hw_emulation_architecture", emulation_arch),
    S("hw_machine_type", machine_type), S("hw_firmware_type", firmware),
    S("os_distro", os_distro), S("os_version", os_version), S("hw_disk_bus", disk_bus), S("hw_cdrom_bus", cdrom_bus),
    S("hw_vif_model", vif_model), S("hw_video_model", video_model),
    S("hw_scsi_model", scsi_model), S("graphics", graphics), S("cpu_xml", cpu_xml),
    S("kernel", kernel), S("initrd", initrd), S("cmdline", cmdline),
    S("console_log", console_log),
    U("vcpus", vcpus), U("memory_mb", memory_mb), U("hw_cpu_sockets", cpu_sockets),
    U("hw_cpu_cores", cpu_cores), U("hw_cpu_threads", cpu_threads),
    { NULL, 0, 0 }
};
#undef S
#undef U
static const Field disk_fields[] = {
    { "path", F_STR, G_STRUCT_OFFSET(TernDiskSpec, path) },
    { "format", F_STR, G_STRUCT_OFFSET(TernDiskSpec, format) },
    { "bus", F_STR, G_STRUCT_OFFSET(TernDiskSpec, bus) },
    { "device", F_STR, G_STRUCT_OFFSET(TernDiskSpec, device) },
    { "readonly", F_BOOL, G_STRUCT_OFFSET(TernDiskSpec, readonly) },
    { NULL, 0, 0 }
};
static const Field nic_fields[] = {
    { "type", F_STR, G_STRUCT_OFFSET(TernNicSpec, type) },
    { "source", F_STR, G_STRUCT_OFFSET(TernNicSpec, source) },
    { "mac", F_STR, G_STRUCT_OFFSET(TernNicSpec, mac) },
    { "model", F_STR, G_STRUCT_OFFSET(TernNicSpec, model) },
    { NULL, 0, 0 }
};

static int
read_fields(void *target, const Field *fields, json_t *obj, const char *where,
            const char *const *extra_keys, GError **error)
{
    const char *key;
    json_t *val;
    if (!json_is_object(obj)) {
        g_set_error(error, TERN_COMPUTE_ERROR, TERN_COMPUTE_ERROR_INVALID,
                    "%s is not a JSON object", where);
        return -1;
    }
    json_object_foreach(obj, key, val) {
        const Field *f = fields;
        while (f->key && strcmp(f->key, key) != 0)
            f++;
        if (!f->key) {
            if (extra_keys && g_strv_contains(extra_keys, key))
                continue;
            g_set_error(error, TERN_COMPUTE_ERROR, TERN_COMPUTE_ERROR_INVALID,
                        "%s: unknown key '%s'", where, key);
            return -1;
        }
        char *p = (char *)target + f->offset;
        if (json_is_null(val))
            continue;
        switch (f->kind) {
        case F_STR:
            if (!json_is_string(val))
                goto bad;
            g_free(*(char **)p);
            *(char **)p = g_strdup(json_string_value(val));
            break;
        case F_BOOL:
            if (!json_is_boolean(val))
                goto bad;
            *(gboolean *)p = json_is_true(val);
            break;
        case F_UINT:
            if (!json_is_integer(val) || json_integer_value(val) < 0 ||
                json_integer_value(val) > G_MAXUINT)
                goto bad;
            if (strcmp(key, "memory_mb") == 0)
                *(guint64 *)p = (guint64)json_integer_value(val);
            else
                *(guint *)p = (guint)json_integer_value(val);
            break;
        }
        continue;
    bad:
        g_set_error(error, TERN_COMPUTE_ERROR, TERN_COMPUTE_ERROR_INVALID,
                    "%s: key '%s' has a value of the wrong type", where, key);
        return -1;
    }
    return 0;
}

TernGuestSpec *
tern_guest_spec_from_json(json_t *obj, GError **error)
{
    g_autoptr(TernGuestSpec) s = tern_guest_spec_new();
    /* keys a caller (test harness, RPC layer) keeps beside the spec */
    static const char *const extra[] = { "disks", "nics", "comment", "host", "expect_error",
                                         "conf_hw_machine_type", NULL };
    if (read_fields(s, spec_fields, obj, "guest spec", extra, error) < 0)
        return NULL;
    json_t *arr;
    size_t i;
    json_t *item;
    if ((arr = json_object_get(obj, "conf_hw_machine_type"))) {
        if (!json_is_array(arr))
            goto notarray;
        GStrvBuilder *b = g_strv_builder_new();
        json_array_foreach(arr, i, item)
            if (json_is_string(item))
                g_strv_builder_add(b, json_string_value(item));
        s->machine_type_defaults = g_strv_builder_end(b);
        g_strv_builder_unref(b);
    }
    if ((arr = json_object_get(obj, "disks"))) {
        if (!json_is_array(arr))
            goto notarray;
        json_array_foreach(arr, i, item) {
            TernDiskSpec *d = tern_guest_spec_add_disk(s, NULL, NULL);
            g_autofree char *where = g_strdup_printf("disks[%zu]", i);
            if (read_fields(d, disk_fields, item, where, NULL, error) < 0)
                return NULL;
        }
    }
    if ((arr = json_object_get(obj, "nics"))) {
        if (!json_is_array(arr))
            goto notarray;
        json_array_foreach(arr, i, item) {
            TernNicSpec *n = tern_guest_spec_add_nic(s, NULL, NULL, NULL);
            g_autofree char *where = g_strdup_printf("nics[%zu]", i);
            if (read_fields(n, nic_fields, item, where, NULL, error) < 0)
                return NULL;
        }
    }
    return g_steal_pointer(&s);
notarray:
    g_set_error(error, TERN_COMPUTE_ERROR, TERN_COMPUTE_ERROR_INVALID,
                "guest spec: 'disks', 'nics' and 'conf_hw_machine_type' must be JSON arrays");
    return NULL;
}
