/* instance_disk.h: an instance's disk: a qcow2 overlay in
 * [compute] instances_path/<instance uuid>/disk on a base image from
 * [compute] images_path (image id -> the file <id>, <id>.qcow2 or <id>.raw
 * there), made with qemu-img; removed with the instance's folder. */
#ifndef TERN_INSTANCE_DISK_H
#define TERN_INSTANCE_DISK_H

#include <glib.h>

/* The base image file of image_id, or NULL + NOT_FOUND/INVALID error. The
 * id must be a plain name ([A-Za-z0-9._-], not starting with '.'). */
char *tern_image_path(const char *images_path, const char *image_id, GError **error);

/* instances_path/<uuid> (uuid must be a UUID). */
char *tern_instance_dir(const char *instances_path, const char *uuid, GError **error);

/* Create the overlay; size_gb 0 keeps the base's virtual size, a larger
 * one grows it, a smaller one is an error. Returns the overlay's path. */
char *tern_instance_disk_create(const char *instances_path, const char *images_path,
                                const char *uuid, const char *image_id, guint64 size_gb,
                                GError **error);

/* Remove instances_path/<uuid> and what is in it (no error if absent). */
int tern_instance_disks_remove(const char *instances_path, const char *uuid, GError **error);

#endif
