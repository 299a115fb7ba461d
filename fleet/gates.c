/* gates.c: per-arch feature gates read from a key file and evaluated per
 * (arch, virt type, hypervisor version, operation); see gates.h. */
#include "fleet/gates.h"

#include <string.h>

G_DEFINE_QUARK(tern-gates-error-quark, tern_gates_error)

const char *const tern_gates_operations[] = {
    "live_migration",
    "display:vnc", "display:spice", "display:sdl", "display:egl-headless",
    "disk_bus:virtio", "disk_bus:scsi", "disk_bus:ide", "disk_bus:sata", "disk_bus:usb",
    "disk_bus:fdc",
    NULL
};

typedef struct {
    char *name;
    char **arch, **virt_type, **deny;   /* NULL = any (arch, virt_type) */
    gint64 version_min, version_below;  /* -1 = no bound */
    char *reason;
    gboolean overridden;
} Gate;

struct _TernGates {
    GPtrArray *gates;   /* Gate */
};

static void
gate_free(Gate *gt)
{
    g_free(gt->name);
    g_strfreev(gt->arch);
    g_strfreev(gt->virt_type);
    g_strfreev(gt->deny);
    g_free(gt->reason);
    g_free(gt);
}

void
tern_gates_free(TernGates *g)
{
    if (!g)
        return;
    g_ptr_array_unref(g->gates);
    g_free(g);
}

gint64
tern_gates_parse_version(const char *text)
{
    if (!text)
        return -1;
    g_autofree char *t = g_strstrip(g_strdup(text));
    g_auto(GStrv) parts = g_strsplit(t, ".", -1);
    guint n = g_strv_length(parts);
    if (n < 1 || n > 3)
        return -1;
    gint64 v = 0;
    for (guint i = 0; i < 3; i++) {
        guint64 x = 0;
        if (i < n && !g_ascii_string_to_unsigned(parts[i], 10, 0, 999, &x, NULL))
            return -1;
        v = v * 1000 + (gint64) x;
    }
    return v;
}

static char **
list_key(GKeyFile *kf, const char *group, const char *key)
{
    if (!g_key_file_has_key(kf, group, key, NULL))
        return NULL;
    g_autofree char *raw = g_key_file_get_string(kf, group, key, NULL);
    g_auto(GStrv) parts = g_strsplit(raw ? raw : "", ",", -1);
    GPtrArray *out = g_ptr_array_new();
    for (guint i = 0; parts[i]; i++) {
        char *s = g_strstrip(parts[i]);
        if (*s)
            g_ptr_array_add(out, g_strdup(s));
    }
    g_ptr_array_add(out, NULL);
    return (char **) g_ptr_array_free(out, FALSE);
}

static int
version_key(GKeyFile *kf, const char *group, const char *key, gint64 *out, GError **error)
{
    *out = -1;
    if (!g_key_file_has_key(kf, group, key, NULL))
        return 0;
    g_autofree char *raw = g_key_file_get_string(kf, group, key, NULL);
    if ((*out = tern_gates_parse_version(raw)) < 0) {
        g_set_error(error, TERN_GATES_ERROR, TERN_GATES_ERROR_INVALID,
                    "[%s] %s = '%s' is not a version like 10.0.2", group, key, raw ? raw : "");
        return -1;
    }
    return 0;
}

static gboolean
known_operation(const char *op)
{
    return g_strv_contains(tern_gates_operations, op);
}

TernGates *
tern_gates_load_data(const char *data, gsize len, GError **error)
{
    g_autoptr(GKeyFile) kf = g_key_file_new();
    if (!g_key_file_load_from_data(kf, data, len, G_KEY_FILE_NONE, error))
        return NULL;
    g_autoptr(TernGates) g = g_new0(TernGates, 1);
    g->gates = g_ptr_array_new_with_free_func((GDestroyNotify) gate_free);
    g_auto(GStrv) groups = g_key_file_get_groups(kf, NULL);
    static const char *const keys[] = { "arch", "virt_type", "version_min", "version_below",
                                        "deny", "reason", NULL };
    for (guint i = 0; groups[i]; i++) {
        const char *grp = groups[i];
        if (!g_str_has_prefix(grp, "gate ") || !grp[5]) {
            g_set_error(error, TERN_GATES_ERROR, TERN_GATES_ERROR_INVALID,
                        "[%s]: sections are [gate NAME]", grp);
            return NULL;
        }
        g_auto(GStrv) ks = g_key_file_get_keys(kf, grp, NULL, NULL);
        for (guint k = 0; ks && ks[k]; k++)
            if (!g_strv_contains(keys, ks[k])) {
                g_set_error(error, TERN_GATES_ERROR, TERN_GATES_ERROR_INVALID,
                            "[%s]: unknown key '%s' (known: arch, virt_type, version_min, "
                            "version_below, deny, reason)", grp, ks[k]);
                return NULL;
            }
        Gate *gt = g_new0(Gate, 1);
        g_ptr_array_add(g->gates, gt);
        gt->name = g_strdup(grp + 5);
        gt->arch = list_key(kf, grp, "arch");
        gt->virt_type = list_key(kf, grp, "virt_type");
        gt->deny = list_key(kf, grp, "deny");
        gt->reason = g_key_file_get_string(kf, grp, "reason", NULL);
        if (version_key(kf, grp, "version_min", &gt->version_min, error) < 0 ||
            version_key(kf, grp, "version_below", &gt->version_below, error) < 0)
            return NULL;
        if (!gt->deny || !gt->deny[0] || !gt->reason || !*gt->reason) {
            g_set_error(error, TERN_GATES_ERROR, TERN_GATES_ERROR_INVALID,
                        "[%s]: a gate needs deny (operations) and a reason", grp);
            return NULL;
        }
        for (guint k = 0; gt->deny[k]; k++)
            if (!known_operation(gt->deny[k])) {
                g_set_error(error, TERN_GATES_ERROR, TERN_GATES_ERROR_INVALID,
                            "[%s]: unknown operation '%s'", grp, gt->deny[k]);
                return NULL;
            }
    }
    return g_steal_pointer(&g);
}

TernGates *
tern_gates_load_file(const char *path, GError **error)
{
    g_autofree char *data = NULL;
    gsize len = 0;
    g_autoptr(GError) local = NULL;
    if (!g_file_get_contents(path, &data, &len, &local)) {
        g_set_error(error, TERN_GATES_ERROR, TERN_GATES_ERROR_FILE,
                    "cannot read the feature gates file: %s", local->message);
        return NULL;
    }
    TernGates *g = tern_gates_load_data(data, len, &local);
    if (!g)
        g_set_error(error, TERN_GATES_ERROR, TERN_GATES_ERROR_INVALID, "%s: %s", path,
                    local->message);
    return g;
}

int
tern_gates_set_overrides(TernGates *g, const char *const *names, GError **error)
{
    for (guint i = 0; names && names[i]; i++) {
        gboolean found = FALSE;
        for (guint k = 0; k < g->gates->len; k++) {
            Gate *gt = g->gates->pdata[k];
            if (strcmp(gt->name, names[i]) == 0)
                found = gt->overridden = TRUE;
        }
        if (!found) {
            g_set_error(error, TERN_GATES_ERROR, TERN_GATES_ERROR_INVALID,
                        "[feature_gates] overrides names '%s', which is no gate", names[i]);
            return -1;
        }
    }
    return 0;
}

static gboolean
gate_matches(const Gate *gt, const char *arch, const char *virt_type, gint64 v)
{
    if (gt->arch && !(arch && g_strv_contains((const char *const *) gt->arch, arch)))
        return FALSE;
    if (gt->virt_type &&
        !(virt_type && g_strv_contains((const char *const *) gt->virt_type, virt_type)))
        return FALSE;
    /* An unknown version (0) matches: the gate's side is the safe one. */
    if (v > 0 && gt->version_min >= 0 && v < gt->version_min)
        return FALSE;
    if (v > 0 && gt->version_below >= 0 && v >= gt->version_below)
        return FALSE;
    return TRUE;
}

char *
tern_gates_version_text(gint64 v)
{
    if (v <= 0)
        return g_strdup("an unknown version");
    return g_strdup_printf("%" G_GINT64_FORMAT ".%" G_GINT64_FORMAT ".%" G_GINT64_FORMAT,
                           v / 1000000, v / 1000 % 1000, v % 1000);
}

int
tern_gates_check(const TernGates *g, const char *arch, const char *virt_type,
                 gint64 hv_version, const char *operation, GError **error)
{
    for (guint k = 0; g && k < g->gates->len; k++) {
        const Gate *gt = g->gates->pdata[k];
        if (gt->overridden ||
            !g_strv_contains((const char *const *) gt->deny, operation) ||
            !gate_matches(gt, arch, virt_type, hv_version))
            continue;
        g_autofree char *vt = tern_gates_version_text(hv_version);
        g_set_error(error, TERN_GATES_ERROR, TERN_GATES_ERROR_DENIED,
                    "%s of a %s guest under %s on QEMU %s is gated (%s): %s; "
                    "[feature_gates] overrides = %s lets it through", operation,
                    arch ? arch : "?", virt_type ? virt_type : "?", vt, gt->name, gt->reason,
                    gt->name);
        return -1;
    }
    return 0;
}

GPtrArray *
tern_gates_describe(const TernGates *g, const char *arch, const char *virt_type,
                    gint64 hv_version)
{
    g_autoptr(GPtrArray) verdicts = tern_gates_verdicts(g, arch, virt_type, hv_version);
    GPtrArray *out = g_ptr_array_new_with_free_func(g_free);
    for (guint i = 0; i < verdicts->len; i++) {
        const TernGateVerdict *v = verdicts->pdata[i];
        g_ptr_array_add(out, g_strdup_printf("%s: denied by %s%s: %s", v->operation, v->gate,
                                             v->overridden ? " (overridden)" : "", v->reason));
    }
    return out;
}

GPtrArray *
tern_gates_verdicts(const TernGates *g, const char *arch, const char *virt_type,
                    gint64 hv_version)
{
    GPtrArray *out = g_ptr_array_new_with_free_func(g_free);
    for (guint k = 0; g && k < g->gates->len; k++) {
        const Gate *gt = g->gates->pdata[k];
        if (!gate_matches(gt, arch, virt_type, hv_version))
            continue;
        for (guint i = 0; gt->deny[i]; i++) {
            TernGateVerdict *v = g_new0(TernGateVerdict, 1);
            v->operation = gt->deny[i];
            v->gate = gt->name;
            v->reason = gt->reason;
            v->overridden = gt->overridden;
            g_ptr_array_add(out, v);
        }
    }
    return out;
}
