/* log.c: the one log writer of every tern program. Lines look like
 * oslo.log's: "2026-11-22 03:10:00.123 4242 INFO tern.rpc [req-...] text". */
#include "log.h"

#include <stdio.h>
#include <syslog.h>
#include <unistd.h>

#include "common/mask.h"

static gboolean log_debug;
static gboolean log_syslog;
static GMutex log_lock;
static GPrivate log_request_id = G_PRIVATE_INIT(g_free);

void
tern_log_set_debug(gboolean debug)
{
    log_debug = debug;
}

gboolean
tern_log_debug_enabled(void)
{
    return log_debug;
}

void
tern_log_set_request_id(const char *request_id)
{
    g_private_replace(&log_request_id, g_strdup(request_id));
}

const char *
tern_log_get_request_id(void)
{
    return g_private_get(&log_request_id);
}

static const char *
level_name(TernLogLevel level)
{
    switch (level) {
    case TERN_LOG_DEBUG: return "DEBUG";
    case TERN_LOG_INFO: return "INFO";
    case TERN_LOG_WARNING: return "WARNING";
    case TERN_LOG_ERROR: return "ERROR";
    }
    return "INFO";
}

static void
emit(TernLogLevel level, const char *module, const char *message)
{
    if (level == TERN_LOG_DEBUG && !log_debug)
        return;
    g_autofree char *masked = tern_mask_text(message);
    const char *rid = tern_log_get_request_id();

    if (log_syslog) {
        static const int prio[] = { LOG_DEBUG, LOG_INFO, LOG_WARNING, LOG_ERR };
        syslog(prio[level], "%s %s [%s] %s", level_name(level), module ? module : "tern",
               rid ? rid : "-", masked);
        return;
    }
    g_autoptr(GDateTime) now = g_date_time_new_now_utc();
    g_autofree char *stamp = g_date_time_format(now, "%Y-%m-%d %H:%M:%S");
    g_mutex_lock(&log_lock);
    fprintf(stderr, "%s.%03d %d %s %s [%s] %s\n", stamp,
            g_date_time_get_microsecond(now) / 1000, (int) getpid(), level_name(level),
            module ? module : "tern", rid ? rid : "-", masked);
    fflush(stderr);
    g_mutex_unlock(&log_lock);
}

void
tern_log(TernLogLevel level, const char *module, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    g_autofree char *msg = g_strdup_vprintf(fmt, ap);
    va_end(ap);
    emit(level, module, msg);
}

/* GLib's own messages (g_warning, g_message, ...) go through emit() too. */
static GLogWriterOutput
glib_writer(GLogLevelFlags flags, const GLogField *fields, gsize n_fields, gpointer data)
{
    const char *domain = NULL, *message = NULL;
    for (gsize k = 0; k < n_fields; k++) {
        if (g_strcmp0(fields[k].key, "GLIB_DOMAIN") == 0)
            domain = fields[k].value;
        else if (g_strcmp0(fields[k].key, "MESSAGE") == 0)
            message = fields[k].value;
    }
    TernLogLevel level = TERN_LOG_INFO;
    if (flags & (G_LOG_LEVEL_ERROR | G_LOG_LEVEL_CRITICAL))
        level = TERN_LOG_ERROR;
    else if (flags & G_LOG_LEVEL_WARNING)
        level = TERN_LOG_WARNING;
    else if (flags & G_LOG_LEVEL_DEBUG)
        level = TERN_LOG_DEBUG;
    emit(level, domain, message ? message : "");
    return G_LOG_WRITER_HANDLED;
}

void
tern_log_init(const char *program, gboolean debug, gboolean use_syslog)
{
    static gsize once;
    log_debug = debug;
    if (use_syslog && !log_syslog) {
        openlog(program, LOG_PID, LOG_DAEMON);
        log_syslog = TRUE;
    }
    if (g_once_init_enter(&once)) {
        g_log_set_writer_func(glib_writer, NULL, NULL);
        g_once_init_leave(&once, 1);
    }
}
