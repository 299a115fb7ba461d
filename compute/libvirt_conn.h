/* libvirt_conn.h: tern-compute's connection to libvirt.
 *
 * One TernLibvirtConn per daemon. It opens [libvirt] connection_uri (or
 * the default for virt_type), runs libvirt's event loop in a thread of its
 * own (virEventRegisterDefaultImpl + virEventRunDefaultImpl), watches the
 * connection with keepalives and a close callback, and reopens it when
 * libvirtd restarts (every second until it answers). Domain lifecycle
 * events (virConnectDomainEventRegisterAny) reach the daemon through one
 * callback, with Nova's power state already worked out, so it can report
 * power-state changes to the conductor; a second callback says when the
 * connection is lost and back (events may have been missed in between:
 * re-read the domains then).
 *
 * Callbacks run on the event loop thread: they must not block for long. */
#ifndef TERN_LIBVIRT_CONN_H
#define TERN_LIBVIRT_CONN_H

#include <glib.h>
#include <libvirt/libvirt.h>

#include "common/config.h"

/* Nova's power_state values (nova/compute/power_state.py). */
typedef enum {
    TERN_POWER_NOSTATE = 0,
    TERN_POWER_RUNNING = 1,
    TERN_POWER_PAUSED = 3,
    TERN_POWER_SHUTDOWN = 4,
    TERN_POWER_CRASHED = 6,
    TERN_POWER_SUSPENDED = 7,
} TernPowerState;

/* A lifecycle event: event/detail are libvirt's virDomainEventType and
 * detail; power_state is Nova's, or -1 when the event changes none
 * (defined, shutdown requested). */
typedef void (*TernDomainEventFunc)(const char *uuid, const char *name, int event, int detail,
                                    int power_state, gpointer user_data);
/* connected: FALSE when the connection was lost, TRUE when it is back. */
typedef void (*TernConnStateFunc)(gboolean connected, gpointer user_data);

typedef struct _TernLibvirtConn TernLibvirtConn;

/* The URI tern uses: [libvirt] connection_uri, else qemu:///system. */
char *tern_libvirt_uri_from_config(const TernConfig *conf);

/* Open uri (NULL: qemu:///system). An error if the first open fails. */
TernLibvirtConn *tern_libvirt_conn_open(const char *uri, TernDomainEventFunc on_event,
                                        TernConnStateFunc on_state, gpointer user_data,
                                        GError **error);
/* Stop reconnecting, deregister, close. */
void tern_libvirt_conn_close(TernLibvirtConn *c);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(TernLibvirtConn, tern_libvirt_conn_close)

/* A live connection (a new reference: virConnectClose it when done), or
 * NULL + error while libvirtd is unreachable. Tries to reopen at once. */
virConnectPtr tern_libvirt_conn_get(TernLibvirtConn *c, GError **error);
gboolean tern_libvirt_conn_is_alive(TernLibvirtConn *c);
/* Times the connection was reopened after a loss. */
guint tern_libvirt_conn_reconnects(TernLibvirtConn *c);
const char *tern_libvirt_conn_uri(TernLibvirtConn *c);

/* Nova's power state for a libvirt virDomainState. */
int tern_power_state_from_libvirt(int state);

/* Start libvirt's event loop thread (once per process; the connection
 * does it itself). Must run before the first virConnectOpen. */
void tern_libvirt_event_loop_start(void);

/* Set a LIBVIRT error: "what: libvirt's last error message". */
void tern_libvirt_set_error(GError **error, const char *fmt, ...) G_GNUC_PRINTF(2, 3);

#endif
