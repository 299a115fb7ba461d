/* error.c: the TERN_RPC_ERROR domain. It is a GLib extended error domain, so
 * an error can carry the remote exception's module, class and kwargs — what a
 * handler chooses to send (tern_rpc_error_set_remote) and what a client
 * received in a failure reply. */
#include "rpc/rpc_private.h"

typedef struct {
    char *module;
    char *cls;
    json_t *kwargs;
} TernRpcErrorPrivate;

static void
tern_rpc_error_private_init(TernRpcErrorPrivate *p)
{
    p->module = NULL;
    p->cls = NULL;
    p->kwargs = NULL;
}

static void
tern_rpc_error_private_copy(const TernRpcErrorPrivate *src, TernRpcErrorPrivate *dest)
{
    dest->module = g_strdup(src->module);
    dest->cls = g_strdup(src->cls);
    dest->kwargs = src->kwargs ? json_deep_copy(src->kwargs) : NULL;
}

static void
tern_rpc_error_private_clear(TernRpcErrorPrivate *p)
{
    g_clear_pointer(&p->module, g_free);
    g_clear_pointer(&p->cls, g_free);
    if (p->kwargs)
        json_decref(p->kwargs);
    p->kwargs = NULL;
}

G_DEFINE_EXTENDED_ERROR(TernRpcError, tern_rpc_error)

void
tern_rpc_error_set_remote(GError **error, const char *module, const char *cls, json_t *kwargs,
                          const char *fmt, ...)
{
    if (!error) {
        if (kwargs)
            json_decref(kwargs);
        return;
    }
    va_list ap;
    va_start(ap, fmt);
    g_autofree char *msg = g_strdup_vprintf(fmt, ap);
    va_end(ap);
    g_set_error_literal(error, TERN_RPC_ERROR, TERN_RPC_ERROR_REMOTE, msg);
    TernRpcErrorPrivate *p = tern_rpc_error_get_private(*error);
    if (!p) {
        if (kwargs)
            json_decref(kwargs);
        return;
    }
    p->module = g_strdup(module);
    p->cls = g_strdup(cls);
    p->kwargs = kwargs;
}

static TernRpcErrorPrivate *
priv(const GError *error)
{
    if (!error || error->domain != TERN_RPC_ERROR)
        return NULL;
    return tern_rpc_error_get_private(error);
}

const char *
tern_rpc_error_get_class(const GError *error)
{
    TernRpcErrorPrivate *p = priv(error);
    return p ? p->cls : NULL;
}

const char *
tern_rpc_error_get_module(const GError *error)
{
    TernRpcErrorPrivate *p = priv(error);
    return p ? p->module : NULL;
}

json_t *
tern_rpc_error_get_kwargs(const GError *error)
{
    TernRpcErrorPrivate *p = priv(error);
    return p ? p->kwargs : NULL;
}
