/* rpc-memory-drive.c: the driver of bench/rpc-memory: sends N RPCs (every other one
 * a call, the others casts) to a running server and prints the server
 * process's resident memory (VmRSS of /proc/PID/status) before the first and
 * after 10%, 50% and 100% of them.
 *
 *   rpc-memory-drive URL PID N THREADS TOPIC CALL CAST
 *
 * CALL and CAST are NAMESPACE/METHOD/VERSION/ARGS-JSON ("-" as NAMESPACE:
 * none). Output, one line per checkpoint: {"rpcs": n, "rss_kb": k, "secs": s},
 * then {"failures": f}. After each phase the driver waits until a call is
 * answered and 0.5 s more, so that the casts of the phase have been handled. */
#include <stdio.h>
#include <string.h>
#include "rpc/rpc.h"
#include "common/log.h"

typedef struct {
    const char *namespace, *method, *version;
    json_t *args;
} Spec;

typedef struct {
    TernRpcClient *cl;
    const char *topic;
    const Spec *call, *cast;
    gint64 from, to;
    int failures;
} Worker;

static int
parse_spec(const char *text, Spec *s)
{
    g_auto(GStrv) p = g_strsplit(text, "/", 4);
    if (g_strv_length(p) != 4)
        return -1;
    s->namespace = strcmp(p[0], "-") ? g_strdup(p[0]) : NULL;
    s->method = g_strdup(p[1]);
    s->version = g_strdup(p[2]);
    s->args = json_loads(p[3], 0, NULL);
    return json_is_object(s->args) ? 0 : -1;
}

static gint64
rss_kb(const char *pid)
{
    g_autofree char *path = g_strdup_printf("/proc/%s/status", pid);
    g_autofree char *text = NULL;
    if (!g_file_get_contents(path, &text, NULL, NULL))
        return -1;
    const char *l = strstr(text, "VmRSS:");
    return l ? g_ascii_strtoll(l + 6, NULL, 10) : -1;
}

static gpointer
worker(gpointer p)
{
    Worker *w = p;
    g_autoptr(json_t) ctx = tern_rpc_context_new("bench", "bench", TRUE);
    for (gint64 i = w->from; i < w->to; i++) {
        g_autoptr(GError) err = NULL;
        const Spec *s = i % 2 == 0 ? w->call : w->cast;
        TernRpcTarget target = { .topic = w->topic, .namespace = s->namespace,
                                 .version = s->version };
        if (s == w->call) {
            json_t *r = tern_rpc_call(w->cl, &target, ctx, s->method, s->args, 30, &err);
            if (r)
                json_decref(r);
            else
                w->failures++;
        } else if (tern_rpc_cast(w->cl, &target, ctx, s->method, s->args, &err) < 0) {
            w->failures++;
        }
        if (err && w->failures <= 3)
            fprintf(stderr, "rpc-memory: %s\n", err->message);
    }
    return NULL;
}

int
main(int argc, char **argv)
{
    tern_log_init("rpc-memory", FALSE, FALSE);
    if (argc != 8) {
        fprintf(stderr, "usage: rpc-memory-drive URL PID N THREADS TOPIC CALL CAST "
                        "(see the top of bench/rpc-memory-drive.c)\n");
        return 2;
    }
    const char *pid = argv[2];
    gint64 n = g_ascii_strtoll(argv[3], NULL, 10);
    int threads = (int)g_ascii_strtoll(argv[4], NULL, 10);
    Spec call, cast;
    if (n < 10 || threads < 1 || parse_spec(argv[6], &call) < 0 || parse_spec(argv[7], &cast) < 0) {
        fprintf(stderr, "rpc-memory: bad N, THREADS or NAMESPACE/METHOD/VERSION/ARGS-JSON\n");
        return 2;
    }
    g_autoptr(GError) err = NULL;
    g_autoptr(TernRpcTransport) t = tern_rpc_transport_new_from_url(argv[1], &err);
    g_autoptr(TernRpcClient) cl = t ? tern_rpc_client_new(t, &err) : NULL;
    if (!cl) {
        fprintf(stderr, "rpc-memory: %s\n", err->message);
        return 1;
    }
    gint64 marks[] = { 0, n / 10, n / 2, n };
    int failures = 0;
    gint64 t0 = g_get_monotonic_time();
    for (guint m = 0; m < G_N_ELEMENTS(marks); m++) {
        gint64 from = m ? marks[m - 1] : 0, to = marks[m];
        Worker *ws = g_new0(Worker, threads);
        GThread **th = g_new0(GThread *, threads);
        for (int i = 0; i < threads; i++) {
            /* split [from, to) into THREADS even-aligned slices */
            gint64 a = from + (to - from) * i / threads, b = from + (to - from) * (i + 1) / threads;
            ws[i] = (Worker){ cl, argv[5], &call, &cast, a, b, 0 };
            th[i] = g_thread_new("drive", worker, &ws[i]);
        }
        for (int i = 0; i < threads; i++) {
            g_thread_join(th[i]);
            failures += ws[i].failures;
        }
        g_free(ws);
        g_free(th);
        /* the casts of this phase are handled once a later call returns */
        Worker settle = { cl, argv[5], &call, &cast, 0, 1, 0 };
        worker(&settle);
        g_usleep(500000);
        printf("{\"rpcs\": %" G_GINT64_FORMAT ", \"rss_kb\": %" G_GINT64_FORMAT
               ", \"secs\": %.1f}\n", to, rss_kb(pid), (g_get_monotonic_time() - t0) / 1e6);
        fflush(stdout);
    }
    printf("{\"failures\": %d}\n", failures);
    json_decref(call.args);
    json_decref(cast.args);
    return failures ? 1 : 0;
}
