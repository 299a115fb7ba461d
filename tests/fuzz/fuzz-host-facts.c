/* fuzz-host-facts.c: fuzz target of compute/'s libvirt capabilities and
 * domain capabilities parser (tern_host_facts_parse_capabilities,
 * tern_host_facts_add_domcaps) and of what is derived from the parsed
 * facts (supported_instances, the JSON summary, machine type resolution).
 * Input: capabilities XML, then any number of domain capabilities XML
 * documents, separated by NUL bytes. Corpus: tests/fuzz/corpus/host-facts
 * (from the files of tests/data/hosts). `make check` replays it (fuzz-replay.c);
 * scripts/fuzz host-facts SECONDS runs libFuzzer. */
#include <string.h>

#include <libxml/xmlerror.h>

#include "compute/host_facts.h"

int LLVMFuzzerTestOneInput(const guint8 *data, size_t size);

static void
quiet(void *ctx, const char *msg, ...)
{
    (void) ctx; (void) msg;
}

int
LLVMFuzzerTestOneInput(const guint8 *data, size_t size)
{
    static gboolean init;
    if (!init) {
        g_log_set_always_fatal(G_LOG_LEVEL_CRITICAL);
        xmlSetGenericErrorFunc(NULL, quiet);
        init = TRUE;
    }
    /* split at NUL bytes: the first part is the capabilities */
    g_autoptr(GPtrArray) parts = g_ptr_array_new_with_free_func(g_free);
    size_t start = 0;
    for (size_t i = 0; i <= size; i++) {
        if (i == size || data[i] == '\0') {
            g_ptr_array_add(parts, g_strndup((const char *) data + start, i - start));
            start = i + 1;
        }
    }
    g_autoptr(TernHostFacts) facts = tern_host_facts_new();
    g_autoptr(GError) err = NULL;
    if (tern_host_facts_parse_capabilities(facts, g_ptr_array_index(parts, 0), &err) < 0) {
        g_assert_nonnull(err);
        return 0;
    }
    for (guint i = 1; i < parts->len; i++) {
        g_autoptr(GError) e = NULL;
        if (tern_host_facts_add_domcaps(facts, g_ptr_array_index(parts, i), &e) < 0)
            g_assert_nonnull(e);
    }
    json_decref(tern_host_facts_supported_instances(facts));
    json_t *j = tern_host_facts_to_json(facts);
    g_autofree char *text = json_dumps(j, JSON_COMPACT);
    json_decref(j);
    (void) tern_host_facts_endianness_allows(facts, "little");
    (void) tern_host_facts_endianness_allows(facts, "big");
    for (guint i = 0; i < facts->guests->len; i++) {
        TernGuestFacts *g = g_ptr_array_index(facts->guests, i);
        g_assert_true(tern_host_facts_find_guest(facts, g->arch, g->virt_type) != NULL);
        const char *asks[] = { "q35", "pc", "pseries", "virt", "", "pc-q35-999.0" };
        for (guint a = 0; a < G_N_ELEMENTS(asks); a++) {
            g_autoptr(GError) e = NULL;
            g_autofree char *m = tern_guest_facts_resolve_machine(g, asks[a], &e);
            g_assert_true((m != NULL) != (e != NULL));
        }
        for (guint m = 0; m < g->machines->len; m++) {
            TernMachineType *mt = g_ptr_array_index(g->machines, m);
            g_autoptr(GError) e = NULL;
            g_autofree char *r = tern_guest_facts_resolve_machine(g, mt->name, &e);
        }
    }
    return 0;
}
