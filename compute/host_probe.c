/* host_probe.c: fetch capabilities, domain capabilities and node info from
 * libvirt (or, on the test driver, from a host facts folder) into
 * TernHostFacts. */
#include "compute/host_probe.h"

#include <libvirt/virterror.h>
#include <string.h>
#include <sys/statvfs.h>

#include "common/log.h"
#include "compute/arch/arch.h"
#include "compute/compute_error.h"
#include "compute/libvirt_conn.h"

guint64
tern_version_parse(const char *text)
{
    if (!text)
        return 0;
    g_auto(GStrv) parts = g_strsplit(text, ".", 4);
    guint64 v = 0, mult[] = { 1000000, 1000, 1 };
    for (int i = 0; i < 3; i++) {
        guint64 n = 0;
        if (parts[i] && !g_ascii_string_to_unsigned(g_strstrip(parts[i]), 10, 0, 999, &n, NULL))
            return 0;
        v += n * mult[i];
        if (!parts[i])
            break;
    }
    return v;
}

static int
read_file(const char *path, char **text, GError **error)
{
    g_autoptr(GError) err = NULL;
    if (!g_file_get_contents(path, text, NULL, &err)) {
        g_set_error(error, TERN_COMPUTE_ERROR,
                    g_error_matches(err, G_FILE_ERROR, G_FILE_ERROR_NOENT) ?
                    TERN_COMPUTE_ERROR_NOT_FOUND : TERN_COMPUTE_ERROR_IO,
                    "host facts: %s", err->message);
        return -1;
    }
    return 0;
}

static int
load_dir(const char *dir, TernHostFacts *f, GError **error)
{
    g_autofree char *caps_path = g_build_filename(dir, "capabilities.xml", NULL);
    g_autofree char *caps = NULL;
    if (read_file(caps_path, &caps, error) < 0 ||
        tern_host_facts_parse_capabilities(f, caps, error) < 0) {
        g_prefix_error(error, "host_facts_dir %s: ", dir);
        return -1;
    }
    for (guint i = 0; i < f->guests->len; i++) {
        TernGuestFacts *g = f->guests->pdata[i];
        if (!tern_arch_driver_find(g->arch))
            continue;
        g_autofree char *n1 = g_strdup_printf("domcapabilities-%s-%s.xml", g->arch, g->virt_type);
        g_autofree char *n2 = g_strdup_printf("domcapabilities-%s.xml", g->arch);
        g_autofree char *p1 = g_build_filename(dir, n1, NULL);
        g_autofree char *p2 = g_build_filename(dir, n2, NULL);
        const char *p = g_file_test(p1, G_FILE_TEST_EXISTS) ? p1 :
                        g_file_test(p2, G_FILE_TEST_EXISTS) ? p2 : NULL;
        if (!p)
            continue;   /* the guest is offered, its details are not known */
        g_autofree char *text = NULL;
        if (read_file(p, &text, error) < 0)
            return -1;
        /* domcapabilities-<arch>.xml serves the virt type it names only */
        if (p == p2 && !strstr(text, g->virt_type))
            continue;
        g_autoptr(GError) err = NULL;
        if (tern_host_facts_add_domcaps(f, text, &err) < 0) {
            g_set_error(error, TERN_COMPUTE_ERROR, TERN_COMPUTE_ERROR_INVALID,
                        "host_facts_dir %s: %s: %s", dir, p, err->message);
            return -1;
        }
    }
    g_autofree char *ini_path = g_build_filename(dir, "host.ini", NULL);
    g_autoptr(GKeyFile) kf = g_key_file_new();
    if (g_file_test(ini_path, G_FILE_TEST_EXISTS)) {
        g_autoptr(GError) err = NULL;
        if (!g_key_file_load_from_file(kf, ini_path, G_KEY_FILE_NONE, &err)) {
            g_set_error(error, TERN_COMPUTE_ERROR, TERN_COMPUTE_ERROR_INVALID,
                        "host_facts_dir: %s: %s", ini_path, err->message);
            return -1;
        }
        g_autofree char *type = g_key_file_get_string(kf, "host", "hypervisor_type", NULL);
        g_autofree char *hv = g_key_file_get_string(kf, "host", "hypervisor_version", NULL);
        g_autofree char *lv = g_key_file_get_string(kf, "host", "libvirt_version", NULL);
        if (type) {
            g_free(f->hypervisor_type);
            f->hypervisor_type = g_strdup(g_strstrip(type));
        }
        if (hv)
            f->hypervisor_version = tern_version_parse(hv);
        if (lv)
            f->libvirt_version = tern_version_parse(lv);
    }
    f->simulated = TRUE;
    return 0;
}

TernHostFacts *
tern_host_facts_load_dir(const char *dir, GError **error)
{
    g_autoptr(TernHostFacts) f = tern_host_facts_new();
    if (load_dir(dir, f, error) < 0)
        return NULL;
    return g_steal_pointer(&f);
}

static void
disk_figures(TernHostFacts *f, const char *path)
{
    struct statvfs st;
    if (!path || statvfs(path, &st) != 0)
        return;
    guint64 gib = G_GUINT64_CONSTANT(1024) * 1024 * 1024;
    f->disk_gb = (guint64)st.f_blocks * st.f_frsize / gib;
    f->disk_free_gb = (guint64)st.f_bavail * st.f_frsize / gib;
}

int
tern_host_probe(virConnectPtr conn, const TernHostProbeOptions *opts, TernHostFacts **out,
                GError **error)
{
    g_autoptr(TernHostFacts) f = tern_host_facts_new();
    const char *type = virConnectGetType(conn);
    gboolean test_driver = type && g_ascii_strcasecmp(type, "Test") == 0;
    const char *dir = opts && opts->facts_dir && *opts->facts_dir ? opts->facts_dir : NULL;
    *out = NULL;

    if (dir && !test_driver) {
        g_set_error(error, TERN_COMPUTE_ERROR, TERN_COMPUTE_ERROR_CONFIG,
                    "[libvirt] host_facts_dir is set, but the connection is to libvirt's %s "
                    "driver: host facts files only stand in for the test driver (test:///...); "
                    "unset host_facts_dir on a real host", type ? type : "unknown");
        return -1;
    }
    char *host = virConnectGetHostname(conn);
    f->hostname = g_strdup(host);
    free(host);
    unsigned long ver = 0;
    f->hypervisor_type = g_strdup(type);
    if (virConnectGetVersion(conn, &ver) == 0)
        f->hypervisor_version = ver;
    if (virConnectGetLibVersion(conn, &ver) == 0)
        f->libvirt_version = ver;

    virNodeInfo node;
    if (virNodeGetInfo(conn, &node) < 0) {
        tern_libvirt_set_error(error, "cannot read the host's node info");
        return -1;
    }
    f->vcpus = node.cpus;
    f->memory_mb = node.memory / 1024;

    if (dir) {
        /* The simulated host's own figures replace the test driver's. */
        if (load_dir(dir, f, error) < 0)
            return -1;
    } else {
        char *caps = virConnectGetCapabilities(conn);
        if (!caps) {
            tern_libvirt_set_error(error, "cannot read the host's capabilities");
            return -1;
        }
        guint vcpus = f->vcpus;
        guint64 mem = f->memory_mb;
        int rc = tern_host_facts_parse_capabilities(f, caps, error);
        free(caps);
        if (rc < 0)
            return -1;
        f->vcpus = vcpus;      /* node info counts online CPUs */
        f->memory_mb = mem;
        for (guint i = 0; i < f->guests->len; i++) {
            TernGuestFacts *g = f->guests->pdata[i];
            const TernArchDriver *drv = tern_arch_driver_find(g->arch);
            if (!drv || test_driver)
                continue;   /* the test driver has no domain capabilities */
            TernArchContext ctx = { .host = f, .guest = g, .arch = g->arch };
            char *dc = virConnectGetDomainCapabilities(conn, g->emulator, g->arch,
                                                       drv->default_machine(&ctx),
                                                       g->virt_type, 0);
            if (!dc) {
                g_autoptr(GError) err = NULL;
                tern_libvirt_set_error(&err, "domain capabilities");
                TERN_WARN("tern.compute", "no domain capabilities for %s guests (%s): %s; "
                          "requests for them are checked against tern's policy only",
                          g->arch, g->virt_type, err->message);
                continue;
            }
            g_autoptr(GError) err = NULL;
            if (tern_host_facts_add_domcaps(f, dc, &err) < 0)
                TERN_WARN("tern.compute", "ignoring domain capabilities for %s (%s): %s",
                          g->arch, g->virt_type, err->message);
            free(dc);
        }
    }
    disk_figures(f, opts ? opts->instances_path : NULL);
    f->guest_endianness = g_strdup(opts ? opts->guest_endianness : NULL);
    *out = g_steal_pointer(&f);
    return 0;
}
