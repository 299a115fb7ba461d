/* rpc_private.h: what the files of rpc/ share and nothing outside uses: the
 * transport's settings, the connection engine (one I/O thread per AMQP
 * connection) and the oslo envelope codec. */
#ifndef TERN_RPC_PRIVATE_H
#define TERN_RPC_PRIVATE_H

#include <amqp.h>
#include "rpc/rpc.h"

#define TERN_RPC_LOG "tern.rpc"

/* ---------------------------------------------------------------- transport */

typedef struct {
    char *host;
    int port;
    char *user;
    char *password;
} TernRpcHost;

struct _TernRpcTransport {
    gint ref;
    GPtrArray *hosts;              /* TernRpcHost*, in fail-over order */
    char *vhost;
    char *safe_url;                /* for logs: passwords masked */
    gboolean ssl;
    char *ssl_ca_file, *ssl_cert_file, *ssl_key_file;
    int heartbeat;                 /* seconds, 0 = off */
    int prefetch;                  /* basic.qos per consumer, 0 = pool size */
    gboolean durable;              /* amqp_durable_queues */
    gboolean auto_delete;          /* amqp_auto_delete */
    gboolean ha_queues;            /* rabbit_ha_queues */
    gboolean quorum;               /* rabbit_quorum_queue */
    int transient_ttl;             /* seconds (x-expires of fanout and reply queues) */
    double retry_interval, retry_backoff, interval_max;
    gint64 max_message_size;
    char *exchange;                /* control_exchange */
    int rpc_response_timeout;
    int pool_size;                 /* executor_thread_pool_size */
};

/* Topic exchange and topic queues are durable (oslo: amqp_durable_queues
 * or rabbit_quorum_queue). */
#define TERN_RPC_DURABLE(t) ((t)->durable || (t)->quorum)

/* Queue arguments as oslo's _get_queue_arguments: x-ha-policy (every
 * queue), x-queue-type quorum (topic queues only), x-expires (fanout and
 * reply queues). e must hold 3 entries. */
amqp_table_t tern_rpc_queue_args(const TernRpcTransport *t, gboolean topic_queue,
                                 gboolean expires, amqp_table_entry_t *e);

/* Parse a transport_url into t's hosts and vhost. */
int tern_rpc_url_parse(TernRpcTransport *t, const char *url, GError **error);

/* --------------------------------------------------------------- connection */

typedef struct _TernRpcConn TernRpcConn;

#define TERN_RPC_CHANNEL 1

/* Called in the I/O thread after each (re)connect, to declare queues and
 * start consumers on channel TERN_RPC_CHANNEL. */
typedef int (*TernRpcConnSetupFunc)(TernRpcConn *c, amqp_connection_state_t st,
                                    gpointer data, GError **error);
/* Called in the I/O thread for each delivery. */
typedef void (*TernRpcConnDeliverFunc)(TernRpcConn *c, const amqp_envelope_t *env,
                                       gpointer data);
/* Called in the I/O thread on every turn of its loop (at least every
 * 200 ms), while connected. */
typedef void (*TernRpcConnTickFunc)(TernRpcConn *c, gpointer data);

typedef struct {
    const char *exchange;          /* "" = the default exchange */
    const char *exchange_type;     /* "topic"/"fanout": declare it first (as oslo); NULL: no declare */
    gboolean exchange_durable;
    gboolean exchange_auto_delete;
    const char *routing_key;
    const char *body;
    size_t len;
    gint64 expiration_ms;          /* > 0: per-message TTL (calls) */
} TernRpcOut;

TernRpcConn *tern_rpc_conn_new(TernRpcTransport *t, const char *purpose,
                               TernRpcConnSetupFunc setup, TernRpcConnDeliverFunc deliver,
                               TernRpcConnTickFunc tick, gpointer data, GError **error);
void tern_rpc_conn_free(TernRpcConn *c);
TernRpcTransport *tern_rpc_conn_transport(TernRpcConn *c);
/* Generation of the current connection (changes at each reconnect). */
guint tern_rpc_conn_generation(TernRpcConn *c);
/* Any thread: publish through the I/O thread and wait until it is written
 * (or the deadline passes while no broker is reachable). */
int tern_rpc_conn_send(TernRpcConn *c, const TernRpcOut *out, double timeout, GError **error);
/* Called (under the connection's lock: take no lock a connection call
 * holds) when a message sent without waiting is refused or not published
 * in time. */
typedef void (*TernRpcConnFailFunc)(const GError *error, gpointer data);
/* Any thread: publish (on this thread when the connection is up and no
 * queued message is to go first, else through the I/O thread) and return
 * without waiting for the broker's confirm. The connection keeps a copy
 * until the broker confirms it, publishes it again after a reconnect, and
 * calls fail (NULL: a warning is logged) if the broker refuses it or it is
 * not published within timeout; destroy(data) when done. -1: the
 * connection is closing. */
int tern_rpc_conn_send_nowait(TernRpcConn *c, const TernRpcOut *out, double timeout,
                              TernRpcConnFailFunc fail, gpointer data, GDestroyNotify destroy,
                              GError **error);
/* Connected and set up right now (a moment later it may not be). */
gboolean tern_rpc_conn_ready(TernRpcConn *c);
/* Any thread: ack delivery_tag of connection generation gen (dropped if the
 * connection was replaced meanwhile). Does not wait. */
void tern_rpc_conn_ack(TernRpcConn *c, guint gen, guint64 delivery_tag);
/* I/O thread only (inside setup/deliver/tick): publish now. */
int tern_rpc_conn_publish_now(TernRpcConn *c, const TernRpcOut *out, GError **error);
/* I/O thread only: ack now. */
void tern_rpc_conn_ack_now(TernRpcConn *c, guint64 delivery_tag);
/* Turn an AMQP reply into a GError; 0 if it is normal. */
int tern_rpc_amqp_check(amqp_rpc_reply_t r, const char *what, GError **error);

/* ----------------------------------------------------------------- envelope */

/* Deepest json nesting accepted in a message. */
#define TERN_RPC_MAX_DEPTH 64

/* A decoded request (oslo.message of a call, cast or fanout cast). */
typedef struct {
    json_t *msg;                   /* the whole decoded message (owned) */
    const char *method;
    const char *namespace;
    const char *version;
    json_t *args;                  /* borrowed from msg */
    json_t *context;               /* owned: the _context_* keys without prefix */
    const char *msg_id;            /* NULL for casts */
    const char *reply_q;
    double call_monitor_timeout;   /* _timeout, 0 = none */
    const char *unique_id;
} TernRpcMsg;

void tern_rpc_msg_clear(TernRpcMsg *m);

/* Unwrap the envelope of a body of len bytes and decode the request. On
 * error, m->msg_id / m->reply_q are still set when they could be read (so
 * the caller can answer a failure). */
int tern_rpc_msg_decode(const char *body, size_t len, TernRpcMsg *m, GError **error);
/* Encode a request (returns the envelope text). msg_id/reply_q NULL for casts. */
char *tern_rpc_msg_encode(const char *method, const char *namespace, const char *version,
                          json_t *args, json_t *context, const char *msg_id,
                          const char *reply_q, double call_monitor_timeout);

/* A decoded reply. */
typedef struct {
    json_t *msg;                   /* owned */
    const char *msg_id;
    json_t *result;                /* borrowed */
    const char *failure;           /* JSON text of the failure, or NULL */
    gboolean ending;
} TernRpcReply;

void tern_rpc_reply_clear(TernRpcReply *r);
int tern_rpc_reply_decode(const char *body, size_t len, TernRpcReply *r, GError **error);
/* Encode a reply; failure may be NULL (result may be NULL = null). */
char *tern_rpc_reply_encode(const char *msg_id, json_t *result, const GError *failure,
                            gboolean ending);
/* Turn a failure JSON text into a TERN_RPC_ERROR_REMOTE error. */
void tern_rpc_failure_to_error(const char *failure, GError **error);

/* Strip the envelope: returns the decoded inner message (new ref); its
 * nesting depth is not checked yet (callers check it). */
json_t *tern_rpc_envelope_unwrap(const char *body, size_t len, GError **error);
char *tern_rpc_envelope_wrap(json_t *msg);
/* A random 32-hex id (msg ids, unique ids, reply queue suffix). */
char *tern_rpc_hex_id(void);

#endif
