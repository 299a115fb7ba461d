/* fuzz-rpc.c: libFuzzer target for what tern reads from the network: the
 * oslo envelope, requests, replies, failure JSON and Nova object primitives
 * (rpc/envelope.c, rpc/object.c). Built and run by tests/fuzz/run-fuzz.sh. */
#include <stdint.h>
#include <string.h>
#include "rpc/rpc_private.h"
#include "rpc/object.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void
objects_in(json_t *j)
{
    const char *k;
    json_t *v;
    json_object_foreach(j, k, v) {
        if (!json_is_object(v) || !json_object_get(v, "nova_object.name"))
            continue;
        GError *err = NULL;
        TernObject *o = tern_object_from_primitive(v, NULL, &err);
        if (o) {
            json_t *p = tern_object_to_primitive(o);
            /* what was decoded encodes again and decodes to the same */
            TernObject *o2 = tern_object_from_primitive(p, NULL, NULL);
            if (!o2)
                __builtin_trap();
            json_t *p2 = tern_object_to_primitive(o2);
            if (!json_equal(p, p2))
                __builtin_trap();
            json_decref(p2);
            tern_object_free(o2);
            json_decref(p);
            tern_object_free(o);
        }
        g_clear_error(&err);
    }
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const char *body = (const char *)data;
    GError *err = NULL;
    TernRpcMsg m;
    if (tern_rpc_msg_decode(body, size, &m, &err) == 0)
        objects_in(m.args);
    tern_rpc_msg_clear(&m);
    g_clear_error(&err);

    TernRpcReply r;
    if (tern_rpc_reply_decode(body, size, &r, &err) == 0) {
        if (r.failure) {
            GError *remote = NULL;
            tern_rpc_failure_to_error(r.failure, &remote);
            g_clear_error(&remote);
        }
        if (json_is_object(r.result))
            objects_in(r.result);
    }
    tern_rpc_reply_clear(&r);
    g_clear_error(&err);

    /* the input itself as an object primitive (wrapped so objects_in sees it) */
    json_t *j = json_loadb(body, size, JSON_DECODE_ANY, NULL);
    if (j) {
        json_t *w = json_pack("{s:o}", "x", j);
        objects_in(w);
        json_decref(w);
    }
    return 0;
}
