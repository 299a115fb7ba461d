/* envelope.c: the oslo.messaging message codec (docs/wire.md §2-§4): the
 * {"oslo.version": "2.0", "oslo.message": "<json text>"} envelope, requests
 * (method, args, namespace, version, _msg_id, _reply_q, _timeout,
 * _unique_id, _context_*), replies (result, failure, ending) and the failure
 * JSON. Pure functions over bytes: this is what the fuzz target drives. */
#include <string.h>
#include "rpc/rpc_private.h"

#define CONTEXT_PREFIX "_context_"

char *
tern_rpc_hex_id(void)
{
    guint8 b[16];
    for (int i = 0; i < 4; i++) {
        guint32 r = g_random_int();
        memcpy(b + 4 * i, &r, 4);
    }
    b[6] = (b[6] & 0x0f) | 0x40;   /* as uuid4().hex */
    b[8] = (b[8] & 0x3f) | 0x80;
    char *s = g_malloc(33);
    for (int i = 0; i < 16; i++)
        g_snprintf(s + 2 * i, 3, "%02x", b[i]);
    return s;
}

/* Depth of nesting, stopping early past limit (iterative on the top level,
 * recursive below: jansson itself refuses more than 2048 levels). */
static int
json_depth(json_t *j, int limit)
{
    if (limit < 0)
        return 1;
    int max = 0;
    if (json_is_object(j)) {
        const char *k;
        json_t *v;
        json_object_foreach(j, k, v) {
            int d = json_depth(v, limit - 1);
            if (d > max)
                max = d;
            if (max > limit)
                break;
        }
        return max + 1;
    }
    if (json_is_array(j)) {
        size_t i;
        json_t *v;
        json_array_foreach(j, i, v) {
            int d = json_depth(v, limit - 1);
            if (d > max)
                max = d;
            if (max > limit)
                break;
        }
        return max + 1;
    }
    return 0;
}

static int
check_nesting(json_t *j, const char *what, GError **error)
{
    if (json_depth(j, TERN_RPC_MAX_DEPTH) > TERN_RPC_MAX_DEPTH) {
        g_set_error(error, TERN_RPC_ERROR, TERN_RPC_ERROR_DECODE,
                    "%s nests deeper than %d levels", what, TERN_RPC_MAX_DEPTH);
        return -1;
    }
    return 0;
}

static json_t *
parse_json(const char *text, size_t len, const char *what, gboolean check_depth, GError **error)
{
    json_error_t jerr;
    json_t *j = json_loadb(text, len, JSON_DECODE_ANY, &jerr);
    if (!j) {
        g_set_error(error, TERN_RPC_ERROR, TERN_RPC_ERROR_DECODE,
                    "%s is not valid JSON: %s (line %d, column %d)", what, jerr.text,
                    jerr.line, jerr.column);
        return NULL;
    }
    if (check_depth && check_nesting(j, what, error) < 0) {
        json_decref(j);
        return NULL;
    }
    return j;
}

json_t *
tern_rpc_envelope_unwrap(const char *body, size_t len, GError **error)
{
    g_autoptr(json_t) outer = parse_json(body, len, "message body", TRUE, error);
    if (!outer)
        return NULL;
    if (!json_is_object(outer)) {
        g_set_error(error, TERN_RPC_ERROR, TERN_RPC_ERROR_DECODE,
                    "message body is not a JSON object");
        return NULL;
    }
    json_t *ver = json_object_get(outer, "oslo.version");
    json_t *inner = json_object_get(outer, "oslo.message");
    if (!ver || !inner)   /* oslo accepts an un-enveloped message */
        return g_steal_pointer(&outer);
    if (!json_is_string(ver) || !json_is_string(inner)) {
        g_set_error(error, TERN_RPC_ERROR, TERN_RPC_ERROR_DECODE,
                    "envelope: oslo.version and oslo.message must be strings");
        return NULL;
    }
    const char *v = json_string_value(ver);
    if (strcmp(v, "2") != 0 && !g_str_has_prefix(v, "2.")) {
        g_set_error(error, TERN_RPC_ERROR, TERN_RPC_ERROR_DECODE,
                    "envelope version %s is not supported (expected 2.x)", v);
        return NULL;
    }
    /* nesting is checked by the callers, once they have read the reply
     * address (so that a too-deep request still gets its failure reply) */
    json_t *msg = parse_json(json_string_value(inner), json_string_length(inner),
                             "oslo.message", FALSE, error);
    if (!msg)
        return NULL;
    if (!json_is_object(msg)) {
        g_set_error(error, TERN_RPC_ERROR, TERN_RPC_ERROR_DECODE,
                    "oslo.message is not a JSON object");
        json_decref(msg);
        return NULL;
    }
    return msg;
}

char *
tern_rpc_envelope_wrap(json_t *msg)
{
    g_autofree char *inner = json_dumps(msg, JSON_COMPACT | JSON_ENCODE_ANY);
    g_autoptr(json_t) outer = json_pack("{s:s, s:s}", "oslo.version", "2.0",
                                        "oslo.message", inner ? inner : "{}");
    return json_dumps(outer, JSON_COMPACT);
}

void
tern_rpc_msg_clear(TernRpcMsg *m)
{
    if (m->msg)
        json_decref(m->msg);
    if (m->context)
        json_decref(m->context);
    memset(m, 0, sizeof(*m));
}

/* An optional string member: NULL when absent or null; error on other types. */
static int
opt_string(json_t *msg, const char *key, const char **out, GError **error)
{
    json_t *v = json_object_get(msg, key);
    *out = NULL;
    if (!v || json_is_null(v))
        return 0;
    if (!json_is_string(v)) {
        g_set_error(error, TERN_RPC_ERROR, TERN_RPC_ERROR_DECODE,
                    "message key %s must be a string", key);
        return -1;
    }
    *out = json_string_value(v);
    return 0;
}

int
tern_rpc_msg_decode(const char *body, size_t len, TernRpcMsg *m, GError **error)
{
    memset(m, 0, sizeof(*m));
    m->msg = tern_rpc_envelope_unwrap(body, len, error);
    if (!m->msg)
        return -1;
    json_t *msg = m->msg;
    /* reply address first, so that a bad request can still be answered */
    if (opt_string(msg, "_msg_id", &m->msg_id, error) < 0 ||
        opt_string(msg, "_reply_q", &m->reply_q, error) < 0) {
        m->msg_id = m->reply_q = NULL;
        return -1;
    }
    if (!m->msg_id || !m->reply_q)
        m->msg_id = m->reply_q = NULL;
    if (check_nesting(msg, "oslo.message", error) < 0)
        return -1;
    if (opt_string(msg, "_unique_id", &m->unique_id, error) < 0 ||
        opt_string(msg, "method", &m->method, error) < 0 ||
        opt_string(msg, "namespace", &m->namespace, error) < 0 ||
        opt_string(msg, "version", &m->version, error) < 0)
        return -1;
    if (!m->method || !*m->method) {
        g_set_error(error, TERN_RPC_ERROR, TERN_RPC_ERROR_DECODE,
                    "message has no method");
        return -1;
    }
    if (!m->version)
        m->version = "1.0";   /* oslo's default */
    json_t *args = json_object_get(msg, "args");
    if (!args || json_is_null(args)) {
        args = json_object();
        json_object_set_new(msg, "args", args);
    }
    if (!json_is_object(args)) {
        g_set_error(error, TERN_RPC_ERROR, TERN_RPC_ERROR_DECODE,
                    "message key args must be an object");
        return -1;
    }
    m->args = args;
    json_t *t = json_object_get(msg, "_timeout");
    if (t && !json_is_null(t)) {
        if (!json_is_number(t) || json_number_value(t) < 0) {
            g_set_error(error, TERN_RPC_ERROR, TERN_RPC_ERROR_DECODE,
                        "message key _timeout must be a non-negative number");
            return -1;
        }
        m->call_monitor_timeout = json_number_value(t);
    }
    m->context = json_object();
    const char *k;
    json_t *v;
    json_object_foreach(msg, k, v) {
        if (g_str_has_prefix(k, CONTEXT_PREFIX))
            json_object_set(m->context, k + strlen(CONTEXT_PREFIX), v);
    }
    return 0;
}

char *
tern_rpc_msg_encode(const char *method, const char *namespace, const char *version,
                    json_t *args, json_t *context, const char *msg_id, const char *reply_q,
                    double call_monitor_timeout)
{
    g_autoptr(json_t) msg = json_object();
    g_autofree char *unique = tern_rpc_hex_id();
    json_object_set_new(msg, "method", json_string(method));
    json_object_set_new(msg, "args", args ? json_incref(args) : json_object());
    if (namespace)
        json_object_set_new(msg, "namespace", json_string(namespace));
    if (version)
        json_object_set_new(msg, "version", json_string(version));
    if (msg_id) {
        json_object_set_new(msg, "_msg_id", json_string(msg_id));
        json_object_set_new(msg, "_reply_q", json_string(reply_q));
        json_object_set_new(msg, "_timeout", call_monitor_timeout > 0
                            ? json_integer((json_int_t)call_monitor_timeout) : json_null());
    }
    json_object_set_new(msg, "_unique_id", json_string(unique));
    if (context) {
        const char *k;
        json_t *v;
        json_object_foreach(context, k, v) {
            g_autofree char *key = g_strconcat(CONTEXT_PREFIX, k, NULL);
            json_object_set(msg, key, v);
        }
    }
    return tern_rpc_envelope_wrap(msg);
}

void
tern_rpc_reply_clear(TernRpcReply *r)
{
    if (r->msg)
        json_decref(r->msg);
    memset(r, 0, sizeof(*r));
}

int
tern_rpc_reply_decode(const char *body, size_t len, TernRpcReply *r, GError **error)
{
    memset(r, 0, sizeof(*r));
    r->msg = tern_rpc_envelope_unwrap(body, len, error);
    if (!r->msg || check_nesting(r->msg, "reply", error) < 0)
        return -1;
    if (opt_string(r->msg, "_msg_id", &r->msg_id, error) < 0)
        return -1;
    if (!r->msg_id) {
        g_set_error(error, TERN_RPC_ERROR, TERN_RPC_ERROR_DECODE, "reply has no _msg_id");
        return -1;
    }
    json_t *f = json_object_get(r->msg, "failure");
    if (f && !json_is_null(f)) {
        if (json_is_string(f))
            r->failure = json_string_value(f);
        else {
            g_set_error(error, TERN_RPC_ERROR, TERN_RPC_ERROR_DECODE,
                        "reply key failure must be a string");
            return -1;
        }
    }
    r->result = json_object_get(r->msg, "result");
    json_t *e = json_object_get(r->msg, "ending");
    /* Old drivers sent the result and a separate ending message; a reply
     * without "ending" is treated as final. */
    r->ending = !e || json_is_true(e) || (json_is_integer(e) && json_integer_value(e));
    return 0;
}

/* Failure JSON for an error: TERN_RPC_ERROR's remote class when the handler
 * chose one, oslo's own classes for dispatch errors, else TernError. */
static char *
failure_text(const GError *err)
{
    const char *module = "tern", *cls = "TernError";
    json_t *kwargs = NULL;
    if (err->domain == TERN_RPC_ERROR) {
        switch (err->code) {
        case TERN_RPC_ERROR_NO_SUCH_METHOD:
            module = "oslo_messaging.rpc.dispatcher", cls = "NoSuchMethod";
            break;
        case TERN_RPC_ERROR_UNSUPPORTED_VERSION:
            module = "oslo_messaging.rpc.dispatcher", cls = "UnsupportedVersion";
            break;
        case TERN_RPC_ERROR_DECODE:
        case TERN_RPC_ERROR_TOO_LARGE:
            module = "builtins", cls = "ValueError";
            break;
        case TERN_RPC_ERROR_TIMEOUT:
            module = "oslo_messaging.exceptions", cls = "MessagingTimeout";
            break;
        default:
            if (tern_rpc_error_get_class(err)) {
                cls = tern_rpc_error_get_class(err);
                module = tern_rpc_error_get_module(err) ? tern_rpc_error_get_module(err)
                                                        : "builtins";
                kwargs = tern_rpc_error_get_kwargs(err);
            }
        }
    }
    g_autofree char *last = g_strdup_printf("%s.%s: %s\n", module, cls, err->message);
    gboolean plain_args = !kwargs || json_object_size(kwargs) == 0;
    g_autoptr(json_t) f = json_pack("{s:s, s:s, s:s, s:[s], s:o, s:o}",
                                    "class", cls, "module", module, "message", err->message,
                                    "tb", last,
                                    "args", plain_args ? json_pack("[s]", err->message)
                                                       : json_array(),
                                    "kwargs", kwargs ? json_incref(kwargs) : json_object());
    return json_dumps(f, JSON_COMPACT);
}

char *
tern_rpc_reply_encode(const char *msg_id, json_t *result, const GError *failure, gboolean ending)
{
    g_autoptr(json_t) msg = json_object();
    g_autofree char *unique = tern_rpc_hex_id();
    json_object_set(msg, "result", (result && !failure) ? result : json_null());
    if (failure) {
        g_autofree char *f = failure_text(failure);
        json_object_set_new(msg, "failure", json_string(f));
    } else
        json_object_set_new(msg, "failure", json_null());
    json_object_set_new(msg, "ending", json_boolean(ending));
    json_object_set_new(msg, "_msg_id", json_string(msg_id));
    json_object_set_new(msg, "_unique_id", json_string(unique));
    return tern_rpc_envelope_wrap(msg);
}

void
tern_rpc_failure_to_error(const char *failure, GError **error)
{
    g_autoptr(GError) perr = NULL;
    g_autoptr(json_t) f = parse_json(failure, strlen(failure), "failure", TRUE, &perr);
    if (!f || !json_is_object(f)) {
        tern_rpc_error_set_remote(error, NULL, "RemoteError", NULL, "%s", failure);
        return;
    }
    const char *cls = json_string_value(json_object_get(f, "class"));
    const char *module = json_string_value(json_object_get(f, "module"));
    const char *message = json_string_value(json_object_get(f, "message"));
    json_t *kwargs = json_object_get(f, "kwargs");
    tern_rpc_error_set_remote(error, module, cls ? cls : "RemoteError",
                              json_is_object(kwargs) ? json_incref(kwargs) : NULL,
                              "%s%s%s", cls ? cls : "RemoteError", ": ",
                              message ? message : "");
}
