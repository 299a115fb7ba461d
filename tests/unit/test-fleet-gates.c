/* test-fleet-gates.c: fleet/gates.c on tern's own etc/tern/feature-gates.ini
 * (each gate pinned) and on bad gate files; the operator override. */
#include <glib.h>
#include <string.h>

#include "fleet/gates.h"

#define V(a, b, c) ((gint64) (a) * 1000000 + (b) * 1000 + (c))

static TernGates *
shipped(void)
{
    const char *src = g_getenv("TERN_SRCDIR");
    g_autofree char *path = g_build_filename(src ? src : ".", "etc", "tern", "feature-gates.ini",
                                             NULL);
    g_autoptr(GError) err = NULL;
    TernGates *g = tern_gates_load_file(path, &err);
    g_assert_no_error(err);
    return g;
}

static void
test_versions(void)
{
    g_assert_cmpint(tern_gates_parse_version("10.0.2"), ==, V(10, 0, 2));
    g_assert_cmpint(tern_gates_parse_version("7.2"), ==, V(7, 2, 0));
    g_assert_cmpint(tern_gates_parse_version(" 9 "), ==, V(9, 0, 0));
    g_assert_cmpint(tern_gates_parse_version("10.x"), ==, -1);
    g_assert_cmpint(tern_gates_parse_version("1.2.3.4"), ==, -1);
    g_assert_cmpint(tern_gates_parse_version("1000.0"), ==, -1);
    g_assert_cmpint(tern_gates_parse_version(""), ==, -1);
}

/* The measured rule: ppc64le live migration under TCG refused on QEMU < 10.0
 * (7.2 stalls), allowed on 10.0.2; never gated under KVM or for x86_64. */
static void
test_ppc64le_tcg_live_migration(void)
{
    g_autoptr(TernGates) g = shipped();
    g_autoptr(GError) err = NULL;
    g_assert_cmpint(tern_gates_check(g, "ppc64le", "qemu", V(7, 2, 0), "live_migration", &err),
                    ==, -1);
    g_assert_error(err, TERN_GATES_ERROR, TERN_GATES_ERROR_DENIED);
    g_assert_nonnull(strstr(err->message, "ppc64le-tcg-live-migration"));
    g_assert_nonnull(strstr(err->message, "stall"));
    g_assert_nonnull(strstr(err->message, "QEMU 7.2.0"));
    g_clear_error(&err);
    g_assert_cmpint(tern_gates_check(g, "ppc64le", "qemu", V(9, 2, 99), "live_migration", &err),
                    ==, -1);
    g_clear_error(&err);
    /* Unknown version: the safe side (gated). */
    g_assert_cmpint(tern_gates_check(g, "ppc64le", "qemu", 0, "live_migration", &err), ==, -1);
    g_clear_error(&err);
    g_assert_cmpint(tern_gates_check(g, "ppc64le", "qemu", V(10, 0, 2), "live_migration", &err),
                    ==, 0);
    g_assert_cmpint(tern_gates_check(g, "ppc64le", "qemu", V(10, 0, 0), "live_migration", &err),
                    ==, 0);
    g_assert_cmpint(tern_gates_check(g, "ppc64le", "kvm", V(7, 2, 0), "live_migration", &err),
                    ==, 0);
    g_assert_cmpint(tern_gates_check(g, "x86_64", "qemu", V(7, 2, 0), "live_migration", &err),
                    ==, 0);
    g_assert_no_error(err);
}

static void
test_pseries_disk_buses(void)
{
    g_autoptr(TernGates) g = shipped();
    const char *denied[] = { "disk_bus:ide", "disk_bus:sata", "disk_bus:fdc" };
    const char *arches[] = { "ppc64le", "ppc64" };
    for (guint a = 0; a < 2; a++)
        for (guint i = 0; i < G_N_ELEMENTS(denied); i++) {
            g_autoptr(GError) err = NULL;
            g_assert_cmpint(tern_gates_check(g, arches[a], "kvm", V(10, 0, 0), denied[i], &err),
                            ==, -1);
            g_assert_nonnull(strstr(err->message, "pseries"));
        }
    g_assert_cmpint(tern_gates_check(g, "ppc64le", "kvm", V(10, 0, 0), "disk_bus:virtio", NULL),
                    ==, 0);
    g_assert_cmpint(tern_gates_check(g, "ppc64", "kvm", V(10, 0, 0), "disk_bus:scsi", NULL), ==, 0);
    g_assert_cmpint(tern_gates_check(g, "x86_64", "kvm", V(10, 0, 0), "disk_bus:ide", NULL), ==, 0);
    g_assert_cmpint(tern_gates_check(g, "ppc64le", "kvm", V(10, 0, 0), "display:vnc", NULL), ==, 0);
}

static void
test_override(void)
{
    g_autoptr(TernGates) g = shipped();
    const char *names[] = { "ppc64le-tcg-live-migration", NULL };
    g_assert_cmpint(tern_gates_set_overrides(g, names, NULL), ==, 0);
    g_assert_cmpint(tern_gates_check(g, "ppc64le", "qemu", V(7, 2, 0), "live_migration", NULL),
                    ==, 0);
    /* Only that gate. */
    g_assert_cmpint(tern_gates_check(g, "ppc64le", "qemu", V(7, 2, 0), "disk_bus:ide", NULL),
                    ==, -1);
    g_autoptr(GPtrArray) lines = tern_gates_describe(g, "ppc64le", "qemu", V(7, 2, 0));
    g_assert_cmpuint(lines->len, ==, 4);
    g_assert_true(g_str_has_prefix(lines->pdata[0],
                                   "live_migration: denied by ppc64le-tcg-live-migration "
                                   "(overridden): "));
    g_autoptr(GPtrArray) none = tern_gates_describe(g, "x86_64", "kvm", V(10, 0, 0));
    g_assert_cmpuint(none->len, ==, 0);
    const char *typo[] = { "ppc64le-tcg-live-migratoin", NULL };
    g_autoptr(GError) err = NULL;
    g_assert_cmpint(tern_gates_set_overrides(g, typo, &err), ==, -1);
    g_assert_error(err, TERN_GATES_ERROR, TERN_GATES_ERROR_INVALID);
    g_assert_nonnull(strstr(err->message, "migratoin"));
}

/* The verdicts `tern host show` lists: per gate and operation, overridden
 * ones marked; nothing for a host no gate matches. */
static void
test_verdicts(void)
{
    g_autoptr(TernGates) g = shipped();
    g_autoptr(GPtrArray) v = tern_gates_verdicts(g, "ppc64le", "qemu", V(7, 2, 0));
    g_assert_cmpuint(v->len, ==, 4);
    const TernGateVerdict *d = v->pdata[0];
    g_assert_cmpstr(d->operation, ==, "live_migration");
    g_assert_cmpstr(d->gate, ==, "ppc64le-tcg-live-migration");
    g_assert_nonnull(strstr(d->reason, "stall"));
    g_assert_false(d->overridden);
    d = v->pdata[3];
    g_assert_cmpstr(d->operation, ==, "disk_bus:fdc");
    g_assert_cmpstr(d->gate, ==, "pseries-legacy-disk-buses");
    g_autoptr(GPtrArray) v10 = tern_gates_verdicts(g, "ppc64le", "qemu", V(10, 0, 2));
    g_assert_cmpuint(v10->len, ==, 3);
    g_autoptr(GPtrArray) x86 = tern_gates_verdicts(g, "x86_64", "kvm", V(7, 2, 0));
    g_assert_cmpuint(x86->len, ==, 0);
    const char *ov[] = { "ppc64le-tcg-live-migration", NULL };
    g_assert_cmpint(tern_gates_set_overrides(g, ov, NULL), ==, 0);
    g_autoptr(GPtrArray) vo = tern_gates_verdicts(g, "ppc64le", "qemu", V(7, 2, 0));
    g_assert_cmpuint(vo->len, ==, 4);
    g_assert_true(((const TernGateVerdict *) vo->pdata[0])->overridden);
    g_assert_false(((const TernGateVerdict *) vo->pdata[1])->overridden);
    g_autofree char *t = tern_gates_version_text(V(7, 2, 0));
    g_assert_cmpstr(t, ==, "7.2.0");
}

static void
test_bad_files(void)
{
    struct { const char *text, *needle; } cases[] = {
        { "[gates x]\ndeny = live_migration\nreason = r\n", "[gate NAME]" },
        { "[gate x]\ndeny = teleport\nreason = r\n", "teleport" },
        { "[gate x]\ndeny = live_migration\n", "reason" },
        { "[gate x]\nreason = r\n", "deny" },
        { "[gate x]\ndeny = live_migration\nreason = r\nversion_below = ten\n", "ten" },
        { "[gate x]\ndeny = live_migration\nreason = r\nverison_min = 1\n", "verison_min" },
        { "not a key file", NULL },
    };
    for (guint i = 0; i < G_N_ELEMENTS(cases); i++) {
        g_autoptr(GError) err = NULL;
        g_autoptr(TernGates) g = tern_gates_load_data(cases[i].text, (gsize) -1, &err);
        g_assert_null(g);
        g_assert_nonnull(err);
        if (cases[i].needle)
            g_assert_nonnull(strstr(err->message, cases[i].needle));
    }
    g_autoptr(GError) err = NULL;
    g_assert_null(tern_gates_load_file("/nonexistent/feature-gates.ini", &err));
    g_assert_error(err, TERN_GATES_ERROR, TERN_GATES_ERROR_FILE);
}

int
main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    g_test_add_func("/fleet/gates/versions", test_versions);
    g_test_add_func("/fleet/gates/ppc64le-tcg-live-migration", test_ppc64le_tcg_live_migration);
    g_test_add_func("/fleet/gates/pseries-disk-buses", test_pseries_disk_buses);
    g_test_add_func("/fleet/gates/override", test_override);
    g_test_add_func("/fleet/gates/verdicts", test_verdicts);
    g_test_add_func("/fleet/gates/bad-files", test_bad_files);
    return g_test_run();
}
