/* libvirt_conn.c: the libvirt connection of tern-compute: event loop
 * thread, lifecycle events, keepalive, close callback and reconnection. */
#include "compute/libvirt_conn.h"

#include <libvirt/virterror.h>
#include <stdarg.h>

#include "common/log.h"
#include "compute/compute_error.h"

struct _TernLibvirtConn {
    char *uri;
    GMutex lock;
    GCond cond;
    virConnectPtr conn;      /* NULL while disconnected */
    int event_id;            /* lifecycle callback id, -1 if none */
    gint lost;               /* the close callback fired (atomic) */
    gboolean quit;
    guint reconnects;
    GThread *watcher;
    TernDomainEventFunc on_event;
    TernConnStateFunc on_state;
    gpointer user_data;
};

static void
silent_error(void *data, virErrorPtr err)
{
    /* errors are reported through GError, not printed by libvirt */
}

static gpointer
event_loop(gpointer data)
{
    for (;;)
        if (virEventRunDefaultImpl() < 0)
            TERN_ERROR("tern.compute", "libvirt event loop: %s", virGetLastErrorMessage());
    return NULL;
}

void
tern_libvirt_event_loop_start(void)
{
    static gsize once = 0;
    if (g_once_init_enter(&once)) {
        virSetErrorFunc(NULL, silent_error);
        if (virEventRegisterDefaultImpl() < 0)
            TERN_ERROR("tern.compute", "cannot register libvirt's event loop: %s",
                       virGetLastErrorMessage());
        /* runs for the life of the process, like libvirt's own clients */
        g_thread_unref(g_thread_new("tern-libvirt-events", event_loop, NULL));
        g_once_init_leave(&once, 1);
    }
}

void
tern_libvirt_set_error(GError **error, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    g_autofree char *what = g_strdup_vprintf(fmt, ap);
    va_end(ap);
    const char *msg = virGetLastErrorMessage();
    g_set_error(error, TERN_COMPUTE_ERROR, TERN_COMPUTE_ERROR_LIBVIRT, "%s: %s", what,
                msg ? msg : "unknown libvirt error");
}

int
tern_power_state_from_libvirt(int state)
{
    switch (state) {
    case VIR_DOMAIN_RUNNING:
        return TERN_POWER_RUNNING;
    case VIR_DOMAIN_BLOCKED:
        return TERN_POWER_RUNNING;   /* blocked on I/O: still running */
    case VIR_DOMAIN_PAUSED:
        return TERN_POWER_PAUSED;
    case VIR_DOMAIN_SHUTDOWN:
        return TERN_POWER_RUNNING;   /* being shut down: not yet off */
    case VIR_DOMAIN_SHUTOFF:
        return TERN_POWER_SHUTDOWN;
    case VIR_DOMAIN_CRASHED:
        return TERN_POWER_CRASHED;
    case VIR_DOMAIN_PMSUSPENDED:
        return TERN_POWER_SUSPENDED;
    default:
        return TERN_POWER_NOSTATE;
    }
}

static int
power_state_from_event(int event)
{
    switch (event) {
    case VIR_DOMAIN_EVENT_STARTED:
    case VIR_DOMAIN_EVENT_RESUMED:
        return TERN_POWER_RUNNING;
    case VIR_DOMAIN_EVENT_SUSPENDED:
        return TERN_POWER_PAUSED;
    case VIR_DOMAIN_EVENT_STOPPED:
        return TERN_POWER_SHUTDOWN;
    case VIR_DOMAIN_EVENT_CRASHED:
        return TERN_POWER_CRASHED;
    case VIR_DOMAIN_EVENT_PMSUSPENDED:
        return TERN_POWER_SUSPENDED;
    case VIR_DOMAIN_EVENT_UNDEFINED:
        return TERN_POWER_NOSTATE;
    default:
        return -1;   /* defined, shutdown requested: no new power state */
    }
}

static int
lifecycle_cb(virConnectPtr conn, virDomainPtr dom, int event, int detail, void *opaque)
{
    TernLibvirtConn *c = opaque;
    char uuid[VIR_UUID_STRING_BUFLEN] = "";
    virDomainGetUUIDString(dom, uuid);
    const char *name = virDomainGetName(dom);
    TERN_DEBUG("tern.compute", "domain %s (%s): lifecycle event %d detail %d", uuid,
               name ? name : "?", event, detail);
    if (c->on_event)
        c->on_event(uuid, name, event, detail, power_state_from_event(event), c->user_data);
    return 0;
}

static void
close_cb(virConnectPtr conn, int reason, void *opaque)
{
    TernLibvirtConn *c = opaque;
    static const char *const reasons[] = { "error", "end of file", "keepalive timeout", "client" };
    TERN_WARN("tern.compute", "lost the libvirt connection to %s (%s); reconnecting", c->uri,
              reason >= 0 && reason < 4 ? reasons[reason] : "unknown");
    /* No c->lock here: libvirt calls this with its close-callback lock
     * held, and the watcher holds c->lock while it unregisters. */
    g_atomic_int_set(&c->lost, TRUE);
    g_cond_signal(&c->cond);
    if (c->on_state)
        c->on_state(FALSE, c->user_data);
}

/* Drop the current connection. Called with the lock held. */
static void
drop_locked(TernLibvirtConn *c)
{
    if (!c->conn)
        return;
    if (c->event_id >= 0)
        virConnectDomainEventDeregisterAny(c->conn, c->event_id);
    virConnectUnregisterCloseCallback(c->conn, close_cb);
    c->event_id = -1;
    virConnectClose(c->conn);
    c->conn = NULL;
}

/* Open and wire a connection. Called with the lock held. */
static int
open_locked(TernLibvirtConn *c, GError **error)
{
    virConnectPtr conn = virConnectOpen(c->uri);
    if (!conn) {
        tern_libvirt_set_error(error, "cannot connect to libvirt at %s", c->uri);
        return -1;
    }
    /* keepalive: a libvirtd that stops answering is noticed in ~20 s
     * (local drivers without keepalive return 1: nothing to do) */
    virConnectSetKeepAlive(conn, 5, 3);
    virConnectRegisterCloseCallback(conn, close_cb, c, NULL);
    c->event_id = virConnectDomainEventRegisterAny(conn, NULL, VIR_DOMAIN_EVENT_ID_LIFECYCLE,
                                                   VIR_DOMAIN_EVENT_CALLBACK(lifecycle_cb),
                                                   c, NULL);
    if (c->event_id < 0)
        TERN_WARN("tern.compute", "no lifecycle events from %s: %s", c->uri,
                  virGetLastErrorMessage());
    c->conn = conn;
    g_atomic_int_set(&c->lost, FALSE);
    return 0;
}

static gpointer
watcher(gpointer data)
{
    TernLibvirtConn *c = data;
    g_mutex_lock(&c->lock);
    while (!c->quit) {
        gboolean dead = g_atomic_int_get(&c->lost) || !c->conn || virConnectIsAlive(c->conn) != 1;
        if (dead) {
            drop_locked(c);
            g_autoptr(GError) err = NULL;
            if (open_locked(c, &err) == 0) {
                c->reconnects++;
                TERN_INFO("tern.compute", "reconnected to libvirt at %s", c->uri);
                g_mutex_unlock(&c->lock);
                if (c->on_state)
                    c->on_state(TRUE, c->user_data);
                g_mutex_lock(&c->lock);
            } else {
                TERN_DEBUG("tern.compute", "%s", err->message);
            }
        }
        gint64 until = g_get_monotonic_time() + G_TIME_SPAN_SECOND;
        g_cond_wait_until(&c->cond, &c->lock, until);
    }
    g_mutex_unlock(&c->lock);
    return NULL;
}

char *
tern_libvirt_uri_from_config(const TernConfig *conf)
{
    const char *uri = tern_config_get_string(conf, "libvirt", "connection_uri");
    /* kvm and qemu (TCG) guests both live in QEMU's system driver */
    return g_strdup(uri && *uri ? uri : "qemu:///system");
}

TernLibvirtConn *
tern_libvirt_conn_open(const char *uri, TernDomainEventFunc on_event, TernConnStateFunc on_state,
                       gpointer user_data, GError **error)
{
    tern_libvirt_event_loop_start();
    TernLibvirtConn *c = g_new0(TernLibvirtConn, 1);
    c->uri = g_strdup(uri ? uri : "qemu:///system");
    c->event_id = -1;
    c->on_event = on_event;
    c->on_state = on_state;
    c->user_data = user_data;
    g_mutex_init(&c->lock);
    g_cond_init(&c->cond);
    g_mutex_lock(&c->lock);
    int rc = open_locked(c, error);
    g_mutex_unlock(&c->lock);
    if (rc < 0) {
        g_mutex_clear(&c->lock);
        g_cond_clear(&c->cond);
        g_free(c->uri);
        g_free(c);
        return NULL;
    }
    c->watcher = g_thread_new("tern-libvirt-watch", watcher, c);
    return c;
}

void
tern_libvirt_conn_close(TernLibvirtConn *c)
{
    if (!c)
        return;
    g_mutex_lock(&c->lock);
    c->quit = TRUE;
    g_cond_signal(&c->cond);
    g_mutex_unlock(&c->lock);
    g_thread_join(c->watcher);
    g_mutex_lock(&c->lock);
    drop_locked(c);
    g_mutex_unlock(&c->lock);
    g_mutex_clear(&c->lock);
    g_cond_clear(&c->cond);
    g_free(c->uri);
    g_free(c);
}

virConnectPtr
tern_libvirt_conn_get(TernLibvirtConn *c, GError **error)
{
    virConnectPtr out = NULL;
    g_mutex_lock(&c->lock);
    if (g_atomic_int_get(&c->lost) || !c->conn || virConnectIsAlive(c->conn) != 1) {
        drop_locked(c);
        if (open_locked(c, error) == 0) {
            c->reconnects++;
            g_mutex_unlock(&c->lock);
            if (c->on_state)
                c->on_state(TRUE, c->user_data);
            g_mutex_lock(&c->lock);
        }
    }
    if (c->conn && virConnectRef(c->conn) == 0)
        out = c->conn;
    g_mutex_unlock(&c->lock);
    return out;
}

gboolean
tern_libvirt_conn_is_alive(TernLibvirtConn *c)
{
    g_mutex_lock(&c->lock);
    gboolean alive = c->conn && !g_atomic_int_get(&c->lost) && virConnectIsAlive(c->conn) == 1;
    g_mutex_unlock(&c->lock);
    return alive;
}

guint
tern_libvirt_conn_reconnects(TernLibvirtConn *c)
{
    g_mutex_lock(&c->lock);
    guint n = c->reconnects;
    g_mutex_unlock(&c->lock);
    return n;
}

const char *
tern_libvirt_conn_uri(TernLibvirtConn *c)
{
    return c->uri;
}
