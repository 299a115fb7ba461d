/* instance_disk.c: qcow2 overlays of base images for instances, through
 * qemu-img (run with an argument vector, never a shell). */
#include "compute/instance_disk.h"

#include <errno.h>
#include <glib/gstdio.h>
#include <jansson.h>
#include <string.h>

#include "common/log.h"
#include "compute/compute_error.h"

static gboolean
plain_name(const char *s)
{
    if (!s || !*s || *s == '.' || strlen(s) > 255)
        return FALSE;
    for (const char *p = s; *p; p++)
        if (!g_ascii_isalnum(*p) && *p != '.' && *p != '_' && *p != '-')
            return FALSE;
    return TRUE;
}

char *
tern_image_path(const char *images_path, const char *image_id, GError **error)
{
    if (!plain_name(image_id)) {
        g_set_error(error, TERN_COMPUTE_ERROR, TERN_COMPUTE_ERROR_INVALID,
                    "image id must be a plain name of letters, digits, '.', '_' or '-'");
        return NULL;
    }
    static const char *const suffixes[] = { "", ".qcow2", ".raw" };
    for (gsize i = 0; i < G_N_ELEMENTS(suffixes); i++) {
        g_autofree char *name = g_strconcat(image_id, suffixes[i], NULL);
        char *p = g_build_filename(images_path, name, NULL);
        if (g_file_test(p, G_FILE_TEST_IS_REGULAR))
            return p;
        g_free(p);
    }
    g_set_error(error, TERN_COMPUTE_ERROR, TERN_COMPUTE_ERROR_NOT_FOUND,
                "image %s is not in [compute] images_path %s (looked for %s, %s.qcow2, %s.raw)",
                image_id, images_path, image_id, image_id, image_id);
    return NULL;
}

char *
tern_instance_dir(const char *instances_path, const char *uuid, GError **error)
{
    if (!uuid || !g_uuid_string_is_valid(uuid)) {
        g_set_error(error, TERN_COMPUTE_ERROR, TERN_COMPUTE_ERROR_INVALID,
                    "instance uuid is not a UUID");
        return NULL;
    }
    return g_build_filename(instances_path, uuid, NULL);
}

static int
run(const char *const *argv, char **out, GError **error)
{
    g_autofree char *err_text = NULL;
    int status = 0;
    g_autoptr(GError) err = NULL;
    if (!g_spawn_sync(NULL, (char **)argv, NULL, G_SPAWN_SEARCH_PATH, NULL, NULL, out,
                      &err_text, &status, &err)) {
        g_set_error(error, TERN_COMPUTE_ERROR, TERN_COMPUTE_ERROR_IO,
                    "cannot run %s (package qemu-utils): %s", argv[0], err->message);
        return -1;
    }
    if (!g_spawn_check_wait_status(status, NULL)) {
        g_set_error(error, TERN_COMPUTE_ERROR, TERN_COMPUTE_ERROR_IO, "%s %s failed: %s",
                    argv[0], argv[1], err_text ? g_strstrip(err_text) : "");
        return -1;
    }
    return 0;
}

char *
tern_instance_disk_create(const char *instances_path, const char *images_path, const char *uuid,
                          const char *image_id, guint64 size_gb, GError **error)
{
    g_autofree char *dir = tern_instance_dir(instances_path, uuid, error);
    if (!dir)
        return NULL;
    g_autofree char *base = tern_image_path(images_path, image_id, error);
    if (!base)
        return NULL;
    g_autofree char *abs_base = g_canonicalize_filename(base, NULL);
    g_autofree char *info = NULL;
    const char *info_argv[] = { "qemu-img", "info", "--output=json", abs_base, NULL };
    if (run(info_argv, &info, error) < 0)
        return NULL;
    json_error_t jerr;
    json_t *j = json_loads(info, 0, &jerr);
    const char *format = j ? json_string_value(json_object_get(j, "format")) : NULL;
    json_int_t vsize = j ? json_integer_value(json_object_get(j, "virtual-size")) : 0;
    if (!format || (strcmp(format, "qcow2") && strcmp(format, "raw"))) {
        g_set_error(error, TERN_COMPUTE_ERROR, TERN_COMPUTE_ERROR_INVALID,
                    "image %s (%s) is %s: tern boots qcow2 and raw images", image_id, abs_base,
                    format ? format : "not readable by qemu-img");
        json_decref(j);
        return NULL;
    }
    g_autofree char *fmt = g_strdup(format);
    json_decref(j);
    guint64 want = size_gb * G_GUINT64_CONSTANT(1024) * 1024 * 1024;
    if (size_gb && want < (guint64)vsize) {
        g_set_error(error, TERN_COMPUTE_ERROR, TERN_COMPUTE_ERROR_INVALID,
                    "flavor disk of %" G_GUINT64_FORMAT " GiB is smaller than image %s "
                    "(%" G_GINT64_FORMAT " bytes)", size_gb, image_id, (gint64)vsize);
        return NULL;
    }
    if (g_mkdir_with_parents(dir, 0755) < 0) {
        g_set_error(error, TERN_COMPUTE_ERROR, TERN_COMPUTE_ERROR_IO, "cannot create %s: %s",
                    dir, g_strerror(errno));
        return NULL;
    }
    char *disk = g_build_filename(dir, "disk", NULL);
    g_autofree char *size = size_gb ? g_strdup_printf("%" G_GUINT64_FORMAT "G", size_gb) : NULL;
    const char *argv[] = { "qemu-img", "create", "-q", "-f", "qcow2", "-F", fmt, "-b", abs_base,
                           disk, size, NULL };
    if (run(argv, NULL, error) < 0) {
        g_free(disk);
        return NULL;
    }
    TERN_INFO("tern.compute", "instance %s: disk %s on image %s", uuid, disk, image_id);
    return disk;
}

static int
remove_tree(const char *path, GError **error)
{
    GStatBuf st;
    if (g_lstat(path, &st) < 0) {
        if (errno == ENOENT)
            return 0;
        g_set_error(error, TERN_COMPUTE_ERROR, TERN_COMPUTE_ERROR_IO, "cannot read %s: %s",
                    path, g_strerror(errno));
        return -1;
    }
    if (S_ISDIR(st.st_mode)) {
        g_autoptr(GDir) d = g_dir_open(path, 0, error);
        if (!d)
            return -1;
        const char *name;
        while ((name = g_dir_read_name(d))) {
            g_autofree char *child = g_build_filename(path, name, NULL);
            if (remove_tree(child, error) < 0)
                return -1;
        }
    }
    if (g_remove(path) < 0 && errno != ENOENT) {
        g_set_error(error, TERN_COMPUTE_ERROR, TERN_COMPUTE_ERROR_IO, "cannot remove %s: %s",
                    path, g_strerror(errno));
        return -1;
    }
    return 0;
}

int
tern_instance_disks_remove(const char *instances_path, const char *uuid, GError **error)
{
    g_autofree char *dir = tern_instance_dir(instances_path, uuid, error);
    if (!dir)
        return -1;
    return remove_tree(dir, error);
}
