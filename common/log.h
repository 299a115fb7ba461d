/* log.h: tern's log lines: time, pid, level, module, request id, message,
 * one line per event, to stderr (or syslog), with secrets masked.
 *
 * Code logs with tern_log() or GLib's g_message/g_warning/g_debug with
 * G_LOG_DOMAIN set to "tern.<module>"; both end in the same writer. */
#ifndef TERN_LOG_H
#define TERN_LOG_H

#include <glib.h>

typedef enum {
    TERN_LOG_DEBUG,
    TERN_LOG_INFO,
    TERN_LOG_WARNING,
    TERN_LOG_ERROR,
} TernLogLevel;

/* Install the writer. program names syslog lines; debug enables DEBUG. */
void tern_log_init(const char *program, gboolean debug, gboolean use_syslog);
void tern_log_set_debug(gboolean debug);
gboolean tern_log_debug_enabled(void);

/* The request id shown on this thread's lines (NULL clears). */
void tern_log_set_request_id(const char *request_id);
const char *tern_log_get_request_id(void);

void tern_log(TernLogLevel level, const char *module, const char *fmt, ...) G_GNUC_PRINTF(3, 4);

#define TERN_DEBUG(module, ...) \
    do { if (tern_log_debug_enabled()) tern_log(TERN_LOG_DEBUG, module, __VA_ARGS__); } while (0)
#define TERN_INFO(module, ...) tern_log(TERN_LOG_INFO, module, __VA_ARGS__)
#define TERN_WARN(module, ...) tern_log(TERN_LOG_WARNING, module, __VA_ARGS__)
#define TERN_ERROR(module, ...) tern_log(TERN_LOG_ERROR, module, __VA_ARGS__)

#endif
