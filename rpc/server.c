/* server.c: an RPC server for oslo's Target(topic, server): declares what
 * oslo's rabbit driver declares, dispatches requests to a handler table on a
 * bounded thread pool, answers calls (results, failures, NoSuchMethod,
 * UnsupportedVersion) and sends call-monitor heartbeats for long calls. */
#include <string.h>
#include "rpc/rpc_private.h"
#include "common/log.h"

typedef struct {
    char *msg_id;
    char *reply_q;
    double interval;              /* seconds between heartbeats */
    gint64 next;                  /* monotonic µs */
} Monitor;

struct _TernRpcServer {
    TernRpcTransport *t;
    char *topic, *server, *fanout_queue;
    const TernRpcMethod *methods;
    gpointer user_data;
    TernRpcConn *conn;
    GThreadPool *pool;
    gint stopping;
    GMutex lock;
    GCond started;                /* conn is set (or the start failed: stopping) */
    GHashTable *monitors;         /* Monitor* -> itself */
    GQueue recent;                /* the last _unique_ids seen (char*), as oslo's _MsgIdCache */
    gint inflight;                /* jobs handed to the pool and not finished (atomic) */
};

#define TERN_RPC_DEDUP_SIZE 16

typedef struct {
    TernRpcServer *srv;
    guint gen;
    guint64 tag;
    char *body;
    size_t len;
    gboolean acked;               /* by the I/O thread, as a free worker took it */
} Job;

static void
monitor_free(gpointer p)
{
    Monitor *m = p;
    g_free(m->msg_id);
    g_free(m->reply_q);
    g_free(m);
}

static int
declare_queue(amqp_connection_state_t st, const char *name, gboolean durable,
              gboolean auto_delete, amqp_table_t args, GError **error)
{
    amqp_queue_declare(st, TERN_RPC_CHANNEL, amqp_cstring_bytes(name), 0, durable, 0, auto_delete,
                       args);
    g_autofree char *what = g_strdup_printf("queue.declare %s", name);
    return tern_rpc_amqp_check(amqp_get_rpc_reply(st), what, error);
}

static int
bind_and_consume(amqp_connection_state_t st, const char *queue, const char *exchange,
                 const char *key, GError **error)
{
    amqp_queue_bind(st, TERN_RPC_CHANNEL, amqp_cstring_bytes(queue), amqp_cstring_bytes(exchange),
                    amqp_cstring_bytes(key), amqp_empty_table);
    g_autofree char *what = g_strdup_printf("queue.bind %s to %s", queue, exchange);
    if (tern_rpc_amqp_check(amqp_get_rpc_reply(st), what, error) < 0)
        return -1;
    amqp_basic_consume(st, TERN_RPC_CHANNEL, amqp_cstring_bytes(queue), amqp_empty_bytes, 0, 0, 0,
                       amqp_empty_table);
    g_free(what);
    what = g_strdup_printf("basic.consume %s", queue);
    return tern_rpc_amqp_check(amqp_get_rpc_reply(st), what, error);
}

static int
exchange_declare(amqp_connection_state_t st, const char *name, const char *type,
                 gboolean durable, gboolean auto_delete, GError **error)
{
    amqp_exchange_declare(st, TERN_RPC_CHANNEL, amqp_cstring_bytes(name), amqp_cstring_bytes(type),
                          0, durable, auto_delete, 0, amqp_empty_table);
    g_autofree char *what = g_strdup_printf("exchange.declare %s", name);
    return tern_rpc_amqp_check(amqp_get_rpc_reply(st), what, error);
}

/* I/O thread, after each (re)connect: oslo's topology (docs/wire.md §1). */
static int
server_setup(TernRpcConn *c, amqp_connection_state_t st, gpointer data, GError **error)
{
    TernRpcServer *srv = data;
    TernRpcTransport *t = srv->t;
    int prefetch = t->prefetch > 0 ? t->prefetch : MIN(t->pool_size, 65535);
    amqp_basic_qos(st, TERN_RPC_CHANNEL, 0, (uint16_t)prefetch, 0);
    if (tern_rpc_amqp_check(amqp_get_rpc_reply(st), "basic.qos", error) < 0)
        return -1;
    amqp_table_entry_t te[3], fe[3];
    amqp_table_t targs = tern_rpc_queue_args(t, TRUE, FALSE, te);
    amqp_table_t args = tern_rpc_queue_args(t, FALSE, TRUE, fe);
    gboolean durable = TERN_RPC_DURABLE(t);
    if (exchange_declare(st, t->exchange, "topic", durable, t->auto_delete, error) < 0 ||
        declare_queue(st, srv->topic, durable, t->auto_delete, targs, error) < 0 ||
        bind_and_consume(st, srv->topic, t->exchange, srv->topic, error) < 0)
        return -1;
    if (srv->server) {
        g_autofree char *q = g_strdup_printf("%s.%s", srv->topic, srv->server);
        if (declare_queue(st, q, durable, t->auto_delete, targs, error) < 0 ||
            bind_and_consume(st, q, t->exchange, q, error) < 0)
            return -1;
    }
    g_autofree char *fx = g_strdup_printf("%s_fanout", srv->topic);
    if (exchange_declare(st, fx, "fanout", FALSE, TRUE, error) < 0 ||
        declare_queue(st, srv->fanout_queue, FALSE, FALSE, args, error) < 0 ||
        bind_and_consume(st, srv->fanout_queue, fx, srv->topic, error) < 0)
        return -1;
    return 0;
}

/* I/O thread: hand the message to the pool, acked when a worker takes it
 * (so at most executor_thread_pool_size messages are taken and not done).
 * When a worker is free it takes the message at once: the ack goes out now,
 * from this thread, instead of waking it again from the worker. */
static void
server_deliver(TernRpcConn *c, const amqp_envelope_t *env, gpointer data)
{
    TernRpcServer *srv = data;
    if (g_atomic_int_get(&srv->stopping))
        return;   /* left unacked: the broker gives it to another server */
    Job *job = g_new0(Job, 1);
    job->srv = srv;
    job->gen = tern_rpc_conn_generation(c);
    job->tag = env->delivery_tag;
    job->len = env->message.body.len;
    job->body = g_memdup2(env->message.body.bytes, job->len);
    if (g_atomic_int_add(&srv->inflight, 1) < srv->t->pool_size) {
        tern_rpc_conn_ack_now(c, job->tag);   /* at most once, as oslo */
        job->acked = TRUE;
    }
    g_thread_pool_push(srv->pool, job, NULL);
}

/* I/O thread: call-monitor heartbeats (ending=false replies). */
static void
server_tick(TernRpcConn *c, gpointer data)
{
    TernRpcServer *srv = data;
    gint64 now = g_get_monotonic_time();
    g_mutex_lock(&srv->lock);
    GHashTableIter it;
    gpointer k;
    g_hash_table_iter_init(&it, srv->monitors);
    while (g_hash_table_iter_next(&it, &k, NULL)) {
        Monitor *m = k;
        if (now < m->next)
            continue;
        m->next = now + (gint64)(m->interval * G_USEC_PER_SEC);
        g_autofree char *body = tern_rpc_reply_encode(m->msg_id, NULL, NULL, FALSE);
        TernRpcOut out = { .exchange = "", .routing_key = m->reply_q, .body = body,
                           .len = strlen(body) };
        g_autoptr(GError) err = NULL;
        if (tern_rpc_conn_publish_now(c, &out, &err) < 0)
            TERN_WARN(TERN_RPC_LOG, "heartbeat for call %s: %s", m->msg_id, err->message);
    }
    g_mutex_unlock(&srv->lock);
}

/* oslo's version_is_compatible: same major, our minor >= requested. */
static gboolean
version_compatible(const char *ours, const char *wanted)
{
    guint64 omaj = 0, omin = 0, wmaj = 0, wmin = 0;
    g_auto(GStrv) o = g_strsplit(ours, ".", 3);
    g_auto(GStrv) w = g_strsplit(wanted, ".", 3);
    if (!o[0] || !w[0] || !g_ascii_string_to_unsigned(o[0], 10, 0, G_MAXUINT32, &omaj, NULL) ||
        !g_ascii_string_to_unsigned(w[0], 10, 0, G_MAXUINT32, &wmaj, NULL))
        return FALSE;
    if (o[1] && !g_ascii_string_to_unsigned(o[1], 10, 0, G_MAXUINT32, &omin, NULL))
        return FALSE;
    if (w[1] && !g_ascii_string_to_unsigned(w[1], 10, 0, G_MAXUINT32, &wmin, NULL))
        return FALSE;
    return omaj == wmaj && omin >= wmin;
}

static gboolean
ns_equal(const char *a, const char *b)
{
    return g_strcmp0(a, b) == 0;
}

static const TernRpcMethod *
find_method(TernRpcServer *srv, const TernRpcMsg *m, GError **error)
{
    gboolean compatible = FALSE;
    for (const TernRpcMethod *e = srv->methods; e->method; e++) {
        if (!ns_equal(e->namespace, m->namespace) || !version_compatible(e->version, m->version))
            continue;
        if (strcmp(e->method, m->method) == 0)
            return e;
        compatible = TRUE;
    }
    if (compatible)
        g_set_error(error, TERN_RPC_ERROR, TERN_RPC_ERROR_NO_SUCH_METHOD,
                    "Endpoint does not support RPC method %s", m->method);
    else
        g_set_error(error, TERN_RPC_ERROR, TERN_RPC_ERROR_UNSUPPORTED_VERSION,
                    "Endpoint does not support RPC version %s. Attempted method: %s", m->version,
                    m->method);
    return NULL;
}

static void
send_reply(TernRpcServer *srv, const char *msg_id, const char *reply_q, json_t *result,
           const GError *failure)
{
    g_autofree char *body = tern_rpc_reply_encode(msg_id, result, failure, TRUE);
    TernRpcOut out = { .exchange = "", .routing_key = reply_q, .body = body, .len = strlen(body) };
    g_autoptr(GError) err = NULL;
    /* The worker does not wait for the broker's confirm: the connection
     * keeps the reply until then (and sends it again after a reconnect),
     * and logs it if it is lost. */
    if (tern_rpc_conn_send_nowait(srv->conn, &out, srv->t->rpc_response_timeout, NULL, NULL,
                                  NULL, &err) < 0)
        TERN_WARN(TERN_RPC_LOG, "reply to %s (call %s) lost: %s", reply_q, msg_id, err->message);
}

/* A message delivered twice (e.g. redelivered after a lost ack) runs once. */
static gboolean
seen_before(TernRpcServer *srv, const char *unique_id)
{
    gboolean seen = FALSE;
    g_mutex_lock(&srv->lock);
    for (GList *l = srv->recent.head; l && !seen; l = l->next)
        seen = strcmp(l->data, unique_id) == 0;
    if (!seen) {
        g_queue_push_tail(&srv->recent, g_strdup(unique_id));
        if (srv->recent.length > TERN_RPC_DEDUP_SIZE)
            g_free(g_queue_pop_head(&srv->recent));
    }
    g_mutex_unlock(&srv->lock);
    return seen;
}

static void
server_work(gpointer data, gpointer user_data)
{
    Job *job = data;
    TernRpcServer *srv = job->srv;
    /* Messages waiting in the queue are delivered as soon as the connection
     * consumes, which can be before tern_rpc_server_new has stored it. */
    g_mutex_lock(&srv->lock);
    while (!srv->conn && !g_atomic_int_get(&srv->stopping))
        g_cond_wait(&srv->started, &srv->lock);
    g_mutex_unlock(&srv->lock);
    if (!job->acked) {
        if (g_atomic_int_get(&srv->stopping) ||
            job->gen != tern_rpc_conn_generation(srv->conn)) {
            /* unacked; the broker redelivers it */
            g_free(job->body);
            g_free(job);
            g_atomic_int_dec_and_test(&srv->inflight);
            return;
        }
        tern_rpc_conn_ack(srv->conn, job->gen, job->tag);   /* at most once, as oslo */
    }

    TernRpcMsg m;
    g_autoptr(GError) err = NULL;
    json_t *result = NULL;
    int rc = tern_rpc_msg_decode(job->body, job->len, &m, &err);
    if (rc == 0 && (gint64)job->len > srv->t->max_message_size) {
        g_set_error(&err, TERN_RPC_ERROR, TERN_RPC_ERROR_TOO_LARGE,
                    "message of %zu bytes is larger than max_message_size (%" G_GINT64_FORMAT ")",
                    job->len, srv->t->max_message_size);
        rc = -1;
    }
    if (rc < 0) {
        if (m.msg_id)
            send_reply(srv, m.msg_id, m.reply_q, NULL, err);
        TERN_WARN(TERN_RPC_LOG, "%s: dropped a bad message%s: %s", srv->topic,
                  m.msg_id ? " (failure sent)" : "", err->message);
        goto out;
    }
    if (m.unique_id && seen_before(srv, m.unique_id)) {
        TERN_WARN(TERN_RPC_LOG, "%s: dropped a duplicate of message %s", srv->topic, m.unique_id);
        goto out;
    }
    json_t *rid = json_object_get(m.context, "request_id");
    const char *request_id = json_is_string(rid) ? json_string_value(rid) : NULL;
    tern_log_set_request_id(request_id);
    const TernRpcMethod *e = find_method(srv, &m, &err);
    if (!e) {
        TERN_WARN(TERN_RPC_LOG, "%s: %s", srv->topic, err->message);
    } else {
        Monitor *mon = NULL;
        if (m.msg_id && m.call_monitor_timeout >= 2) {
            mon = g_new0(Monitor, 1);
            mon->msg_id = g_strdup(m.msg_id);
            mon->reply_q = g_strdup(m.reply_q);
            mon->interval = m.call_monitor_timeout / 2;
            mon->next = g_get_monotonic_time() + (gint64)(mon->interval * G_USEC_PER_SEC);
            g_mutex_lock(&srv->lock);
            g_hash_table_add(srv->monitors, mon);
            g_mutex_unlock(&srv->lock);
        }
        TernRpcRequest req = { .method = m.method, .namespace = m.namespace, .version = m.version,
                               .args = m.args, .context = m.context, .request_id = request_id,
                               .is_call = m.msg_id != NULL };
        TERN_DEBUG(TERN_RPC_LOG, "%s: %s %s%s%s v%s", srv->topic, m.msg_id ? "call" : "cast",
                   m.namespace ? m.namespace : "", m.namespace ? "." : "", m.method, m.version);
        result = e->func(&req, srv->user_data, &err);
        if (mon) {
            g_mutex_lock(&srv->lock);
            g_hash_table_remove(srv->monitors, mon);
            g_mutex_unlock(&srv->lock);
        }
        if (err) {
            if (result)
                json_decref(result);
            result = NULL;
            if (m.msg_id)
                TERN_DEBUG(TERN_RPC_LOG, "%s: %s failed: %s", srv->topic, m.method, err->message);
            else
                TERN_WARN(TERN_RPC_LOG, "%s: cast %s failed: %s", srv->topic, m.method, err->message);
        }
    }
    if (m.msg_id)
        send_reply(srv, m.msg_id, m.reply_q, result, err);
    if (result)
        json_decref(result);
    tern_log_set_request_id(NULL);
out:
    tern_rpc_msg_clear(&m);
    g_free(job->body);
    g_free(job);
    g_atomic_int_dec_and_test(&srv->inflight);
}

TernRpcServer *
tern_rpc_server_new(TernRpcTransport *t, const char *topic, const char *server,
                    const TernRpcMethod *methods, gpointer user_data, GError **error)
{
    g_return_val_if_fail(t && topic && methods, NULL);
    for (const TernRpcMethod *e = methods; e->method; e++) {
        if (!e->func || !e->version) {
            g_set_error(error, TERN_RPC_ERROR, TERN_RPC_ERROR_INVALID,
                        "RPC method %s has no handler or no version", e->method);
            return NULL;
        }
    }
    TernRpcServer *srv = g_new0(TernRpcServer, 1);
    srv->t = tern_rpc_transport_ref(t);
    srv->topic = g_strdup(topic);
    srv->server = g_strdup(server);
    g_autofree char *hex = tern_rpc_hex_id();
    srv->fanout_queue = g_strdup_printf("%s_fanout_%s", topic, hex);
    srv->methods = methods;
    srv->user_data = user_data;
    srv->monitors = g_hash_table_new_full(g_direct_hash, g_direct_equal, monitor_free, NULL);
    g_mutex_init(&srv->lock);
    g_cond_init(&srv->started);
    srv->pool = g_thread_pool_new(server_work, srv, t->pool_size, FALSE, NULL);
    g_autofree char *purpose = g_strdup_printf("rpc-server %s%s%s", topic, server ? "." : "",
                                               server ? server : "");
    TernRpcConn *conn = tern_rpc_conn_new(t, purpose, server_setup, server_deliver, server_tick,
                                          srv, error);
    g_mutex_lock(&srv->lock);
    srv->conn = conn;
    if (!conn)
        g_atomic_int_set(&srv->stopping, 1);
    g_cond_broadcast(&srv->started);
    g_mutex_unlock(&srv->lock);
    if (!conn) {
        tern_rpc_server_free(srv);
        return NULL;
    }
    TERN_INFO(TERN_RPC_LOG, "serving topic %s%s%s on %s", topic, server ? " server " : "",
              server ? server : "", t->safe_url);
    return srv;
}

void
tern_rpc_server_free(TernRpcServer *srv)
{
    if (!srv)
        return;
    g_atomic_int_set(&srv->stopping, 1);
    /* running handlers finish and send their replies; queued jobs are
     * dropped unacked (the broker requeues them when the connection closes) */
    if (srv->pool)
        g_thread_pool_free(srv->pool, FALSE, TRUE);
    tern_rpc_conn_free(srv->conn);
    g_hash_table_unref(srv->monitors);
    g_queue_clear_full(&srv->recent, g_free);
    g_mutex_clear(&srv->lock);
    g_cond_clear(&srv->started);
    tern_rpc_transport_unref(srv->t);
    g_free(srv->topic);
    g_free(srv->server);
    g_free(srv->fanout_queue);
    g_free(srv);
}
