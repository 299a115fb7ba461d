/* tern_catalog.c: how an operator names flavors and images for
 * `tern server create` (tern has no flavor or image service).
 *
 * flavors.ini: one section per flavor; vcpus, memory_mb, root_gb, and any
 * other key is an extra spec ("hw:cpu_model = POWER9").
 * images.ini: one section per image id (the file of that name in the compute
 * hosts' [compute] images_path); every key is an image property
 * (hw_architecture, os_distro, hw_machine_type, ...). An image missing from
 * images.ini is sent with only the --arch/--property given.
 *
 * Each file is read from the first of: the folder of the first config
 * file, SYSCONFDIR/tern, DATADIR (tern ships a flavors.ini there). */
#include <stdio.h>
#include <string.h>

#include "cli/tern_cli.h"

static GKeyFile *
load(TernCli *cli, const char *name, char **where, GError **error)
{
    g_autoptr(GPtrArray) dirs = g_ptr_array_new_with_free_func(g_free);
    if (cli->config_files && cli->config_files[0])
        g_ptr_array_add(dirs, g_path_get_dirname(cli->config_files[0]));
    g_ptr_array_add(dirs, g_strdup(TERN_SYSCONFDIR "/tern"));
    g_ptr_array_add(dirs, g_strdup(TERN_DATADIR));
    g_autoptr(GString) tried = g_string_new(NULL);
    for (guint i = 0; i < dirs->len; i++) {
        g_autofree char *path = g_build_filename(g_ptr_array_index(dirs, i), name, NULL);
        if (!g_file_test(path, G_FILE_TEST_EXISTS)) {
            g_string_append_printf(tried, "%s%s", tried->len ? ", " : "", path);
            continue;
        }
        g_autoptr(GKeyFile) kf = g_key_file_new();
        if (!g_key_file_load_from_file(kf, path, G_KEY_FILE_NONE, error)) {
            g_prefix_error(error, "%s: ", path);
            return NULL;
        }
        *where = g_steal_pointer(&path);
        return g_steal_pointer(&kf);
    }
    *where = g_string_free(g_steal_pointer(&tried), FALSE);
    return NULL;
}

static gboolean
parse_int(const char *text, gint64 *out)
{
    return g_ascii_string_to_signed(text, 10, 0, G_MAXINT32, out, NULL);
}

json_t *
tern_catalog_flavor(TernCli *cli, const char *name, int vcpus, int ram_mb, int disk_gb,
                    GError **error)
{
    g_autofree char *where = NULL;
    g_autoptr(GKeyFile) kf = load(cli, "flavors.ini", &where, error);
    if (!kf) {
        if (error && !*error)
            g_set_error(error, TERN_CLI_ERROR, 0, "no flavors.ini (looked for %s): put one next "
                        "to tern.conf (see etc/tern/flavors.ini)", where);
        return NULL;
    }
    if (!g_key_file_has_group(kf, name)) {
        g_auto(GStrv) groups = g_key_file_get_groups(kf, NULL);
        g_autofree char *known = g_strjoinv(", ", groups);
        g_set_error(error, TERN_CLI_ERROR, 0, "no flavor '%s' in %s; its flavors are: %s",
                    name, where, known);
        return NULL;
    }
    json_t *f = json_pack("{s:s, s:i, s:i, s:i, s:{}}", "name", name, "vcpus", 1,
                          "memory_mb", 512, "root_gb", 1, "extra_specs");
    g_auto(GStrv) keys = g_key_file_get_keys(kf, name, NULL, NULL);
    for (int i = 0; keys && keys[i]; i++) {
        g_autofree char *v = g_key_file_get_string(kf, name, keys[i], NULL);
        if (!v)
            continue;
        if (strcmp(keys[i], "vcpus") == 0 || strcmp(keys[i], "memory_mb") == 0 ||
            strcmp(keys[i], "root_gb") == 0) {
            gint64 n;
            if (!parse_int(v, &n)) {
                g_set_error(error, TERN_CLI_ERROR, 0, "%s: [%s] %s = %s is not a whole number",
                            where, name, keys[i], v);
                json_decref(f);
                return NULL;
            }
            json_object_set_new(f, keys[i], json_integer(n));
        } else {
            json_object_set_new(json_object_get(f, "extra_specs"), keys[i], json_string(v));
        }
    }
    if (vcpus > 0)
        json_object_set_new(f, "vcpus", json_integer(vcpus));
    if (ram_mb > 0)
        json_object_set_new(f, "memory_mb", json_integer(ram_mb));
    if (disk_gb > 0)
        json_object_set_new(f, "root_gb", json_integer(disk_gb));
    return f;
}

json_t *
tern_catalog_image(TernCli *cli, const char *id, const char *arch, char **properties,
                   GError **error)
{
    json_t *props = json_object();
    g_autofree char *where = NULL;
    g_autoptr(GError) e = NULL;
    g_autoptr(GKeyFile) kf = load(cli, "images.ini", &where, &e);
    if (e) {
        g_propagate_error(error, g_steal_pointer(&e));
        json_decref(props);
        return NULL;
    }
    if (kf && g_key_file_has_group(kf, id)) {
        g_auto(GStrv) keys = g_key_file_get_keys(kf, id, NULL, NULL);
        for (int i = 0; keys && keys[i]; i++) {
            g_autofree char *v = g_key_file_get_string(kf, id, keys[i], NULL);
            if (v)
                json_object_set_new(props, keys[i], json_string(v));
        }
    }
    for (int i = 0; properties && properties[i]; i++) {
        const char *eq = strchr(properties[i], '=');
        if (!eq || eq == properties[i]) {
            g_set_error(error, TERN_CLI_ERROR, 0, "--property %s: write KEY=VALUE",
                        properties[i]);
            json_decref(props);
            return NULL;
        }
        g_autofree char *k = g_strndup(properties[i], eq - properties[i]);
        json_object_set_new(props, k, json_string(eq + 1));
    }
    if (arch)
        json_object_set_new(props, "hw_architecture", json_string(arch));
    return json_pack("{s:s, s:o}", "id", id, "properties", props);
}
