/* rpc-bench.c: the C side of bench/rpc.
 *
 *   rpc-bench serve URL TOPIC              a tern RPC server with "echo"; prints READY,
 *                                          serves until stdin closes
 *   rpc-bench client URL TOPIC N THREADS   N calls of echo spread over THREADS threads;
 *                                          prints JSON {median_ms, p99_ms, calls_per_s}
 *   rpc-bench raw URL N                    raw AMQP round trip with librabbitmq (publish to
 *                                          a queue, a second connection answers on another
 *                                          queue): the floor under any RPC layer */
#include <stdio.h>
#include <string.h>
#include <amqp.h>
#include <amqp_tcp_socket.h>
#include "rpc/rpc_private.h"
#include "common/log.h"

static json_t *
h_echo(const TernRpcRequest *req, gpointer data, GError **error)
{
    return json_incref(req->args);
}

static const TernRpcMethod methods[] = {
    { NULL, "echo", "1.0", h_echo },
    { NULL },
};

static int
cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

static void
print_stats(double *lat, int n, double wall)
{
    qsort(lat, n, sizeof(double), cmp_double);
    printf("{\"median_ms\": %.4f, \"p99_ms\": %.4f, \"calls_per_s\": %.1f, \"calls\": %d}\n",
           lat[n / 2] * 1000, lat[(int)(n * 0.99)] * 1000, n / wall, n);
}

typedef struct {
    TernRpcClient *cl;
    const char *topic;
    int n;
    double *lat;
    int failures;
} Worker;

static gpointer
worker(gpointer p)
{
    Worker *w = p;
    TernRpcTarget target = { .topic = w->topic, .version = "1.0" };
    g_autoptr(json_t) ctx = tern_rpc_context_new("bench", "bench", FALSE);
    g_autoptr(json_t) args = json_pack("{s:i, s:s}", "i", 1, "s", "hello");
    for (int i = 0; i < w->n; i++) {
        g_autoptr(GError) err = NULL;
        gint64 t0 = g_get_monotonic_time();
        json_t *r = tern_rpc_call(w->cl, &target, ctx, "echo", args, 10, &err);
        w->lat[i] = (g_get_monotonic_time() - t0) / 1e6;
        if (!r)
            w->failures++;
        else
            json_decref(r);
    }
    return NULL;
}

static int
client(const char *url, const char *topic, int n, int threads)
{
    g_autoptr(GError) err = NULL;
    g_autoptr(TernRpcTransport) t = tern_rpc_transport_new_from_url(url, &err);
    g_autoptr(TernRpcClient) cl = t ? tern_rpc_client_new(t, &err) : NULL;
    if (!cl) {
        fprintf(stderr, "%s\n", err->message);
        return 1;
    }
    /* warm up */
    Worker warm = { cl, topic, 200, g_new(double, 200), 0 };
    worker(&warm);
    g_free(warm.lat);
    Worker *ws = g_new0(Worker, threads);
    GThread **th = g_new0(GThread *, threads);
    int per = n / threads;
    gint64 t0 = g_get_monotonic_time();
    for (int i = 0; i < threads; i++) {
        ws[i] = (Worker){ cl, topic, per, g_new(double, per), 0 };
        th[i] = g_thread_new("bench", worker, &ws[i]);
    }
    double *all = g_new(double, per * threads);
    int failures = 0;
    for (int i = 0; i < threads; i++) {
        g_thread_join(th[i]);
        memcpy(all + i * per, ws[i].lat, per * sizeof(double));
        failures += ws[i].failures;
        g_free(ws[i].lat);
    }
    double wall = (g_get_monotonic_time() - t0) / 1e6;
    if (failures)
        fprintf(stderr, "%d calls failed\n", failures);
    print_stats(all, per * threads, wall);
    g_free(all);
    g_free(ws);
    g_free(th);
    return failures ? 1 : 0;
}

static amqp_connection_state_t
raw_connect(TernRpcTransport *t, const char *queue)
{
    TernRpcHost *h = t->hosts->pdata[0];
    amqp_connection_state_t st = amqp_new_connection();
    amqp_socket_t *s = amqp_tcp_socket_new(st);
    if (amqp_socket_open(s, h->host, h->port) != AMQP_STATUS_OK)
        return NULL;
    if (amqp_login(st, t->vhost, 0, 131072, 0, AMQP_SASL_METHOD_PLAIN, h->user, h->password)
            .reply_type != AMQP_RESPONSE_NORMAL)
        return NULL;
    amqp_channel_open(st, 1);
    amqp_queue_declare(st, 1, amqp_cstring_bytes(queue), 0, 0, 0, 1, amqp_empty_table);
    amqp_basic_consume(st, 1, amqp_cstring_bytes(queue), amqp_empty_bytes, 0, 1, 0, amqp_empty_table);
    if (amqp_get_rpc_reply(st).reply_type != AMQP_RESPONSE_NORMAL)
        return NULL;
    return st;
}

typedef struct {
    TernRpcTransport *t;
    char *qa, *qb;
    int n;
} Echoer;

static gpointer
raw_echoer(gpointer p)
{
    Echoer *e = p;
    amqp_connection_state_t st = raw_connect(e->t, e->qa);
    for (int i = 0; i < e->n; i++) {
        amqp_envelope_t env;
        amqp_maybe_release_buffers(st);
        if (amqp_consume_message(st, &env, NULL, 0).reply_type != AMQP_RESPONSE_NORMAL)
            break;
        amqp_basic_publish(st, 1, amqp_empty_bytes, amqp_cstring_bytes(e->qb), 0, 0, NULL,
                           env.message.body);
        amqp_destroy_envelope(&env);
    }
    amqp_connection_close(st, AMQP_REPLY_SUCCESS);
    amqp_destroy_connection(st);
    return NULL;
}

static int
raw(const char *url, int n)
{
    g_autoptr(GError) err = NULL;
    g_autoptr(TernRpcTransport) t = tern_rpc_transport_new_from_url(url, &err);
    if (!t)
        return 1;
    g_autofree char *ha = tern_rpc_hex_id(), *hb = tern_rpc_hex_id();
    Echoer e = { t, g_strdup_printf("bench_raw_%s", ha), g_strdup_printf("bench_raw_%s", hb), n + 200 };
    amqp_connection_state_t st = raw_connect(t, e.qb);
    if (!st) {
        fprintf(stderr, "cannot connect\n");
        return 1;
    }
    /* make sure the echoer's queue exists before publishing */
    amqp_queue_declare(st, 1, amqp_cstring_bytes(e.qa), 0, 0, 0, 1, amqp_empty_table);
    amqp_get_rpc_reply(st);
    GThread *th = g_thread_new("echoer", raw_echoer, &e);
    g_usleep(300000);
    const char *msg = "{\"oslo.version\": \"2.0\", \"oslo.message\": \"{}\"}";
    double *lat = g_new(double, n);
    gint64 start = 0;
    for (int i = 0; i < n + 200; i++) {
        if (i == 200)
            start = g_get_monotonic_time();
        gint64 t0 = g_get_monotonic_time();
        amqp_basic_publish(st, 1, amqp_empty_bytes, amqp_cstring_bytes(e.qa), 0, 0, NULL,
                           amqp_cstring_bytes(msg));
        amqp_envelope_t env;
        amqp_maybe_release_buffers(st);
        if (amqp_consume_message(st, &env, NULL, 0).reply_type != AMQP_RESPONSE_NORMAL)
            return 1;
        amqp_destroy_envelope(&env);
        if (i >= 200)
            lat[i - 200] = (g_get_monotonic_time() - t0) / 1e6;
    }
    double wall = (g_get_monotonic_time() - start) / 1e6;
    g_thread_join(th);
    print_stats(lat, n, wall);
    amqp_connection_close(st, AMQP_REPLY_SUCCESS);
    amqp_destroy_connection(st);
    g_free(lat);
    g_free(e.qa);
    g_free(e.qb);
    return 0;
}

int
main(int argc, char **argv)
{
    tern_log_init("rpc-bench", FALSE, FALSE);
    if (argc >= 4 && strcmp(argv[1], "serve") == 0) {
        g_autoptr(GError) err = NULL;
        g_autoptr(TernRpcTransport) t = tern_rpc_transport_new_from_url(argv[2], &err);
        g_autoptr(TernRpcServer) srv = t ? tern_rpc_server_new(t, argv[3], NULL, methods, NULL, &err)
                                         : NULL;
        if (!srv) {
            fprintf(stderr, "%s\n", err->message);
            return 1;
        }
        printf("READY\n");
        fflush(stdout);
        char buf[64];
        while (fgets(buf, sizeof(buf), stdin))
            ;
        return 0;
    }
    if (argc >= 6 && strcmp(argv[1], "client") == 0)
        return client(argv[2], argv[3], atoi(argv[4]), atoi(argv[5]));
    if (argc >= 4 && strcmp(argv[1], "raw") == 0)
        return raw(argv[2], atoi(argv[3]));
    fprintf(stderr, "usage: see the comment at the top of bench/rpc-bench.c\n");
    return 2;
}
