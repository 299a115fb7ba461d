/* rpc.h: tern's oslo.messaging-compatible RPC over AMQP (RabbitMQ).
 *
 * What goes on the wire is what oslo.messaging's rabbit driver and Nova put
 * there (docs/wire.md): a Python nova-conductor or oslo RPCClient can call a
 * tern server, and a tern client can call a Python oslo server.
 *
 * Three objects:
 *
 *   TernRpcTransport  the broker settings: [DEFAULT] transport_url (several
 *                     hosts = fail-over, vhost, URL-escaped user/password),
 *                     control_exchange, rpc_response_timeout,
 *                     executor_thread_pool_size, and [oslo_messaging_rabbit]
 *                     (TLS, heartbeats, back-off, prefetch, max_message_size).
 *                     Reference counted; servers and clients hold a ref.
 *
 *   TernRpcServer     consumes what an oslo server for Target(topic, server)
 *                     consumes (queues "topic", "topic.server" and the
 *                     "topic_fanout" exchange), dispatches each request by
 *                     (namespace, method) to a handler from a table, checks the
 *                     requested version (same major, requested minor <= the
 *                     handler's), and replies to calls. It runs its own threads:
 *                     one I/O thread owns the AMQP connection (heartbeats,
 *                     reconnect with back-off); handlers run on a bounded
 *                     GThreadPool ([DEFAULT] executor_thread_pool_size), so a
 *                     handler may block (libvirt, SQL). A GLib-main-loop daemon
 *                     only creates it in its start() and frees it in stop().
 *
 *   TernRpcClient     call (waits for the reply, with a timeout), cast and
 *                     fanout cast. One reply queue per client: create ONE client
 *                     per process and share it; every function is thread-safe.
 *
 * Messages carry a request context (Nova's RequestContext.to_dict(), sent as
 * "_context_<key>" entries): a json object of the unprefixed keys. A server
 * hands the received context to the handler (and sets the thread's log
 * request id from its request_id); a handler that calls or casts on behalf of
 * that request passes the same context on.
 *
 * Errors: functions return NULL / -1 and set a GError in TERN_RPC_ERROR. A
 * failure answered by the remote side is TERN_RPC_ERROR_REMOTE and carries the
 * remote exception's module and class (tern_rpc_error_get_class()).
 *
 * In a daemon (common/service.h):
 *
 *   static json_t *select(const TernRpcRequest *req, gpointer data, GError **error) {
 *       ... decode req->args with tern_object_from_primitive() (rpc/object.h) ...
 *       if (none)
 *           tern_rpc_error_set_remote(error, "nova.exception", "NoValidHost",
 *                                     json_pack("{s:s}", "reason", why),
 *                                     "No valid host was found. %s", why);
 *       return result;               // or NULL with *error set
 *   }
 *   static const TernRpcMethod methods[] = {
 *       { NULL, "select_destinations", "4.5", select },
 *       { NULL },
 *   };
 *   start():  t = tern_rpc_transport_new(tern_service_config(svc), error);
 *             srv = tern_rpc_server_new(t, "scheduler", tern_conf_host(conf), methods, state, error);
 *             client = tern_rpc_client_new(t, error);    // one per process
 *   stop():   tern_rpc_server_free(srv); tern_rpc_client_free(client); tern_rpc_transport_unref(t);
 *
 *   TernRpcTarget to = { .topic = "compute", .server = host, .version = "6.0" };
 *   tern_rpc_cast(client, &to, req->context, "build_and_run_instance", args, &err);
 *
 * The wire format and every behaviour above are described, with recorded
 * examples, in docs/wire.md. */
#ifndef TERN_RPC_H
#define TERN_RPC_H

#include <glib.h>
#include <jansson.h>
#include "common/config.h"

/* g_autoptr(json_t) (guarded: another layer may define it too). */
#ifndef TERN_JSON_AUTOPTR_DEFINED
#define TERN_JSON_AUTOPTR_DEFINED
G_DEFINE_AUTOPTR_CLEANUP_FUNC(json_t, json_decref)
#endif

/* ------------------------------------------------------------------ errors */

/* TERN_RPC_ERROR is a GLib extended error domain: every error in it may carry
 * the remote exception's module, class and kwargs (see below). */
#define TERN_RPC_ERROR (tern_rpc_error_quark())
GQuark tern_rpc_error_quark(void);

typedef enum {
    TERN_RPC_ERROR_URL,                 /* transport_url cannot be parsed */
    TERN_RPC_ERROR_CONNECT,             /* no broker of the URL could be reached / logged into */
    TERN_RPC_ERROR_BROKER,              /* the broker refused an operation (e.g. PRECONDITION_FAILED) */
    TERN_RPC_ERROR_TIMEOUT,             /* no reply to a call within its timeout */
    TERN_RPC_ERROR_REMOTE,              /* the peer answered with a failure */
    TERN_RPC_ERROR_DECODE,              /* a message that is not valid oslo RPC */
    TERN_RPC_ERROR_NO_SUCH_METHOD,      /* the server has no such (namespace, method) */
    TERN_RPC_ERROR_UNSUPPORTED_VERSION, /* the server's version of the method is not compatible */
    TERN_RPC_ERROR_TOO_LARGE,           /* a message larger than max_message_size */
    TERN_RPC_ERROR_CLOSED,              /* the client/server is shutting down */
    TERN_RPC_ERROR_INVALID,             /* bad arguments (a programming or handler error) */
} TernRpcErrorCode;

/* Make a failure that a Python peer raises as module.cls (e.g.
 * "nova.exception", "NoValidHost") with kwargs (a json object, stolen; may be
 * NULL) — oslo re-raises modules in its allowed_remote_exmods (Nova:
 * nova.exception) as that class built from kwargs, others as RemoteError.
 * The message is the exception's text. Code is TERN_RPC_ERROR_REMOTE. */
void tern_rpc_error_set_remote(GError **error, const char *module, const char *cls,
                               json_t *kwargs, const char *fmt, ...) G_GNUC_PRINTF(5, 6);
/* The remote exception's class / module / kwargs of an error in
 * TERN_RPC_ERROR (NULL when there is none, or for other domains). */
const char *tern_rpc_error_get_class(const GError *error);
const char *tern_rpc_error_get_module(const GError *error);
json_t *tern_rpc_error_get_kwargs(const GError *error);   /* borrowed */

/* --------------------------------------------------------------- transport */

typedef struct _TernRpcTransport TernRpcTransport;

/* From a loaded config ([DEFAULT] and [oslo_messaging_rabbit]). */
TernRpcTransport *tern_rpc_transport_new(const TernConfig *conf, GError **error);
/* From a URL with every other setting at its default (tests, tools). */
TernRpcTransport *tern_rpc_transport_new_from_url(const char *url, GError **error);
TernRpcTransport *tern_rpc_transport_ref(TernRpcTransport *t);
void tern_rpc_transport_unref(TernRpcTransport *t);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(TernRpcTransport, tern_rpc_transport_unref)

/* ------------------------------------------------------------------ server */

/* A received request, valid for the duration of the handler call. */
typedef struct {
    const char *method;
    const char *namespace;     /* NULL when the message has none */
    const char *version;       /* the version the caller asked for, "major.minor" */
    json_t *args;              /* json object of keyword arguments (borrowed) */
    json_t *context;           /* json object: _context_* keys without the prefix (borrowed) */
    const char *request_id;    /* context's request_id, or NULL */
    gboolean is_call;          /* FALSE for casts and fanout casts: the result is dropped */
} TernRpcRequest;

/* A handler returns a new reference to the result (any json, NULL = JSON
 * null) or, to answer a failure, returns NULL with *error set: use
 * tern_rpc_error_set_remote() to choose the Python exception class; any other
 * GError is sent with class "TernError", module "tern". Handlers run on worker
 * threads, several at once. */
typedef json_t *(*TernRpcHandlerFunc)(const TernRpcRequest *req, gpointer user_data,
                                      GError **error);

typedef struct {
    const char *namespace;     /* NULL: requests without a namespace (most of Nova) */
    const char *method;
    const char *version;       /* highest version the handler answers, "major.minor" */
    TernRpcHandlerFunc func;
} TernRpcMethod;

typedef struct _TernRpcServer TernRpcServer;

/* Start serving Target(topic, server) with methods (an array ended by an entry
 * whose method is NULL; it must outlive the server). server may be NULL (no
 * topic.server queue). Returns once the queues are declared and bound — so a
 * message published after it returns is delivered — or NULL with error when
 * the broker cannot be reached at all. After that, a lost connection is
 * re-established in the background with back-off. */
TernRpcServer *tern_rpc_server_new(TernRpcTransport *t, const char *topic, const char *server,
                                   const TernRpcMethod *methods, gpointer user_data,
                                   GError **error);
/* Stop consuming, let running handlers finish (their replies are still sent),
 * close the connection, free. */
void tern_rpc_server_free(TernRpcServer *srv);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(TernRpcServer, tern_rpc_server_free)

/* ------------------------------------------------------------------ client */

/* Where a message goes (oslo's Target + prepare()). */
typedef struct {
    const char *topic;         /* "compute", "scheduler", "conductor" */
    const char *server;        /* NULL: any server of the topic; else routing key topic.server */
    const char *namespace;     /* NULL or e.g. "compute_task" */
    const char *version;       /* the version to ask for, e.g. "6.0" */
    const char *exchange;      /* NULL: the transport's control_exchange */
} TernRpcTarget;

typedef struct _TernRpcClient TernRpcClient;

/* Connect and declare this process's reply queue. */
TernRpcClient *tern_rpc_client_new(TernRpcTransport *t, GError **error);
void tern_rpc_client_free(TernRpcClient *c);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(TernRpcClient, tern_rpc_client_free)

/* Call method and wait for its result (a new reference; json null when the
 * method returned None). context may be NULL (an empty context is sent).
 * timeout in seconds; <= 0 means [DEFAULT] rpc_response_timeout. Errors:
 * TERN_RPC_ERROR_TIMEOUT, TERN_RPC_ERROR_REMOTE (class/module attached), or a
 * connection error when no broker is reachable within the timeout. */
json_t *tern_rpc_call(TernRpcClient *c, const TernRpcTarget *target, json_t *context,
                      const char *method, json_t *args, double timeout, GError **error);
/* The same, with oslo's call_monitor_timeout (seconds, 0 = none): the server
 * sends a heartbeat every call_monitor_timeout/2 s while the method runs and
 * the call fails after call_monitor_timeout s without one (Nova's long calls:
 * timeout = long_rpc_timeout, call_monitor_timeout = rpc_response_timeout). */
json_t *tern_rpc_call_full(TernRpcClient *c, const TernRpcTarget *target, json_t *context,
                           const char *method, json_t *args, double timeout,
                           double call_monitor_timeout, GError **error);
/* Send without waiting for an answer (routed like a call). */
int tern_rpc_cast(TernRpcClient *c, const TernRpcTarget *target, json_t *context,
                  const char *method, json_t *args, GError **error);
/* Send to every server of target->topic (exchange "<topic>_fanout"). */
int tern_rpc_fanout_cast(TernRpcClient *c, const TernRpcTarget *target, json_t *context,
                         const char *method, json_t *args, GError **error);

/* ----------------------------------------------------------------- context */

/* A new context as Nova's RequestContext.to_dict() has it (every key Nova
 * sends), for work a tern service starts itself: admin, a fresh
 * "req-<uuid>" request_id, timestamp now. user_id/project_id may be NULL. */
json_t *tern_rpc_context_new(const char *user_id, const char *project_id, gboolean is_admin);

#endif
