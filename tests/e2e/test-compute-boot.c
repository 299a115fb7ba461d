/* test-compute-boot.c: e2e boot of real Linux guests with real QEMU (TCG)
 * under the private libvirtd of scripts/services (TERN_TEST_LIBVIRT_URI;
 * skipped when unset): an x86_64 guest and a ppc64le (pseries) guest, each
 * Debian's kernel with a busybox initramfs (tests/e2e/guest-assets.sh).
 * Each guest's domain XML is built through the arch strategy from the
 * probed host facts, with an instance disk overlay on a base image; the
 * guest must reach running and print "TERN-GUEST-BOOTED <uname -m>" and
 * then count on its serial console; stop (clean-shutdown timeout, then
 * power off) and start must bring it back; terminate must leave nothing: no
 * domain, no instance folder. */
#include <glib.h>
#include <glib/gstdio.h>
#include <libvirt/libvirt.h>
#include <string.h>

#include "common/util.h"
#include "compute/compute_error.h"
#include "compute/domain_xml.h"
#include "compute/guest_lifecycle.h"
#include "fleet/guest_os_rules.h"
#include "compute/host_probe.h"
#include "compute/instance_disk.h"
#include "compute/libvirt_conn.h"

static char *assets;
static GAsyncQueue *running;   /* uuids that reached running (events) */

static void
on_event(const char *uuid, const char *name, int event, int detail, int power_state, gpointer d)
{
    if (power_state == TERN_POWER_RUNNING)
        g_async_queue_push(running, g_strdup(uuid));
}

static gboolean
wait_running(const char *uuid)
{
    char *u;
    while ((u = g_async_queue_timeout_pop(running, 30 * G_USEC_PER_SEC))) {
        gboolean hit = strcmp(u, uuid) == 0;
        g_free(u);
        if (hit)
            return TRUE;
    }
    return FALSE;
}

/* Poll the console log for a line; seconds until it appeared, or -1. */
static double
wait_console(const char *log, const char *text, double timeout)
{
    double t0 = tern_now();
    while (tern_now() - t0 < timeout) {
        g_autofree char *s = NULL;
        if (g_file_get_contents(log, &s, NULL, NULL) && strstr(s, text))
            return tern_now() - t0;
        g_usleep(100 * 1000);
    }
    return -1;
}

static void
boot_guest(const char *arch, const char *uname, guint64 memory_mb, const char *kernel)
{
    const char *uri = g_getenv("TERN_TEST_LIBVIRT_URI");
    if (!uri || !*uri) {
        g_test_skip("TERN_TEST_LIBVIRT_URI is not set (scripts/services start libvirt)");
        return;
    }
    if (!assets) {
        g_test_fail_printf("tests/e2e/guest-assets.sh failed: no guest kernels");
        return;
    }
    g_autoptr(GError) err = NULL;
    g_autoptr(TernLibvirtConn) c = tern_libvirt_conn_open(uri, on_event, NULL, NULL, &err);
    g_assert_no_error(err);
    virConnectPtr conn = tern_libvirt_conn_get(c, &err);
    g_assert_no_error(err);

    /* a private images/instances folder that QEMU (root) can read */
    g_autofree char *tmp = g_dir_make_tmp("tern-e2e-XXXXXX", &err);
    g_assert_no_error(err);
    g_chmod(tmp, 0755);
    g_autofree char *images = g_build_filename(tmp, "images", NULL);
    g_autofree char *instances = g_build_filename(tmp, "instances", NULL);
    g_mkdir(images, 0755);
    g_autofree char *base = g_build_filename(images, "empty.qcow2", NULL);
    const char *argv[] = { "qemu-img", "create", "-q", "-f", "qcow2", base, "32M", NULL };
    int status;
    g_assert_true(g_spawn_sync(NULL, (char **)argv, NULL, G_SPAWN_SEARCH_PATH, NULL, NULL, NULL,
                               NULL, &status, NULL));
    g_assert_true(g_spawn_check_wait_status(status, NULL));

    TernHostFacts *f = NULL;
    TernHostProbeOptions opts = { .instances_path = tmp };
    g_assert_cmpint(tern_host_probe(conn, &opts, &f, &err), ==, 0);
    g_assert_no_error(err);

    g_autofree char *uuid = tern_uuid_new();
    g_autoptr(TernGuestSpec) s = tern_guest_spec_new();
    s->uuid = g_strdup(uuid);
    s->name = g_strdup_printf("tern-e2e-%s-%.8s", arch, uuid);
    s->virt_type = g_strdup("qemu");
    s->vcpus = 1;
    s->memory_mb = memory_mb;
    s->os_distro = g_strdup("debian12");
    if (strcmp(arch, f->arch) != 0) {
        s->arch = g_strdup(arch);
        s->emulation_arch = g_strdup(arch);
    }
    s->graphics = g_strdup("none");
    s->kernel = g_build_filename(assets, arch, kernel, NULL);
    s->initrd = g_build_filename(assets, arch, "initrd.gz", NULL);
    s->cmdline = g_strdup("quiet panic=-1");
    s->console_log = g_build_filename(tmp, "console.log", NULL);
    g_autofree char *disk = tern_instance_disk_create(instances, images, uuid, "empty", 1, &err);
    g_assert_no_error(err);
    tern_guest_spec_add_disk(s, disk, NULL);
    g_autofree char *xml = NULL;
    g_assert_cmpint(tern_compute_build_domain_xml(s, f, NULL, &xml, &err), ==, 0);
    g_assert_no_error(err);
    g_test_message("%s", xml);

    double t0 = tern_now();
    g_assert_cmpint(tern_guest_boot(conn, xml, &err), ==, 0);
    g_assert_no_error(err);
    double t_start = tern_now() - t0;
    g_assert_true(wait_running(uuid));
    g_autofree char *marker = g_strdup_printf("TERN-GUEST-BOOTED %s", uname);
    double t_marker = wait_console(s->console_log, marker, 180);
    if (t_marker < 0) {
        g_autofree char *log = NULL;
        g_file_get_contents(s->console_log, &log, NULL, NULL);
        tern_guest_terminate(conn, uuid, instances, NULL);
        g_error("no \"%s\" on the console of %s within 180 s; console:\n%s", marker, s->name,
                log ? log : "(empty)");
    }
    g_assert_cmpfloat(wait_console(s->console_log, "TERN-GUEST-COUNT 2", 60), >=, 0);
    g_test_message("%s: started in %.2f s, marker after %.2f s", arch, t_start,
                   t_start + t_marker);
    printf("# e2e %s: virDomainCreate returned after %.2f s, \"%s\" on the console after %.2f s\n",
           arch, t_start, marker, t_start + t_marker);

    int ps = -1;
    g_assert_cmpint(tern_guest_power_state(conn, uuid, &ps, &err), ==, 0);
    g_assert_cmpint(ps, ==, TERN_POWER_RUNNING);
    /* stop: busybox ignores the ACPI/hypervisor shutdown request, so the
     * clean-shutdown timeout passes and tern powers it off; start again:
     * the guest boots anew (the console log starts over) */
    g_assert_cmpint(tern_guest_stop(conn, uuid, 2, &err), ==, 0);
    g_assert_no_error(err);
    g_assert_cmpint(tern_guest_power_state(conn, uuid, &ps, &err), ==, 0);
    g_assert_cmpint(ps, ==, TERN_POWER_SHUTDOWN);
    g_assert_cmpint(g_remove(s->console_log), ==, 0);   /* a marker now is a new boot */
    g_assert_cmpint(tern_guest_start(conn, uuid, &err), ==, 0);
    g_assert_no_error(err);
    g_assert_cmpfloat(wait_console(s->console_log, marker, 180), >=, 0);
    g_assert_cmpint(tern_guest_power_state(conn, uuid, &ps, &err), ==, 0);
    g_assert_cmpint(ps, ==, TERN_POWER_RUNNING);

    g_autofree char *idir = tern_instance_dir(instances, uuid, &err);
    g_assert_true(g_file_test(idir, G_FILE_TEST_IS_DIR));
    g_assert_cmpint(tern_guest_terminate(conn, uuid, instances, &err), ==, 0);
    g_assert_no_error(err);
    /* nothing left: no domain (running or defined), no instance folder */
    g_assert_null(virDomainLookupByUUIDString(conn, uuid));
    g_assert_null(virDomainLookupByName(conn, s->name));
    g_assert_false(g_file_test(idir, G_FILE_TEST_EXISTS));

    tern_host_facts_free(f);
    virConnectClose(conn);
    g_remove(s->console_log);
    g_remove(base);
    g_rmdir(images);
    g_rmdir(instances);
    g_rmdir(tmp);
}

static void
test_boot_x86_64(void)
{
    boot_guest("x86_64", "x86_64", 256, "vmlinuz");
}

static void
test_boot_ppc64le(void)
{
    boot_guest("ppc64le", "ppc64le", 512, "vmlinux");
}

int
main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    running = g_async_queue_new();
    const char *uri = g_getenv("TERN_TEST_LIBVIRT_URI");
    if (uri && *uri) {
        g_autofree char *script = g_build_filename(g_getenv("TERN_SRCDIR"), "tests", "e2e",
                                                   "guest-assets.sh", NULL);
        const char *av[] = { script, NULL };
        g_autofree char *out = NULL;
        int status;
        if (g_spawn_sync(NULL, (char **)av, NULL, 0, NULL, NULL, &out, NULL, &status, NULL) &&
            g_spawn_check_wait_status(status, NULL))
            assets = g_strdup(g_strstrip(out));
    }
    g_test_add_func("/compute/e2e/boot-x86_64", test_boot_x86_64);
    g_test_add_func("/compute/e2e/boot-ppc64le", test_boot_ppc64le);
    int rc = g_test_run();
    g_free(assets);
    return rc;
}
