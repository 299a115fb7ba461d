/* manage_compute.c: `tern-manage compute probe` (the host facts
 * tern-compute would report, from libvirt or [libvirt] host_facts_dir) and
 * `tern-manage compute domain-xml SPEC.json` (the domain XML tern-compute
 * would define for a request, or the rule that refuses it). */
#include <jansson.h>
#include <stdio.h>

#include "cli/manage.h"
#include "compute/compute.h"

static TernHostFacts *
probe(TernConfig *conf)
{
    g_autoptr(GError) err = NULL;
    g_autofree char *uri = tern_libvirt_uri_from_config(conf);
    virConnectPtr conn = virConnectOpenReadOnly(uri);
    if (!conn) {
        tern_libvirt_set_error(&err, "cannot connect to libvirt at %s", uri);
        fprintf(stderr, "tern-manage: %s\n", err->message);
        return NULL;
    }
    TernHostProbeOptions opts = {
        .facts_dir = tern_config_get_string(conf, "libvirt", "host_facts_dir"),
        .instances_path = tern_config_get_string(conf, "compute", "instances_path"),
        .guest_endianness = tern_config_get_string(conf, "compute", "guest_endianness"),
    };
    TernHostFacts *facts = NULL;
    if (tern_host_probe(conn, &opts, &facts, &err) < 0)
        fprintf(stderr, "tern-manage: %s\n", err->message);
    virConnectClose(conn);
    return facts;
}

static int
compute_probe(TernConfig *conf, int argc, char **argv)
{
    g_autoptr(TernHostFacts) facts = probe(conf);
    if (!facts)
        return 1;
    json_t *j = tern_host_facts_to_json(facts);
    json_dumpf(j, stdout, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
    fputc('\n', stdout);
    json_decref(j);
    return 0;
}

static int
compute_domain_xml(TernConfig *conf, int argc, char **argv)
{
    if (argc != 1) {
        fprintf(stderr, "tern-manage: usage: compute domain-xml SPEC.json\n");
        return 2;
    }
    json_error_t jerr;
    json_t *j = json_load_file(argv[0], 0, &jerr);
    if (!j) {
        fprintf(stderr, "tern-manage: %s:%d: %s\n", argv[0], jerr.line, jerr.text);
        return 2;
    }
    g_autoptr(GError) err = NULL;
    g_autoptr(TernGuestSpec) spec = tern_guest_spec_from_json(j, &err);
    json_decref(j);
    if (!spec) {
        fprintf(stderr, "tern-manage: %s: %s\n", argv[0], err->message);
        return 2;
    }
    if (!spec->virt_type)
        spec->virt_type = g_strdup(tern_config_get_string(conf, "libvirt", "virt_type"));
    if (!spec->machine_type_defaults)
        spec->machine_type_defaults =
            g_strdupv((char **)tern_config_get_list(conf, "libvirt", "hw_machine_type"));
    g_autoptr(TernHostFacts) facts = probe(conf);
    if (!facts)
        return 1;
    const char *rules_opt = tern_config_get_string(conf, "compute", "guest_os_rules");
    g_autofree char *rules_path = rules_opt && *rules_opt ? g_strdup(rules_opt) :
                                  tern_guest_os_rules_default_path();
    g_autoptr(TernGuestOsRules) rules = tern_guest_os_rules_load(rules_path, &err);
    if (!rules) {
        fprintf(stderr, "tern-manage: %s\n", err->message);
        return 1;
    }
    g_autofree char *xml = NULL;
    if (tern_compute_build_domain_xml(spec, facts, rules, &xml, &err) < 0) {
        fprintf(stderr, "tern-manage: refused: %s\n", err->message);
        return 1;
    }
    fputs(xml, stdout);
    return 0;
}

const TernManageCommand tern_manage_compute_commands[] = {
    { "compute", "probe", "",
      "Print this host's facts as tern-compute reports them (libvirt, or "
      "[libvirt] host_facts_dir on the test driver)", compute_probe },
    { "compute", "domain-xml", "SPEC.json",
      "Print the domain XML tern-compute would define for a request (JSON with "
      "Nova's image property names, see tests/data/compute/), or why it is refused",
      compute_domain_xml },
    { NULL }
};
