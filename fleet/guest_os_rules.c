/* guest_os_rules.c: guest OS rules from osinfo-db (libosinfo) plus tern's
 * INI overrides; see guest_os_rules.h for the rules and the file format. */
#include "fleet/guest_os_rules.h"

#include <osinfo/osinfo.h>
#include <string.h>

G_DEFINE_QUARK(tern-guest-os-error-quark, tern_guest_os_error)


#if defined(__SANITIZE_ADDRESS__)
/* Sanitizer builds only. libosinfo leaks a few bytes while it parses
 * osinfo-db (inside osinfo_loader_process_default_path: not tern's), in
 * every program that loads the rules. GLib has no frame pointers, so that
 * leak's stack reaches libosinfo only with the slow unwinder; a program
 * that links this file gets both, the ASAN_OPTIONS/LSAN_OPTIONS of the
 * environment still apply on top. */
const char *__asan_default_options(void);
const char *__lsan_default_suppressions(void);
const char *
__asan_default_options(void)
{
    return "fast_unwind_on_malloc=0";
}
const char *
__lsan_default_suppressions(void)
{
    return "leak:osinfo_loader_process_default_path\n";
}
#endif

struct _TernGuestOsRules {
    OsinfoLoader *loader;
    GHashTable *by_short_id;   /* short id -> OsinfoOs* (owned by the loader's db) */
    GKeyFile *overrides;
};

/* What one OS is known to need, merged from osinfo-db and the overrides. */
typedef struct {
    GHashTable *arches;        /* NULL: any arch */
    GHashTable *devices;       /* osinfo device names it drives */
    char **graphics;           /* NULL: any protocol */
} OsView;

static void
view_clear(OsView *v)
{
    if (v->arches)
        g_hash_table_unref(v->arches);
    if (v->devices)
        g_hash_table_unref(v->devices);
    g_strfreev(v->graphics);
    memset(v, 0, sizeof *v);
}

static GHashTable *
str_set(void)
{
    return g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);
}

char *
tern_guest_os_rules_default_path(void)
{
    const char *env = g_getenv("TERN_GUEST_OS_RULES");
    if (env && *env)
        return g_strdup(env);
    char *installed = g_build_filename(TERN_DATADIR, "guest-os-rules.ini", NULL);
    if (g_file_test(installed, G_FILE_TEST_IS_REGULAR))
        return installed;
    g_free(installed);
    return g_build_filename(TERN_SRCDIR, "etc", "tern", "guest-os-rules.ini", NULL);
}

TernGuestOsRules *
tern_guest_os_rules_load(const char *overrides_path, GError **error)
{
    g_autoptr(GError) err = NULL;
    TernGuestOsRules *r = g_new0(TernGuestOsRules, 1);
    r->by_short_id = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);
    r->overrides = g_key_file_new();
    r->loader = osinfo_loader_new();
    osinfo_loader_process_default_path(r->loader, &err);
    if (err) {
        g_set_error(error, TERN_GUEST_OS_ERROR, TERN_GUEST_OS_ERROR_IO,
                    "cannot load osinfo-db (package osinfo-db): %s", err->message);
        tern_guest_os_rules_free(r);
        return NULL;
    }
    OsinfoDb *db = osinfo_loader_get_db(r->loader);
    g_autoptr(OsinfoOsList) list = osinfo_db_get_os_list(db);
    for (int i = 0; i < osinfo_list_get_length(OSINFO_LIST(list)); i++) {
        OsinfoEntity *os = osinfo_list_get_nth(OSINFO_LIST(list), i);
        GList *ids = osinfo_entity_get_param_value_list(os, OSINFO_PRODUCT_PROP_SHORT_ID);
        for (GList *l = ids; l; l = l->next)
            g_hash_table_insert(r->by_short_id, g_strdup(l->data), os);
        g_list_free(ids);
    }
    if (overrides_path &&
        !g_key_file_load_from_file(r->overrides, overrides_path, G_KEY_FILE_NONE, &err)) {
        g_set_error(error, TERN_GUEST_OS_ERROR, TERN_GUEST_OS_ERROR_CONFIG,
                    "cannot read guest OS rules %s: %s", overrides_path, err->message);
        tern_guest_os_rules_free(r);
        return NULL;
    }
    return r;
}

void
tern_guest_os_rules_free(TernGuestOsRules *r)
{
    if (!r)
        return;
    g_hash_table_unref(r->by_short_id);
    g_key_file_unref(r->overrides);
    g_object_unref(r->loader);
    g_free(r);
}

static void
view_from_osinfo(OsinfoOs *os, OsView *v)
{
    v->arches = str_set();
    v->devices = str_set();
    g_autoptr(OsinfoMediaList) media = osinfo_os_get_media_list(os);
    g_autoptr(OsinfoTreeList) trees = osinfo_os_get_tree_list(os);
    g_autoptr(OsinfoImageList) images = osinfo_os_get_image_list(os);
    OsinfoList *lists[] = { OSINFO_LIST(media), OSINFO_LIST(trees), OSINFO_LIST(images) };
    gboolean any = FALSE;
    for (gsize l = 0; l < G_N_ELEMENTS(lists); l++) {
        for (int i = 0; i < osinfo_list_get_length(lists[l]); i++) {
            const char *a = osinfo_entity_get_param_value(osinfo_list_get_nth(lists[l], i),
                                                          "architecture");
            if (!a)
                continue;
            if (strcmp(a, "all") == 0)
                any = TRUE;
            else
                g_hash_table_add(v->arches, g_strdup(a));
        }
    }
    if (any || g_hash_table_size(v->arches) == 0)
        g_clear_pointer(&v->arches, g_hash_table_unref);
    g_autoptr(OsinfoDeviceList) devs = osinfo_os_get_all_devices(os, NULL);
    for (int i = 0; i < osinfo_list_get_length(OSINFO_LIST(devs)); i++) {
        const char *name = osinfo_device_get_name(OSINFO_DEVICE(osinfo_list_get_nth(OSINFO_LIST(devs), i)));
        if (name)
            g_hash_table_add(v->devices, g_strdup(name));
    }
}

static char **
ini_list(GKeyFile *kf, const char *group, const char *key)
{
    return g_key_file_get_string_list(kf, group, key, NULL, NULL);
}

/* Resolve os_distro to a view; FALSE if neither source knows it. */
static gboolean
resolve(TernGuestOsRules *r, const char *id, OsView *v, int depth)
{
    g_autofree char *group = g_strdup_printf("os %s", id);
    OsinfoOs *os = g_hash_table_lookup(r->by_short_id, id);
    if (depth > 16)
        return FALSE;
    if (!g_key_file_has_group(r->overrides, group)) {
        if (!os)
            return FALSE;
        view_from_osinfo(os, v);
        return TRUE;
    }
    g_autofree char *parent = g_key_file_get_string(r->overrides, group, "derives-from", NULL);
    if (parent) {
        if (!resolve(r, g_strstrip(parent), v, depth + 1))
            return FALSE;
    } else if (os) {
        view_from_osinfo(os, v);
    } else {
        v->devices = str_set();
    }
    g_auto(GStrv) arches = ini_list(r->overrides, group, "arches");
    g_auto(GStrv) add_arches = ini_list(r->overrides, group, "add-arches");
    g_auto(GStrv) devices = ini_list(r->overrides, group, "devices");
    g_auto(GStrv) remove = ini_list(r->overrides, group, "remove-devices");
    g_auto(GStrv) graphics = ini_list(r->overrides, group, "graphics");
    if (arches) {
        if (v->arches)
            g_hash_table_remove_all(v->arches);
        else
            v->arches = str_set();
    }
    for (int pass = 0; pass < 2; pass++)
        for (char **a = pass ? add_arches : arches; a && *a; a++)
            if (v->arches)
                g_hash_table_add(v->arches, g_strdup(g_strstrip(*a)));
    for (char **d = devices; d && *d; d++)
        g_hash_table_add(v->devices, g_strdup(g_strstrip(*d)));
    for (char **d = remove; d && *d; d++)
        g_hash_table_remove(v->devices, g_strstrip(*d));
    if (graphics) {
        g_strfreev(v->graphics);
        v->graphics = g_steal_pointer(&graphics);
        for (char **g = v->graphics; *g; g++)
            g_strstrip(*g);
    }
    return TRUE;
}

gboolean
tern_guest_os_rules_known(TernGuestOsRules *r, const char *id)
{
    OsView v = { 0 };
    gboolean known = resolve(r, id, &v, 0);
    view_clear(&v);
    return known;
}

char *
tern_guest_os_rules_resolve(TernGuestOsRules *r, const char *os_distro, const char *os_version)
{
    if (!os_distro || !*os_distro)
        return NULL;
    if (tern_guest_os_rules_known(r, os_distro))
        return g_strdup(os_distro);
    if (!os_version || !*os_version)
        return NULL;
    g_autofree char *id = g_strconcat(os_distro, os_version, NULL);
    return tern_guest_os_rules_known(r, id) ? g_steal_pointer(&id) : NULL;
}

static gint
cmp_str(gconstpointer a, gconstpointer b, gpointer unused)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

char **
tern_guest_os_rules_arches(TernGuestOsRules *r, const char *id)
{
    OsView v = { 0 };
    char **out = NULL;
    if (resolve(r, id, &v, 0) && v.arches) {
        g_autofree gpointer *keys = g_hash_table_get_keys_as_array(v.arches, NULL);
        out = g_strdupv((char **)keys);
        g_qsort_with_data(out, g_strv_length(out), sizeof(char *), cmp_str, NULL);
    }
    view_clear(&v);
    return out;
}

static const char *
kind_label(const char *kind)
{
    if (!strcmp(kind, "disk"))
        return "disk bus";
    if (!strcmp(kind, "scsi"))
        return "SCSI controller";
    if (!strcmp(kind, "nic"))
        return "NIC model";
    if (!strcmp(kind, "video"))
        return "video model";
    return kind;
}

int
tern_guest_os_rules_check(TernGuestOsRules *r, const char *id, const char *arch,
                          const char *const *devices, GError **error)
{
    if (!id || !*id)
        return 0;
    OsView v = { 0 };
    int ret = -1;
    if (!resolve(r, id, &v, 0)) {
        g_set_error(error, TERN_GUEST_OS_ERROR, TERN_GUEST_OS_ERROR_UNSUPPORTED,
                    "os_distro '%s' is unknown to osinfo-db and to tern's guest OS rules: "
                    "use an osinfo short id (e.g. debian11, rhel8.6, ubuntu22.04) or add "
                    "[os %s] to guest-os-rules.ini", id, id);
        goto out;
    }
    if (v.arches && !g_hash_table_contains(v.arches, arch)) {
        g_auto(GStrv) arches = tern_guest_os_rules_arches(r, id);
        g_autofree char *list = g_strjoinv(", ", arches);
        g_set_error(error, TERN_GUEST_OS_ERROR, TERN_GUEST_OS_ERROR_UNSUPPORTED,
                    "os_distro '%s' is not built for %s guests (it is built for %s)",
                    id, arch, list);
        goto out;
    }
    for (const char *const *d = devices; d && *d; d++) {
        const char *colon = strchr(*d, ':');
        if (!colon)
            continue;
        g_autofree char *kind = g_strndup(*d, colon - *d);
        const char *name = colon + 1;
        if (strcmp(kind, "graphics") == 0) {
            if (v.graphics && !g_strv_contains((const char *const *)v.graphics, name)) {
                g_autofree char *ok = g_strjoinv(", ", v.graphics);
                g_set_error(error, TERN_GUEST_OS_ERROR, TERN_GUEST_OS_ERROR_UNSUPPORTED,
                            "os_distro '%s' cannot use %s graphics (it supports %s)",
                            id, name, ok);
                goto out;
            }
            continue;
        }
        g_autofree char *key = g_strdup_printf("%s.%s", kind, name);
        g_auto(GStrv) names = ini_list(r->overrides, "devices", key);
        if (!names)
            continue;   /* no osinfo-db device stands for this choice */
        gboolean driven = FALSE;
        for (char **n = names; *n && !driven; n++)
            driven = g_hash_table_contains(v.devices, g_strstrip(*n));
        if (!driven) {
            g_set_error(error, TERN_GUEST_OS_ERROR, TERN_GUEST_OS_ERROR_UNSUPPORTED,
                        "os_distro '%s' has no driver for %s '%s' (osinfo-db lists none of "
                        "its devices for this OS); choose another %s", id, kind_label(kind),
                        name, kind_label(kind));
            goto out;
        }
    }
    ret = 0;
out:
    view_clear(&v);
    return ret;
}
