/* sched_cache.c: the in-memory host set: one contiguous, 64-byte aligned
 * array of hosts (filters stream through it, one cache line per host), a
 * name index, a read-write lock. */
#include "scheduler/sched_cache.h"

#include <string.h>

struct _TernSchedCache {
    GRWLock lock;
    TernSchedHost *hosts;    /* by value, len of cap used (g_aligned_alloc0) */
    guint len, cap;
    GHashTable *index;       /* host name (borrowed from the host) -> position + 1 */
};

TernSchedCache *
tern_sched_cache_new(void)
{
    TernSchedCache *c = g_new0(TernSchedCache, 1);
    g_rw_lock_init(&c->lock);
    c->index = g_hash_table_new(g_str_hash, g_str_equal);
    return c;
}

static void
clear_hosts(TernSchedCache *c)
{
    for (guint i = 0; i < c->len; i++)
        tern_sched_host_clear(&c->hosts[i]);
    c->len = 0;
}

/* Room for n hosts (what is there moves; the index keys are the hosts'
 * name strings, which do not). */
static void
reserve(TernSchedCache *c, guint n)
{
    if (n <= c->cap)
        return;
    guint cap = MAX(MAX(c->cap * 2, 16u), n);
    TernSchedHost *hosts = g_aligned_alloc0(cap, sizeof(TernSchedHost), G_ALIGNOF(TernSchedHost));
    if (c->len)
        memcpy(hosts, c->hosts, (gsize) c->len * sizeof(TernSchedHost));
    g_aligned_free(c->hosts);
    c->hosts = hosts;
    c->cap = cap;
}

void
tern_sched_cache_free(TernSchedCache *c)
{
    if (!c)
        return;
    g_hash_table_unref(c->index);
    clear_hosts(c);
    g_aligned_free(c->hosts);
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
    *n = c->len;
    return c->hosts;
}

static void
put_locked(TernSchedCache *c, TernSchedHost *h, gboolean keep_service)
{
    tern_sched_host_set_cpu_ids(h);
    guint pos = GPOINTER_TO_UINT(g_hash_table_lookup(c->index, h->host));
    if (pos) {
        TernSchedHost *old = &c->hosts[pos - 1];
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
        reserve(c, c->len + 1);
        TernSchedHost *added = &c->hosts[c->len++];
        *added = *h;
        g_hash_table_insert(c->index, added->host, GUINT_TO_POINTER(c->len));
    }
    g_aligned_free(h);   /* its fields now live in the array */
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
        TernSchedHost *old = &c->hosts[pos - 1];
        g_hash_table_remove(c->index, old->host);
        guint last = c->len - 1;
        tern_sched_host_clear(old);
        if (pos - 1 != last) {
            /* Move the last host into the hole. */
            *old = c->hosts[last];
            g_hash_table_insert(c->index, old->host, GUINT_TO_POINTER(pos));
        }
        memset(&c->hosts[last], 0, sizeof(TernSchedHost));
        c->len = last;
    }
    g_rw_lock_writer_unlock(&c->lock);
    return pos != 0;
}

void
tern_sched_cache_replace_all(TernSchedCache *c, GPtrArray *hosts)
{
    g_rw_lock_writer_lock(&c->lock);
    g_hash_table_remove_all(c->index);
    clear_hosts(c);
    reserve(c, hosts->len);
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
        fn(&c->hosts[pos - 1], data);
    g_rw_lock_writer_unlock(&c->lock);
    return pos != 0;
}

guint
tern_sched_cache_size(TernSchedCache *c)
{
    g_rw_lock_reader_lock(&c->lock);
    guint n = c->len;
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
            fn(&c->hosts[pos - 1], datas[i]);
    }
    g_rw_lock_writer_unlock(&c->lock);
}
