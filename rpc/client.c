/* client.c: RPC client: call (reply matched by _msg_id on this client's one
 * reply queue, with a timeout and oslo's call-monitor heartbeats), cast and
 * fanout cast. Thread-safe: any number of threads may call at once. */
#include <string.h>
#include "rpc/rpc_private.h"
#include "common/log.h"

typedef struct {
    GCond cond;                   /* its caller waits here (one wake-up per reply) */
    gboolean done;
    json_t *result;               /* last non-null result */
    char *failure;
    GError *send_error;           /* the request was refused or not published */
    gint64 last_beat;
} Waiter;

struct _TernRpcClient {
    TernRpcTransport *t;
    TernRpcConn *conn;
    char *reply_q;
    GMutex lock;
    GHashTable *waiters;          /* msg_id -> Waiter* (borrowed) */
};

static int
client_setup(TernRpcConn *c, amqp_connection_state_t st, gpointer data, GError **error)
{
    TernRpcClient *cl = data;
    amqp_table_entry_t e[3];
    amqp_table_t args = tern_rpc_queue_args(cl->t, FALSE, TRUE, e);
    amqp_queue_declare(st, TERN_RPC_CHANNEL, amqp_cstring_bytes(cl->reply_q), 0, 0, 0, 0, args);
    if (tern_rpc_amqp_check(amqp_get_rpc_reply(st), "queue.declare (reply queue)", error) < 0)
        return -1;
    /* no_ack: a reply is taken as it is delivered (the broker need not
     * hear about each one; our own queue, no peer sees the difference) */
    amqp_basic_consume(st, TERN_RPC_CHANNEL, amqp_cstring_bytes(cl->reply_q), amqp_empty_bytes,
                       0, 1, 0, amqp_empty_table);
    return tern_rpc_amqp_check(amqp_get_rpc_reply(st), "basic.consume (reply queue)", error);
}

static void
client_deliver(TernRpcConn *c, const amqp_envelope_t *env, gpointer data)
{
    TernRpcClient *cl = data;
    TernRpcReply r;
    g_autoptr(GError) err = NULL;
    if (env->message.body.len > (size_t)cl->t->max_message_size) {
        TERN_WARN(TERN_RPC_LOG, "dropped a reply of %zu bytes (max_message_size %" G_GINT64_FORMAT ")",
                  env->message.body.len, cl->t->max_message_size);
        return;
    }
    if (tern_rpc_reply_decode(env->message.body.bytes, env->message.body.len, &r, &err) < 0) {
        TERN_WARN(TERN_RPC_LOG, "dropped a bad reply: %s", err->message);
        tern_rpc_reply_clear(&r);
        return;
    }
    g_mutex_lock(&cl->lock);
    Waiter *w = g_hash_table_lookup(cl->waiters, r.msg_id);
    if (w) {
        w->last_beat = g_get_monotonic_time();
        if (r.result && !json_is_null(r.result)) {
            if (w->result)
                json_decref(w->result);
            w->result = json_incref(r.result);
        }
        if (r.failure && !w->failure)
            w->failure = g_strdup(r.failure);
        if (r.ending)
            w->done = TRUE;
        g_cond_signal(&w->cond);
    } else
        TERN_DEBUG(TERN_RPC_LOG, "reply for unknown call %s (timed out?)", r.msg_id);
    g_mutex_unlock(&cl->lock);
    tern_rpc_reply_clear(&r);
}

TernRpcClient *
tern_rpc_client_new(TernRpcTransport *t, GError **error)
{
    TernRpcClient *cl = g_new0(TernRpcClient, 1);
    cl->t = tern_rpc_transport_ref(t);
    g_autofree char *hex = tern_rpc_hex_id();
    cl->reply_q = g_strdup_printf("reply_%s", hex);
    g_mutex_init(&cl->lock);
    cl->waiters = g_hash_table_new(g_str_hash, g_str_equal);
    cl->conn = tern_rpc_conn_new(t, "rpc-client", client_setup, client_deliver, NULL, cl, error);
    if (!cl->conn) {
        tern_rpc_client_free(cl);
        return NULL;
    }
    return cl;
}

void
tern_rpc_client_free(TernRpcClient *cl)
{
    if (!cl)
        return;
    tern_rpc_conn_free(cl->conn);
    g_hash_table_unref(cl->waiters);
    g_mutex_clear(&cl->lock);
    tern_rpc_transport_unref(cl->t);
    g_free(cl->reply_q);
    g_free(cl);
}

static int
check_target(const TernRpcTarget *target, const char *method, GError **error)
{
    if (!target || !target->topic || !*target->topic || !method || !*method) {
        g_set_error(error, TERN_RPC_ERROR, TERN_RPC_ERROR_INVALID,
                    "an RPC needs a target topic and a method");
        return -1;
    }
    return 0;
}

/* A call whose request was sent without waiting for its confirm. */
typedef struct {
    TernRpcClient *cl;
    char *msg_id;
} CallRef;

static void
call_ref_free(gpointer p)
{
    CallRef *ref = p;
    g_free(ref->msg_id);
    g_free(ref);
}

/* The broker refused the request, or it could not be published in time:
 * the call (if it still waits) fails with that. */
static void
call_failed(const GError *error, gpointer data)
{
    CallRef *ref = data;
    TernRpcClient *cl = ref->cl;
    g_mutex_lock(&cl->lock);
    Waiter *w = g_hash_table_lookup(cl->waiters, ref->msg_id);
    if (w && !w->done) {
        w->send_error = g_error_copy(error);
        w->done = TRUE;
        g_cond_signal(&w->cond);
    }
    g_mutex_unlock(&cl->lock);
}

json_t *
tern_rpc_call_full(TernRpcClient *cl, const TernRpcTarget *target, json_t *context,
                   const char *method, json_t *args, double timeout,
                   double call_monitor_timeout, GError **error)
{
    if (check_target(target, method, error) < 0)
        return NULL;
    if (timeout <= 0)
        timeout = cl->t->rpc_response_timeout;
    gint64 start = g_get_monotonic_time();
    gint64 deadline = start + (gint64)(timeout * G_USEC_PER_SEC);
    g_autofree char *msg_id = tern_rpc_hex_id();
    g_autofree char *body = tern_rpc_msg_encode(method, target->namespace, target->version, args,
                                                context, msg_id, cl->reply_q, call_monitor_timeout);
    g_autofree char *rk = target->server ? g_strdup_printf("%s.%s", target->topic, target->server)
                                         : g_strdup(target->topic);
    TernRpcOut out = { .exchange = target->exchange ? target->exchange : cl->t->exchange,
                       .exchange_type = "topic", .exchange_durable = TERN_RPC_DURABLE(cl->t),
                       .exchange_auto_delete = cl->t->auto_delete, .routing_key = rk, .body = body,
                       .len = strlen(body), .expiration_ms = (gint64)(timeout * 1000) };
    Waiter w = { .last_beat = start };
    g_cond_init(&w.cond);
    g_mutex_lock(&cl->lock);
    g_hash_table_insert(cl->waiters, msg_id, &w);
    g_mutex_unlock(&cl->lock);

    json_t *result = NULL;
    /* Connected: publish and wait for the reply alone (the broker's
     * confirm comes meanwhile; a refusal fails the call through
     * call_failed). Not connected: wait until the request is out, so that
     * an unreachable broker is reported as such. */
    int sent;
    if (tern_rpc_conn_ready(cl->conn)) {
        CallRef *ref = g_new0(CallRef, 1);
        ref->cl = cl;
        ref->msg_id = g_strdup(msg_id);
        sent = tern_rpc_conn_send_nowait(cl->conn, &out, timeout, call_failed, ref, call_ref_free,
                                         error);
    } else
        sent = tern_rpc_conn_send(cl->conn, &out, timeout, error);
    if (sent == 0) {
        g_mutex_lock(&cl->lock);
        gboolean monitor_expired = FALSE;
        while (!w.done) {
            gint64 until = deadline;
            if (call_monitor_timeout > 0) {
                gint64 mon = w.last_beat + (gint64)(call_monitor_timeout * G_USEC_PER_SEC);
                if (mon < until)
                    until = mon;
            }
            if (!g_cond_wait_until(&w.cond, &cl->lock, until) && !w.done) {
                gint64 now = g_get_monotonic_time();
                if (now >= deadline)
                    break;
                if (call_monitor_timeout > 0 &&
                    now >= w.last_beat + (gint64)(call_monitor_timeout * G_USEC_PER_SEC)) {
                    monitor_expired = TRUE;
                    break;
                }
            }
        }
        g_hash_table_remove(cl->waiters, msg_id);
        g_mutex_unlock(&cl->lock);
        if (!w.done)
            g_set_error(error, TERN_RPC_ERROR, TERN_RPC_ERROR_TIMEOUT,
                        "Timed out waiting for a reply to %s%s%s (topic %s%s%s, message %s) after %.0f s%s",
                        target->namespace ? target->namespace : "", target->namespace ? "." : "",
                        method, target->topic, target->server ? "." : "",
                        target->server ? target->server : "", msg_id,
                        (g_get_monotonic_time() - start) / 1e6,
                        monitor_expired ? " (no call-monitor heartbeat)" : "");
        else if (w.send_error)
            g_propagate_error(error, g_steal_pointer(&w.send_error));
        else if (w.failure)
            tern_rpc_failure_to_error(w.failure, error);
        else
            result = w.result ? json_incref(w.result) : json_null();
    } else {
        g_mutex_lock(&cl->lock);
        g_hash_table_remove(cl->waiters, msg_id);
        g_mutex_unlock(&cl->lock);
    }
    g_cond_clear(&w.cond);
    if (w.result)
        json_decref(w.result);
    g_free(w.failure);
    g_clear_error(&w.send_error);
    return result;
}

json_t *
tern_rpc_call(TernRpcClient *cl, const TernRpcTarget *target, json_t *context, const char *method,
              json_t *args, double timeout, GError **error)
{
    return tern_rpc_call_full(cl, target, context, method, args, timeout, 0, error);
}

static int
send_cast(TernRpcClient *cl, const TernRpcTarget *target, json_t *context, const char *method,
          json_t *args, gboolean fanout, GError **error)
{
    if (check_target(target, method, error) < 0)
        return -1;
    g_autofree char *body = tern_rpc_msg_encode(method, target->namespace, target->version, args,
                                                context, NULL, NULL, 0);
    g_autofree char *rk = NULL, *fx = NULL;
    TernRpcOut out = { .body = body, .len = strlen(body) };
    if (fanout) {
        fx = g_strdup_printf("%s_fanout", target->topic);
        out.exchange = fx;
        out.exchange_type = "fanout";
        out.exchange_auto_delete = TRUE;
        out.routing_key = "";
    } else {
        rk = target->server ? g_strdup_printf("%s.%s", target->topic, target->server)
                            : g_strdup(target->topic);
        out.exchange = target->exchange ? target->exchange : cl->t->exchange;
        out.exchange_type = "topic";
        out.exchange_durable = TERN_RPC_DURABLE(cl->t);
        out.exchange_auto_delete = cl->t->auto_delete;
        out.routing_key = rk;
    }
    return tern_rpc_conn_send(cl->conn, &out, cl->t->rpc_response_timeout, error);
}

int
tern_rpc_cast(TernRpcClient *cl, const TernRpcTarget *target, json_t *context, const char *method,
              json_t *args, GError **error)
{
    return send_cast(cl, target, context, method, args, FALSE, error);
}

int
tern_rpc_fanout_cast(TernRpcClient *cl, const TernRpcTarget *target, json_t *context,
                     const char *method, json_t *args, GError **error)
{
    return send_cast(cl, target, context, method, args, TRUE, error);
}
