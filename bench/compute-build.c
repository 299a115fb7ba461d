/* compute-build.c: what tern-compute's own guest building costs, beside
 * libvirt's: per build, the domain XML from a request (checks + arch
 * strategy + OS rules + libxml2) against libvirt's define + start + destroy
 * + undefine of that XML on the test driver, and on the real private
 * libvirtd (define + undefine only) when TERN_TEST_LIBVIRT_URI is set.
 * Also the one-time costs: loading osinfo-db, probing the host.
 * Run: bench/compute-build [N]  (from the top folder, or with TERN_SRCDIR). */
#include <glib.h>
#include <libvirt/libvirt.h>
#include <libvirt/virterror.h>
#include <stdio.h>
#include <stdlib.h>

#include "common/util.h"
#include "compute/compute.h"

static int
cmp_double(gconstpointer a, gconstpointer b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

static double
med(GArray *a)
{
    g_array_sort(a, cmp_double);
    return g_array_index(a, double, a->len / 2);
}

static TernGuestSpec *
request(guint i, const char *arch)
{
    TernGuestSpec *s = tern_guest_spec_new();
    s->uuid = tern_uuid_new();
    s->name = g_strdup_printf("bench-%s-%u", arch, i);
    s->virt_type = g_strdup("kvm");
    s->vcpus = 4;
    s->memory_mb = 4096;
    s->os_distro = g_strdup("rhel8.6");
    s->cpu_threads = 2;
    s->disk_bus = g_strdup("scsi");
    for (int d = 0; d < 3; d++) {
        g_autofree char *p = g_strdup_printf("/var/lib/tern/instances/%s/disk%d", s->uuid, d);
        tern_guest_spec_add_disk(s, p, NULL);
    }
    tern_guest_spec_add_nic(s, "network", "default", NULL);
    return s;
}

int
main(int argc, char **argv)
{
    guint n = argc > 1 ? (guint)atoi(argv[1]) : 300;
    const char *src = g_getenv("TERN_SRCDIR") ? g_getenv("TERN_SRCDIR") : TERN_SRCDIR;
    g_autoptr(GError) err = NULL;

    double t = tern_now();
    g_autofree char *rules_path = g_build_filename(src, "etc", "tern", "guest-os-rules.ini", NULL);
    g_autoptr(TernGuestOsRules) rules = tern_guest_os_rules_load(rules_path, &err);
    if (!rules)
        g_error("%s", err->message);
    printf("load osinfo-db + tern rules: %.1f ms (once per daemon)\n", (tern_now() - t) * 1e3);

    virConnectPtr test = virConnectOpen("test:///default");
    g_autofree char *p9dir = g_build_filename(src, "tests", "data", "hosts", "power9", NULL);
    TernHostProbeOptions opts = { .facts_dir = p9dir };
    TernHostFacts *p9 = NULL;
    t = tern_now();
    if (tern_host_probe(test, &opts, &p9, &err) < 0)
        g_error("%s", err->message);
    printf("probe (test driver + POWER9 facts files): %.1f ms\n", (tern_now() - t) * 1e3);

    g_autoptr(GArray) build = g_array_new(FALSE, FALSE, sizeof(double));
    g_autoptr(GArray) lv = g_array_new(FALSE, FALSE, sizeof(double));
    for (guint i = 0; i < n; i++) {
        g_autoptr(TernGuestSpec) s = request(i, "p9");
        g_autofree char *xml = NULL;
        t = tern_now();
        if (tern_compute_build_domain_xml(s, p9, rules, &xml, &err) < 0)
            g_error("%s", err->message);
        double b = tern_now() - t;
        g_array_append_val(build, b);
        t = tern_now();
        virDomainPtr dom = virDomainDefineXML(test, xml);
        if (!dom || virDomainCreate(dom) < 0 || virDomainDestroy(dom) < 0 || virDomainUndefine(dom) < 0)
            g_error("test driver: %s", virGetLastErrorMessage());
        double l = tern_now() - t;
        g_array_append_val(lv, l);
        virDomainFree(dom);
    }
    double mb = med(build), ml = med(lv);
    printf("ppc64le guest (4 vCPU SMT2, 3 disks on spapr-vscsi, 1 NIC, rhel8.6), %u builds:\n", n);
    printf("  tern: request -> domain XML     median %8.1f us\n", mb * 1e6);
    printf("  libvirt test driver: define+start+destroy+undefine  median %8.1f us  (tern/libvirt = %.2f)\n",
           ml * 1e6, mb / ml);

    const char *uri = g_getenv("TERN_TEST_LIBVIRT_URI");
    if (uri && *uri) {
        virConnectPtr real = virConnectOpen(uri);
        TernHostFacts *host = NULL;
        TernHostProbeOptions ro = { .instances_path = "/" };
        t = tern_now();
        if (!real || tern_host_probe(real, &ro, &host, &err) < 0)
            g_error("%s", err ? err->message : virGetLastErrorMessage());
        printf("probe (real libvirtd, domain capabilities of %u guest types): %.1f ms\n",
               host->guests->len, (tern_now() - t) * 1e3);
        g_autoptr(GArray) b2 = g_array_new(FALSE, FALSE, sizeof(double));
        g_autoptr(GArray) d2 = g_array_new(FALSE, FALSE, sizeof(double));
        guint m = n < 100 ? n : 100;
        for (guint i = 0; i < m; i++) {
            g_autoptr(TernGuestSpec) s = request(i, host->arch);
            g_free(s->virt_type);
            s->virt_type = g_strdup("qemu");
            g_free(s->disk_bus);
            s->disk_bus = NULL;
            g_autofree char *xml = NULL;
            t = tern_now();
            if (tern_compute_build_domain_xml(s, host, rules, &xml, &err) < 0)
                g_error("%s", err->message);
            double b = tern_now() - t;
            g_array_append_val(b2, b);
            t = tern_now();
            virDomainPtr dom = virDomainDefineXMLFlags(real, xml, VIR_DOMAIN_DEFINE_VALIDATE);
            if (!dom || virDomainUndefine(dom) < 0)
                g_error("libvirtd: %s", virGetLastErrorMessage());
            double d = tern_now() - t;
            g_array_append_val(d2, d);
            virDomainFree(dom);
        }
        mb = med(b2);
        ml = med(d2);
        printf("%s guest on the real libvirtd, %u builds:\n", host->arch, m);
        printf("  tern: request -> domain XML     median %8.1f us\n", mb * 1e6);
        printf("  libvirtd: define (validate) + undefine  median %8.1f us  (tern/libvirt = %.2f)\n",
               ml * 1e6, mb / ml);
        tern_host_facts_free(host);
        virConnectClose(real);
    } else {
        printf("(set TERN_TEST_LIBVIRT_URI to compare with a real libvirtd)\n");
    }
    tern_host_facts_free(p9);
    virConnectClose(test);
    return 0;
}
