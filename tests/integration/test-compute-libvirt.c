/* test-compute-libvirt.c: the compute layer on real libvirt.
 *
 * On libvirt's test driver (test:///default, in-process, always there):
 * probe as is and with the simulated x86_64, POWER8 and POWER9 host facts;
 * then for a guest of each simulated host: build its XML through the arch
 * strategy, boot it, see the lifecycle events arrive through
 * TernLibvirtConn, stop, start, reboot (soft, hard), read power states,
 * reconcile, terminate (domain and disk folder gone).
 * On the private real libvirtd (TERN_TEST_LIBVIRT_URI; skipped when unset):
 * probe (domain capabilities per guest arch) and the refusal of host facts
 * files on a real driver. */
#include <glib.h>
#include <glib/gstdio.h>
#include <libvirt/libvirt.h>
#include <libvirt/virterror.h>
#include <string.h>

#include "compute/compute_error.h"
#include "compute/domain_xml.h"
#include "compute/guest_lifecycle.h"
#include "fleet/guest_os_rules.h"
#include "compute/host_probe.h"
#include "compute/instance_disk.h"
#include "compute/libvirt_conn.h"
#include "compute/xml_util.h"
#include "common/util.h"

static TernGuestOsRules *rules;

typedef struct {
    char *uuid;
    int event;
    int power_state;
} Event;

static GAsyncQueue *events;

static void
on_event(const char *uuid, const char *name, int event, int detail, int power_state, gpointer data)
{
    Event *e = g_new0(Event, 1);
    e->uuid = g_strdup(uuid);
    e->event = event;
    e->power_state = power_state;
    g_async_queue_push(events, e);
}

/* Wait (up to 10 s) for an event of uuid with that power state. */
static gboolean
wait_event(const char *uuid, int power_state)
{
    gint64 until = g_get_monotonic_time() + 10 * G_USEC_PER_SEC;
    for (;;) {
        gint64 left = until - g_get_monotonic_time();
        if (left <= 0)
            return FALSE;
        Event *e = g_async_queue_timeout_pop(events, (guint64)left);
        if (!e)
            return FALSE;
        gboolean hit = strcmp(e->uuid, uuid) == 0 && e->power_state == power_state;
        g_free(e->uuid);
        g_free(e);
        if (hit)
            return TRUE;
    }
}

static char *
facts_dir(const char *host)
{
    return g_build_filename(g_getenv("TERN_SRCDIR"), "tests", "data", "hosts", host, NULL);
}

static void
test_probe_test_driver(void)
{
    g_autoptr(GError) err = NULL;
    g_autoptr(TernLibvirtConn) c = tern_libvirt_conn_open("test:///default", NULL, NULL, NULL, &err);
    g_assert_no_error(err);
    virConnectPtr conn = tern_libvirt_conn_get(c, &err);
    g_assert_nonnull(conn);
    TernHostFacts *f = NULL;
    TernHostProbeOptions opts = { .instances_path = g_get_tmp_dir() };
    g_assert_cmpint(tern_host_probe(conn, &opts, &f, &err), ==, 0);
    g_assert_no_error(err);
    /* the test driver as it is: an i686 host tern has no strategy for */
    g_assert_cmpstr(f->arch, ==, "i686");
    g_assert_cmpstr(f->hypervisor_type, ==, "TEST");
    g_assert_cmpuint(f->vcpus, ==, 16);
    g_assert_false(f->simulated);
    g_assert_cmpuint(f->disk_gb, >, 0);
    json_t *si = tern_host_facts_supported_instances(f);
    g_assert_cmpuint(json_array_size(si), ==, 0);
    json_decref(si);
    tern_host_facts_free(f);

    /* the same driver with the simulated hosts' facts */
    struct { const char *host, *arch, *model; guint vcpus, threads; gsize instances; } hosts[] = {
        { "power9", "ppc64le", "POWER9", 160, 4, 4 },
        { "power8", "ppc64le", "POWER8", 160, 8, 4 },
        { "x86_64", "x86_64", "Skylake-Server-v1", 2, 1, 4 },
    };
    for (gsize i = 0; i < G_N_ELEMENTS(hosts); i++) {
        g_autofree char *dir = facts_dir(hosts[i].host);
        opts.facts_dir = dir;
        g_assert_cmpint(tern_host_probe(conn, &opts, &f, &err), ==, 0);
        g_assert_no_error(err);
        g_assert_true(f->simulated);
        g_assert_cmpstr(f->arch, ==, hosts[i].arch);
        g_assert_cmpuint(f->vcpus, ==, hosts[i].vcpus);
        g_assert_cmpuint(f->threads_per_core, ==, hosts[i].threads);
        g_autofree char *model = g_strdup_printf("<model>%s</model>", hosts[i].model);
        g_assert_nonnull(strstr(f->host_cpu_xml, model));
        g_assert_cmpuint(f->hypervisor_version, ==, 10000002);
        si = tern_host_facts_supported_instances(f);
        g_assert_cmpuint(json_array_size(si), ==, hosts[i].instances);
        json_decref(si);
        tern_host_facts_free(f);
    }
    /* a facts folder that is not one */
    opts.facts_dir = "/nonexistent/tern-facts";
    g_assert_cmpint(tern_host_probe(conn, &opts, &f, &err), ==, -1);
    g_assert_error(err, TERN_COMPUTE_ERROR, TERN_COMPUTE_ERROR_NOT_FOUND);
    g_assert_nonnull(strstr(err->message, "capabilities.xml"));
    virConnectClose(conn);
}

/* A simulated host: the test driver with the host's node.xml when it has
 * one (node info and a stray guest of its own), else test:///default. */
static void
lifecycle_on(const char *host, const char *os_distro)
{
    g_autoptr(GError) err = NULL;
    g_autofree char *node = g_build_filename(g_getenv("TERN_SRCDIR"), "tests", "data", "hosts",
                                             host, "node.xml", NULL);
    gboolean has_node = g_file_test(node, G_FILE_TEST_EXISTS);
    g_autofree char *uri = has_node ? g_strconcat("test://", node, NULL) : g_strdup("test:///default");
    g_autofree char *stray = has_node ? g_strdup_printf("%s-stray", host) : g_strdup("test");
    g_autoptr(TernLibvirtConn) c = tern_libvirt_conn_open(uri, on_event, NULL, NULL, &err);
    g_assert_no_error(err);
    virConnectPtr conn = tern_libvirt_conn_get(c, &err);
    g_assert_nonnull(conn);
    g_autofree char *dir = facts_dir(host);
    g_autofree char *tmp = g_dir_make_tmp("tern-compute-XXXXXX", &err);
    g_assert_no_error(err);
    g_autofree char *images = g_build_filename(tmp, "images", NULL);
    g_autofree char *instances = g_build_filename(tmp, "instances", NULL);
    g_mkdir(images, 0755);
    TernHostProbeOptions opts = { .facts_dir = dir, .instances_path = tmp };
    TernHostFacts *f = NULL;
    g_assert_cmpint(tern_host_probe(conn, &opts, &f, &err), ==, 0);
    if (has_node) {   /* node info agrees with the facts files */
        virNodeInfo info;
        g_assert_cmpint(virNodeGetInfo(conn, &info), ==, 0);
        g_assert_cmpuint(info.cpus, ==, f->vcpus);
        g_assert_cmpuint(info.memory / 1024, ==, f->memory_mb);
        g_assert_nonnull(strstr(f->host_cpu_xml, info.model));
    }

    /* the instance's disk: an overlay on a base image */
    g_autofree char *base = g_build_filename(images, "img-1.qcow2", NULL);
    const char *argv[] = { "qemu-img", "create", "-q", "-f", "qcow2", base, "64M", NULL };
    int status;
    g_assert_true(g_spawn_sync(NULL, (char **)argv, NULL, G_SPAWN_SEARCH_PATH, NULL, NULL, NULL,
                               NULL, &status, NULL));
    g_assert_true(g_spawn_check_wait_status(status, NULL));
    g_autofree char *uuid = tern_uuid_new();
    g_autofree char *disk = tern_instance_disk_create(instances, images, uuid, "img-1", 1, &err);
    g_assert_no_error(err);
    g_assert_true(g_file_test(disk, G_FILE_TEST_IS_REGULAR));
    g_assert_null(tern_instance_disk_create(instances, images, uuid, "../img-1", 1, &err));
    g_assert_error(err, TERN_COMPUTE_ERROR, TERN_COMPUTE_ERROR_INVALID);
    g_clear_error(&err);
    g_assert_null(tern_instance_disk_create(instances, images, uuid, "no-such-image", 1, &err));
    g_assert_error(err, TERN_COMPUTE_ERROR, TERN_COMPUTE_ERROR_NOT_FOUND);
    g_clear_error(&err);

    g_autoptr(TernGuestSpec) s = tern_guest_spec_new();
    s->uuid = g_strdup(uuid);
    s->name = g_strdup_printf("tern-it-%s <&>", host);
    s->virt_type = g_strdup("kvm");
    s->vcpus = 2;
    s->memory_mb = 512;
    s->os_distro = g_strdup(os_distro);
    tern_guest_spec_add_disk(s, disk, NULL);
    tern_guest_spec_add_nic(s, "network", "default", NULL);
    g_autofree char *xml = NULL;
    g_assert_cmpint(tern_compute_build_domain_xml(s, f, rules, &xml, &err), ==, 0);
    g_assert_no_error(err);
    g_assert_nonnull(strstr(xml, f->arch));

    g_assert_cmpint(tern_guest_boot(conn, xml, &err), ==, 0);
    g_assert_no_error(err);
    g_assert_true(wait_event(uuid, TERN_POWER_RUNNING));
    int ps = -1;
    g_assert_cmpint(tern_guest_power_state(conn, uuid, &ps, &err), ==, 0);
    g_assert_cmpint(ps, ==, TERN_POWER_RUNNING);
    /* the domain libvirt has is the one tern built */
    virDomainPtr dom = virDomainLookupByUUIDString(conn, uuid);
    g_assert_nonnull(dom);
    g_assert_cmpstr(virDomainGetName(dom), ==, s->name);
    char *dumped = virDomainGetXMLDesc(dom, 0);
    g_assert_nonnull(strstr(dumped, f->arch));
    free(dumped);
    virDomainFree(dom);

    g_assert_cmpint(tern_guest_stop(conn, uuid, 5, &err), ==, 0);
    g_assert_true(wait_event(uuid, TERN_POWER_SHUTDOWN));
    g_assert_cmpint(tern_guest_power_state(conn, uuid, &ps, &err), ==, 0);
    g_assert_cmpint(ps, ==, TERN_POWER_SHUTDOWN);
    g_assert_cmpint(tern_guest_stop(conn, uuid, 5, &err), ==, 0);   /* already off */
    g_assert_cmpint(tern_guest_start(conn, uuid, &err), ==, 0);
    g_assert_true(wait_event(uuid, TERN_POWER_RUNNING));
    g_assert_cmpint(tern_guest_reboot(conn, uuid, FALSE, &err), ==, 0);
    g_assert_no_error(err);
    g_assert_cmpint(tern_guest_reboot(conn, uuid, TRUE, &err), ==, 0);
    g_assert_no_error(err);
    g_assert_true(wait_event(uuid, TERN_POWER_SHUTDOWN));
    g_assert_true(wait_event(uuid, TERN_POWER_RUNNING));
    g_assert_cmpint(tern_guest_power_state(conn, uuid, &ps, &err), ==, 0);
    g_assert_cmpint(ps, ==, TERN_POWER_RUNNING);

    /* reconcile: the driver's own guest ("test", or "<host>-stray" from
     * node.xml) belongs to no instance and is reported, not touched; a
     * known instance without a domain is reported missing */
    const char *gone = "6d0f5a1e-0000-4000-8000-000000000001";
    const char *known[] = { uuid, gone, NULL };
    GPtrArray *unknown = NULL, *missing = NULL;
    g_assert_cmpint(tern_guest_reconcile(conn, known, &unknown, &missing, &err), ==, 0);
    g_assert_cmpuint(unknown->len, ==, 1);
    TernDomainInfo *u = unknown->pdata[0];
    g_assert_cmpstr(u->name, ==, stray);
    g_assert_cmpint(u->power_state, ==, TERN_POWER_RUNNING);
    g_assert_cmpuint(missing->len, ==, 1);
    g_assert_cmpstr(missing->pdata[0], ==, gone);
    g_ptr_array_unref(unknown);
    g_ptr_array_unref(missing);
    dom = virDomainLookupByName(conn, stray);
    g_assert_nonnull(dom);
    g_assert_cmpint(virDomainIsActive(dom), ==, 1);
    virDomainFree(dom);

    g_autofree char *idir = tern_instance_dir(instances, uuid, &err);
    g_assert_true(g_file_test(idir, G_FILE_TEST_IS_DIR));
    g_assert_cmpint(tern_guest_terminate(conn, uuid, instances, &err), ==, 0);
    g_assert_no_error(err);
    g_assert_true(wait_event(uuid, TERN_POWER_NOSTATE));   /* undefined */
    g_assert_null(virDomainLookupByUUIDString(conn, uuid));
    g_assert_false(g_file_test(idir, G_FILE_TEST_EXISTS));
    g_assert_true(g_file_test(base, G_FILE_TEST_IS_REGULAR));  /* the base stays */
    g_assert_cmpint(tern_guest_terminate(conn, uuid, instances, &err), ==, 0);  /* idempotent */
    g_assert_cmpint(tern_guest_power_state(conn, uuid, &ps, &err), ==, -1);
    g_assert_error(err, TERN_COMPUTE_ERROR, TERN_COMPUTE_ERROR_NOT_FOUND);
    g_clear_error(&err);

    /* a request the simulated host refuses never reaches libvirt */
    g_free(s->graphics);
    s->graphics = g_strdup(strcmp(f->arch, "x86_64") == 0 ? "sdl" : "spice");
    g_clear_pointer(&xml, g_free);
    g_assert_cmpint(tern_compute_build_domain_xml(s, f, rules, &xml, &err), ==, -1);
    g_assert_error(err, TERN_COMPUTE_ERROR, TERN_COMPUTE_ERROR_UNSUPPORTED);

    tern_host_facts_free(f);
    virConnectClose(conn);
    g_remove(base);
    g_rmdir(images);
    g_rmdir(instances);
    g_rmdir(tmp);
}

static void
test_lifecycle_power9(void)
{
    lifecycle_on("power9", "rhel8.6");
}

static void
test_lifecycle_power8(void)
{
    lifecycle_on("power8", "debian11");
}

static void
test_lifecycle_x86_64(void)
{
    lifecycle_on("x86_64", "ubuntu22.04");
}

static void
test_probe_real(void)
{
    const char *uri = g_getenv("TERN_TEST_LIBVIRT_URI");
    if (!uri || !*uri) {
        g_test_skip("TERN_TEST_LIBVIRT_URI is not set (scripts/services start libvirt)");
        return;
    }
    g_autoptr(GError) err = NULL;
    g_autoptr(TernLibvirtConn) c = tern_libvirt_conn_open(uri, NULL, NULL, NULL, &err);
    g_assert_no_error(err);
    virConnectPtr conn = tern_libvirt_conn_get(c, &err);
    TernHostFacts *f = NULL;
    TernHostProbeOptions opts = { .instances_path = "/" };
    g_assert_cmpint(tern_host_probe(conn, &opts, &f, &err), ==, 0);
    g_assert_no_error(err);
    g_assert_cmpstr(f->hypervisor_type, ==, "QEMU");
    g_assert_cmpuint(f->hypervisor_version, >=, 7000000);
    g_assert_nonnull(f->host_cpu_xml);
    /* this TCG host emulates ppc64le guests, with their domain capabilities */
    const TernGuestFacts *g = tern_host_facts_find_guest(f, "ppc64le", "qemu");
    g_assert_nonnull(g);
    g_assert_nonnull(g->domcaps_xml);
    g_assert_true(g_str_has_prefix(g->domcaps_machine, "pseries-"));
    g_assert_false(tern_str_array_has(g->disk_buses, "ide"));
    g_assert_true(tern_str_array_has(g->cpu_models, "POWER9"));
    g = tern_host_facts_find_guest(f, "x86_64", "qemu");
    g_assert_nonnull(g);
    g_assert_true(g_str_has_prefix(g->domcaps_machine, "pc-q35-"));
    tern_host_facts_free(f);
    /* host facts files are for the test driver only */
    g_autofree char *dir = facts_dir("power9");
    opts.facts_dir = dir;
    g_assert_cmpint(tern_host_probe(conn, &opts, &f, &err), ==, -1);
    g_assert_error(err, TERN_COMPUTE_ERROR, TERN_COMPUTE_ERROR_CONFIG);
    virConnectClose(conn);
}

/* The golden domain XML libvirt on this machine can take (those built from
 * the x86_64 facts, captured from this machine's own libvirt, and the
 * TCG ones) must be accepted by a real libvirtd's define with validation,
 * not only by the schema. */
static void
test_goldens_define_real(void)
{
    const char *uri = g_getenv("TERN_TEST_LIBVIRT_URI");
    if (!uri || !*uri) {
        g_test_skip("TERN_TEST_LIBVIRT_URI is not set (scripts/services start libvirt)");
        return;
    }
    virConnectPtr conn = virConnectOpen(uri);
    g_assert_nonnull(conn);
    g_autofree char *dir = g_build_filename(g_getenv("TERN_SRCDIR"), "tests", "data", "compute", NULL);
    g_autoptr(GError) err = NULL;
    g_autoptr(GDir) d = g_dir_open(dir, 0, &err);
    g_assert_no_error(err);
    const char *name;
    guint defined = 0;
    while ((name = g_dir_read_name(d))) {
        if (!g_str_has_suffix(name, ".xml"))
            continue;
        g_autofree char *path = g_build_filename(dir, name, NULL);
        g_autofree char *xml = NULL;
        g_assert_true(g_file_get_contents(path, &xml, NULL, NULL));
        if (!g_str_has_prefix(name, "x86_64-") && !strstr(xml, "<domain type=\"qemu\">"))
            continue;
        virDomainPtr dom = virDomainDefineXMLFlags(conn, xml, VIR_DOMAIN_DEFINE_VALIDATE);
        if (!dom)
            g_error("libvirt refused %s: %s", name, virGetLastErrorMessage());
        g_assert_cmpint(virDomainUndefineFlags(dom, VIR_DOMAIN_UNDEFINE_NVRAM), ==, 0);
        virDomainFree(dom);
        defined++;
    }
    g_test_message("%u golden domains defined and undefined", defined);
    g_assert_cmpuint(defined, >=, 8);
    virConnectClose(conn);
}

static GAsyncQueue *states;

static void
on_state(gboolean connected, gpointer data)
{
    g_async_queue_push(states, GINT_TO_POINTER(connected ? 2 : 1));
}

static gboolean
wait_state(gboolean connected, guint seconds)
{
    gpointer v;
    while ((v = g_async_queue_timeout_pop(states, (guint64)seconds * G_USEC_PER_SEC)))
        if (GPOINTER_TO_INT(v) == (connected ? 2 : 1))
            return TRUE;
    return FALSE;
}

/* libvirtd dies and comes back: the connection notices, reopens, and
 * events flow again. Opt-in (TERN_TEST_LIBVIRT_RESTART=1): it restarts
 * the private libvirtd of scripts/services, which would disturb other
 * tests using it at the same time. */
static void
test_reconnect(void)
{
    const char *uri = g_getenv("TERN_TEST_LIBVIRT_URI");
    const char *dir = g_getenv("TERN_SERVICES_DIR");
    if (!uri || !dir || g_strcmp0(g_getenv("TERN_TEST_LIBVIRT_RESTART"), "1") != 0) {
        g_test_skip("set TERN_TEST_LIBVIRT_URI, TERN_SERVICES_DIR and TERN_TEST_LIBVIRT_RESTART=1");
        return;
    }
    g_autoptr(GError) err = NULL;
    states = g_async_queue_new();
    g_autoptr(TernLibvirtConn) c = tern_libvirt_conn_open(uri, NULL, on_state, NULL, &err);
    g_assert_no_error(err);
    g_assert_true(tern_libvirt_conn_is_alive(c));
    /* scripts/services restart: libvirtd (and virtlogd) stop, then start
     * again with the same socket */
    g_autofree char *restart = g_strdup_printf("%s/scripts/services restart libvirt",
                                               g_getenv("TERN_SRCDIR"));
    int status;
    g_assert_true(g_spawn_command_line_sync(restart, NULL, NULL, &status, NULL));
    g_assert_true(g_spawn_check_wait_status(status, NULL));
    g_assert_true(wait_state(FALSE, 30));
    g_assert_true(wait_state(TRUE, 30));
    g_assert_cmpuint(tern_libvirt_conn_reconnects(c), >=, 1);
    virConnectPtr conn = tern_libvirt_conn_get(c, &err);
    g_assert_no_error(err);
    unsigned long ver = 0;
    g_assert_cmpint(virConnectGetVersion(conn, &ver), ==, 0);
    g_assert_cmpuint(ver, >, 0);
    virConnectClose(conn);
}

int
main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    g_autoptr(GError) err = NULL;
    g_autofree char *rules_path = g_build_filename(g_getenv("TERN_SRCDIR"), "etc", "tern",
                                                   "guest-os-rules.ini", NULL);
    rules = tern_guest_os_rules_load(rules_path, &err);
    g_assert_no_error(err);
    events = g_async_queue_new();
    g_test_add_func("/compute/libvirt/probe-test-driver", test_probe_test_driver);
    g_test_add_func("/compute/libvirt/lifecycle-power9", test_lifecycle_power9);
    g_test_add_func("/compute/libvirt/lifecycle-power8", test_lifecycle_power8);
    g_test_add_func("/compute/libvirt/lifecycle-x86_64", test_lifecycle_x86_64);
    g_test_add_func("/compute/libvirt/probe-real", test_probe_real);
    g_test_add_func("/compute/libvirt/goldens-define-real", test_goldens_define_real);
    g_test_add_func("/compute/libvirt/reconnect", test_reconnect);
    int rc = g_test_run();
    tern_guest_os_rules_free(rules);
    return rc;
}
