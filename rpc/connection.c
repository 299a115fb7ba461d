/* connection.c: one AMQP connection owned by one I/O thread (librabbitmq
 * connections are not thread-safe). The thread connects to the transport's
 * hosts in fail-over order (TCP or TLS with peer and host-name verification),
 * logs in with heartbeats, runs the owner's setup (declare queues, consume),
 * delivers messages to the owner's callback, services heartbeats, publishes
 * and acks on behalf of other threads (woken through an eventfd) — or lets
 * them publish themselves while it is connected and not using the
 * connection (the io lock), which saves a thread hand-off per message — in
 * publisher-confirm mode, as oslo: a send completes when the broker has
 * confirmed the message (or, sent without waiting, the connection keeps it
 * until then and reports a refusal), and unconfirmed messages are published
 * again on the next connection (receivers drop duplicates by _unique_id) —
 * and after
 * any failure reconnects with back-off (rabbit_retry_interval, +
 * rabbit_retry_backoff per attempt, up to rabbit_interval_max). */
#include <errno.h>
#include <poll.h>
#include <string.h>
#include <unistd.h>
#include <sys/eventfd.h>
#include <amqp_ssl_socket.h>
#include <amqp_tcp_socket.h>
#include <openssl/ssl.h>
#include <openssl/x509_vfy.h>
#include "rpc/rpc_private.h"
#include "common/log.h"

typedef struct {
    const TernRpcOut *out;        /* NULL for an ack */
    guint gen;
    guint64 tag;
    guint64 seq;                  /* publish sequence number awaiting its confirm */
    gboolean in_progress, done;
    GError *error;
    GCond *cond;                  /* not owned: its sender waits here */
    /* A publish nobody waits for (tern_rpc_conn_send_nowait): the
     * connection owns it and its copy of the message, and frees it once
     * confirmed or failed. */
    gboolean owned;
    TernRpcOut copy;              /* owned: out points here */
    gint64 deadline;              /* owned: dropped if not published by then */
    TernRpcConnFailFunc fail;
    gpointer fail_data;
    GDestroyNotify fail_destroy;
} OutReq;

struct _TernRpcConn {
    TernRpcTransport *t;
    char *purpose;
    TernRpcConnSetupFunc setup;
    TernRpcConnDeliverFunc deliver;
    TernRpcConnTickFunc tick;
    gpointer data;
    GThread *thread;
    int wake_fd;

    /* The librabbitmq state: held by the I/O thread whenever it uses the
     * connection (never while it waits in poll or connects), and by another
     * thread publishing directly. Taken before lock, never after it. */
    GMutex io;
    gboolean ready;               /* under io: connected and set up */

    GMutex lock;
    GCond cond;
    GQueue pending;               /* OutReq* */
    gboolean stop;
    gboolean first_done;
    GError *first_error;

    /* I/O thread only */
    amqp_connection_state_t st;
    gboolean connected, broken;
    guint gen;                    /* atomic reads from other threads */
    GHashTable *exchanges;        /* declared on this connection */
    guint host_index;
    gint64 last_rx;
    guint64 publish_seq;          /* publishes on this connection (confirm tags) */
    GQueue unconfirmed;           /* OutReq* published, waiting for basic.ack */
};

int
tern_rpc_amqp_check(amqp_rpc_reply_t r, const char *what, GError **error)
{
    switch (r.reply_type) {
    case AMQP_RESPONSE_NORMAL:
        return 0;
    case AMQP_RESPONSE_NONE:
        g_set_error(error, TERN_RPC_ERROR, TERN_RPC_ERROR_BROKER, "%s: no reply from the broker", what);
        return -1;
    case AMQP_RESPONSE_LIBRARY_EXCEPTION:
        g_set_error(error, TERN_RPC_ERROR, TERN_RPC_ERROR_CONNECT, "%s: %s", what,
                    amqp_error_string2(r.library_error));
        return -1;
    case AMQP_RESPONSE_SERVER_EXCEPTION:
        if (r.reply.id == AMQP_CONNECTION_CLOSE_METHOD) {
            amqp_connection_close_t *m = r.reply.decoded;
            g_set_error(error, TERN_RPC_ERROR, TERN_RPC_ERROR_BROKER,
                        "%s: the broker closed the connection: %u %.*s", what, m->reply_code,
                        (int)m->reply_text.len, (const char *)m->reply_text.bytes);
        } else if (r.reply.id == AMQP_CHANNEL_CLOSE_METHOD) {
            amqp_channel_close_t *m = r.reply.decoded;
            g_set_error(error, TERN_RPC_ERROR, TERN_RPC_ERROR_BROKER,
                        "%s: the broker closed the channel: %u %.*s", what, m->reply_code,
                        (int)m->reply_text.len, (const char *)m->reply_text.bytes);
        } else
            g_set_error(error, TERN_RPC_ERROR, TERN_RPC_ERROR_BROKER,
                        "%s: unexpected broker method 0x%08x", what, r.reply.id);
        return -1;
    }
    return -1;
}

TernRpcTransport *
tern_rpc_conn_transport(TernRpcConn *c)
{
    return c->t;
}

guint
tern_rpc_conn_generation(TernRpcConn *c)
{
    return g_atomic_int_get(&c->gen);
}

static void
wake(TernRpcConn *c)
{
    guint64 one = 1;
    while (write(c->wake_fd, &one, sizeof(one)) < 0 && errno == EINTR)
        ;
}

static void
owned_free(OutReq *req)
{
    if (req->fail_destroy)
        req->fail_destroy(req->fail_data);
    g_free((char *)req->copy.exchange);
    g_free((char *)req->copy.exchange_type);
    g_free((char *)req->copy.routing_key);
    g_free((char *)req->copy.body);
    g_clear_error(&req->error);
    g_free(req);
}

/* Under lock: req is done, confirmed or failed (req->error). Its waiter is
 * woken; an owned request reports its failure and is freed. */
static void
req_done(TernRpcConn *c, OutReq *req)
{
    req->done = TRUE;
    if (!req->owned) {
        g_cond_signal(req->cond);
        return;
    }
    if (req->error) {
        if (req->fail)
            req->fail(req->error, req->fail_data);
        else
            TERN_WARN(TERN_RPC_LOG, "%s: message to %s lost: %s", c->purpose,
                      req->out->routing_key, req->error->message);
    }
    owned_free(req);
}

static void
drop_connection(TernRpcConn *c)
{
    if (!c->st)
        return;
    if (c->connected && !c->broken) {
        amqp_channel_close(c->st, TERN_RPC_CHANNEL, AMQP_REPLY_SUCCESS);
        amqp_connection_close(c->st, AMQP_REPLY_SUCCESS);
    }
    amqp_destroy_connection(c->st);
    c->st = NULL;
    /* what the broker did not confirm goes out again on the next connection */
    g_mutex_lock(&c->lock);
    OutReq *req;
    while ((req = g_queue_pop_tail(&c->unconfirmed))) {
        req->in_progress = FALSE;
        g_queue_push_head(&c->pending, req);
        if (req->cond)
            g_cond_signal(req->cond);
    }
    g_mutex_unlock(&c->lock);
    c->connected = FALSE;
    c->broken = FALSE;
    g_hash_table_remove_all(c->exchanges);
}

static int
connect_host(TernRpcConn *c, const TernRpcHost *h, GError **error)
{
    TernRpcTransport *t = c->t;
    amqp_connection_state_t st = amqp_new_connection();
    amqp_socket_t *sock;
    c->st = st;
    c->connected = FALSE;
    c->broken = FALSE;
    if (t->ssl) {
        sock = amqp_ssl_socket_new(st);
        if (!sock) {
            g_set_error(error, TERN_RPC_ERROR, TERN_RPC_ERROR_CONNECT, "cannot create a TLS socket");
            return -1;
        }
        amqp_ssl_socket_set_verify_peer(sock, 1);
        if (g_hostname_is_ip_address(h->host)) {
            /* librabbitmq 0.11 matches host names against DNS names only:
             * an IP address is checked by OpenSSL against the certificate's
             * IP subjectAltNames, during the chain verification. */
            amqp_ssl_socket_set_verify_hostname(sock, 0);
            SSL_CTX *ctx = amqp_ssl_socket_get_context(sock);
            if (!ctx || X509_VERIFY_PARAM_set1_ip_asc(SSL_CTX_get0_param(ctx), h->host) != 1) {
                g_set_error(error, TERN_RPC_ERROR, TERN_RPC_ERROR_CONNECT,
                            "cannot set up TLS verification of the IP address %s", h->host);
                return -1;
            }
        } else
            amqp_ssl_socket_set_verify_hostname(sock, 1);
        if (t->ssl_ca_file && amqp_ssl_socket_set_cacert(sock, t->ssl_ca_file) != AMQP_STATUS_OK) {
            g_set_error(error, TERN_RPC_ERROR, TERN_RPC_ERROR_CONNECT,
                        "[oslo_messaging_rabbit] ssl_ca_file %s cannot be loaded", t->ssl_ca_file);
            return -1;
        }
        if (t->ssl_cert_file &&
            amqp_ssl_socket_set_key(sock, t->ssl_cert_file, t->ssl_key_file) != AMQP_STATUS_OK) {
            g_set_error(error, TERN_RPC_ERROR, TERN_RPC_ERROR_CONNECT,
                        "[oslo_messaging_rabbit] ssl_cert_file %s / ssl_key_file %s cannot be loaded",
                        t->ssl_cert_file, t->ssl_key_file);
            return -1;
        }
    } else
        sock = amqp_tcp_socket_new(st);
    if (!sock) {
        g_set_error(error, TERN_RPC_ERROR, TERN_RPC_ERROR_CONNECT, "cannot create a socket");
        return -1;
    }
    struct timeval tv = { 5, 0 };
    int rc = amqp_socket_open_noblock(sock, h->host, h->port, &tv);
    if (rc != AMQP_STATUS_OK) {
        const char *hint = "";
        if (rc == AMQP_STATUS_SSL_PEER_VERIFY_FAILED)
            hint = g_hostname_is_ip_address(h->host)
                ? " (the broker's certificate is not signed by a CA of [oslo_messaging_rabbit] ssl_ca_file,"
                  " or does not name this IP address in its subjectAltName)"
                : " (the broker's certificate is not signed by a CA of [oslo_messaging_rabbit] ssl_ca_file)";
        else if (rc == AMQP_STATUS_SSL_HOSTNAME_VERIFY_FAILED)
            hint = " (the broker's certificate does not name this host)";
        else if (rc == AMQP_STATUS_SSL_CONNECTION_FAILED)
            hint = " (the broker refused the TLS handshake: is this port a TLS listener, and"
                   " ssl_cert_file, if set, signed by a CA the broker trusts?)";
        g_set_error(error, TERN_RPC_ERROR, TERN_RPC_ERROR_CONNECT, "cannot connect to %s:%d%s: %s%s",
                    h->host, h->port, t->ssl ? " (TLS)" : "", amqp_error_string2(rc), hint);
        return -1;
    }
    struct timeval hs = { 15, 0 }, rpc = { 30, 0 };
    amqp_set_handshake_timeout(st, &hs);
    amqp_set_rpc_timeout(st, &rpc);

    g_autofree char *cname = g_strdup_printf("%s:%d:%s", g_get_prgname() ? g_get_prgname() : "tern",
                                             (int)getpid(), c->purpose);
    amqp_table_entry_t caps[3] = {
        { amqp_cstring_bytes("consumer_cancel_notify"), { AMQP_FIELD_KIND_BOOLEAN, { .boolean = 1 } } },
        { amqp_cstring_bytes("connection.blocked"), { AMQP_FIELD_KIND_BOOLEAN, { .boolean = 1 } } },
        { amqp_cstring_bytes("authentication_failure_close"), { AMQP_FIELD_KIND_BOOLEAN, { .boolean = 1 } } },
    };
    amqp_table_entry_t props[3] = {
        { amqp_cstring_bytes("product"), { AMQP_FIELD_KIND_UTF8, { .bytes = amqp_cstring_bytes("tern") } } },
        { amqp_cstring_bytes("connection_name"), { AMQP_FIELD_KIND_UTF8, { .bytes = amqp_cstring_bytes(cname) } } },
        { amqp_cstring_bytes("capabilities"), { AMQP_FIELD_KIND_TABLE, { .table = { 3, caps } } } },
    };
    amqp_table_t ptable = { 3, props };
    amqp_rpc_reply_t r = amqp_login_with_properties(st, t->vhost, 0, 131072, t->heartbeat, &ptable,
                                                    AMQP_SASL_METHOD_PLAIN, h->user, h->password);
    g_autofree char *what = g_strdup_printf("login to %s:%d as %s (vhost %s)%s", h->host, h->port,
                                            h->user, t->vhost,
                                            t->ssl && r.reply_type == AMQP_RESPONSE_LIBRARY_EXCEPTION &&
                                            r.library_error == AMQP_STATUS_SSL_ERROR
                                            ? " (the broker ended the TLS session: with TLS 1.3 a client"
                                              " certificate it does not trust is refused only now)" : "");
    if (tern_rpc_amqp_check(r, what, error) < 0)
        return -1;
    amqp_channel_open(st, TERN_RPC_CHANNEL);
    if (tern_rpc_amqp_check(amqp_get_rpc_reply(st), "channel.open", error) < 0)
        return -1;
    amqp_confirm_select(st, TERN_RPC_CHANNEL);
    if (tern_rpc_amqp_check(amqp_get_rpc_reply(st), "confirm.select", error) < 0)
        return -1;
    c->publish_seq = 0;
    c->connected = TRUE;
    c->last_rx = g_get_monotonic_time();
    if (c->setup && c->setup(c, st, c->data, error) < 0)
        return -1;
    return 0;
}

/* Try every host once, starting with the last one that worked. */
static int
connect_any(TernRpcConn *c, GError **error)
{
    GPtrArray *hosts = c->t->hosts;
    g_autoptr(GString) errs = g_string_new(NULL);
    for (guint i = 0; i < hosts->len; i++) {
        guint k = (c->host_index + i) % hosts->len;
        g_autoptr(GError) err = NULL;
        if (connect_host(c, hosts->pdata[k], &err) == 0) {
            c->host_index = k;
            return 0;
        }
        c->broken = TRUE;
        drop_connection(c);
        if (errs->len)
            g_string_append(errs, "; ");
        g_string_append(errs, err->message);
        if (err->code == TERN_RPC_ERROR_BROKER && hosts->len == 1) {
            /* e.g. PRECONDITION_FAILED in setup: not a connectivity problem */
            g_propagate_error(error, g_steal_pointer(&err));
            return -1;
        }
    }
    g_set_error(error, TERN_RPC_ERROR, TERN_RPC_ERROR_CONNECT, "no RabbitMQ broker of %s: %s",
                c->t->safe_url, errs->str);
    return -1;
}

static int
declare_exchange(TernRpcConn *c, const TernRpcOut *out, GError **error)
{
    if (!out->exchange_type || !*out->exchange ||
        g_hash_table_contains(c->exchanges, out->exchange))
        return 0;
    amqp_exchange_declare(c->st, TERN_RPC_CHANNEL, amqp_cstring_bytes(out->exchange),
                          amqp_cstring_bytes(out->exchange_type), 0, out->exchange_durable,
                          out->exchange_auto_delete, 0, amqp_empty_table);
    g_autofree char *what = g_strdup_printf("exchange.declare %s", out->exchange);
    if (tern_rpc_amqp_check(amqp_get_rpc_reply(c->st), what, error) < 0) {
        c->broken = TRUE;
        return -1;
    }
    g_hash_table_add(c->exchanges, g_strdup(out->exchange));
    return 0;
}

int
tern_rpc_conn_publish_now(TernRpcConn *c, const TernRpcOut *out, GError **error)
{
    if (!c->connected || c->broken) {
        g_set_error(error, TERN_RPC_ERROR, TERN_RPC_ERROR_CONNECT, "not connected to RabbitMQ");
        return -1;
    }
    if (declare_exchange(c, out, error) < 0)
        return -1;
    amqp_basic_properties_t p;
    memset(&p, 0, sizeof(p));
    char exp[32];
    p._flags = AMQP_BASIC_CONTENT_TYPE_FLAG | AMQP_BASIC_CONTENT_ENCODING_FLAG |
               AMQP_BASIC_DELIVERY_MODE_FLAG | AMQP_BASIC_PRIORITY_FLAG | AMQP_BASIC_HEADERS_FLAG;
    p.content_type = amqp_cstring_bytes("application/json");
    p.content_encoding = amqp_cstring_bytes("utf-8");
    p.delivery_mode = 2;
    p.priority = 0;
    p.headers = amqp_empty_table;
    if (out->expiration_ms > 0) {
        g_snprintf(exp, sizeof(exp), "%" G_GINT64_FORMAT, out->expiration_ms);
        p.expiration = amqp_cstring_bytes(exp);
        p._flags |= AMQP_BASIC_EXPIRATION_FLAG;
    }
    amqp_bytes_t body = { out->len, (void *)out->body };
    int rc = amqp_basic_publish(c->st, TERN_RPC_CHANNEL, amqp_cstring_bytes(out->exchange),
                                amqp_cstring_bytes(out->routing_key), 0, 0, &p, body);
    if (rc == AMQP_STATUS_OK)
        c->publish_seq++;
    if (rc != AMQP_STATUS_OK) {
        c->broken = TRUE;
        g_set_error(error, TERN_RPC_ERROR, TERN_RPC_ERROR_CONNECT, "publish to %s/%s failed: %s",
                    *out->exchange ? out->exchange : "(default)", out->routing_key,
                    amqp_error_string2(rc));
        return -1;
    }
    return 0;
}

void
tern_rpc_conn_ack_now(TernRpcConn *c, guint64 delivery_tag)
{
    if (!c->connected || c->broken)
        return;
    if (amqp_basic_ack(c->st, TERN_RPC_CHANNEL, delivery_tag, 0) != AMQP_STATUS_OK)
        c->broken = TRUE;
}

/* Run what other threads queued. A publish that fails because the
 * connection broke stays queued for the next connection. */
static void
run_pending(TernRpcConn *c)
{
    for (;;) {
        g_mutex_lock(&c->lock);
        OutReq *req = g_queue_pop_head(&c->pending);
        if (req)
            req->in_progress = TRUE;
        g_mutex_unlock(&c->lock);
        if (!req)
            return;
        if (!req->out) {
            if (req->gen == c->gen)
                tern_rpc_conn_ack_now(c, req->tag);
            g_free(req);
            continue;
        }
        if (req->owned && g_get_monotonic_time() > req->deadline) {
            g_mutex_lock(&c->lock);
            g_set_error(&req->error, TERN_RPC_ERROR, TERN_RPC_ERROR_CONNECT,
                        "not published in time: RabbitMQ (%s) was not reachable",
                        c->t->safe_url);
            req_done(c, req);
            g_mutex_unlock(&c->lock);
            continue;
        }
        GError *err = NULL;
        int rc = tern_rpc_conn_publish_now(c, req->out, &err);
        g_mutex_lock(&c->lock);
        if (rc < 0 && c->broken && err->code == TERN_RPC_ERROR_CONNECT) {
            g_clear_error(&err);
            req->in_progress = FALSE;
            g_queue_push_head(&c->pending, req);
            if (req->cond)
                g_cond_signal(req->cond);
            g_mutex_unlock(&c->lock);
            return;
        }
        if (rc == 0) {
            /* complete when the broker confirms it */
            req->seq = c->publish_seq;
            g_queue_push_tail(&c->unconfirmed, req);
            g_mutex_unlock(&c->lock);
            continue;
        }
        req->error = err;
        req_done(c, req);
        g_mutex_unlock(&c->lock);
    }
}

/* basic.ack / basic.nack from the broker for our publishes. */
static void
confirm(TernRpcConn *c, guint64 tag, gboolean multiple, gboolean nack)
{
    g_mutex_lock(&c->lock);
    for (GList *l = c->unconfirmed.head; l;) {
        GList *next = l->next;
        OutReq *req = l->data;
        if (req->seq == tag || (multiple && req->seq <= tag)) {
            g_queue_delete_link(&c->unconfirmed, l);
            if (nack)
                g_set_error(&req->error, TERN_RPC_ERROR, TERN_RPC_ERROR_BROKER,
                            "RabbitMQ refused the message to %s (basic.nack)",
                            req->out->routing_key);
            req_done(c, req);
        } else if (req->seq > tag)
            break;
        l = next;
    }
    g_mutex_unlock(&c->lock);
}

static void
drain_wake(TernRpcConn *c)
{
    guint64 v;
    while (read(c->wake_fd, &v, sizeof(v)) > 0)
        ;
}

/* Wait up to ms, waking early for queued work or stop. */
static void
idle_wait(TernRpcConn *c, int ms)
{
    struct pollfd pf = { c->wake_fd, POLLIN, 0 };
    poll(&pf, 1, ms);
    drain_wake(c);
}

/* A frame that is not a delivery arrived while consuming. */
static void
handle_other_frame(TernRpcConn *c)
{
    amqp_frame_t f;
    struct timeval tv = { 0, 0 };
    int rc = amqp_simple_wait_frame_noblock(c->st, &f, &tv);
    if (rc == AMQP_STATUS_TIMEOUT)
        return;
    if (rc != AMQP_STATUS_OK) {
        TERN_WARN(TERN_RPC_LOG, "%s connection: %s", c->purpose, amqp_error_string2(rc));
        c->broken = TRUE;
        return;
    }
    if (f.frame_type != AMQP_FRAME_METHOD)
        return;
    switch (f.payload.method.id) {
    case AMQP_CHANNEL_CLOSE_METHOD: {
        amqp_channel_close_t *m = f.payload.method.decoded;
        TERN_WARN(TERN_RPC_LOG, "%s connection: the broker closed the channel: %u %.*s", c->purpose,
                  m->reply_code, (int)m->reply_text.len, (const char *)m->reply_text.bytes);
        c->broken = TRUE;
        break;
    }
    case AMQP_CONNECTION_CLOSE_METHOD: {
        amqp_connection_close_t *m = f.payload.method.decoded;
        TERN_WARN(TERN_RPC_LOG, "%s connection: the broker closed the connection: %u %.*s",
                  c->purpose, m->reply_code, (int)m->reply_text.len,
                  (const char *)m->reply_text.bytes);
        c->broken = TRUE;
        break;
    }
    case AMQP_BASIC_ACK_METHOD: {
        amqp_basic_ack_t *m = f.payload.method.decoded;
        confirm(c, m->delivery_tag, m->multiple, FALSE);
        break;
    }
    case AMQP_BASIC_NACK_METHOD: {
        amqp_basic_nack_t *m = f.payload.method.decoded;
        confirm(c, m->delivery_tag, m->multiple, TRUE);
        break;
    }
    case AMQP_BASIC_CANCEL_METHOD:
        /* our queue was deleted: reconnect and declare it again */
        TERN_WARN(TERN_RPC_LOG, "%s connection: the broker cancelled a consumer; re-declaring",
                  c->purpose);
        c->broken = TRUE;
        break;
    default:
        break;
    }
}

/* Read and deliver what has arrived (at most a batch, so queued publishes
 * get their turn). */
static void
drain(TernRpcConn *c)
{
    for (int n = 0; n < 64 && !c->broken; n++) {
        amqp_envelope_t env;
        struct timeval tv = { 0, 0 };
        amqp_maybe_release_buffers(c->st);
        amqp_rpc_reply_t r = amqp_consume_message(c->st, &env, &tv, 0);
        if (r.reply_type == AMQP_RESPONSE_NORMAL) {
            c->last_rx = g_get_monotonic_time();
            if (c->deliver)
                c->deliver(c, &env, c->data);
            amqp_destroy_envelope(&env);
            continue;
        }
        if (r.reply_type == AMQP_RESPONSE_LIBRARY_EXCEPTION) {
            if (r.library_error == AMQP_STATUS_TIMEOUT)
                return;
            if (r.library_error == AMQP_STATUS_UNEXPECTED_STATE) {
                handle_other_frame(c);
                continue;
            }
        }
        g_autoptr(GError) err = NULL;
        tern_rpc_amqp_check(r, "consume", &err);
        TERN_WARN(TERN_RPC_LOG, "%s connection lost: %s", c->purpose,
                  err ? err->message : "unknown error");
        c->broken = TRUE;
    }
}

static void
connected_turn(TernRpcConn *c)
{
    g_mutex_lock(&c->io);
    run_pending(c);
    if (!c->broken && c->tick)
        c->tick(c, c->data);
    if (c->broken) {
        g_mutex_unlock(&c->io);
        return;
    }
    gboolean buffered = amqp_data_in_buffer(c->st) || amqp_frames_enqueued(c->st);
    int fd = amqp_get_sockfd(c->st);
    g_mutex_unlock(&c->io);
    int timeout = 200;
    g_mutex_lock(&c->lock);
    if (c->pending.length || c->stop)
        timeout = 0;
    g_mutex_unlock(&c->lock);
    if (buffered)
        timeout = 0;
    struct pollfd pf[2] = { { c->wake_fd, POLLIN, 0 }, { fd, POLLIN, 0 } };
    int rc = poll(pf, 2, timeout);
    if (rc > 0 && (pf[0].revents & POLLIN))
        drain_wake(c);
    g_mutex_lock(&c->io);
    if (rc > 0 && (pf[1].revents & (POLLIN | POLLERR | POLLHUP)))
        c->last_rx = g_get_monotonic_time();
    /* always give librabbitmq a turn: it sends our heartbeats when due */
    drain(c);
    if (c->t->heartbeat > 0 &&
        g_get_monotonic_time() - c->last_rx > (gint64)c->t->heartbeat * 2 * G_USEC_PER_SEC) {
        TERN_WARN(TERN_RPC_LOG, "%s connection: no heartbeat from the broker for %d s",
                  c->purpose, c->t->heartbeat * 2);
        c->broken = TRUE;
    }
    g_mutex_unlock(&c->io);
}

/* Is the connection to be (re)made? Publishers mark it broken under io. */
static gboolean
needs_connect(TernRpcConn *c)
{
    g_mutex_lock(&c->io);
    gboolean need = !c->connected || c->broken;
    if (need)
        c->ready = FALSE;   /* nobody publishes on it from now on */
    g_mutex_unlock(&c->io);
    return need;
}

static gpointer
io_thread(gpointer p)
{
    TernRpcConn *c = p;
    double backoff = c->t->retry_interval;
    for (;;) {
        g_mutex_lock(&c->lock);
        gboolean stop = c->stop;
        g_mutex_unlock(&c->lock);
        if (stop)
            break;
        if (needs_connect(c)) {
            gboolean was = c->connected;
            drop_connection(c);
            g_autoptr(GError) err = NULL;
            if (connect_any(c, &err) < 0) {
                g_mutex_lock(&c->lock);
                if (!c->first_done) {
                    c->first_done = TRUE;
                    c->first_error = g_steal_pointer(&err);
                    c->stop = TRUE;
                    g_cond_broadcast(&c->cond);
                    g_mutex_unlock(&c->lock);
                    break;
                }
                g_mutex_unlock(&c->lock);
                TERN_WARN(TERN_RPC_LOG, "%s: %s; retrying in %.1f s", c->purpose, err->message,
                          backoff);
                idle_wait(c, (int)(backoff * 1000));
                backoff = MIN(backoff + c->t->retry_backoff, c->t->interval_max);
                continue;
            }
            g_atomic_int_inc(&c->gen);
            g_mutex_lock(&c->io);
            c->ready = TRUE;
            g_mutex_unlock(&c->io);
            backoff = c->t->retry_interval;
            const TernRpcHost *h = c->t->hosts->pdata[c->host_index];
            if (was || c->first_done)
                TERN_INFO(TERN_RPC_LOG, "%s: reconnected to %s:%d", c->purpose, h->host, h->port);
            else
                TERN_DEBUG(TERN_RPC_LOG, "%s: connected to %s:%d", c->purpose, h->host, h->port);
            g_mutex_lock(&c->lock);
            if (!c->first_done) {
                c->first_done = TRUE;
                g_cond_broadcast(&c->cond);
            }
            g_mutex_unlock(&c->lock);
        }
        connected_turn(c);
    }
    g_mutex_lock(&c->io);
    c->ready = FALSE;
    run_pending(c);   /* last publishes (replies of finished handlers) */
    /* wait a little for their confirms */
    for (int i = 0; i < 50 && c->connected && !c->broken; i++) {
        g_mutex_lock(&c->lock);
        gboolean waiting = c->unconfirmed.length > 0;
        g_mutex_unlock(&c->lock);
        if (!waiting)
            break;
        struct pollfd pf = { amqp_get_sockfd(c->st), POLLIN, 0 };
        poll(&pf, 1, 20);
        drain(c);
    }
    g_mutex_unlock(&c->io);
    drop_connection(c);
    /* fail what is still queued */
    g_mutex_lock(&c->lock);
    OutReq *req;
    while ((req = g_queue_pop_head(&c->pending))) {
        if (!req->out) {
            g_free(req);
            continue;
        }
        g_set_error(&req->error, TERN_RPC_ERROR, TERN_RPC_ERROR_CLOSED, "the connection is closing");
        req_done(c, req);
    }
    g_cond_broadcast(&c->cond);
    g_mutex_unlock(&c->lock);
    return NULL;
}

TernRpcConn *
tern_rpc_conn_new(TernRpcTransport *t, const char *purpose, TernRpcConnSetupFunc setup,
                  TernRpcConnDeliverFunc deliver, TernRpcConnTickFunc tick, gpointer data,
                  GError **error)
{
    TernRpcConn *c = g_new0(TernRpcConn, 1);
    c->t = tern_rpc_transport_ref(t);
    c->purpose = g_strdup(purpose);
    c->setup = setup;
    c->deliver = deliver;
    c->tick = tick;
    c->data = data;
    c->wake_fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
    c->exchanges = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);
    g_mutex_init(&c->io);
    g_mutex_init(&c->lock);
    g_cond_init(&c->cond);
    g_queue_init(&c->pending);
    c->thread = g_thread_new("tern-rpc-io", io_thread, c);
    g_mutex_lock(&c->lock);
    while (!c->first_done)
        g_cond_wait(&c->cond, &c->lock);
    GError *err = g_steal_pointer(&c->first_error);
    g_mutex_unlock(&c->lock);
    if (err) {
        g_propagate_error(error, err);
        tern_rpc_conn_free(c);
        return NULL;
    }
    return c;
}

void
tern_rpc_conn_free(TernRpcConn *c)
{
    if (!c)
        return;
    g_mutex_lock(&c->lock);
    c->stop = TRUE;
    g_mutex_unlock(&c->lock);
    wake(c);
    g_thread_join(c->thread);
    close(c->wake_fd);
    g_hash_table_unref(c->exchanges);
    g_clear_error(&c->first_error);
    g_mutex_clear(&c->io);
    g_mutex_clear(&c->lock);
    g_cond_clear(&c->cond);
    tern_rpc_transport_unref(c->t);
    g_free(c->purpose);
    g_free(c);
}

/* Publish on the caller's thread when the connection is up and nothing
 * queued is waiting to go first: the request is then unconfirmed (or done
 * with an error), or queued again for the next connection if the publish
 * broke this one. FALSE: not attempted, the I/O thread is to publish it. */
static gboolean
publish_direct(TernRpcConn *c, OutReq *req)
{
    gboolean attempted = FALSE, wake_io = FALSE;
    g_mutex_lock(&c->io);
    g_mutex_lock(&c->lock);
    gboolean in_order = c->ready && !c->broken && !c->stop && c->pending.length == 0;
    g_mutex_unlock(&c->lock);
    if (in_order) {
        attempted = TRUE;
        GError *err = NULL;
        int rc = tern_rpc_conn_publish_now(c, req->out, &err);
        /* an exchange.declare's wait may have read frames the I/O thread,
         * asleep in poll, would not see on the socket */
        wake_io = c->broken || amqp_frames_enqueued(c->st) || amqp_data_in_buffer(c->st);
        g_mutex_lock(&c->lock);
        req->in_progress = TRUE;
        if (rc == 0) {
            req->seq = c->publish_seq;
            g_queue_push_tail(&c->unconfirmed, req);
        } else if (c->broken && err->code == TERN_RPC_ERROR_CONNECT) {
            g_clear_error(&err);
            req->in_progress = FALSE;
            g_queue_push_tail(&c->pending, req);
        } else {
            req->error = err;
            req_done(c, req);
        }
        g_mutex_unlock(&c->lock);
    }
    g_mutex_unlock(&c->io);
    if (wake_io)
        wake(c);
    return attempted;
}

/* Publish req on this thread if it can go now, else hand it to the I/O
 * thread. -1 (req not taken): the connection is closing. */
static int
publish_or_queue(TernRpcConn *c, OutReq *req, GError **error)
{
    if (publish_direct(c, req))
        return 0;
    g_mutex_lock(&c->lock);
    if (c->stop) {
        g_mutex_unlock(&c->lock);
        g_set_error(error, TERN_RPC_ERROR, TERN_RPC_ERROR_CLOSED, "the connection is closing");
        return -1;
    }
    g_queue_push_tail(&c->pending, req);
    g_mutex_unlock(&c->lock);
    wake(c);
    return 0;
}

int
tern_rpc_conn_send(TernRpcConn *c, const TernRpcOut *out, double timeout, GError **error)
{
    /* The sender's own condition: a confirm wakes its sender alone, not
     * every thread waiting on this connection. */
    GCond cond;
    g_cond_init(&cond);
    OutReq req = { .out = out, .cond = &cond };
    gint64 deadline = g_get_monotonic_time() + (gint64)(timeout * G_USEC_PER_SEC);
    int rc = publish_or_queue(c, &req, error);
    if (rc < 0) {
        g_cond_clear(&cond);
        return -1;
    }
    g_mutex_lock(&c->lock);
    while (!req.done) {
        if (g_get_monotonic_time() < deadline) {
            g_cond_wait_until(&cond, &c->lock, deadline);
            continue;
        }
        if (g_queue_remove(&c->unconfirmed, &req)) {
            g_set_error(error, TERN_RPC_ERROR, TERN_RPC_ERROR_CONNECT,
                        "RabbitMQ (%s) did not confirm the message to %s within %.0f s",
                        c->t->safe_url, out->routing_key, timeout);
            rc = -1;
            break;
        }
        if (!req.in_progress) {
            g_queue_remove(&c->pending, &req);
            g_set_error(error, TERN_RPC_ERROR, TERN_RPC_ERROR_CONNECT,
                        "could not publish to %s within %.0f s: RabbitMQ (%s) is not reachable",
                        out->routing_key, timeout, c->t->safe_url);
            rc = -1;
            break;
        }
        /* the I/O thread is writing it right now: a moment more */
        g_cond_wait_until(&cond, &c->lock, g_get_monotonic_time() + 10 * G_TIME_SPAN_MILLISECOND);
    }
    g_mutex_unlock(&c->lock);
    g_cond_clear(&cond);
    if (rc == 0 && req.error) {
        g_propagate_error(error, req.error);
        rc = -1;
    }
    return rc;
}

gboolean
tern_rpc_conn_ready(TernRpcConn *c)
{
    g_mutex_lock(&c->io);
    gboolean ready = c->ready && !c->broken;
    g_mutex_unlock(&c->io);
    return ready;
}

int
tern_rpc_conn_send_nowait(TernRpcConn *c, const TernRpcOut *out, double timeout,
                          TernRpcConnFailFunc fail, gpointer data, GDestroyNotify destroy,
                          GError **error)
{
    OutReq *req = g_new0(OutReq, 1);
    req->owned = TRUE;
    req->copy = *out;
    req->copy.exchange = g_strdup(out->exchange);
    req->copy.exchange_type = g_strdup(out->exchange_type);
    req->copy.routing_key = g_strdup(out->routing_key);
    req->copy.body = g_memdup2(out->body, out->len);
    req->out = &req->copy;
    req->deadline = g_get_monotonic_time() + (gint64)(timeout * G_USEC_PER_SEC);
    req->fail = fail;
    req->fail_data = data;
    req->fail_destroy = destroy;
    /* taken: unconfirmed, queued, or done (and freed) */
    if (publish_or_queue(c, req, error) == 0)
        return 0;
    owned_free(req);
    return -1;
}

void
tern_rpc_conn_ack(TernRpcConn *c, guint gen, guint64 delivery_tag)
{
    g_mutex_lock(&c->io);
    gboolean direct = c->ready && !c->broken && gen == tern_rpc_conn_generation(c);
    if (direct)
        tern_rpc_conn_ack_now(c, delivery_tag);
    g_mutex_unlock(&c->io);
    if (direct)
        return;
    OutReq *req = g_new0(OutReq, 1);
    req->gen = gen;
    req->tag = delivery_tag;
    g_mutex_lock(&c->lock);
    g_queue_push_tail(&c->pending, req);
    g_mutex_unlock(&c->lock);
    wake(c);
}
