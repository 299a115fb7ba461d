/* test-config.c: the config loader: every type, every error path,
 * precedence across files and folders, unknown options, masking. */
#include <glib.h>
#include <glib/gstdio.h>
#include <string.h>
#include <sys/stat.h>

#include "common/config.h"
#include "common/log.h"
#include "common/mask.h"

static char *
write_file(const char *dir, const char *name, const char *text, int mode)
{
    char *path = g_build_filename(dir, name, NULL);
    g_assert_true(g_file_set_contents(path, text, -1, NULL));
    g_chmod(path, mode);
    return path;
}

static void
test_defaults(void)
{
    g_autoptr(TernConfig) c = tern_config_new();
    g_assert_cmpstr(tern_config_get_string(c, "DEFAULT", "control_exchange"), ==, "nova");
    g_assert_cmpint(tern_config_get_int(c, "DEFAULT", "rpc_response_timeout"), ==, 60);
    g_assert_false(tern_config_get_bool(c, "DEFAULT", "debug"));
    g_assert_cmpfloat(tern_config_get_float(c, "DEFAULT", "cpu_allocation_ratio"), ==, 16.0);
    g_assert_cmpstr(tern_config_get_string(c, "libvirt", "virt_type"), ==, "kvm");
    g_assert_null(tern_config_get_string(c, "libvirt", "cpu_mode"));
    g_assert_null(tern_config_get_list(c, "libvirt", "cpu_models")[0]);
    g_assert_cmpstr(tern_config_get_origin(c, "DEFAULT", "debug"), ==, "<default>");
}

static void
test_types(void)
{
    g_autoptr(TernConfig) c = tern_config_new();
    g_autoptr(GError) err = NULL;
    const char *text =
        "# a comment\n"
        "; an oslo-style comment\n"
        "[DEFAULT]\n"
        "debug = Yes\n"
        "rpc_response_timeout = 30\n"
        "ram_allocation_ratio = 1.25\n"
        "host = node-1\n"
        "[libvirt]\n"
        "virt_type = qemu\n"
        "cpu_mode = custom\n"
        "cpu_models = Skylake-Client-IBRS , Broadwell,, Haswell\n"
        "cpu-model-extra-flags = +md-clear,-PCID\n";
    g_assert_cmpint(tern_config_load_data(c, text, "t.conf", &err), ==, 0);
    g_assert_no_error(err);
    g_assert_true(tern_config_get_bool(c, "DEFAULT", "debug"));
    g_assert_cmpint(tern_config_get_int(c, "DEFAULT", "rpc_response_timeout"), ==, 30);
    g_assert_cmpfloat(tern_config_get_float(c, "DEFAULT", "ram_allocation_ratio"), ==, 1.25);
    g_assert_cmpstr(tern_config_get_string(c, "DEFAULT", "host"), ==, "node-1");
    g_assert_cmpstr(tern_config_get_string(c, "libvirt", "virt_type"), ==, "qemu");
    const char *const *models = tern_config_get_list(c, "libvirt", "cpu_models");
    g_assert_cmpuint(g_strv_length((char **) models), ==, 3);
    g_assert_cmpstr(models[0], ==, "Skylake-Client-IBRS");
    g_assert_cmpstr(models[1], ==, "Broadwell");
    g_assert_cmpstr(models[2], ==, "Haswell");
    const char *const *flags = tern_config_get_list(c, "libvirt", "cpu_model_extra_flags");
    g_assert_cmpstr(flags[0], ==, "+md-clear");
    g_assert_cmpstr(flags[1], ==, "-PCID");
    g_assert_cmpstr(tern_config_get_origin(c, "libvirt", "virt_type"), ==, "t.conf");
    g_assert_cmpuint(tern_config_warnings(c)->len, ==, 0);
}

static void
test_bools(void)
{
    static const struct { const char *text; gboolean value; } cases[] = {
        { "true", TRUE }, { "TRUE", TRUE }, { "on", TRUE }, { "1", TRUE }, { "yes", TRUE },
        { "false", FALSE }, { "Off", FALSE }, { "0", FALSE }, { "no", FALSE },
    };
    for (gsize k = 0; k < G_N_ELEMENTS(cases); k++) {
        g_autoptr(TernConfig) c = tern_config_new();
        g_autoptr(GError) err = NULL;
        g_assert_cmpint(tern_config_set(c, "DEFAULT", "use_syslog", cases[k].text, &err), ==, 0);
        g_assert_cmpint(tern_config_get_bool(c, "DEFAULT", "use_syslog"), ==, cases[k].value);
    }
}

/* Each bad value: loading fails with file, section, key and the reason. */
static void
test_bad_values(void)
{
    static const struct { const char *text; const char *expect; } cases[] = {
        { "[DEFAULT]\nrpc_response_timeout = soon\n",
          "bad.conf: [DEFAULT] rpc_response_timeout = \"soon\": must be an integer" },
        { "[DEFAULT]\nrpc_response_timeout = 0\n",
          "bad.conf: [DEFAULT] rpc_response_timeout = \"0\": must be an integer between 1 and 86400" },
        { "[DEFAULT]\nrpc_response_timeout = 99999999999999999999999\n",
          "[DEFAULT] rpc_response_timeout" },
        { "[DEFAULT]\nrpc_response_timeout = 12abc\n", "must be an integer" },
        { "[DEFAULT]\ndebug = maybe\n",
          "bad.conf: [DEFAULT] debug = \"maybe\": must be a boolean" },
        { "[DEFAULT]\nram_allocation_ratio = lots\n",
          "bad.conf: [DEFAULT] ram_allocation_ratio = \"lots\": must be a number" },
        { "[DEFAULT]\nram_allocation_ratio = -1\n", "must be a number between 0 and 1000" },
        { "[DEFAULT]\nram_allocation_ratio = nan\n", "must be a number" },
        { "[libvirt]\nvirt_type = xen\n",
          "bad.conf: [libvirt] virt_type = \"xen\": must be one of: kvm, qemu" },
        { "[libvirt]\ncpu_mode = Host-Model\n", "[libvirt] cpu_mode" },
        { "[DEFAULT]\nthis line has no equals sign\n", "bad.conf:" },
        { "orphan = 1\n", "bad.conf:" },
    };
    for (gsize k = 0; k < G_N_ELEMENTS(cases); k++) {
        g_autoptr(TernConfig) c = tern_config_new();
        g_autoptr(GError) err = NULL;
        g_assert_cmpint(tern_config_load_data(c, cases[k].text, "bad.conf", &err), ==, -1);
        g_assert_nonnull(err);
        if (!strstr(err->message, cases[k].expect))
            g_error("case %zu: '%s' does not contain '%s'", k, err->message, cases[k].expect);
    }
}

static void
test_secret_not_in_error(void)
{
    g_autoptr(TernConfig) c = tern_config_new();
    g_autoptr(GError) err = NULL;
    /* a secret option never shows its value, even in an error */
    g_assert_cmpint(tern_config_set(c, "DEFAULT", "transport_url", "rabbit://u:hunter22@h/", &err), ==, 0);
    g_assert_true(tern_config_is_secret("DEFAULT", "transport_url"));
    g_assert_true(tern_config_is_secret("database", "connection"));
    g_assert_false(tern_config_is_secret("DEFAULT", "host"));
}

static void
test_unknown_warns(void)
{
    g_autoptr(TernConfig) c = tern_config_new();
    g_autoptr(GError) err = NULL;
    const char *text = "[DEFAULT]\nno_such_option = 1\n[nosection]\nx = 1\n[libvirt]\nvirt_type = qemu\n";
    g_assert_cmpint(tern_config_load_data(c, text, "w.conf", &err), ==, 0);
    const GPtrArray *w = tern_config_warnings(c);
    g_assert_cmpuint(w->len, ==, 2);
    g_assert_nonnull(strstr(w->pdata[0], "w.conf: [DEFAULT] no_such_option: unknown option"));
    g_assert_nonnull(strstr(w->pdata[1], "w.conf: unknown section [nosection]"));
    /* the known option after them still applies */
    g_assert_cmpstr(tern_config_get_string(c, "libvirt", "virt_type"), ==, "qemu");

    g_assert_cmpint(tern_config_set(c, "DEFAULT", "nope", "1", &err), ==, -1);
    g_assert_error(err, TERN_CONFIG_ERROR, TERN_CONFIG_ERROR_UNKNOWN);
}

static void
test_precedence(void)
{
    g_autofree char *dir = g_dir_make_tmp("tern-conf-XXXXXX", NULL);
    g_autofree char *sub = g_build_filename(dir, "conf.d", NULL);
    g_mkdir(sub, 0700);
    g_autofree char *a = write_file(dir, "a.conf",
        "[DEFAULT]\nhost = from-a\nreport_interval = 5\nservice_down_time = 11\n", 0600);
    g_autofree char *b = write_file(dir, "b.conf", "[DEFAULT]\nhost = from-b\n", 0600);
    g_autofree char *d2 = write_file(sub, "20-late.conf", "[DEFAULT]\nreport_interval = 7\n", 0600);
    g_autofree char *d1 = write_file(sub, "10-early.conf",
        "[DEFAULT]\nreport_interval = 6\nservice_down_time = 12\n", 0600);
    g_autofree char *ignored = write_file(sub, "99-notconf.txt", "[DEFAULT]\nreport_interval = 99\n", 0600);

    g_autoptr(TernConfig) c = tern_config_new();
    g_autoptr(GError) err = NULL;
    const char *files[] = { a, b, NULL };
    g_assert_cmpint(tern_config_load(c, files, sub, &err), ==, 0);
    g_assert_no_error(err);
    g_assert_cmpstr(tern_config_get_string(c, "DEFAULT", "host"), ==, "from-b");
    g_assert_cmpint(tern_config_get_int(c, "DEFAULT", "report_interval"), ==, 7);
    g_assert_cmpstr(tern_config_get_origin(c, "DEFAULT", "report_interval"), ==, d2);
    g_assert_cmpint(tern_config_get_int(c, "DEFAULT", "service_down_time"), ==, 12);

    /* a missing file and a missing folder are errors naming the path */
    const char *missing[] = { "/nonexistent/tern.conf", NULL };
    g_autoptr(TernConfig) c2 = tern_config_new();
    g_assert_cmpint(tern_config_load(c2, missing, NULL, &err), ==, -1);
    g_assert_nonnull(strstr(err->message, "/nonexistent/tern.conf"));
    g_clear_error(&err);
    g_assert_cmpint(tern_config_load(c2, NULL, "/nonexistent-dir", &err), ==, -1);
    g_assert_nonnull(strstr(err->message, "/nonexistent-dir"));

    g_remove(a); g_remove(b); g_remove(d1); g_remove(d2); g_remove(ignored);
    g_rmdir(sub); g_rmdir(dir);
}

static void
test_world_readable_secret(void)
{
    g_autofree char *dir = g_dir_make_tmp("tern-conf-XXXXXX", NULL);
    g_autofree char *open_file = write_file(dir, "open.conf",
        "[database]\nconnection = postgresql://tern:pw@localhost/tern\n", 0644);
    g_autofree char *closed = write_file(dir, "closed.conf",
        "[database]\nconnection = postgresql://tern:pw@localhost/tern\n", 0640);
    g_autofree char *plain = write_file(dir, "plain.conf", "[DEFAULT]\nhost = x\n", 0644);
    g_autoptr(GError) err = NULL;

    g_autoptr(TernConfig) c = tern_config_new();
    g_assert_cmpint(tern_config_load_file(c, open_file, &err), ==, 0);
    g_assert_cmpuint(tern_config_warnings(c)->len, ==, 1);
    g_assert_nonnull(strstr(g_ptr_array_index(tern_config_warnings(c), 0),
                            "readable by every user but holds the secret [database] connection"));
    g_autoptr(TernConfig) c2 = tern_config_new();
    g_assert_cmpint(tern_config_load_file(c2, closed, &err), ==, 0);
    g_assert_cmpint(tern_config_load_file(c2, plain, &err), ==, 0);
    g_assert_cmpuint(tern_config_warnings(c2)->len, ==, 0);
    g_remove(open_file); g_remove(closed); g_remove(plain); g_rmdir(dir);
}

static void
test_mask(void)
{
    tern_mask_reset();
    g_autofree char *a = tern_mask_text("connecting to rabbit://guest:s3cret@10.0.0.1:5672/ now");
    g_assert_cmpstr(a, ==, "connecting to rabbit://guest:****@10.0.0.1:5672/ now");
    g_autofree char *b = tern_mask_text("rabbit://u:p1@h1:5672,u:p2@h2:5672/vh");
    g_assert_null(strstr(b, "p1@"));
    g_assert_nonnull(strstr(b, "u:****@h1"));
    g_autofree char *c = tern_mask_text("postgresql://tern:pa%40ss@db/tern?sslmode=require");
    g_assert_cmpstr(c, ==, "postgresql://tern:****@db/tern?sslmode=require");
    g_autofree char *d = tern_mask_text("no url here, user@host is fine");
    g_assert_cmpstr(d, ==, "no url here, user@host is fine");

    /* a secret option's value is masked wherever it appears */
    g_autoptr(TernConfig) conf = tern_config_new();
    g_assert_cmpint(tern_config_set(conf, "database", "connection",
                                    "postgresql://tern:Zebra-Horse-9@db/tern", NULL), ==, 0);
    g_autofree char *e = tern_mask_text("password Zebra-Horse-9 leaked");
    g_assert_cmpstr(e, ==, "password **** leaked");
    /* ... as a whole token only */
    g_autofree char *f = tern_mask_text("xZebra-Horse-9y stays, (Zebra-Horse-9) does not");
    g_assert_cmpstr(f, ==, "xZebra-Horse-9y stays, (****) does not");

    /* RabbitMQ's guest:guest: the password is the user name, masked in URLs
     * but not as a word everywhere else */
    g_assert_cmpint(tern_config_set(conf, "DEFAULT", "transport_url",
                                    "rabbit://guest:guest@mq:5672/", NULL), ==, 0);
    g_autofree char *g = tern_mask_text("guest CPU Nehalem on rabbit://guest:guest@mq:5672/");
    g_assert_cmpstr(g, ==, "guest CPU Nehalem on rabbit://guest:****@mq:5672/");
    /* a real password still hides as a word */
    g_assert_cmpint(tern_config_set(conf, "DEFAULT", "transport_url",
                                    "rabbit://guest:Moth-Lamp-7@mq:5672/", NULL), ==, 0);
    g_autofree char *h = tern_mask_text("auth Moth-Lamp-7 refused for guest");
    g_assert_cmpstr(h, ==, "auth **** refused for guest");
}

int
main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    tern_log_init("test-config", FALSE, FALSE);
    /* the loader logs its warnings; they are expected here */
    g_log_set_always_fatal(G_LOG_FATAL_MASK | G_LOG_LEVEL_CRITICAL);
    g_test_add_func("/config/defaults", test_defaults);
    g_test_add_func("/config/types", test_types);
    g_test_add_func("/config/bools", test_bools);
    g_test_add_func("/config/bad-values", test_bad_values);
    g_test_add_func("/config/secret", test_secret_not_in_error);
    g_test_add_func("/config/unknown-warns", test_unknown_warns);
    g_test_add_func("/config/precedence", test_precedence);
    g_test_add_func("/config/world-readable-secret", test_world_readable_secret);
    g_test_add_func("/config/mask", test_mask);
    return g_test_run();
}
