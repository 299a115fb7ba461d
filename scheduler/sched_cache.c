/* sched_cache.c: the in-memory host set: one contiguous array of hosts
 * (filters stream through it), a name index, a read-write lock. */
#include "scheduler/sched_cache.h"

#include <string.h>

struct _TernSchedCache {
    GRWLock lock;
    GArray *hosts;           /* TernSchedHost, by value */
    GHashTable *index;       /* host name (borrowed from the host) -> position + 1 */
};

static void
clear_host(gpointer p)
{
    tern_sched_host_clear(p);
}

TernSchedCache *
tern_sched_cache_new(void)
{
    TernSchedCache *c = g_new0(TernSchedCache, 1);
    g_rw_lock_init(&c->lock);
    c->hosts = g_array_new(FALSE, TRUE, sizeof(TernSchedHost));
    g_array_set_clear_func(c->hosts, clear_host);
    c->index = g_hash_table_new(g_str_hash, g_str_equal);
    return c;
}

void
tern_sched_cache_free(TernSchedCache *c)
{
    if (!c)
        return;
    g_hash_table_unref(c->index);
    g_array_unref(c->hosts);
    g_rw_lock_clear(&c->lock);
    g_free(c);
}

void
tern_sched_cache_read_lock(TernSchedCache *c)
{
    g_rw_lock_reader_lock(&c->lock);
}

void
tern_sched_cache_read_unlock(TernSchedCache *c)
{
    g_rw_lock_reader_unlock(&c->lock);
}

TernSchedHost *
tern_sched_cache_hosts(TernSchedCache *c, guint *n)
{
    *n = c->hosts->len;
    return (TernSchedHost *) c->hosts->data;
}

static void
put_locked(TernSchedCache *c, TernSchedHost *h, gboolean keep_service)
{
    tern_sched_host_set_cpu_ids(h);
    guint pos = GPOINTER_TO_UINT(g_hash_table_lookup(c->index, h->host));
    if (pos) {
        TernSchedHost *old = &g_array_index(c->hosts, TernSchedHost, pos - 1);
        if (keep_service) {
            h->has_service = old->has_service;
            h->svc_disabled = old->svc_disabled;
            h->last_seen_up = old->last_seen_up;
        }
        g_hash_table_remove(c->index, old->host);
        tern_sched_host_clear(old);
        *old = *h;
        g_hash_table_insert(c->index, old->host, GUINT_TO_POINTER(pos));
    } else {
        g_array_append_vals(c->hosts, h, 1);
        TernSchedHost *added = &g_array_index(c->hosts, TernSchedHost, c->hosts->len - 1);
        g_hash_table_insert(c->index, added->host, GUINT_TO_POINTER(c->hosts->len));
    }
    g_free(h);   /* its fields now live in the array */
}

void
tern_sched_cache_put(TernSchedCache *c, TernSchedHost *h, gboolean keep_service)
{
    g_rw_lock_writer_lock(&c->lock);
    put_locked(c, h, keep_service);
    g_rw_lock_writer_unlock(&c->lock);
}

gboolean
tern_sched_cache_remove(TernSchedCache *c, const char *host)
{
    g_rw_lock_writer_lock(&c->lock);
    guint pos = GPOINTER_TO_UINT(g_hash_table_lookup(c->index, host));
    if (pos) {
        TernSchedHost *old = &g_array_index(c->hosts, TernSchedHost, pos - 1);
        g_hash_table_remove(c->index, old->host);
        guint last = c->hosts->len - 1;
        tern_sched_host_clear(old);
        if (pos - 1 != last) {
            /* Move the last host into the hole. */
            *old = g_array_index(c->hosts, TernSchedHost, last);
            memset(&g_array_index(c->hosts, TernSchedHost, last), 0, sizeof(TernSchedHost));
            g_hash_table_insert(c->index, old->host, GUINT_TO_POINTER(pos));
        }
        g_array_set_size(c->hosts, last);
    }
    g_rw_lock_writer_unlock(&c->lock);
    return pos != 0;
}

void
tern_sched_cache_replace_all(TernSchedCache *c, GPtrArray *hosts)
{
    g_rw_lock_writer_lock(&c->lock);
    g_hash_table_remove_all(c->index);
    g_array_set_size(c->hosts, 0);
    g_array_set_size(c->hosts, hosts->len);
    g_array_set_size(c->hosts, 0);   /* keeps the allocation */
    for (guint i = 0; i < hosts->len; i++) {
        put_locked(c, hosts->pdata[i], FALSE);
        hosts->pdata[i] = NULL;
    }
    g_rw_lock_writer_unlock(&c->lock);
}

gboolean
tern_sched_cache_update(TernSchedCache *c, const char *host, TernSchedHostFunc fn, gpointer data)
{
    g_rw_lock_writer_lock(&c->lock);
    guint pos = GPOINTER_TO_UINT(g_hash_table_lookup(c->index, host));
    if (pos)
        fn(&g_array_index(c->hosts, TernSchedHost, pos - 1), data);
    g_rw_lock_writer_unlock(&c->lock);
    return pos != 0;
}

guint
tern_sched_cache_size(TernSchedCache *c)
{
    g_rw_lock_reader_lock(&c->lock);
    guint n = c->hosts->len;
    g_rw_lock_reader_unlock(&c->lock);
    return n;
}

void
tern_sched_cache_update_many(TernSchedCache *c, const char *const *hosts, gpointer *datas,
                             guint n, TernSchedHostFunc fn)
{
    g_rw_lock_writer_lock(&c->lock);
    for (guint i = 0; i < n; i++) {
        guint pos = GPOINTER_TO_UINT(g_hash_table_lookup(c->index, hosts[i]));
        if (pos)
            fn(&g_array_index(c->hosts, TernSchedHost, pos - 1), datas[i]);
    }
    g_rw_lock_writer_unlock(&c->lock);
}
