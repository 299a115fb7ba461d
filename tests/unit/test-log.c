/* test-log.c: log lines carry level, module and request id, and never a
 * password, whether logged by tern_log() or by GLib's own g_message(). */
#include <glib.h>
#include <string.h>

#include "common/config.h"
#include "common/log.h"

static void
test_line_format_child(void)
{
    tern_log_init("test-log", TRUE, FALSE);
    tern_log_set_request_id("req-1234");
    TERN_INFO("tern.test", "hello %d", 42);
    TERN_DEBUG("tern.test", "debug shown");
    tern_log_set_request_id(NULL);
    TERN_WARN("tern.test", "no request");
}

static void
test_line_format(void)
{
    g_test_trap_subprocess("/log/format/subprocess", 0, G_TEST_SUBPROCESS_DEFAULT);
    g_test_trap_assert_passed();
    g_test_trap_assert_stderr("*INFO tern.test [req-1234] hello 42\n*");
    g_test_trap_assert_stderr("*DEBUG tern.test [req-1234] debug shown\n*");
    g_test_trap_assert_stderr("*WARNING tern.test [-] no request\n*");
}

static void
test_debug_off_child(void)
{
    tern_log_init("test-log", FALSE, FALSE);
    TERN_DEBUG("tern.test", "hidden line");
    TERN_INFO("tern.test", "shown line");
}

static void
test_debug_off(void)
{
    g_test_trap_subprocess("/log/debug-off/subprocess", 0, G_TEST_SUBPROCESS_DEFAULT);
    g_test_trap_assert_passed();
    g_test_trap_assert_stderr_unmatched("*hidden line*");
    g_test_trap_assert_stderr("*shown line*");
}

static void
test_masked_child(void)
{
    tern_log_init("test-log", TRUE, FALSE);
    g_autoptr(TernConfig) c = tern_config_new();
    g_assert_cmpint(tern_config_load_data(c,
        "[DEFAULT]\ntransport_url = rabbit://nova:Rabbit-Pass-1@mq:5672/\n"
        "[database]\nconnection = postgresql://tern:Db-Pass-2@db/tern\n"
        "[oslo_messaging_rabbit]\nssl_key_file = /etc/tern/key.pem\n", "m.conf", NULL), ==, 0);
    tern_config_log(c);
    TERN_INFO("tern.test", "url rabbit://nova:Rabbit-Pass-1@mq:5672/ pw Db-Pass-2");
    g_message("glib says rabbit://x:Other-Pass-3@h/");
}

static void
test_masked(void)
{
    g_test_trap_subprocess("/log/masked/subprocess", 0, G_TEST_SUBPROCESS_DEFAULT);
    g_test_trap_assert_passed();
    g_test_trap_assert_stderr_unmatched("*Rabbit-Pass-1*");
    g_test_trap_assert_stderr_unmatched("*Db-Pass-2*");
    g_test_trap_assert_stderr_unmatched("*Other-Pass-3*");
    g_test_trap_assert_stderr("*[DEFAULT] transport_url = **** (from m.conf)*");
    g_test_trap_assert_stderr("*url rabbit://nova:****@mq:5672/ pw ****\n*");
    g_test_trap_assert_stderr("*glib says rabbit://x:****@h/*");
    g_test_trap_assert_stderr("*[oslo_messaging_rabbit] ssl_key_file = /etc/tern/key.pem*");
}

int
main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    g_test_add_func("/log/format", test_line_format);
    g_test_add_func("/log/format/subprocess", test_line_format_child);
    g_test_add_func("/log/debug-off", test_debug_off);
    g_test_add_func("/log/debug-off/subprocess", test_debug_off_child);
    g_test_add_func("/log/masked", test_masked);
    g_test_add_func("/log/masked/subprocess", test_masked_child);
    return g_test_run();
}
