/* manage_cpu_hosts.c: `tern-manage cpu baseline HOST...`: the guest CPU
 * every named compute host can run, from the host CPUs the computes
 * reported (compute_nodes.cpu_info), printed as the [libvirt] settings that
 * make live migration between them safe. */
#include <stdio.h>

#include "cli/manage.h"
#include "cpu/cpu.h"
#include "db/db.h"

int
tern_manage_cpu_baseline_hosts(TernConfig *conf, int argc, char **argv)
{
    g_autoptr(GError) err = NULL;
    const TernCpuDb *cdb = tern_cpu_db_get(&err);
    g_autoptr(TernDb) db = cdb ? tern_db_open_config(conf, &err) : NULL;
    if (!db) {
        fprintf(stderr, "tern-manage: %s\n", err->message);
        return 1;
    }
    g_autoptr(GPtrArray) cpus = g_ptr_array_new_with_free_func((GDestroyNotify) tern_cpu_free);
    for (int i = 0; i < argc; i++) {
        g_autoptr(TernDbComputeNode) node = NULL;
        if (tern_db_compute_node_get(db, argv[i], &node, &err) < 0) {
            if (g_error_matches(err, TERN_DB_ERROR, TERN_DB_ERROR_NOT_FOUND))
                fprintf(stderr, "tern-manage: no compute host '%s' in the database (has its "
                        "tern-compute reported? see `tern host list`)\n", argv[i]);
            else
                fprintf(stderr, "tern-manage: %s: %s\n", argv[i], err->message);
            return 1;
        }
        TernCpu *cpu = node->cpu_info ? tern_cpu_from_info_json(cdb, node->cpu_info, &err) : NULL;
        if (!cpu) {
            fprintf(stderr, "tern-manage: host %s: %s\n", argv[i],
                    err ? err->message : "no CPU reported (cpu_info is empty)");
            return 1;
        }
        g_ptr_array_add(cpus, cpu);
    }
    g_autoptr(TernCpu) b = tern_cpu_baseline(cdb, (const TernCpu *const *) cpus->pdata, cpus->len,
                                             &err);
    if (!b) {
        fprintf(stderr, "tern-manage: %s\n", err->message);
        return 1;
    }
    g_autofree char *hosts = g_strjoinv(", ", argv);
    g_autoptr(GPtrArray) req = tern_cpu_feature_names(cdb, b->arch, &b->required);
    g_autoptr(GPtrArray) dis = tern_cpu_feature_names(cdb, b->arch, &b->disabled);
    g_autoptr(GString) flags = g_string_new(NULL);
    for (guint i = 0; i < req->len; i++)
        g_string_append_printf(flags, "%s+%s", flags->len ? ", " : "",
                               (const char *) g_ptr_array_index(req, i));
    for (guint i = 0; i < dis->len; i++)
        g_string_append_printf(flags, "%s-%s", flags->len ? ", " : "",
                               (const char *) g_ptr_array_index(dis, i));
    printf("# A guest CPU that %s (%s) can all run: set it on each of them\n"
           "# (then restart tern-compute) so live migration between them is safe.\n"
           "[libvirt]\ncpu_mode = custom\ncpu_models = %s\n", hosts, tern_cpu_arch_name(b->arch),
           b->model ? b->model : "");
    if (flags->len)
        printf("cpu_model_extra_flags = %s\n", flags->str);
    return 0;
}
