/* manage_cpu.c: `tern-manage cpu ...`, offline CPU tools for operators:
 *   cpu compare HOST.xml GUEST.xml [--error]   can this host run this guest CPU?
 *   cpu baseline FILE.xml [--features]         the best common CPU of hosts
 *   cpu show [CAPS.xml [DOMCAPS.xml]]          the guest CPU this host's config gives
 * libvirt's own API compares only against the host it runs on; these answer
 * for any host, from libvirt XML, with cpu/'s rules. */
#include <stdio.h>
#include <string.h>
#include <libxml/parser.h>
#include <libxml/xpath.h>
#include <libvirt/libvirt.h>
#include <libvirt/virterror.h>

#include "cli/manage.h"
#include "cpu/cpu.h"

static const TernCpuDb *
db_or_die(void)
{
    g_autoptr(GError) err = NULL;
    const TernCpuDb *db = tern_cpu_db_get(&err);
    if (!db)
        fprintf(stderr, "tern-manage: %s\n", err->message);
    return db;
}

/* Every <cpu> element of a file: a bare <cpu>, several of them one after
 * the other (as virsh accepts), capabilities (<host><cpu>; the topology's
 * <cpu id=...> are not CPUs), or domain XML.
 * A domain capabilities file gives its host-model CPU. Host-style CPUs
 * (with <arch>) become TERN_CPU_MODE_HOST. */
static GPtrArray *
read_cpus(const TernCpuDb *db, const char *path, TernCpuArch default_arch, GError **error)
{
    g_autofree char *text = NULL;
    if (!g_file_get_contents(path, &text, NULL, error))
        return NULL;
    /* Drop an XML declaration and wrap, so several top-level <cpu> parse. */
    char *body = text;
    if (g_str_has_prefix(g_strchug(body), "<?xml")) {
        char *end = strstr(body, "?>");
        body = end ? end + 2 : body;
    }
    g_autofree char *wrapped = g_strdup_printf("<tern-cpus>%s</tern-cpus>", body);
    xmlDoc *doc = xmlReadMemory(wrapped, (int) strlen(wrapped), path, NULL,
                                XML_PARSE_NONET | XML_PARSE_NOERROR | XML_PARSE_NOWARNING);
    if (!doc) {
        g_set_error(error, TERN_CPU_ERROR, TERN_CPU_ERROR_XML, "%s: not well-formed XML", path);
        return NULL;
    }
    GPtrArray *cpus = g_ptr_array_new_with_free_func((GDestroyNotify) tern_cpu_free);
    xmlXPathContext *ctx = xmlXPathNewContext(doc);
    xmlXPathObject *res = xmlXPathEvalExpression(
        BAD_CAST "//cpu[not(@id) and not(ancestor::domainCapabilities)] | "
                 "//domainCapabilities/cpu/mode[@name='host-model' and @supported='yes']", ctx);
    int n = res && res->nodesetval ? res->nodesetval->nodeNr : 0;
    for (int i = 0; i < n; i++) {
        xmlNode *node = res->nodesetval->nodeTab[i];
        /* the arch of a domain capabilities file */
        TernCpuArch arch = default_arch;
        if (strcmp((const char *) node->name, "mode") == 0) {
            for (xmlNode *c = node->parent->parent->children; c; c = c->next)
                if (c->type == XML_ELEMENT_NODE && strcmp((const char *) c->name, "arch") == 0) {
                    xmlChar *t = xmlNodeGetContent(c);
                    arch = tern_cpu_arch_from_name((const char *) t);
                    xmlFree(t);
                }
        }
        g_autofree char *one = NULL;
        xmlBuffer *buf = xmlBufferCreate();
        xmlNodeDump(buf, doc, node, 0, 0);
        one = g_strdup((const char *) xmlBufferContent(buf));
        xmlBufferFree(buf);
        if (strcmp((const char *) node->name, "mode") == 0) {
            /* <mode name='host-model'>...</mode> -> a host <cpu> */
            char *gt = strchr(one, '>');
            char *end = g_strrstr(one, "</mode>");
            if (gt && end) {
                *end = '\0';
                char *inner = g_strdup_printf("<cpu><arch>%s</arch>%s</cpu>",
                                              tern_cpu_arch_name(arch), gt + 1);
                g_free(one);
                one = inner;
            }
        }
        TernCpu *cpu = tern_cpu_from_xml(db, one, default_arch, error);
        if (!cpu) {
            g_prefix_error(error, "%s: ", path);
            g_ptr_array_unref(cpus);
            cpus = NULL;
            break;
        }
        g_ptr_array_add(cpus, cpu);
    }
    xmlXPathFreeObject(res);
    xmlXPathFreeContext(ctx);
    xmlFreeDoc(doc);
    if (cpus && cpus->len == 0) {
        g_set_error(error, TERN_CPU_ERROR, TERN_CPU_ERROR_XML,
                    "%s contains no <cpu> element", path);
        g_ptr_array_unref(cpus);
        return NULL;
    }
    return cpus;
}

static int
cpu_compare(TernConfig *conf, int argc, char **argv)
{
    gboolean fail = argc == 3 && strcmp(argv[2], "--error") == 0;
    if (argc != 2 && !fail) {
        fprintf(stderr, "usage: tern-manage cpu compare HOST.xml GUEST.xml [--error]\n");
        return 2;
    }
    const TernCpuDb *db = db_or_die();
    if (!db)
        return 1;
    g_autoptr(GError) err = NULL;
    /* A guest <cpu> without <arch> is of the host's arch, as for virsh. */
    g_autoptr(GPtrArray) hosts = read_cpus(db, argv[0], TERN_CPU_ARCH_X86_64, &err);
    TernCpuArch arch = hosts ? ((TernCpu *) g_ptr_array_index(hosts, 0))->arch : TERN_CPU_ARCH_NONE;
    g_autoptr(GPtrArray) guests = hosts ? read_cpus(db, argv[1], arch, &err) : NULL;
    if (!guests) {
        fprintf(stderr, "tern-manage: %s\n", err->message);
        return 1;
    }
    const TernCpu *host = g_ptr_array_index(hosts, 0);
    const TernCpu *guest = g_ptr_array_index(guests, 0);
    TernCpuComparison c;
    if (tern_cpu_compare(db, host, guest, &c, &err) < 0) {
        fprintf(stderr, "tern-manage: %s\n", err->message);
        return 1;
    }
    int rc = 0;
    switch (c.result) {
    case TERN_CPU_IDENTICAL:
        printf("CPU described in %s is identical to the host CPU in %s\n", argv[1], argv[0]);
        break;
    case TERN_CPU_SUPERSET:
        printf("The host CPU in %s is a superset of CPU described in %s\n", argv[0], argv[1]);
        break;
    case TERN_CPU_INCOMPATIBLE:
        printf("CPU described in %s is incompatible with the host CPU in %s: %s\n", argv[1],
               argv[0], c.reason ? c.reason : "");
        rc = fail ? 1 : 0;
        break;
    }
    tern_cpu_comparison_clear(&c);
    return rc;
}

static int
cpu_baseline(TernConfig *conf, int argc, char **argv)
{
    gboolean expand = argc == 2 && strcmp(argv[1], "--features") == 0;
    if (argc != 1 && !expand) {
        fprintf(stderr, "usage: tern-manage cpu baseline FILE.xml [--features]\n");
        return 2;
    }
    const TernCpuDb *db = db_or_die();
    if (!db)
        return 1;
    g_autoptr(GError) err = NULL;
    g_autoptr(GPtrArray) cpus = read_cpus(db, argv[0], TERN_CPU_ARCH_X86_64, &err);
    g_autoptr(TernCpu) b = cpus ? tern_cpu_baseline(db, (const TernCpu *const *) cpus->pdata,
                                                    cpus->len, &err) : NULL;
    if (!b) {
        fprintf(stderr, "tern-manage: %s\n", err->message);
        return 1;
    }
    if (expand)
        b->required = b->features;
    g_autofree char *xml = tern_cpu_guest_xml(db, b, &err);
    if (!xml) {
        fprintf(stderr, "tern-manage: %s\n", err ? err->message : "no CPU");
        return 1;
    }
    fputs(xml, stdout);
    return 0;
}

static void
quiet(void *data, virErrorPtr e)
{
}

static char *
read_or_fetch(const char *path, virConnectPtr *conn, const TernConfig *conf, gboolean domcaps,
              GError **error)
{
    char *text = NULL;
    if (path) {
        g_file_get_contents(path, &text, NULL, error);
        return text;
    }
    if (!*conn) {
        const char *uri = tern_config_get_string(conf, "libvirt", "connection_uri");
        virSetErrorFunc(NULL, quiet);
        *conn = virConnectOpenReadOnly(uri && *uri ? uri : "qemu:///system");
        if (!*conn) {
            g_set_error(error, TERN_CPU_ERROR, TERN_CPU_ERROR_XML,
                        "cannot connect to libvirt (%s): %s; give CAPS.xml [DOMCAPS.xml] "
                        "instead", uri && *uri ? uri : "qemu:///system", virGetLastErrorMessage());
            return NULL;
        }
    }
    if (!domcaps) {
        text = virConnectGetCapabilities(*conn);
    } else {
        const char *vt = tern_config_get_string(conf, "libvirt", "virt_type");
        text = virConnectGetDomainCapabilities(*conn, NULL, NULL, NULL, vt, 0);
    }
    if (!text)
        g_set_error(error, TERN_CPU_ERROR, TERN_CPU_ERROR_XML, "libvirt: %s",
                    virGetLastErrorMessage());
    return text;
}

static gint
cmp_str(gconstpointer a, gconstpointer b)
{
    return strcmp(*(const char *const *) a, *(const char *const *) b);
}

static int
cpu_show(TernConfig *conf, int argc, char **argv)
{
    if (argc > 2) {
        fprintf(stderr, "usage: tern-manage cpu show [CAPS.xml [DOMCAPS.xml]]\n");
        return 2;
    }
    const TernCpuDb *db = db_or_die();
    if (!db)
        return 1;
    g_autoptr(GError) err = NULL;
    virConnectPtr conn = NULL;
    g_autofree char *caps = read_or_fetch(argc > 0 ? argv[0] : NULL, &conn, conf, FALSE, &err);
    g_autofree char *domcaps = NULL;
    if (caps && (argc != 1))
        domcaps = read_or_fetch(argc > 1 ? argv[1] : NULL, &conn, conf, TRUE, &err);
    if (conn)
        virConnectClose(conn);
    g_autoptr(TernCpuHost) host = caps && !err ? tern_cpu_host_from_xml(db, caps, domcaps, &err) : NULL;
    if (!host) {
        fprintf(stderr, "tern-manage: %s\n", err ? err->message : "no host CPU");
        return 1;
    }
    TernCpuConfig cfg = {
        tern_config_get_string(conf, "libvirt", "cpu_mode"),
        tern_config_get_list(conf, "libvirt", "cpu_models"),
        tern_config_get_list(conf, "libvirt", "cpu_model_extra_flags"),
    };
    const TernCpu *h = host->cpu;
    printf("host CPU:        %s %s %s", tern_cpu_arch_name(h->arch),
           h->vendor ? h->vendor : "-", h->model);
    if (h->generation) {
        g_autoptr(GPtrArray) modes = tern_cpu_compat_modes(db, h);
        g_ptr_array_add(modes, NULL);
        g_autofree char *list = g_strjoinv(", ", (char **) modes->pdata);
        printf(", POWER generation %u (compat modes %s)\n", h->generation, list);
    }
    else
        printf(", %u features\n", tern_cpu_set_count(&h->features));
    if (host->host_model)
        printf("host-model CPU:  %s, %u features (domain capabilities)\n",
               host->host_model->model, tern_cpu_set_count(&host->host_model->features));
    g_autofree char *models = cfg.cpu_models ? g_strjoinv(",", (char **) cfg.cpu_models) : NULL;
    g_autofree char *flags = cfg.cpu_model_extra_flags
        ? g_strjoinv(",", (char **) cfg.cpu_model_extra_flags) : NULL;
    printf("config:          cpu_mode = %s, cpu_models = %s, cpu_model_extra_flags = %s\n",
           cfg.cpu_mode ? cfg.cpu_mode : "(unset: host-model, Nova's default)",
           models && *models ? models : "-", flags && *flags ? flags : "-");
    g_autoptr(TernCpu) guest = tern_cpu_guest_from_config(db, host, &cfg, NULL, &err);
    if (!guest) {
        printf("guest CPU:       none: %s\n", err->message);
        return 1;
    }
    const char *why = "";
    switch (guest->mode) {
    case TERN_CPU_MODE_HOST_MODEL:
        why = host->host_model ? "the host-model CPU QEMU offers (domain capabilities)"
                               : "the host CPU (no domain capabilities given)";
        break;
    case TERN_CPU_MODE_HOST_PASSTHROUGH: why = "the physical host CPU"; break;
    case TERN_CPU_MODE_CUSTOM: why = "the first of cpu_models"; break;
    case TERN_CPU_MODE_NONE: why = "QEMU's default model (no <cpu> element)"; break;
    case TERN_CPU_MODE_HOST: break;
    }
    printf("guest CPU:       %s %s, %u features: %s\n", tern_cpu_mode_name(guest->mode),
           guest->model ? guest->model : "-", tern_cpu_set_count(&guest->features), why);
    if (!tern_cpu_set_is_empty(&guest->required) || !tern_cpu_set_is_empty(&guest->disabled)) {
        g_autofree char *r = tern_cpu_feature_list(db, guest->arch, &guest->required);
        g_autofree char *d = tern_cpu_feature_list(db, guest->arch, &guest->disabled);
        printf("extra flags:     +[%s] -[%s]\n", r, d);
    }
    g_autofree char *xml = tern_cpu_guest_xml(db, guest, NULL);
    printf("domain XML:      %s", xml ? xml : "(no <cpu> element)\n");
    g_autoptr(GHashTable) traits = tern_cpu_config_traits(db, host, &cfg, NULL);
    g_autoptr(GPtrArray) on = g_ptr_array_new();
    GHashTableIter it;
    gpointer k, v;
    g_hash_table_iter_init(&it, traits);
    while (g_hash_table_iter_next(&it, &k, &v))
        if (GPOINTER_TO_INT(v))
            g_ptr_array_add(on, k);
    g_ptr_array_sort(on, cmp_str);
    g_ptr_array_add(on, NULL);
    g_autofree char *set = g_strjoinv(", ", (char **) on->pdata);
    printf("traits:          %s\n", *set ? set : "(none)");
    g_clear_error(&err);
    if (tern_cpu_validate_config(db, host, &cfg, &err) < 0) {
        printf("validation:      FAILS: %s\n", err->message);
        return 1;
    }
    printf("validation:      ok\n");
    return 0;
}

const TernManageCommand tern_manage_cpu_commands[] = {
    { "cpu", "compare", "HOST.xml GUEST.xml [--error]",
      "Can the host CPU in HOST.xml run the guest CPU in GUEST.xml (libvirt CPU XML)?",
      cpu_compare },
    { "cpu", "baseline", "FILE.xml [--features]",
      "The best common CPU of the <cpu> elements in FILE.xml (a migration-safe model)",
      cpu_baseline },
    { "cpu", "show", "[CAPS.xml [DOMCAPS.xml]]",
      "The guest CPU this host's [libvirt] config gives, and why", cpu_show },
    { NULL }
};
