/* scheduler-client.c: bench/scheduler's load generator: calls
 * select_destinations (topic scheduler, 4.5) over RabbitMQ with tern's RPC
 * client, as a conductor does, and prints the latencies.
 *
 *   scheduler-client TRANSPORT_URL SPEC.json CALLS THREADS [EXCHANGE]
 *
 * SPEC.json is a RequestSpec primitive (python3-nova's obj_to_primitive);
 * each call gets a fresh instance uuid. TERN_BENCH_LATENCIES=FILE writes
 * each call's start and latency (ms) there. Before the timed calls, 20
 * untimed ones (TERN_BENCH_WARMUP=N) on the same connection: a conductor's
 * client is connected long before its calls, so its first calls' set-up
 * (the reply queue's consumer, the exchange declared) is not timed. Prints
 * one line:
 *   calls=N ok=N novalid=N errors=N seconds=S per_s=R p50_ms=X p99_ms=Y */
#include <stdio.h>
#include <stdlib.h>

#include "rpc/rpc.h"

typedef struct {
    TernRpcClient *client;
    json_t *spec;
    gint next, calls;
    gint ok, novalid, errors;
    double *lat;     /* ms, per call */
    double *start;   /* ms since the first call began, per call */
    gint64 t0;
    const char *exchange;   /* NULL: the transport's (nova) */
} Bench;

/* One select_destinations for a fresh instance uuid; its latency in ms. */
static json_t *
call_once(Bench *b, double *ms, GError **err)
{
    const TernRpcTarget target = { .topic = "scheduler", .version = "4.5",
                                   .exchange = b->exchange };
    g_autofree char *uuid = g_uuid_string_random();
    json_t *spec = json_deep_copy(b->spec);
    json_object_set_new(json_object_get(spec, "nova_object.data"), "instance_uuid",
                        json_string(uuid));
    g_autoptr(json_t) args = json_pack("{s:o,s:[s],s:b,s:b}", "spec_obj", spec,
                                       "instance_uuids", uuid, "return_objects", 1,
                                       "return_alternates", 1);
    gint64 t0 = g_get_monotonic_time();
    json_t *res = tern_rpc_call(b->client, &target, NULL, "select_destinations", args, 60, err);
    *ms = (double) (g_get_monotonic_time() - t0) / 1000.0;
    return res;
}

static gpointer
worker(gpointer data)
{
    Bench *b = data;
    for (;;) {
        gint i = g_atomic_int_add(&b->next, 1);
        if (i >= b->calls)
            break;
        g_autoptr(GError) err = NULL;
        b->start[i] = (double) (g_get_monotonic_time() - b->t0) / 1000.0;
        g_autoptr(json_t) res = call_once(b, &b->lat[i], &err);
        if (res)
            g_atomic_int_inc(&b->ok);
        else if (g_strcmp0(tern_rpc_error_get_class(err), "NoValidHost") == 0)
            g_atomic_int_inc(&b->novalid);
        else if (g_atomic_int_add(&b->errors, 1) < 3)
            fprintf(stderr, "scheduler-client: %s\n", err->message);
    }
    return NULL;
}

static int
cmp_double(const void *a, const void *b)
{
    double x = *(const double *) a, y = *(const double *) b;
    return x < y ? -1 : x > y;
}

int
main(int argc, char **argv)
{
    if (argc != 5 && argc != 6) {
        fprintf(stderr, "usage: scheduler-client TRANSPORT_URL SPEC.json CALLS THREADS [EXCHANGE]\n");
        return 2;
    }
    g_autoptr(GError) err = NULL;
    json_error_t jerr;
    Bench b = { 0 };
    if (!(b.spec = json_load_file(argv[2], 0, &jerr))) {
        fprintf(stderr, "scheduler-client: %s: %s\n", argv[2], jerr.text);
        return 1;
    }
    b.calls = atoi(argv[3]);
    b.exchange = argc == 6 ? argv[5] : NULL;
    int threads = atoi(argv[4]);
    b.lat = g_new0(double, b.calls);
    b.start = g_new0(double, b.calls);
    g_autoptr(TernRpcTransport) t = tern_rpc_transport_new_from_url(argv[1], &err);
    if (!t || !(b.client = tern_rpc_client_new(t, &err))) {
        fprintf(stderr, "scheduler-client: %s\n", err->message);
        return 1;
    }
    const char *w = g_getenv("TERN_BENCH_WARMUP");
    int warmup = w && *w ? atoi(w) : 20;
    for (int i = 0; i < warmup; i++) {
        double ms;
        g_autoptr(GError) werr = NULL;
        g_autoptr(json_t) res = call_once(&b, &ms, &werr);
        if (!res && g_strcmp0(tern_rpc_error_get_class(werr), "NoValidHost") != 0) {
            fprintf(stderr, "scheduler-client: warm-up call: %s\n", werr->message);
            return 1;
        }
    }
    gint64 t0 = b.t0 = g_get_monotonic_time();
    GThread **th = g_new(GThread *, threads);
    for (int i = 0; i < threads; i++)
        th[i] = g_thread_new("bench", worker, &b);
    for (int i = 0; i < threads; i++)
        g_thread_join(th[i]);
    double secs = (double) (g_get_monotonic_time() - t0) / 1e6;
    /* TERN_BENCH_LATENCIES=FILE: every call's start and latency (ms), to see
     * when the slow ones happen. */
    const char *dump = g_getenv("TERN_BENCH_LATENCIES");
    FILE *df = dump && *dump ? fopen(dump, "w") : NULL;
    for (int i = 0; df && i < b.calls; i++)
        fprintf(df, "%.3f %.3f\n", b.start[i], b.lat[i]);
    if (df)
        fclose(df);
    qsort(b.lat, (size_t) b.calls, sizeof(double), cmp_double);
    printf("calls=%d ok=%d novalid=%d errors=%d seconds=%.3f per_s=%.1f p50_ms=%.3f p99_ms=%.3f\n",
           b.calls, b.ok, b.novalid, b.errors, secs, b.calls / secs, b.lat[b.calls / 2],
           b.lat[(int) ((b.calls - 1) * 0.99)]);
    g_free(th);
    g_free(b.lat);
    g_free(b.start);
    tern_rpc_client_free(b.client);
    json_decref(b.spec);
    return b.errors ? 1 : 0;
}
