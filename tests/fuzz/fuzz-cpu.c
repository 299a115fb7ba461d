/* fuzz-cpu.c: fuzz target for cpu/'s decoders of outside input:
 * capabilities + domain capabilities XML, guest <cpu> XML, and Nova's
 * cpu_info JSON (which arrives over RPC from other computes).
 *
 * `make fuzz-cpu` builds it with clang's libFuzzer (run ./fuzz-cpu CORPUS
 * tests/data/cpu; new inputs go to the first folder). In `make check` it is
 * an ordinary program that feeds every file of tests/data/cpu and 3,000
 * seeded mutations of them through the same entry point (under --enable-sanitizers, that is an ASan/UBSan
 * robustness test). */
#include <stdio.h>
#include <string.h>

#include "cpu/cpu.h"

int LLVMFuzzerTestOneInput(const guint8 *data, size_t size);

int
LLVMFuzzerTestOneInput(const guint8 *data, size_t size)
{
    static const TernCpuDb *db;
    if (!db) {
        /* A GLib critical or warning in cpu/ is a bug: make it a crash. */
        g_log_set_always_fatal(G_LOG_LEVEL_CRITICAL | G_LOG_LEVEL_WARNING);
        if (!(db = tern_cpu_db_get(NULL)))
            return 0;
    }
    /* Input: TEXT1 '\0' TEXT2 -> capabilities + domain capabilities. */
    g_autofree char *text = g_strndup((const char *) data, size);
    const char *second = strlen(text) < size ? text + strlen(text) + 1 : NULL;
    g_autofree char *domcaps = second ? g_strndup(second, size - (size_t) (second - text)) : NULL;

    g_autoptr(TernCpuHost) host = tern_cpu_host_from_xml(db, text, domcaps, NULL);
    if (host) {
        g_autofree char *json = tern_cpu_info_json(db, host);
        g_autoptr(TernCpu) back = tern_cpu_from_info_json(db, json, NULL);
        g_assert_nonnull(back);
        const char *modes[] = { NULL, "host-passthrough", "none" };
        for (guint i = 0; i < G_N_ELEMENTS(modes); i++) {
            TernCpuConfig cfg = { modes[i], NULL, NULL };
            g_autoptr(TernCpu) guest = tern_cpu_guest_from_config(db, host, &cfg, NULL, NULL);
            if (guest) {
                g_autofree char *xml = tern_cpu_guest_xml(db, guest, NULL);
                TernCpuComparison c;
                tern_cpu_compare_hypervisor(db, host, guest, &c, NULL);
                tern_cpu_comparison_clear(&c);
            }
        }
    }
    const TernCpuArch arches[] = { TERN_CPU_ARCH_X86_64, TERN_CPU_ARCH_PPC64LE };
    for (guint a = 0; a < G_N_ELEMENTS(arches); a++) {
        g_autoptr(TernCpu) cpu = tern_cpu_from_xml(db, text, arches[a], NULL);
        if (cpu) {
            g_autofree char *xml = cpu->mode == TERN_CPU_MODE_HOST
                ? tern_cpu_host_xml(db, cpu, NULL) : tern_cpu_guest_xml(db, cpu, NULL);
            TernCpuCompact c;
            tern_cpu_compact(db, cpu, &c);
        }
    }
    g_autoptr(TernCpu) info = tern_cpu_from_info_json(db, text, NULL);
    return 0;
}

#ifndef TERN_LIBFUZZER
int
main(int argc, char **argv)
{
    const char *src = g_getenv("TERN_SRCDIR");
    g_autofree char *dir = g_build_filename(src ? src : ".", "tests/data/cpu", NULL);
    g_autoptr(GDir) d = g_dir_open(dir, 0, NULL);
    g_autoptr(GPtrArray) seeds = g_ptr_array_new_with_free_func((GDestroyNotify) g_bytes_unref);
    const char *name;
    while (d && (name = g_dir_read_name(d))) {
        g_autofree char *path = g_build_filename(dir, name, NULL);
        char *contents;
        gsize len;
        if (g_file_get_contents(path, &contents, &len, NULL))
            g_ptr_array_add(seeds, g_bytes_new_take(contents, len));
    }
    if (seeds->len == 0) {
        printf("1..0 # SKIP no seed files in %s\n", dir);
        return 0;
    }
    for (guint i = 0; i < seeds->len; i++) {
        gsize len;
        const guint8 *p = g_bytes_get_data(g_ptr_array_index(seeds, i), &len);
        LLVMFuzzerTestOneInput(p, len);
    }
    printf("ok 1 - %u seed files decode without a crash\n", seeds->len);
    GRand *rand = g_rand_new_with_seed(4);
    const char *tokens[] = { "<", ">", "'", "\"", "&", "&amp;", "\0", "</cpu>", "<feature name='",
                             "policy='forbid'", "POWER", "<model>", "x86_64", "ppc64le", "]", "{" };
    for (int n = 0; n < 3000; n++) {
        gsize len;
        const guint8 *p = g_bytes_get_data(g_ptr_array_index(seeds, (guint) g_rand_int_range(
                                           rand, 0, (gint32) seeds->len)), &len);
        GByteArray *m = g_byte_array_new();
        g_byte_array_append(m, p, (guint) len);
        for (int k = g_rand_int_range(rand, 1, 8); k > 0 && m->len > 0; k--) {
            guint at = (guint) g_rand_int_range(rand, 0, (gint32) m->len);
            switch (g_rand_int_range(rand, 0, 3)) {
            case 0:
                m->data[at] = (guint8) g_rand_int_range(rand, 0, 256);
                break;
            case 1: {
                guint cut = (guint) g_rand_int_range(rand, 1, 64);
                g_byte_array_remove_range(m, at, MIN(m->len - at, cut));
                break;
            }
            default: {
                const char *t = tokens[g_rand_int_range(rand, 0, G_N_ELEMENTS(tokens))];
                guint tl = *t ? (guint) strlen(t) : 1;
                GByteArray *tail = g_byte_array_new();
                g_byte_array_append(tail, m->data + at, m->len - at);
                g_byte_array_set_size(m, at);
                g_byte_array_append(m, (const guint8 *) t, tl);
                g_byte_array_append(m, tail->data, tail->len);
                g_byte_array_unref(tail);
            }
            }
        }
        LLVMFuzzerTestOneInput(m->data, m->len);
        g_byte_array_unref(m);
    }
    g_rand_free(rand);
    printf("ok 2 - 3000 mutated inputs decode without a crash\n1..2\n");
    return 0;
}
#endif
