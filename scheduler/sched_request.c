/* sched_request.c: reading a RequestSpec (and, for a live migration, the
 * instance's row) into a TernSchedRequest. */
#include "scheduler/sched_request.h"

#include <string.h>

#include "rpc/rpc.h"
#include "scheduler/sched_error.h"
#include "scheduler/sched_host.h"

TernSchedRequest *
tern_sched_request_new(void)
{
    TernSchedRequest *r = g_new0(TernSchedRequest, 1);
    r->num_instances = 1;
    return r;
}

void
tern_sched_request_free(TernSchedRequest *r)
{
    if (!r)
        return;
    g_free(r->instance_uuid);
    g_free(r->group_uuid);
    g_free(r->group_policy);
    if (r->group_hosts)
        g_hash_table_unref(r->group_hosts);
    g_free(r->arch_name);
    g_free(r->hv_type);
    g_free(r->vm_mode);
    g_free(r->availability_zone);
    g_free(r->cpu_desc);
    g_free(r->cpu_model);
    g_strfreev(r->force_hosts);
    g_strfreev(r->force_nodes);
    g_strfreev(r->ignore_hosts);
    g_free(r->dest_host);
    g_free(r->dest_node);
    g_free(r->hint_migration_uuid);
    g_free(r->migration_uuid);
    g_free(r->source_host);
    g_free(r->machine_type);
    g_free(r->os_distro);
    g_free(r->os_version);
    g_free(r->os_id);
    g_free(r->os_arches);
    g_free(r);
}

static int
invalid(GError **error, const char *fmt, ...) G_GNUC_PRINTF(2, 3);
static int
invalid(GError **error, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    g_autofree char *msg = g_strdup_vprintf(fmt, ap);
    va_end(ap);
    g_set_error_literal(error, TERN_SCHED_ERROR, TERN_SCHED_ERROR_INVALID, msg);
    return -1;
}

/* A json list of strings -> GStrv (NULL when not a non-empty list). */
static char **
strv_from_json(json_t *list)
{
    if (!json_is_array(list) || json_array_size(list) == 0)
        return NULL;
    GPtrArray *a = g_ptr_array_new();
    size_t i;
    json_t *v;
    json_array_foreach(list, i, v) {
        if (json_is_string(v))
            g_ptr_array_add(a, g_strdup(json_string_value(v)));
    }
    g_ptr_array_add(a, NULL);
    return (char **) g_ptr_array_free(a, FALSE);
}

/* The first string of a scheduler hint (hints are lists of strings). */
static const char *
hint_string(json_t *hints, const char *key)
{
    json_t *v = json_object_get(hints, key);
    if (json_is_array(v))
        v = json_array_get(v, 0);
    return json_is_string(v) ? json_string_value(v) : NULL;
}

void
tern_sched_request_group_add_host(TernSchedRequest *r, const char *host, guint members)
{
    if (!r->group_hosts)
        r->group_hosts = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);
    guint n = GPOINTER_TO_UINT(g_hash_table_lookup(r->group_hosts, host));
    g_hash_table_insert(r->group_hosts, g_strdup(host), GUINT_TO_POINTER(n + members));
}

guint64
tern_sched_request_triples_mask(const char *arch_name, gboolean emulated, const char *hv_type,
                                const char *vm_mode)
{
    int want_arch = arch_name ? (int) tern_cpu_arch_from_name(arch_name) : -1;
    int want_hv = emulated ? TERN_SCHED_HV_QEMU : tern_sched_hv_from_name(hv_type);
    int want_vm = tern_sched_vm_from_name(vm_mode);
    if (want_arch < 0 && want_hv < 0 && want_vm < 0)
        return 0;
    guint64 mask = 0;
    for (int a = 0; a < TERN_SCHED_ARCH_N; a++)
        for (int h = 0; h < TERN_SCHED_HV_N; h++)
            for (int v = 0; v < TERN_SCHED_VM_N; v++)
                if ((want_arch < 0 || a == want_arch) && (want_hv < 0 || h == want_hv) &&
                    (want_vm < 0 || v == want_vm))
                    mask |= tern_sched_triple_bit((guint) a, (guint) h, (guint) v);
    return mask;
}

/* Add "+f,-g,h" style flags (only + and bare names are needs) to set. */
static int
add_flags(const TernCpuDb *cpudb, TernCpuArch arch, const char *flags, TernCpuFeatureSet *set,
          GString *desc, GError **error)
{
    g_auto(GStrv) parts = g_strsplit_set(flags, ", ", -1);
    for (char **p = parts; *p; p++) {
        const char *f = g_strstrip(*p);
        if (!*f)
            continue;
        if (*f == '-')
            continue;   /* not needed: nothing to check on the host */
        if (*f == '+')
            f++;
        int i = tern_cpu_db_feature_index(cpudb, arch, f);
        if (i < 0)
            return invalid(error, "tern:cpu_flags: unknown %s CPU feature '%s'",
                           tern_cpu_arch_name(arch), f);
        tern_cpu_set_add(set, (guint) i);
        g_string_append_printf(desc, "%s+%s", desc->len ? " " : "", f);
    }
    return 0;
}

/* CPU needs of the flavor and image. */
static int
read_cpu(TernSchedRequest *r, const TernCpuDb *cpudb, json_t *extra_specs, json_t *img_traits,
         GError **error)
{
    const char *model = json_string_value(json_object_get(extra_specs, "tern:cpu_model"));
    const char *flags = json_string_value(json_object_get(extra_specs, "tern:cpu_flags"));
    GPtrArray *required = g_ptr_array_new();
    GPtrArray *forbidden = g_ptr_array_new();
    const char *key;
    json_t *v;
    json_object_foreach(extra_specs, key, v) {
        if (!g_str_has_prefix(key, "trait:HW_CPU_") || !json_is_string(v))
            continue;
        if (strcmp(json_string_value(v), "required") == 0)
            g_ptr_array_add(required, (gpointer) (key + 6));
        else if (strcmp(json_string_value(v), "forbidden") == 0)
            g_ptr_array_add(forbidden, (gpointer) (key + 6));
    }
    size_t i;
    json_array_foreach(img_traits, i, v) {
        if (json_is_string(v) && g_str_has_prefix(json_string_value(v), "HW_CPU_"))
            g_ptr_array_add(required, (gpointer) json_string_value(v));
    }
    g_ptr_array_add(required, NULL);
    g_ptr_array_add(forbidden, NULL);
    g_autoptr(GPtrArray) req_owner = required;
    g_autoptr(GPtrArray) forb_owner = forbidden;
    if (!model && !flags && required->len == 1 && forbidden->len == 1)
        return 0;

    /* Which CPU family: the guest arch, else the model's, else x86. */
    TernCpuArch arch = r->arch;
    if (arch == TERN_CPU_ARCH_NONE) {
        arch = TERN_CPU_ARCH_X86_64;
        if (model && !tern_cpu_db_model_name(cpudb, arch, model) &&
            tern_cpu_db_model_name(cpudb, TERN_CPU_ARCH_PPC64LE, model))
            arch = TERN_CPU_ARCH_PPC64LE;
    }
    g_autoptr(GString) desc = g_string_new(NULL);
    g_autoptr(TernCpu) cpu = NULL;
    if (model) {
        g_autoptr(GError) err = NULL;
        cpu = tern_cpu_from_model(cpudb, arch, TERN_CPU_MODE_CUSTOM, model, NULL, &err);
        if (!cpu)
            return invalid(error, "tern:cpu_model: %s", err->message);
        g_string_append(desc, cpu->model ? cpu->model : model);
        r->cpu_model = g_strdup(cpu->model ? cpu->model : model);
    } else {
        cpu = tern_cpu_new(arch, TERN_CPU_MODE_CUSTOM);
    }
    if (flags && add_flags(cpudb, arch, flags, &r->cpu_extra, desc, error) < 0)
        return -1;
    if (required->len > 1) {
        TernCpuFeatureSet set = { { 0 } };
        g_autoptr(GError) err = NULL;
        if (tern_cpu_features_for_traits(cpudb, arch, (const char *const *) required->pdata, &set,
                                         &err) < 0)
            return invalid(error, "CPU traits: %s", err->message);
        tern_cpu_set_union(&r->cpu_extra, &r->cpu_extra, &set);
        for (guint k = 0; k + 1 < required->len; k++)
            g_string_append_printf(desc, "%s%s", desc->len ? " " : "",
                                   (const char *) required->pdata[k]);
    }
    if (forbidden->len > 1) {
        g_autoptr(GError) err = NULL;
        if (tern_cpu_features_for_traits(cpudb, arch, (const char *const *) forbidden->pdata,
                                         &r->forbidden, &err) < 0)
            return invalid(error, "CPU traits: %s", err->message);
        r->has_forbidden = !tern_cpu_set_is_empty(&r->forbidden);
        for (guint k = 0; k + 1 < forbidden->len; k++)
            g_string_append_printf(desc, "%s!%s", desc->len ? " " : "",
                                   (const char *) forbidden->pdata[k]);
    }
    tern_cpu_set_union(&cpu->features, &cpu->features, &r->cpu_extra);
    tern_cpu_compact(cpudb, cpu, &r->cpu);
    r->has_cpu = TRUE;
    r->cpu_desc = g_string_free(g_steal_pointer(&desc), FALSE);
    return 0;
}

TernSchedRequest *
tern_sched_request_from_spec(const TernCpuDb *cpudb, const TernObject *spec, GError **error)
{
    g_autoptr(TernSchedRequest) r = tern_sched_request_new();
    if (!spec || g_strcmp0(tern_object_name(spec), "RequestSpec") != 0) {
        invalid(error, "spec_obj must be a RequestSpec object");
        return NULL;
    }
    r->instance_uuid = g_strdup(tern_object_get_string(spec, "instance_uuid"));
    r->num_instances = tern_object_get_int(spec, "num_instances", 1);
    if (r->num_instances < 1)
        r->num_instances = 1;

    TernObject *flavor = tern_object_get_object(spec, "flavor");
    if (!flavor) {
        invalid(error, "RequestSpec has no flavor");
        return NULL;
    }
    r->vcpus = tern_object_get_int(flavor, "vcpus", 0);
    r->memory_mb = tern_object_get_int(flavor, "memory_mb", 0);
    gint64 root = tern_object_get_bool(spec, "is_bfv", FALSE) ? 0 :
                  tern_object_get_int(flavor, "root_gb", 0);
    gint64 swap_mb = tern_object_get_int(flavor, "swap", 0);
    r->disk_gb = root + tern_object_get_int(flavor, "ephemeral_gb", 0) + (swap_mb + 1023) / 1024;
    if (r->vcpus < 0 || r->memory_mb < 0 || r->disk_gb < 0) {
        invalid(error, "flavor %s asks for negative resources",
                tern_object_get_string(flavor, "name") ?: "(unnamed)");
        return NULL;
    }
    json_t *extra_specs = tern_object_get_json(flavor, "extra_specs");

    TernObject *image = tern_object_get_object(spec, "image");
    TernObject *props = image ? tern_object_get_object(image, "properties") : NULL;
    json_t *img_traits = NULL;
    if (props) {
        const char *emu = tern_object_get_string(props, "hw_emulation_architecture");
        const char *arch = tern_object_get_string(props, "hw_architecture");
        r->emulated = emu != NULL;
        r->arch_name = g_strdup(emu ? emu : arch);
        r->hv_type = g_strdup(tern_object_get_string(props, "img_hv_type"));
        r->vm_mode = g_strdup(tern_object_get_string(props, "hw_vm_mode"));
        img_traits = tern_object_get_json(props, "traits_required");
        r->os_distro = g_strdup(tern_object_get_string(props, "os_distro"));
        r->os_version = g_strdup(tern_object_get_string(props, "os_version"));
    }
    if (r->arch_name) {
        /* Nova's canonical names: "x86_64", "ppc64le"; accept aliases libvirt knows. */
        r->arch = tern_cpu_arch_from_name(r->arch_name);
    }
    r->triples_mask = tern_sched_request_triples_mask(r->arch_name, r->emulated, r->hv_type,
                                                      r->vm_mode);
    r->availability_zone = g_strdup(tern_object_get_string(spec, "availability_zone"));

    if (read_cpu(r, cpudb, extra_specs, img_traits, error) < 0)
        return NULL;

    r->force_hosts = strv_from_json(tern_object_get_json(spec, "force_hosts"));
    r->force_nodes = strv_from_json(tern_object_get_json(spec, "force_nodes"));
    r->ignore_hosts = strv_from_json(tern_object_get_json(spec, "ignore_hosts"));
    TernObject *dest = tern_object_get_object(spec, "requested_destination");
    if (dest) {
        r->dest_host = g_strdup(tern_object_get_string(dest, "host"));
        r->dest_node = g_strdup(tern_object_get_string(dest, "node"));
    }
    json_t *hints = tern_object_get_json(spec, "scheduler_hints");
    if (json_is_object(hints)) {
        r->hint_live_move = g_strcmp0(hint_string(hints, "_tern_move"), "live") == 0;
        r->hint_migration_uuid = g_strdup(hint_string(hints, "_tern_migration_uuid"));
    }
    /* Server group: Nova's InstanceGroup (policy, or the older policies
     * list), else the "group" scheduler hint (a group uuid). */
    TernObject *group = tern_object_get_object(spec, "instance_group");
    if (group && tern_object_get_string(group, "uuid")) {
        r->group_uuid = g_strdup(tern_object_get_string(group, "uuid"));
        const char *policy = tern_object_get_string(group, "policy");
        if (!policy)
            policy = json_string_value(json_array_get(tern_object_get_json(group, "policies"), 0));
        if (policy && !tern_db_group_policy_canonical(policy)) {
            g_set_error(error, TERN_SCHED_ERROR, TERN_SCHED_ERROR_INVALID,
                        "server group %s has policy '%s', none of affinity, anti-affinity, "
                        "soft-affinity, soft-anti-affinity", r->group_uuid, policy);
            return NULL;
        }
        r->group_policy = g_strdup(policy);
        g_auto(GStrv) hosts = strv_from_json(tern_object_get_json(group, "hosts"));
        for (guint i = 0; hosts && hosts[i]; i++)
            tern_sched_request_group_add_host(r, hosts[i], 1);
    } else if (json_is_object(hints) && hint_string(hints, "group")) {
        r->group_uuid = g_strdup(hint_string(hints, "group"));
    }
    return g_steal_pointer(&r);
}

int
tern_sched_request_set_move(TernSchedRequest *r, const TernCpuDb *cpudb,
                            const TernDbInstance *inst, const char *migration_uuid,
                            GError **error)
{
    r->is_move = TRUE;
    g_free(r->migration_uuid);
    r->migration_uuid = g_strdup(migration_uuid);
    g_free(r->source_host);
    r->source_host = g_strdup(inst->host);

    /* Same arch as the instance. */
    if (inst->arch) {
        g_free(r->arch_name);
        r->arch_name = g_strdup(inst->arch);
        r->arch = tern_cpu_arch_from_name(inst->arch);
        /* A guest emulated (TCG) on another arch's host moves as emulated
         * (Nova's hw_emulation_architecture, kept in its image properties). */
        g_autoptr(json_t) props = inst->image_properties ?
            json_loads(inst->image_properties, 0, NULL) : NULL;
        r->emulated = json_is_string(json_object_get(props, "hw_emulation_architecture"));
        r->triples_mask = tern_sched_request_triples_mask(r->arch_name, r->emulated, r->hv_type,
                                                          r->vm_mode);
    }
    /* The recorded machine type. */
    if (inst->image_properties) {
        g_autoptr(json_t) props = json_loads(inst->image_properties, 0, NULL);
        const char *mt = json_string_value(json_object_get(props, "hw_machine_type"));
        const char *rec = json_string_value(json_object_get(props, "machine_type"));
        g_free(r->machine_type);
        r->machine_type = g_strdup(rec ? rec : mt);
    }
    /* The guest CPU it booted with, needed from the destination's CPU. */
    if (!inst->guest_cpu)
        return 0;   /* never booted: arch and resources only */
    json_error_t jerr;
    g_autoptr(json_t) gc = json_loads(inst->guest_cpu, 0, &jerr);
    if (!json_is_object(gc))
        return invalid(error, "instance %s: recorded guest CPU is not a JSON object: %s",
                       inst->uuid, jerr.text);
    const char *arch_s = json_string_value(json_object_get(gc, "arch"));
    TernCpuArch arch = arch_s ? tern_cpu_arch_from_name(arch_s) : r->arch;
    if (arch == TERN_CPU_ARCH_NONE)
        arch = tern_cpu_arch_from_name(inst->arch);
    const char *xml = json_string_value(json_object_get(gc, "xml"));
    const char *model = json_string_value(json_object_get(gc, "model"));
    const char *mode = json_string_value(json_object_get(gc, "mode"));
    g_autoptr(GError) err = NULL;
    g_autoptr(TernCpu) cpu = NULL;
    if (xml && *xml) {
        cpu = tern_cpu_from_xml(cpudb, xml, arch, &err);
    } else if (model) {
        g_autoptr(GPtrArray) flags = g_ptr_array_new();
        size_t i;
        json_t *v;
        json_array_foreach(json_object_get(gc, "features"), i, v) {
            if (json_is_string(v))
                g_ptr_array_add(flags, (gpointer) json_string_value(v));
        }
        g_ptr_array_add(flags, NULL);
        TernCpuMode m = g_strcmp0(mode, "host-passthrough") == 0 ? TERN_CPU_MODE_HOST_PASSTHROUGH
                                                                  : TERN_CPU_MODE_CUSTOM;
        cpu = tern_cpu_from_model(cpudb, arch, m, model, (const char *const *) flags->pdata, &err);
    } else {
        return 0;   /* mode none / passthrough without a model: nothing to compare */
    }
    if (!cpu)
        return invalid(error, "instance %s: recorded guest CPU: %s", inst->uuid, err->message);
    tern_cpu_compact(cpudb, cpu, &r->cpu);
    r->has_cpu = TRUE;
    r->cpu_extra = cpu->required;
    g_free(r->cpu_model);
    r->cpu_model = g_strdup(cpu->model);
    g_free(r->cpu_desc);
    g_autofree char *feats = cpu->arch == TERN_CPU_ARCH_X86_64 ?
                             tern_cpu_feature_list(cpudb, cpu->arch, &cpu->required) : NULL;
    r->cpu_desc = g_strdup_printf("guest CPU %s%s%s%s", cpu->model ? cpu->model : "(none)",
                                  feats && *feats ? " (+" : "", feats && *feats ? feats : "",
                                  feats && *feats ? ")" : "");
    return 0;
}

void
tern_sched_request_set_guest_os(TernSchedRequest *r, TernGuestOsRules *rules)
{
    g_clear_pointer(&r->os_id, g_free);
    g_clear_pointer(&r->os_arches, g_free);
    r->os_checked = FALSE;
    r->os_any_arch = TRUE;
    r->os_arch_ok = TRUE;
    r->os_arch_bits = 0;
    if (!rules || !r->os_distro || !*r->os_distro)
        return;
    r->os_checked = TRUE;
    r->os_id = tern_guest_os_rules_resolve(rules, r->os_distro, r->os_version);
    if (!r->os_id) {
        r->os_any_arch = FALSE;
        r->os_arch_ok = FALSE;
        return;
    }
    g_auto(GStrv) arches = tern_guest_os_rules_arches(rules, r->os_id);
    if (!arches)
        return;
    r->os_any_arch = FALSE;
    r->os_arches = g_strjoinv(", ", arches);
    for (char **a = arches; *a; a++) {
        TernCpuArch ca = tern_cpu_arch_from_name(*a);
        /* Only canonical names count for a host's arch (ppc64le, not ppc64el). */
        if (ca != TERN_CPU_ARCH_NONE && strcmp(*a, tern_cpu_arch_name(ca)) == 0)
            r->os_arch_bits |= 1u << ca;
    }
    r->os_arch_ok = r->arch_name && g_strv_contains((const char *const *) arches, r->arch_name);
}
