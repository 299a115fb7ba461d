/* sched-fleet.c: puts compute hosts into a tern database for the scheduler's
 * integration tests and bench, with their CPUs built by cpu/ from cpu_map
 * models (expanded feature lists, as a compute reports them):
 *
 *   sched-fleet mixed URL        the mixed fleet of the tests (x86_64
 *                                Haswell/Broadwell/Skylake/Icelake with and
 *                                without md-clear, ppc64le POWER8/POWER9, a
 *                                TCG x86_64 host that emulates ppc64le)
 *   sched-fleet small URL N VCPUS MEM_MB   N identical x86_64 hosts (race test)
 *   sched-fleet bulk URL N       N hosts of random models (one in eight
 *                                POWER), written with COPY (bench)
 * Every host gets a tern-compute services row with a fresh heartbeat. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cpu/cpu.h"
#include "db/db.h"
#include "rpc/rpc.h"

static const TernCpuDb *cpudb;

static void
die(const char *what, GError *err)
{
    fprintf(stderr, "sched-fleet: %s: %s\n", what, err ? err->message : "failed");
    exit(1);
}

/* Expanded feature names of model + flag (NULL-terminated, g_strfreev). */
static char **
features_of(TernCpuArch arch, const char *model, const char *flag, TernCpu **cpu_out)
{
    const char *flags[] = { flag, NULL };
    GError *err = NULL;
    TernCpu *cpu = tern_cpu_from_model(cpudb, arch, TERN_CPU_MODE_HOST, model,
                                       flag ? flags : NULL, &err);
    if (!cpu)
        die(model, err);
    g_autoptr(GPtrArray) names = tern_cpu_feature_names(cpudb, arch, &cpu->features);
    char **out = g_new0(char *, names->len + 1);
    for (guint i = 0; i < names->len; i++)
        out[i] = g_strdup(names->pdata[i]);
    *cpu_out = cpu;
    return out;
}

static char *
cpu_json(const char *arch, const char *mode, const char *model, char **features)
{
    json_t *f = json_array();
    for (char **p = features; p && *p; p++)
        json_array_append_new(f, json_string(*p));
    g_autoptr(json_t) j = json_pack("{sssssssss:o}", "arch", arch, "mode", mode, "model", model,
                                    "vendor", strcmp(arch, "x86_64") == 0 ? "Intel" : "IBM",
                                    "features", f);
    return json_dumps(j, JSON_COMPACT | JSON_SORT_KEYS);
}

static void
add_host(TernDb *db, const char *name, const char *arch, const char *model, const char *flag,
         gboolean kvm, const char *emulates, const char *also_kvm, gint64 vcpus, gint64 mem,
         gint64 disk)
{
    TernCpuArch a = tern_cpu_arch_from_name(arch);
    g_autoptr(TernCpu) cpu = NULL;
    g_auto(GStrv) feats = features_of(a, model, flag, &cpu);
    g_autoptr(TernDbComputeNode) n = tern_db_compute_node_new();
    n->host = g_strdup(name);
    n->hypervisor_hostname = g_strdup(name);
    n->hypervisor_type = g_strdup("QEMU");
    n->hypervisor_version = 10000000;
    n->arch = g_strdup(arch);
    n->supported_instances = g_ptr_array_new_with_free_func((GDestroyNotify) tern_db_guest_type_free);
    const char *hvs[] = { "qemu", kvm ? "kvm" : NULL };
    for (guint i = 0; i < 2 && hvs[i]; i++) {
        TernDbGuestType *t = g_new0(TernDbGuestType, 1);
        t->arch = g_strdup(arch);
        t->hv_type = g_strdup(hvs[i]);
        t->vm_mode = g_strdup("hvm");
        g_ptr_array_add(n->supported_instances, t);
    }
    /* A second arch the host runs natively (a POWER host's ppc64 guests). */
    for (guint i = 0; also_kvm && i < 2; i++) {
        TernDbGuestType *t = g_new0(TernDbGuestType, 1);
        t->arch = g_strdup(also_kvm);
        t->hv_type = g_strdup(hvs[i] ? hvs[i] : "qemu");
        t->vm_mode = g_strdup("hvm");
        g_ptr_array_add(n->supported_instances, t);
    }
    if (emulates) {
        TernDbGuestType *t = g_new0(TernDbGuestType, 1);
        t->arch = g_strdup(emulates);
        t->hv_type = g_strdup("qemu");
        t->vm_mode = g_strdup("hvm");
        g_ptr_array_add(n->supported_instances, t);
    }
    const char *x86mt[] = { "pc-q35-10.0", "pc-i440fx-10.0", NULL };
    const char *ppcmt[] = { "pseries-10.0", NULL };
    n->machine_types = g_strdupv((char **) (a == TERN_CPU_ARCH_X86_64 ? x86mt : ppcmt));
    n->cpu_info = cpu_json(arch, "host", model, feats);
    n->cpu_model = g_strdup(model);
    n->cpu_features = g_strdupv(feats);
    n->guest_cpu = cpu_json(arch, "host-model", model, feats);
    if (emulates) {
        /* What QEMU 10 emulates there under TCG, as tern-compute reports it
         * (domain capabilities' usable custom models, docs/tern-rpc.md):
         * tests/data/hosts/x86_64/domcapabilities-ppc64le-qemu.xml. */
        g_autoptr(json_t) gc = json_loads(n->guest_cpu, 0, NULL);
        json_t *models = strncmp(emulates, "ppc64", 5) == 0
            ? json_pack("[ssss]", "POWER10", "POWER9", "POWER8", "POWER7")
            : json_pack("[sssss]", "qemu64", "Nehalem", "Westmere", "Penryn", "Conroe");
        json_object_set_new(gc, "tcg_models", json_pack("{so}", emulates, models));
        g_free(n->guest_cpu);
        n->guest_cpu = json_dumps(gc, JSON_COMPACT | JSON_SORT_KEYS);
    }
    n->guest_cpu_model = g_strdup(model);
    n->guest_cpu_features = g_strdupv(feats);
    n->vcpus = vcpus;
    n->memory_mb = mem;
    n->local_gb = disk;
    GError *err = NULL;
    if (tern_db_compute_node_update(db, n, &err) < 0)
        die(name, err);
    if (tern_db_service_heartbeat(db, "tern-compute", name, "compute", 1, NULL, &err) < 0)
        die(name, err);
}

static void
mixed(TernDb *db)
{
    struct { const char *name, *arch, *model, *flag; gboolean kvm; const char *emulates; } f[] = {
        { "hsw", "x86_64", "Haswell-noTSX-IBRS", NULL, TRUE, NULL },
        { "hsw-md", "x86_64", "Haswell-noTSX-IBRS", "md-clear", TRUE, NULL },
        { "bdw", "x86_64", "Broadwell-noTSX-IBRS", NULL, TRUE, NULL },
        { "bdw-md", "x86_64", "Broadwell-noTSX-IBRS", "md-clear", TRUE, NULL },
        { "skl", "x86_64", "Skylake-Client-IBRS", NULL, TRUE, NULL },
        { "skl-md", "x86_64", "Skylake-Client-IBRS", "md-clear", TRUE, NULL },
        { "icl", "x86_64", "Icelake-Server", NULL, TRUE, NULL },
        { "icl-md", "x86_64", "Icelake-Server", "md-clear", TRUE, NULL },
        { "p8", "ppc64le", "POWER8", NULL, TRUE, NULL },
        { "p9", "ppc64le", "POWER9", NULL, TRUE, NULL },
        { "tcg", "x86_64", "qemu64", NULL, FALSE, "ppc64le" },
    };
    for (guint i = 0; i < G_N_ELEMENTS(f); i++)
        add_host(db, f[i].name, f[i].arch, f[i].model, f[i].flag, f[i].kvm, f[i].emulates, NULL, 32,
                 65536, 1000);
}

static void
copy_put(PGconn *c, const char *line)
{
    if (PQputCopyData(c, line, (int) strlen(line)) != 1) {
        fprintf(stderr, "sched-fleet: COPY: %s", PQerrorMessage(c));
        exit(1);
    }
}

static void
copy_begin(PGconn *c, const char *sql)
{
    PGresult *r = PQexec(c, sql);
    if (PQresultStatus(r) != PGRES_COPY_IN) {
        fprintf(stderr, "sched-fleet: %s: %s", sql, PQerrorMessage(c));
        exit(1);
    }
    PQclear(r);
}

static void
copy_end(PGconn *c)
{
    if (PQputCopyEnd(c, NULL) != 1) {
        fprintf(stderr, "sched-fleet: COPY end: %s", PQerrorMessage(c));
        exit(1);
    }
    PGresult *r = PQgetResult(c);
    if (PQresultStatus(r) != PGRES_COMMAND_OK) {
        fprintf(stderr, "sched-fleet: COPY: %s", PQerrorMessage(c));
        exit(1);
    }
    PQclear(r);
    while ((r = PQgetResult(c)))
        PQclear(r);
}

/* A text[] literal for COPY: {"a","b"} */
static void
append_array(GString *s, char **v)
{
    g_string_append_c(s, '{');
    for (char **p = v; p && *p; p++)
        g_string_append_printf(s, "%s\"%s\"", p == v ? "" : ",", *p);
    g_string_append_c(s, '}');
}

static void
bulk(TernDb *db, guint n)
{
    const char *x86[] = { "Haswell-noTSX-IBRS", "Broadwell-noTSX-IBRS", "Skylake-Client-IBRS",
                          "Skylake-Server-IBRS", "Cascadelake-Server", "Icelake-Server" };
    const char *ppc[] = { "POWER8", "POWER9" };
    /* Feature lists per (model, md-clear). */
    char **fx[G_N_ELEMENTS(x86)][2];
    char **fp[G_N_ELEMENTS(ppc)];
    for (guint i = 0; i < G_N_ELEMENTS(x86); i++)
        for (int m = 0; m < 2; m++) {
            TernCpu *cpu = NULL;
            fx[i][m] = features_of(TERN_CPU_ARCH_X86_64, x86[i], m ? "md-clear" : NULL, &cpu);
            tern_cpu_free(cpu);
        }
    for (guint i = 0; i < G_N_ELEMENTS(ppc); i++) {
        TernCpu *cpu = NULL;
        fp[i] = features_of(TERN_CPU_ARCH_PPC64LE, ppc[i], NULL, &cpu);
        tern_cpu_free(cpu);
    }
    PGconn *c = tern_db_pgconn(db);
    GError *err = NULL;
    /* Bulk load without the change-feed triggers (nobody listens yet). */
    if (tern_db_command(db, "SET session_replication_role = replica", 0, NULL, 0, &err) < 0)
        die("session_replication_role", err);
    copy_begin(c, "COPY compute_nodes (uuid, host, hypervisor_hostname, hypervisor_type,"
                  " hypervisor_version, arch, supported_instances, machine_types, cpu_model,"
                  " cpu_features, guest_cpu_model, guest_cpu_features, vcpus, memory_mb, local_gb,"
                  " cpu_allocation_ratio, ram_allocation_ratio) FROM STDIN");
    GRand *rnd = g_rand_new_with_seed(42);
    g_autoptr(GString) line = g_string_new(NULL);
    for (guint i = 0; i < n; i++) {
        g_string_truncate(line, 0);
        gboolean power = g_rand_int_range(rnd, 0, 8) == 0;
        const char *model;
        char **feats;
        if (power) {
            guint k = (guint) g_rand_int_range(rnd, 0, 2);
            model = ppc[k];
            feats = fp[k];
        } else {
            guint k = (guint) g_rand_int_range(rnd, 0, G_N_ELEMENTS(x86));
            model = x86[k];
            feats = fx[k][g_rand_int_range(rnd, 0, 2)];
        }
        const char *arch = power ? "ppc64le" : "x86_64";
        g_autofree char *uuid = g_uuid_string_random();
        g_string_append_printf(line, "%s\tb%06u\tb%06u\tQEMU\t10000000\t%s\t"
                               "[[\"%s\", \"kvm\", \"hvm\"], [\"%s\", \"qemu\", \"hvm\"]]\t%s\t%s\t",
                               uuid, i, i, arch, arch, arch,
                               power ? "{pseries-10.0}" : "{pc-q35-10.0}", model);
        append_array(line, feats);
        g_string_append_printf(line, "\t%s\t", model);
        append_array(line, feats);
        g_string_append_printf(line, "\t%d\t%d\t%d\t16.0\t1.5\n", 16 << g_rand_int_range(rnd, 0, 3),
                               65536 << g_rand_int_range(rnd, 0, 3), 500 + g_rand_int_range(rnd, 0, 1500));
        copy_put(c, line->str);
    }
    copy_end(c);
    copy_begin(c, "COPY services (binary_name, host, topic, report_count, last_seen_up) FROM STDIN");
    for (guint i = 0; i < n; i++) {
        g_string_printf(line, "tern-compute\tb%06u\tcompute\t1\t%s\n", i, "now");
        copy_put(c, line->str);
    }
    copy_end(c);
    g_rand_free(rnd);
    if (tern_db_command(db, "SET session_replication_role = DEFAULT", 0, NULL, 0, &err) < 0 ||
        tern_db_command(db, "ANALYZE compute_nodes", 0, NULL, 0, &err) < 0)
        die("analyze", err);
    for (guint i = 0; i < G_N_ELEMENTS(x86); i++)
        for (int m = 0; m < 2; m++)
            g_strfreev(fx[i][m]);
    for (guint i = 0; i < G_N_ELEMENTS(ppc); i++)
        g_strfreev(fp[i]);
}

int
main(int argc, char **argv)
{
    if (argc < 3) {
        fprintf(stderr, "usage: sched-fleet mixed|small|bulk|power URL [N [VCPUS MEM_MB]]\n");
        return 2;
    }
    GError *err = NULL;
    if (!(cpudb = tern_cpu_db_get(&err)))
        die("cpu_map", err);
    g_autoptr(TernDb) db = tern_db_open(argv[2], 3, 1, &err);
    if (!db)
        die("database", err);
    if (strcmp(argv[1], "mixed") == 0) {
        mixed(db);
    } else if (strcmp(argv[1], "power") == 0 && argc == 4) {
        /* N POWER9 KVM hosts running both ppc64le and ppc64 (big-endian). */
        for (int i = 0; i < atoi(argv[3]); i++) {
            g_autofree char *name = g_strdup_printf("pw%d", i);
            add_host(db, name, "ppc64le", "POWER9", NULL, TRUE, NULL, "ppc64", 32, 65536, 1000);
        }
    } else if (strcmp(argv[1], "small") == 0 && argc == 6) {
        for (int i = 0; i < atoi(argv[3]); i++) {
            g_autofree char *name = g_strdup_printf("h%02d", i);
            add_host(db, name, "x86_64", "Skylake-Client-IBRS", NULL, TRUE, NULL, NULL, atoi(argv[4]),
                     atoi(argv[5]), 1000);
        }
    } else if (strcmp(argv[1], "bulk") == 0 && argc == 4) {
        bulk(db, (guint) atoi(argv[3]));
    } else {
        fprintf(stderr, "sched-fleet: bad arguments\n");
        return 2;
    }
    return 0;
}
