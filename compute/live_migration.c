/* live_migration.c: the compute side of live migration, Nova's
 * ComputeManager methods and arguments (wire-reference.md §3.3):
 *
 *   destination  check_can_live_migrate_destination (long call from the
 *                conductor): arch served here, machine type offered, then
 *                calls the source's check_can_live_migrate_source (as Nova's
 *                destination does), which answers the guest's live CPU,
 *                arch, machine type and disks; the guest CPU is compared
 *                with this host by cpu/ first, then by libvirt's
 *                virConnectCompareHypervisorCPU where libvirt has it (x86);
 *                POWER compat modes compare by processor generation.
 *                Returns LibvirtLiveMigrateData.
 *                pre_live_migration: instance folder (and, for a block
 *                migration, the target disks) ready.
 *                post_live_migration_at_destination: instance_update host =
 *                this host, running. rollback_live_migration_at_destination:
 *                nothing of the instance left defined here.
 *   source       check_can_live_migrate_source; live_migration (cast):
 *                peer-to-peer virDomainMigrateToURI3 (LIVE | PEER2PEER |
 *                PERSIST_DEST | UNDEFINE_SOURCE, + NON_SHARED_DISK for a
 *                block migration, + AUTO_CONVERGE / POSTCOPY when permitted),
 *                bandwidth, max downtime; a monitor thread polls
 *                virDomainGetJobStats, sends migration_update progress and
 *                enforces [libvirt] live_migration_completion_timeout (per
 *                GiB of guest memory) with live_migration_timeout_action
 *                abort | force_complete. On failure the guest keeps running
 *                here, rollback_live_migration_at_destination is cast to the
 *                destination and the migration becomes failed / error with
 *                the reason.
 *                live_migration_abort(instance, migration_id) (cast):
 *                virDomainAbortJob on the running outgoing migration; it
 *                ends `cancelled`, rolled back as a failure is.
 *                live_migration_force_complete(instance) (cast): post-copy
 *                when [libvirt] live_migration_permit_post_copy, else the
 *                guest is paused so the last pages go (Nova's behaviour);
 *                libvirt resumes it on the destination.
 *
 * tern-to-tern extras travel in LibvirtLiveMigrateData as fields Nova does
 * not have (tern_guest_cpu, tern_arch, tern_machine_type, tern_disks,
 * tern_memory_mb); rpc/object.c keeps unknown fields as they are. */
#include "compute/compute_manager.h"

#include <errno.h>
#include <glib/gstdio.h>
#include <libvirt/virterror.h>
#include <string.h>

#include "common/log.h"
#include "compute/compute_error.h"
#include "compute/guest_lifecycle.h"
#include "compute/instance_disk.h"
#include "compute/xml_util.h"

#define NOVA_EXC "nova.exception"

/* ------------------------------------------------------------ helpers */

static json_t *
lmd_new(void)
{
    return json_pack("{s:s, s:s, s:s, s:o, s:o}", "nova_object.name", "LibvirtLiveMigrateData",
                     "nova_object.namespace", "nova", "nova_object.version", "1.10",
                     "nova_object.data", json_object(), "nova_object.changes", json_array());
}

static json_t *
lmd_data(json_t *lmd)
{
    return json_object_get(lmd, "nova_object.data");
}

static void
lmd_set(json_t *lmd, const char *key, json_t *value)
{
    json_object_set_new(lmd_data(lmd), key, value);
    json_t *changes = json_object_get(lmd, "nova_object.changes");
    if (json_is_array(changes))
        json_array_append_new(changes, json_string(key));
}

/* A copy of a LiveMigrateData argument, or a new one. */
static json_t *
lmd_from_arg(json_t *arg)
{
    if (json_is_object(arg) && json_is_object(json_object_get(arg, "nova_object.data"))) {
        json_t *c = json_deep_copy(arg);
        if (!json_is_array(json_object_get(c, "nova_object.changes")))
            json_object_set_new(c, "nova_object.changes", json_array());
        return c;
    }
    return lmd_new();
}

static void
precheck_error(GError **error, const char *fmt, ...) G_GNUC_PRINTF(2, 3);
static void
precheck_error(GError **error, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    g_autofree char *msg = g_strdup_vprintf(fmt, ap);
    va_end(ap);
    tern_rpc_error_set_remote(error, NOVA_EXC, "MigrationPreCheckError",
                              json_pack("{s:s}", "reason", msg), "Migration pre-check error: %s",
                              msg);
}

static const char *
migration_uuid(json_t *args)
{
    json_t *mig = json_object_get(json_object_get(args, "migration"), "nova_object.data");
    const char *u = json_string_value(json_object_get(mig, "uuid"));
    if (!u) {
        json_t *md = json_object_get(json_object_get(args, "migrate_data"), "nova_object.data");
        json_t *inner = json_object_get(json_object_get(md, "migration"), "nova_object.data");
        u = json_string_value(json_object_get(inner, "uuid"));
    }
    return u;
}

static void
set_migrating(TernComputeManager *m, const char *uuid, gboolean on)
{
    g_mutex_lock(&m->lock);
    if (on)
        g_hash_table_add(m->migrating, g_strdup(uuid));
    else
        g_hash_table_remove(m->migrating, uuid);
    gint64 *now = g_new(gint64, 1);
    *now = g_get_monotonic_time();
    g_hash_table_replace(m->settled, g_strdup(uuid), now);
    g_mutex_unlock(&m->lock);
}

static json_t *
call_compute(TernComputeManager *m, json_t *ctx, const char *host, const char *method,
             json_t *args, gboolean long_call, GError **error)
{
    TernRpcTarget t = { .topic = "compute", .server = host, .version = "6.0" };
    g_autoptr(json_t) c = ctx ? json_incref(ctx) : tern_rpc_context_new(NULL, NULL, TRUE);
    g_autoptr(json_t) a = args;
    double rt = (double)tern_config_get_int(m->conf, "DEFAULT", "rpc_response_timeout");
    if (long_call)
        return tern_rpc_call_full(m->client, &t, c, method, a,
                                  (double)tern_config_get_int(m->conf, "DEFAULT",
                                                              "long_rpc_timeout"),
                                  rt, error);
    return tern_rpc_call(m->client, &t, c, method, a, rt, error);
}

static int
cast_compute(TernComputeManager *m, json_t *ctx, const char *host, const char *method,
             json_t *args, GError **error)
{
    TernRpcTarget t = { .topic = "compute", .server = host, .version = "6.0" };
    g_autoptr(json_t) c = ctx ? json_incref(ctx) : tern_rpc_context_new(NULL, NULL, TRUE);
    g_autoptr(json_t) a = args;
    return tern_rpc_cast(m->client, &t, c, method, a, error);
}

static void
report_migration(TernComputeManager *m, json_t *ctx, const char *mig, json_t *updates)
{
    if (!mig) {
        json_decref(updates);
        return;
    }
    g_autoptr(GError) err = NULL;
    g_autoptr(json_t) r = tern_conductor_migration_update(m, ctx, mig, updates, &err);
    if (!r)
        TERN_WARN(TERN_COMPUTE_LOG, "migration %s: update not reported: %s", mig, err->message);
}

/* The files of a domain's writable disks (from its XML). */
static json_t *
domain_disks(TernComputeManager *m, virDomainPtr dom)
{
    json_t *out = json_array();
    char *x = virDomainGetXMLDesc(dom, 0);
    if (!x)
        return out;
    g_autoptr(GError) err = NULL;
    g_autoptr(xmlDoc) doc = tern_xml_parse(x, "domain XML", &err);
    free(x);
    if (!doc)
        return out;
    g_autoptr(xmlXPathContext) ctx = xmlXPathNewContext(doc);
    g_autoptr(GPtrArray) nodes = tern_xml_nodes(ctx, xmlDocGetRootElement(doc),
                                                "./devices/disk[@device='disk' and not(readonly)]");
    for (guint i = 0; i < nodes->len; i++) {
        g_autofree char *path = tern_xml_string(ctx, nodes->pdata[i], "./source/@file");
        g_autofree char *fmt = tern_xml_string(ctx, nodes->pdata[i], "./driver/@type");
        if (!path)
            continue;
        json_t *d = json_pack("{s:s, s:s}", "path", path, "format", fmt ? fmt : "raw");
        virDomainBlockInfo info;
        if (virDomainGetBlockInfo(dom, path, &info, 0) == 0)
            json_object_set_new(d, "size", json_integer((json_int_t)info.capacity));
        /* the base image an overlay sits on */
        const char *argv[] = { "qemu-img", "info", "-U", "--output=json", path, NULL };
        g_autofree char *out_s = NULL;
        int status = 0;
        if (g_spawn_sync(NULL, (char **)argv, NULL, G_SPAWN_SEARCH_PATH | G_SPAWN_STDERR_TO_DEV_NULL,
                         NULL, NULL, &out_s, NULL, &status, NULL) &&
            g_spawn_check_wait_status(status, NULL)) {
            g_autoptr(json_t) info_j = json_loads(out_s, 0, NULL);
            json_t *bf = json_object_get(info_j, "full-backing-filename");
            if (!bf)
                bf = json_object_get(info_j, "backing-filename");
            if (json_is_string(bf))
                json_object_set(d, "backing", bf);
            json_t *bff = json_object_get(info_j, "backing-filename-format");
            if (json_is_string(bff))
                json_object_set(d, "backing_format", bff);
        }
        json_array_append_new(out, d);
    }
    return out;
}

/* ------------------------------------------------ destination: checks */

/* Can this host run the guest CPU the source reported? cpu/ first, then
 * libvirt's hypervisor compare where it has one. */
static int
check_guest_cpu(TernComputeManager *m, virConnectPtr conn, json_t *src, GError **error)
{
    const char *arch = json_string_value(json_object_get(src, "tern_arch"));
    const char *machine = json_string_value(json_object_get(src, "tern_machine_type"));
    json_t *gcpu = json_object_get(src, "tern_guest_cpu");
    const char *xml = json_string_value(json_object_get(gcpu, "xml"));
    if (!arch) {
        precheck_error(error, "the source did not say the guest's arch");
        return -1;
    }
    g_mutex_lock(&m->facts_lock);
    const TernGuestFacts *g = tern_host_facts_find_guest(m->facts, arch, m->virt_type);
    g_autofree char *resolved = NULL;
    g_autoptr(GError) merr = NULL;
    if (g && machine)
        resolved = tern_guest_facts_resolve_machine(g, machine, &merr);
    gboolean emulated = g_strcmp0(arch, m->facts->arch) != 0;
    gboolean ppc_tcg_ok = !(g_str_has_prefix(arch, "ppc64") && g_strcmp0(m->virt_type, "qemu") == 0 &&
                            m->facts->hypervisor_version < 10000000);
    gboolean model_offered = TRUE;
    const char *model = json_string_value(json_object_get(gcpu, "model"));
    if (g && emulated && model && g->cpu_models->len) {
        model_offered = FALSE;
        for (guint i = 0; i < g->cpu_models->len; i++)
            if (g_ascii_strcasecmp(g->cpu_models->pdata[i], model) == 0)
                model_offered = TRUE;
    }
    g_mutex_unlock(&m->facts_lock);
    if (!g) {
        precheck_error(error, "host %s cannot run %s guests under %s", m->host, arch,
                       m->virt_type);
        return -1;
    }
    if (machine && !resolved) {
        precheck_error(error, "host %s: %s", m->host, merr->message);
        return -1;
    }
    if (!ppc_tcg_ok) {
        precheck_error(error, "host %s: emulated (TCG) %s guests stop after live migration on "
                       "QEMU older than 10.0", m->host, arch);
        return -1;
    }
    if (!model_offered) {
        precheck_error(error, "host %s does not offer CPU model %s for emulated %s guests",
                       m->host, model, arch);
        return -1;
    }
    if (!xml || emulated || !m->cpu_host)
        return 0;   /* hypervisor default CPU, or an emulated guest: nothing to compare */
    g_autoptr(GError) err = NULL;
    g_autoptr(TernCpu) cpu = tern_cpu_from_xml(m->cpu_db, xml, tern_cpu_arch_from_name(arch), &err);
    if (!cpu) {
        precheck_error(error, "the guest CPU is not understood: %s", err->message);
        return -1;
    }
    TernCpuComparison cmp = { 0 };
    int r = tern_cpu_compare_hypervisor(m->cpu_db, m->cpu_host, cpu, &cmp, &err);
    if (r < 0) {
        precheck_error(error, "guest CPU compare failed: %s", err->message);
        return -1;
    }
    if (r == TERN_CPU_INCOMPATIBLE) {
        precheck_error(error, "host %s cannot run the guest CPU: %s", m->host,
                       cmp.reason ? cmp.reason : "incompatible");
        tern_cpu_comparison_clear(&cmp);
        return -1;
    }
    tern_cpu_comparison_clear(&cmp);
    /* libvirt's word where it has one (x86 under QEMU; not the test driver) */
    if (g_strcmp0(arch, "x86_64") == 0) {
        int lr = virConnectCompareHypervisorCPU(conn, NULL, arch, resolved, m->virt_type, xml, 0);
        if (lr == VIR_CPU_COMPARE_INCOMPATIBLE) {
            precheck_error(error, "libvirt on host %s says the guest CPU is incompatible", m->host);
            return -1;
        }
        if (lr == VIR_CPU_COMPARE_ERROR) {
            virErrorPtr e = virGetLastError();
            if (e && e->code == VIR_ERR_NO_SUPPORT)
                TERN_DEBUG(TERN_COMPUTE_LOG, "libvirt has no hypervisor CPU compare here");
            else
                TERN_WARN(TERN_COMPUTE_LOG, "libvirt hypervisor CPU compare failed: %s",
                          e && e->message ? e->message : "unknown error");
        }
    }
    return 0;
}

json_t *
tern_compute_check_can_live_migrate_destination(TernComputeManager *m, const TernRpcRequest *req,
                                                GError **error)
{
    const char *uuid = tern_compute_arg_uuid(req->args, "instance", error);
    if (!uuid)
        return NULL;
    const char *source = json_string_value(
        json_object_get(json_object_get(json_object_get(req->args, "instance"),
                                        "nova_object.data"), "host"));
    if (!source) {
        precheck_error(error, "instance %s has no source host", uuid);
        return NULL;
    }
    if (strcmp(source, m->host) == 0) {
        precheck_error(error, "instance %s is already on host %s", uuid, m->host);
        return NULL;
    }
    json_t *bm = json_object_get(req->args, "block_migration");
    g_autoptr(GError) err = NULL;
    virConnectPtr conn = tern_compute_conn(m, &err);
    if (!conn) {
        precheck_error(error, "host %s: %s", m->host, err->message);
        return NULL;
    }
    virDomainPtr here = virDomainLookupByUUIDString(conn, uuid);
    if (here) {
        virDomainFree(here);
        virConnectClose(conn);
        precheck_error(error, "host %s already has a domain for instance %s", m->host, uuid);
        return NULL;
    }
    /* a marker file tells whether the source sees the same instances folder */
    g_autofree char *marker_name = g_strdup_printf(".tern-shared-%s", uuid);
    g_autofree char *marker = g_build_filename(m->instances_path, marker_name, NULL);
    g_file_set_contents(marker, m->host, -1, NULL);

    g_autoptr(json_t) lmd = lmd_new();
    lmd_set(lmd, "filename", json_string(marker_name));
    lmd_set(lmd, "block_migration", json_is_boolean(bm) ? json_incref(bm) : json_false());
    lmd_set(lmd, "disk_over_commit", json_false());
    lmd_set(lmd, "disk_available_mb",
            json_integer((json_int_t)(m->facts->disk_free_gb * 1024)));
    lmd_set(lmd, "graphics_listen_addr_vnc", json_string("0.0.0.0"));
    lmd_set(lmd, "serial_listen_addr", json_null());
    lmd_set(lmd, "target_connect_addr", json_string(m->migration_addr));
    lmd_set(lmd, "instance_relative_path", json_string(uuid));
    lmd_set(lmd, "wait_for_vif_plugged", json_false());
    lmd_set(lmd, "dst_wants_file_backed_memory", json_false());
    if (json_is_object(json_object_get(req->args, "migration")))
        lmd_set(lmd, "migration", json_deep_copy(json_object_get(req->args, "migration")));

    /* as Nova's destination: ask the source */
    json_t *args = json_pack("{s:O, s:O}", "instance", json_object_get(req->args, "instance"),
                             "dest_check_data", lmd);
    g_autoptr(json_t) src = call_compute(m, req->context, source, "check_can_live_migrate_source",
                                         args, FALSE, error);
    g_unlink(marker);
    if (!src) {
        virConnectClose(conn);
        return NULL;
    }
    int rc = check_guest_cpu(m, conn, lmd_data(src), error);
    virConnectClose(conn);
    if (rc < 0)
        return NULL;
    TERN_INFO(TERN_COMPUTE_LOG, "instance %s may live-migrate from %s to %s", uuid, source,
              m->host);
    return g_steal_pointer(&src);
}

/* ---------------------------------------------------- source: checks */

/* What the source knows of the guest, into migrate data: shared storage,
 * block migration, and tern's extras (arch, machine type, live guest CPU,
 * disks, memory). disks is stolen. */
static void
source_facts(TernComputeManager *m, virDomainPtr dom, json_t *lmd, json_t *disks,
             gboolean shared, gboolean block)
{
    g_autofree char *arch = tern_compute_domain_value(dom, "./os/type/@arch");
    g_autofree char *machine = tern_compute_domain_machine(dom);
    json_t *gcpu = tern_compute_domain_cpu_json(m, dom, arch ? arch : m->facts->arch);
    virDomainInfo info;
    guint64 mem_kib = virDomainGetInfo(dom, &info) == 0 ? info.maxMem : 0;
    lmd_set(lmd, "is_shared_instance_path", json_boolean(shared));
    lmd_set(lmd, "is_shared_block_storage", json_boolean(shared));
    lmd_set(lmd, "block_migration", json_boolean(block));
    lmd_set(lmd, "is_volume_backed", json_false());
    lmd_set(lmd, "image_type", json_string("qcow2"));
    lmd_set(lmd, "src_supports_native_luks", json_true());
    lmd_set(lmd, "tern_arch", json_string(arch ? arch : m->facts->arch));
    if (machine)
        lmd_set(lmd, "tern_machine_type", json_string(machine));
    lmd_set(lmd, "tern_guest_cpu", gcpu);
    lmd_set(lmd, "tern_disks", disks);
    lmd_set(lmd, "tern_memory_mb", json_integer((json_int_t)(mem_kib / 1024)));
}

json_t *
tern_compute_check_can_live_migrate_source(TernComputeManager *m, const TernRpcRequest *req,
                                           GError **error)
{
    const char *uuid = tern_compute_arg_uuid(req->args, "instance", error);
    if (!uuid)
        return NULL;
    g_autoptr(json_t) lmd = lmd_from_arg(json_object_get(req->args, "dest_check_data"));
    g_autoptr(GError) err = NULL;
    virConnectPtr conn = tern_compute_conn(m, &err);
    if (!conn) {
        precheck_error(error, "source %s: %s", m->host, err->message);
        return NULL;
    }
    virDomainPtr dom = virDomainLookupByUUIDString(conn, uuid);
    if (!dom || virDomainIsActive(dom) != 1) {
        if (dom)
            virDomainFree(dom);
        virConnectClose(conn);
        precheck_error(error, "instance %s is not running on %s", uuid, m->host);
        return NULL;
    }
    const char *marker = json_string_value(json_object_get(lmd_data(lmd), "filename"));
    gboolean shared = FALSE;
    if (marker && !strchr(marker, '/')) {
        g_autofree char *p = g_build_filename(m->instances_path, marker, NULL);
        shared = g_file_test(p, G_FILE_TEST_EXISTS);
    }
    json_t *disks = domain_disks(m, dom);
    /* local disks and no shared instances folder: they are copied along */
    gboolean block = !shared && (json_is_true(json_object_get(lmd_data(lmd), "block_migration")) ||
                                 json_array_size(disks) > 0);
    source_facts(m, dom, lmd, disks, shared, block);
    virDomainFree(dom);
    virConnectClose(conn);
    return g_steal_pointer(&lmd);
}

static json_t *job_updates(virTypedParameterPtr params, int n);

/* ---------------------------------------------- destination: prepare */

static int
create_target_disks(TernComputeManager *m, const char *uuid, json_t *disks, GError **error)
{
    size_t i;
    json_t *d;
    json_array_foreach(disks, i, d) {
        const char *path = json_string_value(json_object_get(d, "path"));
        const char *fmt = json_string_value(json_object_get(d, "format"));
        const char *backing = json_string_value(json_object_get(d, "backing"));
        const char *bfmt = json_string_value(json_object_get(d, "backing_format"));
        json_int_t size = json_integer_value(json_object_get(d, "size"));
        if (!path || !g_path_is_absolute(path) || strstr(path, "/../")) {
            g_set_error(error, TERN_COMPUTE_ERROR, TERN_COMPUTE_ERROR_INVALID,
                        "disk path '%s' is not a plain absolute path", path ? path : "");
            return -1;
        }
        if (g_file_test(path, G_FILE_TEST_EXISTS))
            continue;   /* shared, or prepared already */
        g_autofree char *dir = g_path_get_dirname(path);
        g_mkdir_with_parents(dir, 0755);
        g_autofree char *sz = g_strdup_printf("%" JSON_INTEGER_FORMAT, size);
        GPtrArray *argv = g_ptr_array_new();
        g_ptr_array_add(argv, "qemu-img");
        g_ptr_array_add(argv, "create");
        g_ptr_array_add(argv, "-q");
        g_ptr_array_add(argv, "-f");
        g_ptr_array_add(argv, (gpointer)(fmt ? fmt : "qcow2"));
        if (backing && g_file_test(backing, G_FILE_TEST_EXISTS)) {
            g_ptr_array_add(argv, "-b");
            g_ptr_array_add(argv, (gpointer)backing);
            g_ptr_array_add(argv, "-F");
            g_ptr_array_add(argv, (gpointer)(bfmt ? bfmt : "qcow2"));
        }
        g_ptr_array_add(argv, (gpointer)path);
        g_ptr_array_add(argv, sz);
        g_ptr_array_add(argv, NULL);
        g_autofree char *errout = NULL;
        int status = 0;
        gboolean ran = g_spawn_sync(NULL, (char **)argv->pdata, NULL, G_SPAWN_SEARCH_PATH, NULL,
                                    NULL, NULL, &errout, &status, error);
        g_ptr_array_unref(argv);
        if (!ran)
            return -1;
        if (!g_spawn_check_wait_status(status, NULL)) {
            g_set_error(error, TERN_COMPUTE_ERROR, TERN_COMPUTE_ERROR_IO,
                        "qemu-img create %s failed: %s", path, errout ? errout : "");
            return -1;
        }
        TERN_INFO(TERN_COMPUTE_LOG, "instance %s: target disk %s ready for block migration",
                  uuid, path);
    }
    return 0;
}

json_t *
tern_compute_pre_live_migration(TernComputeManager *m, const TernRpcRequest *req, GError **error)
{
    const char *uuid = tern_compute_arg_uuid(req->args, "instance", error);
    if (!uuid)
        return NULL;
    g_autoptr(json_t) lmd = lmd_from_arg(json_object_get(req->args, "migrate_data"));
    json_t *d = lmd_data(lmd);
    g_autoptr(GError) err = NULL;
    g_autofree char *idir = tern_instance_dir(m->instances_path, uuid, &err);
    if (!idir || g_mkdir_with_parents(idir, 0755) < 0) {
        tern_rpc_error_set_remote(error, NOVA_EXC, "MigrationError",
                                  json_pack("{s:s}", "reason", "instance folder"),
                                  "cannot prepare the instance folder on %s", m->host);
        return NULL;
    }
    set_migrating(m, uuid, TRUE);
    if (json_is_true(json_object_get(d, "block_migration")) &&
        !json_is_true(json_object_get(d, "is_shared_instance_path")) &&
        create_target_disks(m, uuid, json_object_get(d, "tern_disks"), &err) < 0) {
        set_migrating(m, uuid, FALSE);
        tern_rpc_error_set_remote(error, NOVA_EXC, "MigrationError",
                                  json_pack("{s:s}", "reason", err->message),
                                  "Migration error: %s", err->message);
        return NULL;
    }
    lmd_set(lmd, "target_connect_addr", json_string(m->migration_addr));
    TERN_INFO(TERN_COMPUTE_LOG, "instance %s: ready to receive", uuid);
    return g_steal_pointer(&lmd);
}

json_t *
tern_compute_post_live_migration_at_destination(TernComputeManager *m,
                                                const TernRpcRequest *req, GError **error)
{
    const char *uuid = tern_compute_arg_uuid(req->args, "instance", error);
    if (!uuid)
        return NULL;
    g_autofree char *id = g_strdup(uuid);
    g_autoptr(GError) err = NULL;
    virConnectPtr conn = tern_compute_conn(m, &err);
    int ps = TERN_POWER_NOSTATE;
    /* libvirt keeps the incoming job's figures here (downtime, memory):
     * answered to the source, which has lost its domain; kept for the
     * operator too (virsh domjobinfo --completed) */
    json_t *stats = json_object();
    if (conn) {
        tern_guest_power_state(conn, id, &ps, NULL);
        virDomainPtr dom = virDomainLookupByUUIDString(conn, id);
        int type = 0, n = 0;
        virTypedParameterPtr params = NULL;
        if (dom && virDomainGetJobStats(dom, &type, &params, &n,
                                        VIR_DOMAIN_JOB_STATS_COMPLETED |
                                        VIR_DOMAIN_JOB_STATS_KEEP_COMPLETED) == 0) {
            json_decref(stats);
            stats = job_updates(params, n);
            virTypedParamsFree(params, n);
        }
        if (dom)
            virDomainFree(dom);
        virConnectClose(conn);
    }
    set_migrating(m, id, FALSE);
    g_autoptr(json_t) r = tern_conductor_instance_update(
        m, req->context, id,
        json_pack("{s:s, s:s, s:s, s:n, s:i}", "host", m->host, "node", m->host, "vm_state",
                  "active", "task_state", "power_state", ps),
        FALSE, &err);
    if (!r) {
        json_decref(stats);
        g_propagate_error(error, g_steal_pointer(&err));
        return NULL;
    }
    TERN_INFO(TERN_COMPUTE_LOG, "instance %s now lives on %s (power state %d)", id, m->host, ps);
    return stats;   /* Nova's returns None; a tern source reads the figures */
}

json_t *
tern_compute_rollback_live_migration_at_destination(TernComputeManager *m,
                                                    const TernRpcRequest *req, GError **error)
{
    const char *uuid = tern_compute_arg_uuid(req->args, "instance", error);
    if (!uuid)
        return NULL;
    g_autofree char *id = g_strdup(uuid);
    json_t *d = lmd_data(json_object_get(req->args, "migrate_data"));
    gboolean shared = json_is_true(json_object_get(d, "is_shared_instance_path"));
    json_t *destroy = json_object_get(req->args, "destroy_disks");
    gboolean remove_disks = !shared && (!destroy || json_is_true(destroy));
    g_autoptr(GError) err = NULL;
    virConnectPtr conn = tern_compute_conn(m, &err);
    if (conn) {
        if (tern_guest_terminate(conn, id, remove_disks ? m->instances_path : NULL, &err) < 0)
            TERN_WARN(TERN_COMPUTE_LOG, "rollback of instance %s on %s: %s", id, m->host,
                      err->message);
        virConnectClose(conn);
    } else if (remove_disks) {
        tern_instance_disks_remove(m->instances_path, id, NULL);
    }
    set_migrating(m, id, FALSE);
    TERN_INFO(TERN_COMPUTE_LOG, "instance %s: live migration rolled back on %s", id, m->host);
    return json_null();
}

/* ------------------------------------------------------- source: move */

typedef struct {
    TernComputeManager *m;
    char *uuid;
    char *migration;
    json_t *ctx;
    guint64 memory_mb;
    gint done;          /* set when virDomainMigrateToURI3 returned */
    gint timed_out;
    GMutex lock;
    GCond cond;
} Monitor;

static gboolean
job_value(virTypedParameterPtr params, int n, const char *name, unsigned long long *v)
{
    return virTypedParamsGetULLong(params, n, name, v) == 1;
}

static json_t *
job_updates(virTypedParameterPtr params, int n)
{
    json_t *u = json_object();
    static const struct { const char *param, *field; } map[] = {
        { VIR_DOMAIN_JOB_MEMORY_TOTAL, "memory_total" },
        { VIR_DOMAIN_JOB_MEMORY_PROCESSED, "memory_processed" },
        { VIR_DOMAIN_JOB_MEMORY_REMAINING, "memory_remaining" },
        { VIR_DOMAIN_JOB_DISK_TOTAL, "disk_total" },
        { VIR_DOMAIN_JOB_DISK_PROCESSED, "disk_processed" },
        { VIR_DOMAIN_JOB_DISK_REMAINING, "disk_remaining" },
        { VIR_DOMAIN_JOB_DOWNTIME, "downtime_ms" },
    };
    for (gsize i = 0; i < G_N_ELEMENTS(map); i++) {
        unsigned long long v;
        if (job_value(params, n, map[i].param, &v))
            json_object_set_new(u, map[i].field, json_integer((json_int_t)v));
    }
    unsigned long long total = 0, rem = 0, dtotal = 0, drem = 0;
    job_value(params, n, VIR_DOMAIN_JOB_MEMORY_TOTAL, &total);
    job_value(params, n, VIR_DOMAIN_JOB_MEMORY_REMAINING, &rem);
    job_value(params, n, VIR_DOMAIN_JOB_DISK_TOTAL, &dtotal);
    job_value(params, n, VIR_DOMAIN_JOB_DISK_REMAINING, &drem);
    if (total + dtotal > 0)
        json_object_set_new(u, "progress",
                            json_integer((json_int_t)(100 - (rem + drem) * 100 / (total + dtotal))));
    return u;
}

static gpointer
monitor_main(gpointer data)
{
    Monitor *mon = data;
    TernComputeManager *m = mon->m;
    gint64 timeout_s = tern_config_get_int(m->conf, "libvirt", "live_migration_completion_timeout");
    const char *action = tern_config_get_string(m->conf, "libvirt", "live_migration_timeout_action");
    gboolean postcopy = tern_config_get_bool(m->conf, "libvirt", "live_migration_permit_post_copy");
    guint64 gib = MAX((guint64)1, (mon->memory_mb + 1023) / 1024);
    gint64 deadline = timeout_s > 0 ? g_get_monotonic_time() + timeout_s * (gint64)gib * G_USEC_PER_SEC
                                    : G_MAXINT64;
    gboolean downtime_set = FALSE, acted = FALSE;
    gint64 last_report = 0;
    gboolean first = TRUE;
    while (!g_atomic_int_get(&mon->done)) {
        g_mutex_lock(&mon->lock);
        /* the first sample early: a small guest's migration takes well
         * under a second, and its progress should still be seen once */
        gint64 until = g_get_monotonic_time() + (first ? G_USEC_PER_SEC / 20 : G_USEC_PER_SEC / 2);
        first = FALSE;
        while (!g_atomic_int_get(&mon->done))
            if (!g_cond_wait_until(&mon->cond, &mon->lock, until))
                break;
        g_mutex_unlock(&mon->lock);
        if (g_atomic_int_get(&mon->done))
            break;
        virConnectPtr conn = tern_compute_conn(m, NULL);
        if (!conn)
            continue;
        virDomainPtr dom = virDomainLookupByUUIDString(conn, mon->uuid);
        if (!dom) {
            virConnectClose(conn);
            continue;
        }
        int type = 0, n = 0;
        virTypedParameterPtr params = NULL;
        if (virDomainGetJobStats(dom, &type, &params, &n, 0) == 0 &&
            type != VIR_DOMAIN_JOB_NONE) {
            if (!downtime_set) {
                guint64 dt = (guint64)tern_config_get_int(m->conf, "libvirt",
                                                          "live_migration_downtime");
                downtime_set = virDomainMigrateSetMaxDowntime(dom, dt, 0) == 0;
            }
            gint64 now = g_get_monotonic_time();
            if (now - last_report >= G_USEC_PER_SEC) {
                last_report = now;
                json_t *u = job_updates(params, n);
                json_object_set_new(u, "status", json_string("running"));
                report_migration(m, mon->ctx, mon->migration, u);
            }
            if (!acted && now > deadline) {
                acted = TRUE;
                g_atomic_int_set(&mon->timed_out, TRUE);
                if (g_strcmp0(action, "force_complete") == 0) {
                    TERN_WARN(TERN_COMPUTE_LOG, "instance %s: live migration timed out: forcing "
                              "completion (%s)", mon->uuid, postcopy ? "post-copy" : "pause");
                    if (!postcopy || virDomainMigrateStartPostCopy(dom, 0) < 0)
                        virDomainSuspend(dom);
                } else {
                    TERN_WARN(TERN_COMPUTE_LOG, "instance %s: live migration timed out: aborting",
                              mon->uuid);
                    virDomainAbortJob(dom);
                }
            }
        }
        virTypedParamsFree(params, n);
        virDomainFree(dom);
        virConnectClose(conn);
    }
    return NULL;
}

static char *
destination_uri(TernComputeManager *m, const char *dest_addr)
{
    const char *tmpl = tern_config_get_string(m->conf, "libvirt", "live_migration_uri");
    if (tmpl && *tmpl) {
        /* Nova's template: one %s for the destination */
        g_autoptr(GString) s = g_string_new(NULL);
        for (const char *p = tmpl; *p; p++) {
            if (p[0] == '%' && p[1] == 's') {
                g_string_append(s, dest_addr);
                p++;
            } else {
                g_string_append_c(s, *p);
            }
        }
        return g_string_free(g_steal_pointer(&s), FALSE);
    }
    const char *scheme = tern_config_get_string(m->conf, "libvirt", "live_migration_scheme");
    return g_strdup_printf("qemu+%s://%s/system", scheme && *scheme ? scheme : "tcp", dest_addr);
}

typedef struct {
    TernComputeManager *m;
    char *uuid;
    char *dest;
    char *migration;
    json_t *instance;
    json_t *lmd;
    json_t *ctx;
} LiveJob;

static void
live_job_free(LiveJob *j)
{
    g_free(j->uuid);
    g_free(j->dest);
    g_free(j->migration);
    json_decref(j->instance);
    json_decref(j->lmd);
    json_decref(j->ctx);
    g_free(j);
}

static void
rollback(LiveJob *j, const char *status, const char *reason)
{
    TernComputeManager *m = j->m;
    TERN_ERROR(TERN_COMPUTE_LOG, "instance %s: live migration to %s failed: %s", j->uuid, j->dest,
               reason);
    g_autoptr(GError) err = NULL;
    json_t *args = json_pack("{s:O, s:b, s:O}", "instance", j->instance, "destroy_disks",
                             !json_is_true(json_object_get(lmd_data(j->lmd),
                                                           "is_shared_instance_path")),
                             "migrate_data", j->lmd);
    if (cast_compute(m, j->ctx, j->dest, "rollback_live_migration_at_destination", args, &err) < 0)
        TERN_WARN(TERN_COMPUTE_LOG, "rollback cast to %s: %s", j->dest, err->message);
    g_clear_error(&err);
    int ps = TERN_POWER_NOSTATE;
    virConnectPtr conn = tern_compute_conn(m, NULL);
    if (conn) {
        tern_guest_power_state(conn, j->uuid, &ps, NULL);
        virConnectClose(conn);
    }
    report_migration(m, j->ctx, j->migration,
                     json_pack("{s:s, s:s}", "status", status, "error", reason));
    g_autoptr(json_t) r = tern_conductor_instance_update(
        m, j->ctx, j->uuid,
        json_pack("{s:s, s:s, s:n, s:i}", "host", m->host, "vm_state", "active", "task_state",
                  "power_state", ps),
        FALSE, NULL);
}

static void
live_migration_run(LiveJob *j)
{
    TernComputeManager *m = j->m;
    g_autoptr(GError) err = NULL;
    report_migration(m, j->ctx, j->migration, json_pack("{s:s}", "status", "preparing"));
    /* the migrate data may have passed through a Python peer that drops
     * tern's extras: the source knows them, fill them in again */
    {
        virConnectPtr c = tern_compute_conn(m, &err);
        virDomainPtr dom = c ? virDomainLookupByUUIDString(c, j->uuid) : NULL;
        if (!dom) {
            if (c)
                virConnectClose(c);
            rollback(j, "error", "the instance's domain is not on the source");
            return;
        }
        json_t *d0 = lmd_data(j->lmd);
        gboolean shared = json_is_true(json_object_get(d0, "is_shared_instance_path"));
        json_t *disks = domain_disks(m, dom);
        gboolean block = !shared && (json_is_true(json_object_get(d0, "block_migration")) ||
                                     json_array_size(disks) > 0);
        source_facts(m, dom, j->lmd, disks, shared, block);
        virDomainFree(dom);
        virConnectClose(c);
    }

    /* the destination gets ready */
    json_t *pre_args = json_pack("{s:O, s:n, s:O}", "instance", j->instance, "disk",
                                 "migrate_data", j->lmd);
    json_t *ready = call_compute(m, j->ctx, j->dest, "pre_live_migration", pre_args, TRUE, &err);
    if (!ready) {
        g_autofree char *why = g_strdup_printf("pre_live_migration on %s: %s", j->dest,
                                               err->message);
        rollback(j, "error", why);
        return;
    }
    json_decref(j->lmd);
    j->lmd = ready;
    json_t *d = lmd_data(j->lmd);
    const char *addr = json_string_value(json_object_get(d, "target_connect_addr"));
    if (!addr || !*addr)
        addr = j->dest;
    gboolean block = json_is_true(json_object_get(d, "block_migration")) &&
                     !json_is_true(json_object_get(d, "is_shared_instance_path"));
    g_autofree char *uri = destination_uri(m, addr);
    g_autofree char *miguri = g_strdup_printf("tcp://%s", addr);

    virConnectPtr conn = tern_compute_conn(m, &err);
    virDomainPtr dom = conn ? virDomainLookupByUUIDString(conn, j->uuid) : NULL;
    if (!dom) {
        if (conn)
            virConnectClose(conn);
        rollback(j, "error", "the instance's domain is not on the source");
        return;
    }
    virDomainInfo info;
    guint64 mem_mb = virDomainGetInfo(dom, &info) == 0 ? info.maxMem / 1024 : 0;
    unsigned int flags = VIR_MIGRATE_LIVE | VIR_MIGRATE_PEER2PEER | VIR_MIGRATE_PERSIST_DEST |
                         VIR_MIGRATE_UNDEFINE_SOURCE;
    if (block)
        flags |= VIR_MIGRATE_NON_SHARED_DISK;
    if (tern_config_get_bool(m->conf, "libvirt", "live_migration_permit_auto_converge"))
        flags |= VIR_MIGRATE_AUTO_CONVERGE;
    if (tern_config_get_bool(m->conf, "libvirt", "live_migration_permit_post_copy"))
        flags |= VIR_MIGRATE_POSTCOPY;
    if (tern_config_get_bool(m->conf, "libvirt", "live_migration_with_native_tls"))
        flags |= VIR_MIGRATE_TLS;
    virTypedParameterPtr params = NULL;
    int n = 0, maxp = 0;
    gint64 bw = tern_config_get_int(m->conf, "libvirt", "live_migration_bandwidth");
    if (bw > 0)
        virTypedParamsAddULLong(&params, &n, &maxp, VIR_MIGRATE_PARAM_BANDWIDTH,
                                (unsigned long long)bw);
    if (!tern_config_get_string(m->conf, "libvirt", "live_migration_uri") ||
        !*tern_config_get_string(m->conf, "libvirt", "live_migration_uri"))
        virTypedParamsAddString(&params, &n, &maxp, VIR_MIGRATE_PARAM_URI, miguri);

    Monitor mon = { .m = m, .uuid = j->uuid, .migration = j->migration, .ctx = j->ctx,
                    .memory_mb = mem_mb };
    g_mutex_init(&mon.lock);
    g_cond_init(&mon.cond);
    GThread *mt = g_thread_new("tern-migmon", monitor_main, &mon);
    TERN_INFO(TERN_COMPUTE_LOG, "instance %s: live migration to %s (%s, migrate URI %s%s%s)",
              j->uuid, j->dest, uri, miguri, block ? ", block migration" : "",
              flags & VIR_MIGRATE_TLS ? ", native TLS" : "");
    gint64 t0 = g_get_monotonic_time();
    int rc = virDomainMigrateToURI3(dom, uri, params, (unsigned int)n, flags);
    g_autofree char *lv_error = NULL;
    if (rc < 0) {
        virErrorPtr e = virGetLastError();
        lv_error = g_strdup(e && e->message ? e->message : "unknown libvirt error");
    }
    double secs = (double)(g_get_monotonic_time() - t0) / G_USEC_PER_SEC;
    g_mutex_lock(&mon.lock);
    g_atomic_int_set(&mon.done, TRUE);
    g_cond_broadcast(&mon.cond);
    g_mutex_unlock(&mon.lock);
    g_thread_join(mt);
    g_mutex_clear(&mon.lock);
    g_cond_clear(&mon.cond);
    virTypedParamsFree(params, n);

    json_t *final = json_object();
    if (rc == 0) {
        int type = 0, pn = 0;
        virTypedParameterPtr jp = NULL;
        if (virDomainGetJobStats(dom, &type, &jp, &pn, VIR_DOMAIN_JOB_STATS_COMPLETED) == 0) {
            json_decref(final);
            final = job_updates(jp, pn);
            virTypedParamsFree(jp, pn);
        }
    }
    virDomainFree(dom);
    virConnectClose(conn);

    if (rc < 0) {
        gboolean timed_out = g_atomic_int_get(&mon.timed_out);
        g_mutex_lock(&m->lock);
        gboolean aborted = g_hash_table_remove(m->aborted, j->uuid);
        g_mutex_unlock(&m->lock);
        g_autofree char *why = g_strdup_printf("%s%s", aborted ? "aborted by "
                                               "live_migration_abort: " : timed_out ?
                                               "completion timeout: " : "", lv_error);
        json_decref(final);
        rollback(j, aborted ? "cancelled" : timed_out ? "failed" : "error", why);
        return;
    }
    TERN_INFO(TERN_COMPUTE_LOG, "instance %s: live migration to %s done in %.2f s", j->uuid,
              j->dest, secs);
    /* the destination takes the instance */
    json_t *post_args = json_pack("{s:O, s:b}", "instance", j->instance, "block_migration", block);
    g_autoptr(json_t) post = call_compute(m, j->ctx, j->dest, "post_live_migration_at_destination",
                                          post_args, TRUE, &err);
    if (!post) {
        TERN_WARN(TERN_COMPUTE_LOG, "post_live_migration_at_destination on %s: %s", j->dest,
                  err->message);
        g_clear_error(&err);
    } else if (json_is_object(post)) {
        json_object_update_missing(final, post);
    }
    json_t *dt = json_object_get(final, "downtime_ms");
    if (json_is_integer(dt))
        TERN_INFO(TERN_COMPUTE_LOG, "instance %s: downtime %" JSON_INTEGER_FORMAT " ms", j->uuid,
                  json_integer_value(dt));
    if (block || !json_is_true(json_object_get(d, "is_shared_instance_path")))
        tern_instance_disks_remove(m->instances_path, j->uuid, NULL);
    json_object_set_new(final, "status", json_string("completed"));
    json_object_set_new(final, "progress", json_integer(100));
    report_migration(m, j->ctx, j->migration, final);
}

static gpointer
live_migration_main(gpointer data)
{
    LiveJob *j = data;
    TernComputeManager *m = j->m;
    live_migration_run(j);
    g_mutex_lock(&m->lock);
    g_hash_table_remove(m->outgoing, j->uuid);
    g_hash_table_remove(m->aborted, j->uuid);
    g_mutex_unlock(&m->lock);
    set_migrating(m, j->uuid, FALSE);
    live_job_free(j);
    g_atomic_int_dec_and_test(&m->live_jobs);
    return NULL;
}

json_t *
tern_compute_live_migration(TernComputeManager *m, const TernRpcRequest *req, GError **error)
{
    const char *uuid = tern_compute_arg_uuid(req->args, "instance", error);
    if (!uuid)
        return NULL;
    const char *dest = json_string_value(json_object_get(req->args, "dest"));
    if (!dest || !*dest) {
        g_set_error(error, TERN_COMPUTE_ERROR, TERN_COMPUTE_ERROR_INVALID,
                    "live_migration of %s names no destination", uuid);
        return NULL;
    }
    LiveJob *j = g_new0(LiveJob, 1);
    j->m = m;
    j->uuid = g_strdup(uuid);
    j->dest = g_strdup(dest);
    j->migration = g_strdup(migration_uuid(req->args));
    j->instance = json_incref(json_object_get(req->args, "instance"));
    j->lmd = lmd_from_arg(json_object_get(req->args, "migrate_data"));
    j->ctx = json_incref(req->context);
    set_migrating(m, uuid, TRUE);
    g_mutex_lock(&m->lock);
    g_hash_table_replace(m->outgoing, g_strdup(uuid), g_strdup(j->migration ? j->migration : ""));
    g_mutex_unlock(&m->lock);
    g_atomic_int_inc(&m->live_jobs);
    /* the migration runs on a thread of its own: the RPC worker is free */
    g_thread_unref(g_thread_new("tern-livemig", live_migration_main, j));
    return json_null();
}

/* ------------------------------------------- source: abort, force complete */

/* The domain of an outgoing live migration of instance uuid (NULL and
 * InvalidMigrationState when this host runs none for it). */
static virDomainPtr
outgoing_domain(TernComputeManager *m, const char *uuid, const char *method,
                virConnectPtr *conn, GError **error)
{
    g_mutex_lock(&m->lock);
    gboolean running = g_hash_table_contains(m->outgoing, uuid);
    g_mutex_unlock(&m->lock);
    if (!running) {
        tern_rpc_error_set_remote(error, NOVA_EXC, "InvalidMigrationState",
                                  json_pack("{s:s, s:s, s:s}", "instance_uuid", uuid, "state",
                                            "none", "method", method),
                                  "%s: instance %s has no live migration running from %s",
                                  method, uuid, m->host);
        return NULL;
    }
    *conn = tern_compute_conn(m, error);
    if (!*conn)
        return NULL;
    virDomainPtr dom = virDomainLookupByUUIDString(*conn, uuid);
    if (!dom) {
        g_set_error(error, TERN_COMPUTE_ERROR, TERN_COMPUTE_ERROR_NOT_FOUND,
                    "%s: instance %s has no domain on %s", method, uuid, m->host);
        virConnectClose(*conn);
        *conn = NULL;
    }
    return dom;
}

static void
libvirt_failed(GError **error, const char *what, const char *uuid)
{
    virErrorPtr e = virGetLastError();
    g_set_error(error, TERN_COMPUTE_ERROR, TERN_COMPUTE_ERROR_LIBVIRT, "%s of instance %s: %s",
                what, uuid, e && e->message ? e->message : "unknown libvirt error");
}

json_t *
tern_compute_live_migration_abort(TernComputeManager *m, const TernRpcRequest *req,
                                  GError **error)
{
    const char *uuid = tern_compute_arg_uuid(req->args, "instance", error);
    if (!uuid)
        return NULL;
    /* Nova's migration_id is the record's integer id; tern's conductor may
     * send the uuid. Only one outgoing migration per instance runs here. */
    json_t *mid = json_object_get(req->args, "migration_id");
    g_autofree char *mid_s = json_is_integer(mid) ?
        g_strdup_printf("%" JSON_INTEGER_FORMAT, json_integer_value(mid)) :
        g_strdup(json_is_string(mid) ? json_string_value(mid) : "?");
    virConnectPtr conn = NULL;
    virDomainPtr dom = outgoing_domain(m, uuid, "live_migration_abort", &conn, error);
    if (!dom)
        return NULL;
    g_mutex_lock(&m->lock);
    g_hash_table_add(m->aborted, g_strdup(uuid));
    g_mutex_unlock(&m->lock);
    int rc = virDomainAbortJob(dom);
    if (rc < 0) {
        libvirt_failed(error, "live_migration_abort", uuid);
        g_mutex_lock(&m->lock);
        g_hash_table_remove(m->aborted, uuid);
        g_mutex_unlock(&m->lock);
    } else {
        TERN_INFO(TERN_COMPUTE_LOG, "instance %s: live migration %s aborted on request", uuid,
                  mid_s);
    }
    virDomainFree(dom);
    virConnectClose(conn);
    return rc < 0 ? NULL : json_null();
}

json_t *
tern_compute_live_migration_force_complete(TernComputeManager *m, const TernRpcRequest *req,
                                           GError **error)
{
    const char *uuid = tern_compute_arg_uuid(req->args, "instance", error);
    if (!uuid)
        return NULL;
    virConnectPtr conn = NULL;
    virDomainPtr dom = outgoing_domain(m, uuid, "live_migration_force_complete", &conn, error);
    if (!dom)
        return NULL;
    gboolean postcopy = tern_config_get_bool(m->conf, "libvirt",
                                             "live_migration_permit_post_copy");
    int rc = postcopy ? virDomainMigrateStartPostCopy(dom, 0) : virDomainSuspend(dom);
    if (rc < 0)
        libvirt_failed(error, postcopy ? "live_migration_force_complete (post-copy)"
                                       : "live_migration_force_complete (pause)", uuid);
    else
        TERN_INFO(TERN_COMPUTE_LOG, "instance %s: live migration forced to complete (%s)", uuid,
                  postcopy ? "post-copy" : "guest paused");
    virDomainFree(dom);
    virConnectClose(conn);
    return rc < 0 ? NULL : json_null();
}
