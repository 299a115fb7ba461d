/* transport.c: the broker settings of a process: transport_url parsing (as
 * oslo.messaging's TransportURL.parse reads it) and the [DEFAULT] /
 * [oslo_messaging_rabbit] options, in one reference-counted object. */
#include <string.h>
#include "rpc/rpc_private.h"
#include "common/mask.h"

static void
host_free(gpointer p)
{
    TernRpcHost *h = p;
    g_free(h->host);
    g_free(h->user);
    if (h->password)
        memset(h->password, 0, strlen(h->password));
    g_free(h->password);
    g_free(h);
}

/* One "[user[:pass]@]host[:port]" item of the URL's host list. */
static int
parse_host(TernRpcTransport *t, const char *item, gboolean ssl, GError **error)
{
    g_autofree char *user = NULL, *pass = NULL, *hostname = NULL, *port_text = NULL;
    const char *at = strrchr(item, '@');
    const char *hp = item;
    if (at) {
        g_autofree char *cred = g_strndup(item, at - item);
        char *colon = strchr(cred, ':');
        if (colon) {
            *colon = '\0';
            pass = g_uri_unescape_string(colon + 1, NULL);
        }
        user = g_uri_unescape_string(cred, NULL);
        if (!user || (colon && !pass)) {
            g_set_error(error, TERN_RPC_ERROR, TERN_RPC_ERROR_URL,
                        "transport_url: bad %%-escape in the user name or password");
            return -1;
        }
        hp = at + 1;
    }
    if (hp[0] == '[') {
        const char *end = strchr(hp, ']');
        if (!end) {
            g_set_error(error, TERN_RPC_ERROR, TERN_RPC_ERROR_URL,
                        "transport_url: IPv6 address without its closing ']'");
            return -1;
        }
        hostname = g_strndup(hp + 1, end - hp - 1);
        if (end[1] == ':')
            port_text = g_strdup(end + 2);
        else if (end[1] != '\0') {
            g_set_error(error, TERN_RPC_ERROR, TERN_RPC_ERROR_URL,
                        "transport_url: unexpected text after ']' in host '%s'", hp);
            return -1;
        }
    } else {
        const char *colon = strchr(hp, ':');
        hostname = colon ? g_strndup(hp, colon - hp) : g_strdup(hp);
        if (colon)
            port_text = g_strdup(colon + 1);
    }
    int port = ssl ? 5671 : 5672;
    if (port_text && *port_text) {
        guint64 v;
        if (!g_ascii_string_to_unsigned(port_text, 10, 1, 65535, &v, NULL)) {
            g_set_error(error, TERN_RPC_ERROR, TERN_RPC_ERROR_URL,
                        "transport_url: bad port '%s' (expected 1-65535)", port_text);
            return -1;
        }
        port = (int)v;
    }
    TernRpcHost *h = g_new0(TernRpcHost, 1);
    h->host = (hostname && *hostname) ? g_steal_pointer(&hostname) : g_strdup("localhost");
    h->port = port;
    h->user = user ? g_steal_pointer(&user) : g_strdup("guest");
    h->password = pass ? g_steal_pointer(&pass) : g_strdup("guest");
    tern_mask_add_secret(h->password);
    g_ptr_array_add(t->hosts, h);
    return 0;
}

int
tern_rpc_url_parse(TernRpcTransport *t, const char *url, GError **error)
{
    const char *rest;
    gboolean ssl = FALSE;
    if (!url || !*url) {
        g_set_error(error, TERN_RPC_ERROR, TERN_RPC_ERROR_URL,
                    "[DEFAULT] transport_url is empty; set it to rabbit://user:pass@host:port/vhost");
        return -1;
    }
    if (g_str_has_prefix(url, "rabbit://"))
        rest = url + strlen("rabbit://");
    else if (g_str_has_prefix(url, "rabbits://")) {
        rest = url + strlen("rabbits://");
        ssl = TRUE;
    } else {
        g_autofree char *masked = tern_mask_url(url);
        g_set_error(error, TERN_RPC_ERROR, TERN_RPC_ERROR_URL,
                    "transport_url '%s': only the rabbit:// (and rabbits://) driver is supported",
                    masked);
        return -1;
    }
    if (ssl)
        t->ssl = TRUE;
    /* netloc ends at the first '/' or '?' */
    size_t n = strcspn(rest, "/?");
    g_autofree char *netloc = g_strndup(rest, n);
    const char *path = rest + n;
    g_auto(GStrv) items = g_strsplit(netloc, ",", -1);
    g_ptr_array_set_size(t->hosts, 0);
    for (char **it = items; *it; it++) {
        if (!**it)
            continue;
        if (parse_host(t, *it, t->ssl, error) < 0)
            return -1;
    }
    if (t->hosts->len == 0 && parse_host(t, "", t->ssl, error) < 0)
        return -1;
    g_free(t->vhost);
    t->vhost = NULL;
    if (*path == '/') {
        size_t plen = strcspn(path + 1, "?");
        g_autofree char *raw = g_strndup(path + 1, plen);
        t->vhost = g_uri_unescape_string(raw, NULL);
        if (!t->vhost) {
            g_set_error(error, TERN_RPC_ERROR, TERN_RPC_ERROR_URL,
                        "transport_url: bad %%-escape in the virtual host");
            return -1;
        }
    }
    if (!t->vhost || !*t->vhost) {
        g_free(t->vhost);
        t->vhost = g_strdup("/");
    }
    g_free(t->safe_url);
    t->safe_url = tern_mask_url(url);
    return 0;
}

static TernRpcTransport *
transport_alloc(void)
{
    TernRpcTransport *t = g_new0(TernRpcTransport, 1);
    t->ref = 1;
    t->hosts = g_ptr_array_new_with_free_func(host_free);
    t->heartbeat = 60;
    t->prefetch = 0;
    t->transient_ttl = 1800;
    t->retry_interval = 1.0;
    t->retry_backoff = 2.0;
    t->interval_max = 30.0;
    t->max_message_size = 16 * 1024 * 1024;
    t->exchange = g_strdup("nova");
    t->rpc_response_timeout = 60;
    t->pool_size = 64;
    return t;
}

TernRpcTransport *
tern_rpc_transport_new_from_url(const char *url, GError **error)
{
    TernRpcTransport *t = transport_alloc();
    if (tern_rpc_url_parse(t, url, error) < 0) {
        tern_rpc_transport_unref(t);
        return NULL;
    }
    return t;
}

TernRpcTransport *
tern_rpc_transport_new(const TernConfig *conf, GError **error)
{
    const char *R = "oslo_messaging_rabbit";
    TernRpcTransport *t = transport_alloc();
    t->ssl = tern_config_get_bool(conf, R, "ssl");
    if (tern_rpc_url_parse(t, tern_config_get_string(conf, "DEFAULT", "transport_url"), error) < 0) {
        tern_rpc_transport_unref(t);
        return NULL;
    }
    t->ssl_ca_file = g_strdup(tern_config_get_string(conf, R, "ssl_ca_file"));
    t->ssl_cert_file = g_strdup(tern_config_get_string(conf, R, "ssl_cert_file"));
    t->ssl_key_file = g_strdup(tern_config_get_string(conf, R, "ssl_key_file"));
    if ((t->ssl_cert_file != NULL) != (t->ssl_key_file != NULL)) {
        g_set_error(error, TERN_RPC_ERROR, TERN_RPC_ERROR_URL,
                    "[oslo_messaging_rabbit] ssl_cert_file and ssl_key_file must be set together");
        tern_rpc_transport_unref(t);
        return NULL;
    }
    t->heartbeat = (int)tern_config_get_int(conf, R, "heartbeat_timeout_threshold");
    t->prefetch = (int)tern_config_get_int(conf, R, "rabbit_qos_prefetch_count");
    t->durable = tern_config_get_bool(conf, R, "amqp_durable_queues");
    t->auto_delete = tern_config_get_bool(conf, R, "amqp_auto_delete");
    t->ha_queues = tern_config_get_bool(conf, R, "rabbit_ha_queues");
    t->quorum = tern_config_get_bool(conf, R, "rabbit_quorum_queue");
    if (t->ha_queues && t->quorum) {
        g_set_error(error, TERN_RPC_ERROR, TERN_RPC_ERROR_URL,
                    "[oslo_messaging_rabbit] rabbit_quorum_queue and rabbit_ha_queues are both "
                    "enabled; a queue is quorum or mirrored, not both");
        tern_rpc_transport_unref(t);
        return NULL;
    }
    t->transient_ttl = (int)tern_config_get_int(conf, R, "rabbit_transient_queues_ttl");
    t->retry_interval = tern_config_get_float(conf, R, "rabbit_retry_interval");
    t->retry_backoff = tern_config_get_float(conf, R, "rabbit_retry_backoff");
    t->interval_max = tern_config_get_float(conf, R, "rabbit_interval_max");
    t->max_message_size = tern_config_get_int(conf, R, "max_message_size");
    g_free(t->exchange);
    t->exchange = g_strdup(tern_config_get_string(conf, "DEFAULT", "control_exchange"));
    t->rpc_response_timeout = (int)tern_config_get_int(conf, "DEFAULT", "rpc_response_timeout");
    t->pool_size = (int)tern_config_get_int(conf, "DEFAULT", "executor_thread_pool_size");
    return t;
}

amqp_table_t
tern_rpc_queue_args(const TernRpcTransport *t, gboolean topic_queue, gboolean expires,
                    amqp_table_entry_t *e)
{
    int n = 0;
    if (t->ha_queues)
        e[n++] = (amqp_table_entry_t){ amqp_cstring_bytes("x-ha-policy"),
                                       { AMQP_FIELD_KIND_UTF8, { .bytes = amqp_cstring_bytes("all") } } };
    if (topic_queue && t->quorum)
        e[n++] = (amqp_table_entry_t){ amqp_cstring_bytes("x-queue-type"),
                                       { AMQP_FIELD_KIND_UTF8, { .bytes = amqp_cstring_bytes("quorum") } } };
    if (expires)
        e[n++] = (amqp_table_entry_t){ amqp_cstring_bytes("x-expires"),
                                       { AMQP_FIELD_KIND_I32, { .i32 = t->transient_ttl * 1000 } } };
    return (amqp_table_t){ n, n ? e : NULL };
}

TernRpcTransport *
tern_rpc_transport_ref(TernRpcTransport *t)
{
    g_atomic_int_inc(&t->ref);
    return t;
}

void
tern_rpc_transport_unref(TernRpcTransport *t)
{
    if (!t || !g_atomic_int_dec_and_test(&t->ref))
        return;
    g_ptr_array_unref(t->hosts);
    g_free(t->vhost);
    g_free(t->safe_url);
    g_free(t->ssl_ca_file);
    g_free(t->ssl_cert_file);
    g_free(t->ssl_key_file);
    g_free(t->exchange);
    g_free(t);
}
