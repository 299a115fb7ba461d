/* manager_build.c: build_and_run_instance (Nova's ComputeManager method):
 * Instance + image properties -> TernGuestSpec (guest OS rules, arch
 * strategy, the guest CPU of this host from cpu/) -> a qcow2 overlay on
 * the image from [compute] images_path, or a direct kernel boot from the
 * image's kernel_id / ramdisk_id / os_command_line -> define + start ->
 * instance_update ACTIVE with the guest CPU and machine type recorded. On
 * failure nothing is left (domain and disk removed), a fault is recorded
 * and instance_build_failed lets the conductor reschedule. A build of an
 * instance that already has its domain here only reports it again. */
#include "compute/compute_manager.h"

#include <errno.h>
#include <string.h>

#include "common/log.h"
#include "compute/compute_error.h"
#include "compute/domain_xml.h"
#include "compute/guest_lifecycle.h"
#include "compute/guest_spec.h"
#include "compute/instance_disk.h"
#include "rpc/object.h"

/* Image properties: the plain `image` dict, else the RequestSpec's ImageMeta. */
static json_t *
image_properties(json_t *args)
{
    json_t *props = json_object_get(json_object_get(args, "image"), "properties");
    if (json_is_object(props))
        return props;
    json_t *spec = json_object_get(json_object_get(args, "request_spec"), "nova_object.data");
    json_t *img = json_object_get(json_object_get(spec, "image"), "nova_object.data");
    props = json_object_get(json_object_get(img, "properties"), "nova_object.data");
    return json_is_object(props) ? props : NULL;
}

static const char *
image_id(json_t *args, TernObject *inst)
{
    const char *id = json_string_value(json_object_get(json_object_get(args, "image"), "id"));
    if (!id || !*id)
        id = tern_object_get_string(inst, "image_ref");
    return id && *id ? id : NULL;
}

static char *
prop_string(json_t *props, const char *name)
{
    json_t *v = json_object_get(props, name);
    if (json_is_string(v) && *json_string_value(v))
        return g_strdup(json_string_value(v));
    if (json_is_integer(v))
        return g_strdup_printf("%" JSON_INTEGER_FORMAT, json_integer_value(v));
    return NULL;
}

static guint
prop_uint(json_t *props, const char *name, GError **error)
{
    json_t *v = json_object_get(props, name);
    if (json_is_integer(v) && json_integer_value(v) >= 0 && json_integer_value(v) < 65536)
        return (guint)json_integer_value(v);
    guint64 n = 0;
    if (json_is_string(v) &&
        !g_ascii_string_to_unsigned(json_string_value(v), 10, 0, 65535, &n, NULL)) {
        g_set_error(error, TERN_COMPUTE_ERROR, TERN_COMPUTE_ERROR_INVALID,
                    "image property %s: '%s' is not a count", name, json_string_value(v));
        return 0;
    }
    return (guint)n;
}

/* [libvirt] hw_machine_type "x86_64=q35,ppc64le=pseries" for one arch. */
static char *
configured_machine(TernComputeManager *m, const char *arch)
{
    const char *const *list = tern_config_get_list(m->conf, "libvirt", "hw_machine_type");
    for (gsize i = 0; list && list[i]; i++) {
        g_auto(GStrv) kv = g_strsplit(list[i], "=", 2);
        if (kv[0] && kv[1] && g_strcmp0(g_strstrip(kv[0]), arch) == 0)
            return g_strdup(g_strstrip(kv[1]));
    }
    return NULL;
}

/* Fill the spec from the request. *disk_image gets the base image id when
 * the guest boots from a disk. */
static TernGuestSpec *
spec_from_request(TernComputeManager *m, TernObject *inst, json_t *args, gint64 *disk_us,
                  GError **error)
{
    g_autoptr(TernGuestSpec) s = tern_guest_spec_new();
    json_t *props = image_properties(args);
    s->uuid = g_strdup(tern_object_get_string(inst, "uuid"));
    const char *name = tern_object_get_string(inst, "display_name");
    if (!name || !*name)
        name = tern_object_get_string(inst, "hostname");
    s->name = g_strdup_printf("instance-%s", s->uuid);
    if (name && *name)
        TERN_DEBUG(TERN_COMPUTE_LOG, "instance %s is '%s'", s->uuid, name);
    s->virt_type = g_strdup(m->virt_type);
    TernObject *flavor = tern_object_get_object(inst, "flavor");
    s->vcpus = (guint)tern_object_get_int(flavor, "vcpus", tern_object_get_int(inst, "vcpus", 1));
    s->memory_mb = (guint64)tern_object_get_int(flavor, "memory_mb",
                                                tern_object_get_int(inst, "memory_mb", 512));
    if (!flavor && !tern_object_has(inst, "vcpus")) {
        g_set_error(error, TERN_COMPUTE_ERROR, TERN_COMPUTE_ERROR_INVALID,
                    "instance %s has neither a flavor nor vcpus", s->uuid);
        return NULL;
    }
    s->arch = prop_string(props, "hw_architecture");
    s->emulation_arch = prop_string(props, "hw_emulation_architecture");
    s->machine_type = prop_string(props, "hw_machine_type");
    s->firmware = prop_string(props, "hw_firmware_type");
    s->os_distro = prop_string(props, "os_distro");
    s->os_version = prop_string(props, "os_version");
    s->disk_bus = prop_string(props, "hw_disk_bus");
    s->cdrom_bus = prop_string(props, "hw_cdrom_bus");
    s->vif_model = prop_string(props, "hw_vif_model");
    s->video_model = prop_string(props, "hw_video_model");
    s->scsi_model = prop_string(props, "hw_scsi_model");
    GError *perr = NULL;
    s->cpu_sockets = prop_uint(props, "hw_cpu_sockets", &perr);
    if (!perr)
        s->cpu_cores = prop_uint(props, "hw_cpu_cores", &perr);
    if (!perr)
        s->cpu_threads = prop_uint(props, "hw_cpu_threads", &perr);
    if (perr) {
        g_propagate_error(error, perr);
        return NULL;
    }
    const char *guest_arch = s->emulation_arch ? s->emulation_arch
                             : s->arch         ? s->arch
                                               : m->facts->arch;
    if (!s->machine_type)
        s->machine_type = configured_machine(m, guest_arch);
    /* the guest CPU of this host's [libvirt] options, for guests of its arch */
    if (g_strcmp0(guest_arch, m->facts->arch) == 0 && m->guest_cpu_xml)
        s->cpu_xml = g_strdup(m->guest_cpu_xml);

    g_autofree char *idir = tern_instance_dir(m->instances_path, s->uuid, error);
    if (!idir)
        return NULL;
    if (g_mkdir_with_parents(idir, 0755) < 0) {
        g_set_error(error, TERN_COMPUTE_ERROR, TERN_COMPUTE_ERROR_IO, "cannot create %s: %s", idir,
                    g_strerror(errno));
        return NULL;
    }
    s->console_log = g_build_filename(idir, "console.log", NULL);

    /* Nova-style direct kernel boot from the image's properties */
    g_autofree char *kernel_id = prop_string(props, "kernel_id");
    g_autofree char *ramdisk_id = prop_string(props, "ramdisk_id");
    if (kernel_id) {
        s->kernel = tern_image_path(m->images_path, kernel_id, error);
        if (!s->kernel)
            return NULL;
        if (ramdisk_id && !(s->initrd = tern_image_path(m->images_path, ramdisk_id, error)))
            return NULL;
        s->cmdline = prop_string(props, "os_command_line");
    }
    const char *img = image_id(args, inst);
    if (img) {
        g_autoptr(GError) ierr = NULL;
        gint64 td = g_get_monotonic_time();
        guint64 root_gb = (guint64)tern_object_get_int(flavor, "root_gb",
                                                       tern_object_get_int(inst, "root_gb", 0));
        g_autofree char *disk = tern_instance_disk_create(m->instances_path, m->images_path,
                                                          s->uuid, img, root_gb, &ierr);
        *disk_us = g_get_monotonic_time() - td;
        if (disk) {
            tern_guest_spec_add_disk(s, disk, NULL);
        } else if (!(kernel_id && g_error_matches(ierr, TERN_COMPUTE_ERROR,
                                                  TERN_COMPUTE_ERROR_NOT_FOUND))) {
            g_propagate_error(error, g_steal_pointer(&ierr));
            return NULL;
        }
        /* a kernel-booted image without a disk file: no root disk */
    } else if (!kernel_id) {
        g_set_error(error, TERN_COMPUTE_ERROR, TERN_COMPUTE_ERROR_INVALID,
                    "instance %s names no image and its image properties no kernel_id", s->uuid);
        return NULL;
    }
    return g_steal_pointer(&s);
}

/* The instance_update of a guest that runs: ACTIVE, running, where, what. */
static json_t *
active_updates(TernComputeManager *m, virDomainPtr dom, const char *guest_arch,
               const char *node)
{
    g_autofree char *now = tern_compute_now_iso();
    g_autofree char *machine = tern_compute_domain_machine(dom);
    json_t *u = json_pack("{s:s, s:n, s:i, s:s, s:s, s:s}", "vm_state", "active", "task_state",
                          "power_state", TERN_POWER_RUNNING, "host", m->host, "node",
                          node && *node ? node : m->host, "launched_at", now);
    json_object_set_new(u, "guest_cpu", tern_compute_domain_cpu_json(m, dom, guest_arch));
    if (machine)
        json_object_set_new(u, "machine_type", json_string(machine));
    return u;
}

/* How many times a build's ACTIVE report is sent when no reply comes. */
#define REPORT_ATTEMPTS 5

static char *
domain_arch(virDomainPtr dom)
{
    return tern_compute_domain_value(dom, "./os/type/@arch");
}

/* Report a running domain as the instance's: instance_update ACTIVE. 0, or
 * 1 when the conductor no longer has the instance building or running
 * here (the guest is then removed), or -1. */
static int
report_active(TernComputeManager *m, json_t *ctx, virConnectPtr conn, const char *uuid,
              const char *node, GError **error)
{
    virDomainPtr dom = virDomainLookupByUUIDString(conn, uuid);
    if (!dom) {
        tern_libvirt_set_error(error, "instance %s vanished after it started", uuid);
        return -1;
    }
    g_autofree char *arch = domain_arch(dom);
    json_t *u = active_updates(m, dom, arch ? arch : m->facts->arch, node);
    virDomainFree(dom);
    /* A report lost on the way (a broker restart drops what its queues
     * held) is sent again: the conductor's handler is idempotent, and a
     * build nobody reports would be put in ERROR by its recovery while the
     * guest runs here. */
    g_autoptr(json_t) r = NULL;
    for (guint attempt = 1; !r; attempt++) {
        g_autoptr(GError) err = NULL;
        r = tern_conductor_instance_update(m, ctx, uuid, json_incref(u), FALSE, &err);
        if (r)
            break;
        /* a remote error is an answer; a timeout or an unreachable broker is not */
        if (attempt >= REPORT_ATTEMPTS || err->domain != TERN_RPC_ERROR ||
            err->code == TERN_RPC_ERROR_REMOTE) {
            json_decref(u);
            g_propagate_error(error, g_steal_pointer(&err));
            return -1;
        }
        TERN_WARN(TERN_COMPUTE_LOG, "instance %s: report %u of %u lost (%s): sending it again",
                  uuid, attempt, REPORT_ATTEMPTS, err->message);
    }
    json_decref(u);
    /* The conductor did not take the report: the instance was deleted, put
     * in ERROR or rescheduled elsewhere while this build ran (a late or
     * duplicate cast). Its guest must not run here. */
    const char *vm = json_string_value(json_object_get(r, "vm_state"));
    const char *host = json_string_value(json_object_get(r, "host"));
    if (json_is_object(r) && (g_strcmp0(vm, "active") != 0 || g_strcmp0(host, m->host) != 0)) {
        TERN_WARN(TERN_COMPUTE_LOG, "instance %s is %s on %s for the conductor: removing the "
                  "domain this build made on %s", uuid, vm ? vm : "?", host ? host : "no host",
                  m->host);
        g_autoptr(GError) terr = NULL;
        if (tern_guest_terminate(conn, uuid, m->instances_path, &terr) < 0)
            TERN_WARN(TERN_COMPUTE_LOG, "instance %s: %s", uuid, terr->message);
        return 1;
    }
    return 0;
}

static void
build_failed(TernComputeManager *m, json_t *ctx, virConnectPtr conn, const char *uuid,
             const GError *err)
{
    TERN_ERROR(TERN_COMPUTE_LOG, "build of instance %s failed on %s: %s", uuid, m->host,
               err->message);
    g_autoptr(GError) cerr = NULL;
    if (conn && tern_guest_terminate(conn, uuid, m->instances_path, &cerr) < 0)
        TERN_WARN(TERN_COMPUTE_LOG, "cleanup of instance %s: %s", uuid, cerr->message);
    else if (!conn)
        tern_instance_disks_remove(m->instances_path, uuid, NULL);
    /* a malformed request fails everywhere; anything else may work on another host */
    gboolean retryable = !(err->domain == TERN_COMPUTE_ERROR &&
                           err->code == TERN_COMPUTE_ERROR_INVALID);
    g_autofree char *reason = g_strdup_printf("Build of instance %s aborted on %s: %s", uuid,
                                              m->host, err->message);
    tern_conductor_instance_fault(m, ctx, uuid, 500, reason, err->message);
    tern_conductor_build_failed(m, ctx, uuid, err->message, retryable);
}

json_t *
tern_compute_build_and_run_instance(TernComputeManager *m, const TernRpcRequest *req,
                                    GError **error)
{
    gint64 t_received = g_get_monotonic_time();
    const char *uuid = tern_compute_arg_uuid(req->args, "instance", error);
    if (!uuid)
        return NULL;
    g_autofree char *id = g_strdup(uuid);
    g_autoptr(GError) err = NULL;
    g_autoptr(TernObject) inst = tern_object_from_primitive(json_object_get(req->args, "instance"),
                                                            "Instance", &err);
    const char *node = json_string_value(json_object_get(req->args, "node"));
    g_autoptr(TernGuestSpec) spec = NULL;
    g_autofree char *xml = NULL;
    tern_compute_instance_lock(m, id);
    virConnectPtr conn = NULL;
    if (!inst)
        goto fail;
    conn = tern_compute_conn(m, &err);
    if (!conn)
        goto fail;
    /* delivered twice: the domain is there already */
    virDomainPtr existing = virDomainLookupByUUIDString(conn, id);
    if (existing) {
        virDomainFree(existing);
        TERN_INFO(TERN_COMPUTE_LOG, "instance %s is already built here: reporting it again", id);
        if (tern_guest_start(conn, id, &err) < 0 ||
            report_active(m, req->context, conn, id, node, &err) < 0)
            TERN_WARN(TERN_COMPUTE_LOG, "instance %s: %s", id, err->message);
        virConnectClose(conn);
        tern_compute_instance_unlock(m, id);
        return json_null();
    }
    gint64 disk_us = 0;
    spec = spec_from_request(m, inst, req->args, &disk_us, &err);
    if (!spec)
        goto fail;
    g_mutex_lock(&m->facts_lock);
    int rc = tern_compute_build_domain_xml(spec, m->facts, m->rules, &xml, &err);
    g_mutex_unlock(&m->facts_lock);
    if (rc < 0)
        goto fail;
    gint64 t1 = g_get_monotonic_time();
    if (tern_guest_boot(conn, xml, &err) < 0)
        goto fail;
    gint64 t2 = g_get_monotonic_time();
    if (report_active(m, req->context, conn, id, node, &err) < 0) {
        /* the guest runs: the conductor will learn it at the next reconcile */
        TERN_WARN(TERN_COMPUTE_LOG, "instance %s runs but its state was not reported: %s", id,
                  err->message);
    }
    /* tern's own time: from the request to the running domain, minus libvirt's */
    TERN_INFO(TERN_COMPUTE_LOG, "instance %s built: tern %.2f ms (of which qemu-img %.2f ms), "
              "libvirt define+start %.2f ms", id, (double)((t2 - t_received) - (t2 - t1)) / 1000.0,
              (double)disk_us / 1000.0, (double)(t2 - t1) / 1000.0);
    virConnectClose(conn);
    tern_compute_instance_unlock(m, id);
    return json_null();

fail:
    build_failed(m, req->context, conn, id, err);
    if (conn)
        virConnectClose(conn);
    tern_compute_instance_unlock(m, id);
    return json_null();   /* a cast: the conductor hears of it through instance_build_failed */
}
