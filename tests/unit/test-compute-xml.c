/* test-compute-xml.c: golden files for domain XML. Each
 * tests/data/compute/<case>.json is a guest request plus "host" (a folder
 * of tests/data/hosts/) and, for a request that must be refused,
 * "expect_error" (a substring of the message). Accepted requests must
 * produce <case>.xml exactly (TERN_REGENERATE=1 rewrites it) and pass
 * libvirt's schema (virt-xml-validate ... domain). */
#include <glib.h>
#include <glib/gstdio.h>
#include <jansson.h>
#include <libxml/parser.h>
#include <string.h>

#include "compute/compute_error.h"
#include "compute/domain_xml.h"
#include "fleet/guest_os_rules.h"
#include "compute/host_probe.h"
#include "compute/xml_util.h"

G_DEFINE_AUTOPTR_CLEANUP_FUNC(json_t, json_decref)

static TernGuestOsRules *rules;
static GHashTable *hosts;   /* name -> TernHostFacts* */
static char *data_dir;

static const TernHostFacts *
host_facts(const char *name)
{
    TernHostFacts *f = g_hash_table_lookup(hosts, name);
    if (!f) {
        g_autoptr(GError) err = NULL;
        g_autofree char *dir = g_build_filename(g_getenv("TERN_SRCDIR"), "tests", "data", "hosts",
                                                name, NULL);
        f = tern_host_facts_load_dir(dir, &err);
        g_assert_no_error(err);
        g_hash_table_insert(hosts, g_strdup(name), f);
    }
    return f;
}

static void
validate(const char *xml_path)
{
    g_autofree char *prog = g_find_program_in_path("virt-xml-validate");
    if (!prog) {
        g_test_message("virt-xml-validate not installed: schema check skipped");
        return;
    }
    const char *argv[] = { prog, xml_path, "domain", NULL };
    g_autofree char *out = NULL, *err = NULL;
    int status;
    g_assert_true(g_spawn_sync(NULL, (char **)argv, NULL, 0, NULL, NULL, &out, &err, &status, NULL));
    if (!g_spawn_check_wait_status(status, NULL))
        g_error("%s does not validate: %s%s", xml_path, out, err);
}

static void
run_case(gconstpointer data)
{
    const char *name = data;
    g_autofree char *json_path = g_strdup_printf("%s/%s.json", data_dir, name);
    g_autofree char *xml_path = g_strdup_printf("%s/%s.xml", data_dir, name);
    json_error_t jerr;
    g_autoptr(json_t) j = json_load_file(json_path, 0, &jerr);
    if (!j)
        g_error("%s:%d: %s", json_path, jerr.line, jerr.text);
    const char *host = json_string_value(json_object_get(j, "host"));
    const char *expect = json_string_value(json_object_get(j, "expect_error"));
    g_assert_nonnull(host);
    g_test_message("case %s", name);
    g_autoptr(GError) err = NULL;
    g_autoptr(TernGuestSpec) spec = tern_guest_spec_from_json(j, &err);
    g_assert_no_error(err);
    g_autofree char *xml = NULL;
    int rc = tern_compute_build_domain_xml(spec, host_facts(host), rules, &xml, &err);
    if (expect) {
        g_assert_cmpint(rc, ==, -1);
        g_assert_null(xml);
        g_assert_nonnull(err);
        g_assert_true(err->domain == TERN_COMPUTE_ERROR);
        if (!strstr(err->message, expect))
            g_error("%s: error \"%s\" lacks \"%s\"", name, err->message, expect);
        g_test_message("%s: refused: %s", name, err->message);
        return;
    }
    if (rc < 0)
        g_error("%s: %s", name, err->message);
    g_assert_nonnull(xml);
    if (g_getenv("TERN_REGENERATE"))
        g_assert_true(g_file_set_contents(xml_path, xml, -1, NULL));
    g_autofree char *want = NULL;
    if (!g_file_get_contents(xml_path, &want, NULL, NULL))
        g_error("%s missing: run with TERN_REGENERATE=1 to write it", xml_path);
    g_assert_cmpstr(xml, ==, want);
    validate(xml_path);
}

/* A one-vCPU KVM guest named name: the start of the hand-built cases. */
static TernGuestSpec *
small_spec(const char *uuid, const char *name, guint memory_mb)
{
    TernGuestSpec *s = tern_guest_spec_new();
    s->uuid = g_strdup(uuid);
    s->name = g_strdup(name);
    s->virt_type = g_strdup("kvm");
    s->vcpus = 1;
    s->memory_mb = memory_mb;
    return s;
}

/* The escaping case, checked beyond the golden file: parsing the XML
 * back gives the name exactly. */
static void
test_hostile_name(void)
{
    const char *name = "<evil & 'quoted' \"name\"><name>x<!--";
    g_autoptr(TernGuestSpec) s = small_spec("0b7b0c54-9f0e-4d7f-8a43-6f1f2f3e4d5c", name, 512);
    tern_guest_spec_add_disk(s, "/var/lib/tern/instances/a&b<c>/disk", NULL);
    g_autoptr(GError) err = NULL;
    g_autofree char *xml = NULL;
    g_assert_cmpint(tern_compute_build_domain_xml(s, host_facts("x86_64"), rules, &xml, &err), ==, 0);
    g_assert_no_error(err);
    g_assert_null(strstr(xml, "<evil"));
    g_assert_null(strstr(xml, "<name>x"));
    g_assert_nonnull(strstr(xml, "&lt;evil &amp; 'quoted' \"name\"&gt;&lt;name&gt;x&lt;!--"));
    xmlDoc *doc = xmlReadMemory(xml, (int)strlen(xml), "t.xml", NULL, XML_PARSE_NONET);
    g_assert_nonnull(doc);
    xmlNode *root = xmlDocGetRootElement(doc);
    int names = 0;
    for (xmlNode *c = root->children; c; c = c->next)
        if (c->type == XML_ELEMENT_NODE && xmlStrEqual(c->name, BAD_CAST "name")) {
            xmlChar *t = xmlNodeGetContent(c);
            g_assert_cmpstr((char *)t, ==, name);
            xmlFree(t);
            names++;
        }
    g_assert_cmpint(names, ==, 1);
    xmlFreeDoc(doc);
    /* control characters cannot be carried by XML: refused */
    g_free(s->name);
    s->name = g_strdup("bad\x01name");
    g_clear_pointer(&xml, g_free);
    g_assert_cmpint(tern_compute_build_domain_xml(s, host_facts("x86_64"), rules, &xml, &err), ==, -1);
    g_assert_error(err, TERN_COMPUTE_ERROR, TERN_COMPUTE_ERROR_INVALID);
}

/* supported_instances of the three simulated hosts. */
static void
test_supported_instances(void)
{
    struct { const char *host; const char *want; } cases[] = {
        { "x86_64", "[[\"ppc64\", \"qemu\", \"hvm\"], [\"ppc64le\", \"qemu\", \"hvm\"], "
                    "[\"x86_64\", \"qemu\", \"hvm\"], [\"x86_64\", \"kvm\", \"hvm\"]]" },
        { "power9", "[[\"ppc64\", \"qemu\", \"hvm\"], [\"ppc64\", \"kvm\", \"hvm\"], "
                    "[\"ppc64le\", \"qemu\", \"hvm\"], [\"ppc64le\", \"kvm\", \"hvm\"]]" },
    };
    for (gsize i = 0; i < G_N_ELEMENTS(cases); i++) {
        json_t *si = tern_host_facts_supported_instances(host_facts(cases[i].host));
        char *s = json_dumps(si, JSON_COMPACT);
        json_t *want = json_loads(cases[i].want, 0, NULL);
        char *w = json_dumps(want, JSON_COMPACT);
        g_assert_cmpstr(s, ==, w);
        free(s);
        free(w);
        json_decref(si);
        json_decref(want);
    }
    const TernHostFacts *p9 = host_facts("power9");
    g_assert_cmpstr(p9->arch, ==, "ppc64le");
    g_assert_cmpuint(p9->vcpus, ==, 160);
    g_assert_cmpuint(p9->threads_per_core, ==, 4);
    g_assert_cmpuint(p9->memory_mb, ==, 1024 * 1024);
    g_assert_cmpuint(p9->hypervisor_version, ==, 10000002);
    g_assert_nonnull(strstr(p9->host_cpu_xml, "<model>POWER9</model>"));
    const TernGuestFacts *g = tern_host_facts_find_guest(p9, "ppc64le", "kvm");
    g_assert_nonnull(g);
    g_assert_true(tern_str_array_has(g->cpu_modes, "host-model"));
    g_assert_false(tern_str_array_has(g->disk_buses, "ide"));
    g_autoptr(GError) err = NULL;
    g_autofree char *m = tern_guest_facts_resolve_machine(g, "pseries", &err);
    g_assert_cmpstr(m, ==, "pseries-10.0");
    const TernHostFacts *p8 = host_facts("power8");
    g_assert_cmpuint(p8->threads_per_core, ==, 8);
    g_assert_nonnull(strstr(p8->host_cpu_xml, "<model>POWER8</model>"));
}

/* [compute] guest_endianness=little: a POWER9 host keeps ppc64le guests
 * only, in supported_instances and in the builder. */
static void
test_endianness(void)
{
    g_autoptr(GError) err = NULL;
    g_autofree char *dir = g_build_filename(g_getenv("TERN_SRCDIR"), "tests", "data", "hosts",
                                            "power9", NULL);
    g_autoptr(TernHostFacts) f = tern_host_facts_load_dir(dir, &err);
    g_assert_no_error(err);
    f->guest_endianness = g_strdup("little");
    json_t *si = tern_host_facts_supported_instances(f);
    char *text = json_dumps(si, JSON_COMPACT);
    g_assert_cmpstr(text, ==, "[[\"ppc64le\",\"qemu\",\"hvm\"],[\"ppc64le\",\"kvm\",\"hvm\"]]");
    free(text);
    json_decref(si);
    g_autoptr(TernGuestSpec) s = small_spec("4f1d9d1e-6b0a-4a53-9a4c-1e6a7b8c9d0e", "be", 512);
    s->arch = g_strdup("ppc64");
    g_autofree char *xml = NULL;
    g_assert_cmpint(tern_compute_build_domain_xml(s, f, rules, &xml, &err), ==, -1);
    g_assert_error(err, TERN_COMPUTE_ERROR, TERN_COMPUTE_ERROR_UNSUPPORTED);
    g_assert_nonnull(strstr(err->message, "ppc64 guests are big-endian"));
    g_clear_error(&err);
    g_free(s->arch);
    s->arch = g_strdup("ppc64le");
    g_assert_cmpint(tern_compute_build_domain_xml(s, f, rules, &xml, &err), ==, 0);
    g_assert_no_error(err);
}

/* SPICE: tern allows it on x86_64 where the hypervisor offers it (this
 * machine's QEMU has no SPICE module, so the offer is added to a copy of
 * its facts), refuses it on POWER even where offered (power9 facts). */
static void
test_spice_policy(void)
{
    g_autoptr(GError) err = NULL;
    g_autofree char *dir = g_build_filename(g_getenv("TERN_SRCDIR"), "tests", "data", "hosts",
                                            "x86_64", NULL);
    g_autoptr(TernHostFacts) f = tern_host_facts_load_dir(dir, &err);
    g_assert_no_error(err);
    TernGuestFacts *g = tern_host_facts_find_guest(f, "x86_64", "kvm");
    g_ptr_array_add(g->graphics_types, g_strdup("spice"));
    g_ptr_array_add(g->video_models, g_strdup("qxl"));
    g_autoptr(TernGuestSpec) s = small_spec("5e2c1f0a-7b3d-4c8e-9f10-2a3b4c5d6e7f", "spice", 1024);
    s->os_distro = g_strdup("rhel8.6");
    s->graphics = g_strdup("spice");
    s->video_model = g_strdup("qxl");
    g_autofree char *xml = NULL;
    g_assert_cmpint(tern_compute_build_domain_xml(s, f, rules, &xml, &err), ==, 0);
    g_assert_no_error(err);
    g_assert_nonnull(strstr(xml, "<graphics type=\"spice\""));
    g_assert_nonnull(strstr(xml, "<model type=\"qxl\"/>"));
    /* the same request for rhel9.0: the OS rules refuse it */
    g_free(s->os_distro);
    s->os_distro = g_strdup("rhel9.0");
    g_clear_pointer(&xml, g_free);
    g_assert_cmpint(tern_compute_build_domain_xml(s, f, rules, &xml, &err), ==, -1);
    g_assert_nonnull(strstr(err->message, "rhel9.0"));
    g_clear_error(&err);
    /* on POWER9 (SPICE offered by QEMU there): tern's policy refuses */
    g_free(s->os_distro);
    s->os_distro = g_strdup("rhel8.6");
    g_free(s->video_model);
    s->video_model = NULL;
    const TernGuestFacts *p9 = tern_host_facts_find_guest(host_facts("power9"), "ppc64le", "kvm");
    g_assert_true(tern_str_array_has(p9->graphics_types, "spice"));
    g_assert_cmpint(tern_compute_build_domain_xml(s, host_facts("power9"), rules, &xml, &err), ==, -1);
    g_assert_nonnull(strstr(err->message, "tern offers VNC only on POWER"));
}

static void
test_os_rules(void)
{
    g_auto(GStrv) a = tern_guest_os_rules_arches(rules, "win10");
    g_assert_nonnull(a);
    g_assert_true(g_strv_contains((const char *const *)a, "x86_64"));
    g_assert_false(g_strv_contains((const char *const *)a, "ppc64le"));
    g_auto(GStrv) d12 = tern_guest_os_rules_arches(rules, "debian12");
    g_assert_true(g_strv_contains((const char *const *)d12, "ppc64le"));
    g_assert_true(tern_guest_os_rules_known(rules, "rhel8.6"));
    g_assert_false(tern_guest_os_rules_known(rules, "no-such-os"));
    const char *const ok[] = { "disk:virtio", "nic:virtio", "graphics:vnc", NULL };
    g_autoptr(GError) err = NULL;
    g_assert_cmpint(tern_guest_os_rules_check(rules, "debian11", "ppc64le", ok, &err), ==, 0);
    g_assert_cmpint(tern_guest_os_rules_check(rules, "win2k19", "x86_64", ok, &err), ==, -1);
    g_assert_error(err, TERN_GUEST_OS_ERROR, TERN_GUEST_OS_ERROR_UNSUPPORTED);
    g_clear_error(&err);
    /* RHEL 9 cannot use SPICE nor QXL (guest-os-rules.ini); RHEL 8.6 can */
    const char *const spice[] = { "graphics:spice", "video:qxl", NULL };
    g_assert_cmpint(tern_guest_os_rules_check(rules, "rhel8.6", "x86_64", spice, &err), ==, 0);
    g_assert_cmpint(tern_guest_os_rules_check(rules, "rhel9.0", "x86_64", spice, &err), ==, -1);
    g_assert_nonnull(strstr(err->message, "os_distro 'rhel9.0' cannot use spice graphics"));
    g_clear_error(&err);
    const char *const qxl[] = { "video:qxl", NULL };
    g_assert_cmpint(tern_guest_os_rules_check(rules, "rhel9.0", "x86_64", qxl, &err), ==, -1);
    g_assert_nonnull(strstr(err->message, "no driver for video model 'qxl'"));
}

/* An image naming its OS as os_distro + os_version (Glance's spelling) is
 * checked as the one OS they name, as the scheduler resolves it. */
static void
test_os_version(void)
{
    g_autoptr(GError) err = NULL;
    g_autofree char *id = tern_guest_os_rules_resolve(rules, "debian", "12");
    g_assert_cmpstr(id, ==, "debian12");
    g_autofree char *same = tern_guest_os_rules_resolve(rules, "debian11", "12");
    g_assert_cmpstr(same, ==, "debian11");   /* a known os_distro wins */
    g_assert_null(tern_guest_os_rules_resolve(rules, "debian", NULL));
    g_assert_null(tern_guest_os_rules_resolve(rules, "debian", "99"));
    g_autoptr(TernGuestSpec) s = small_spec("6f3d2a1b-8c4e-4d9f-a021-3b4c5d6e7f80", "osver", 1024);
    s->os_distro = g_strdup("debian");
    s->os_version = g_strdup("12");
    const TernHostFacts *p9 = host_facts("power9");
    g_autofree char *xml = NULL;
    g_assert_cmpint(tern_compute_build_domain_xml(s, p9, rules, &xml, &err), ==, 0);
    g_assert_no_error(err);
    /* without os_version, "debian" is no OS osinfo-db knows */
    g_clear_pointer(&s->os_version, g_free);
    g_clear_pointer(&xml, g_free);
    g_assert_cmpint(tern_compute_build_domain_xml(s, p9, rules, &xml, &err), ==, -1);
    g_assert_nonnull(strstr(err->message, "os_distro 'debian' is unknown"));
    g_clear_error(&err);
    /* "win" + "10" is Windows 10: not built for ppc64le */
    g_free(s->os_distro);
    s->os_distro = g_strdup("win");
    s->os_version = g_strdup("10");
    g_assert_cmpint(tern_compute_build_domain_xml(s, p9, rules, &xml, &err), ==, -1);
    g_assert_nonnull(strstr(err->message, "os_distro 'win10' is not built for ppc64le"));
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
    hosts = g_hash_table_new_full(g_str_hash, g_str_equal, g_free,
                                  (GDestroyNotify)tern_host_facts_free);
    data_dir = g_build_filename(g_getenv("TERN_SRCDIR"), "tests", "data", "compute", NULL);
    g_autoptr(GDir) dir = g_dir_open(data_dir, 0, &err);
    g_assert_no_error(err);
    g_autoptr(GPtrArray) names = g_ptr_array_new_with_free_func(g_free);
    const char *f;
    while ((f = g_dir_read_name(dir)))
        if (g_str_has_suffix(f, ".json"))
            g_ptr_array_add(names, g_strndup(f, strlen(f) - 5));
    g_ptr_array_sort(names, (GCompareFunc)g_strcmp0);
    for (guint i = 0; i < names->len; i++) {
        g_autofree char *path = g_strdup_printf("/compute/xml/%s", (char *)names->pdata[i]);
        g_test_add_data_func(path, names->pdata[i], run_case);
    }
    g_test_add_func("/compute/xml/hostile-name-escaped", test_hostile_name);
    g_test_add_func("/compute/facts/supported-instances", test_supported_instances);
    g_test_add_func("/compute/os-rules/osinfo", test_os_rules);
    g_test_add_func("/compute/os-rules/os-version", test_os_version);
    g_test_add_func("/compute/facts/endianness", test_endianness);
    g_test_add_func("/compute/xml/spice-policy", test_spice_policy);
    int rc = g_test_run();
    g_hash_table_unref(hosts);
    tern_guest_os_rules_free(rules);
    g_free(data_dir);
    return rc;
}
