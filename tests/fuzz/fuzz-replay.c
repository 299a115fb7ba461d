/* fuzz-replay.c: the `make check` side of tern's libFuzzer targets. Linked
 * with one fuzz-*.c (built by gcc or clang, no libFuzzer needed), it feeds
 * every file of the target's corpus tests/fuzz/corpus/<TARGET>/ (seeds and
 * kept regression inputs) and then seeded mutations of them (bit flips,
 * byte insertions, deletions, splices: TERN_FUZZ_MUTATIONS, default 2000)
 * through LLVMFuzzerTestOneInput. Under --enable-sanitizers this is an
 * ASan/UBSan robustness test; scripts/fuzz runs the real fuzzer. */
#include <stdio.h>
#include <string.h>
#include <glib.h>

int LLVMFuzzerTestOneInput(const guint8 *data, size_t size);

static GBytes *
mutate(GRand *r, GPtrArray *seeds)
{
    GBytes *a = g_ptr_array_index(seeds, g_rand_int_range(r, 0, (gint32) seeds->len));
    gsize len;
    const guint8 *d = g_bytes_get_data(a, &len);
    GString *out = g_string_new_len((const char *) d, (gssize) len);
    int n = g_rand_int_range(r, 1, 9);
    for (int i = 0; i < n; i++) {
        guint pos = out->len ? (guint) g_rand_int_range(r, 0, (gint32) out->len) : 0;
        switch (g_rand_int_range(r, 0, 5)) {
        case 0: /* flip a bit */
            if (out->len)
                out->str[pos] ^= (char) (1u << g_rand_int_range(r, 0, 8));
            break;
        case 1: { /* insert interesting bytes */
            static const char *bits[] = { "\0", "\xff", "\xc3\x28", "=", "[", "]", "\n", "<", ">",
                                          "&", "\"", "'", "%", "\\", "${x}", "-1", "99999999999999999999",
                                          "<a>", "</", "<!--", "<![CDATA[", "&#0;", "\xed\xa0\x80" };
            const char *b = bits[g_rand_int_range(r, 0, G_N_ELEMENTS(bits))];
            g_string_insert_len(out, pos, b, b[0] ? (gssize) strlen(b) : 1);
            break;
        }
        case 2: /* delete a run */
            if (out->len) {
                gssize run = g_rand_int_range(r, 1, 64);
                g_string_erase(out, pos, MIN((gssize) (out->len - pos), run));
            }
            break;
        case 3: { /* splice a run of another seed */
            GBytes *b = g_ptr_array_index(seeds, g_rand_int_range(r, 0, (gint32) seeds->len));
            gsize bl;
            const guint8 *bd = g_bytes_get_data(b, &bl);
            if (bl) {
                guint from = (guint) g_rand_int_range(r, 0, (gint32) bl);
                guint run = (guint) g_rand_int_range(r, 1, 256);
                guint cnt = MIN((guint) (bl - from), run);
                g_string_insert_len(out, pos, (const char *) bd + from, cnt);
            }
            break;
        }
        default: /* truncate */
            g_string_truncate(out, pos);
        }
    }
    return g_string_free_to_bytes(out);
}

int
main(int argc, char **argv)
{
    const char *src = g_getenv("TERN_SRCDIR");
    g_autofree char *dir = g_build_filename(src ? src : ".", "tests/fuzz/corpus", TERN_FUZZ_TARGET, NULL);
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
        printf("1..0 # SKIP no corpus in %s\n", dir);
        return 0;
    }
    printf("1..2\n");
    for (guint i = 0; i < seeds->len; i++) {
        gsize len;
        const guint8 *data = g_bytes_get_data(g_ptr_array_index(seeds, i), &len);
        LLVMFuzzerTestOneInput(data, len);
    }
    printf("ok 1 - %u corpus inputs of %s replayed\n", seeds->len, TERN_FUZZ_TARGET);
    const char *m = g_getenv("TERN_FUZZ_MUTATIONS");
    int mutations = m ? atoi(m) : 2000;
    g_autoptr(GRand) r = g_rand_new_with_seed(20261122);
    for (int i = 0; i < mutations; i++) {
        g_autoptr(GBytes) b = mutate(r, seeds);
        gsize len;
        const guint8 *data = g_bytes_get_data(b, &len);
        LLVMFuzzerTestOneInput(data, len);
    }
    printf("ok 2 - %d seeded mutations of the corpus through %s without a crash\n", mutations, TERN_FUZZ_TARGET);
    (void) argc; (void) argv;
    return 0;
}
