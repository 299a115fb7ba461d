/* manage.c: tern-manage, the operator's admin tool: `tern-manage GROUP
 * COMMAND [ARGS]`. Commands are listed in tables, one per group file. */
#include <stdio.h>
#include <string.h>

#include "cli/manage.h"
#include "common/log.h"
#include "common/service.h"

static const TernManageCommand *const tables[] = {
    tern_manage_config_commands,
    tern_manage_cpu_commands,
    tern_manage_db_commands,
    tern_manage_compute_commands,
    NULL,
};

static char *
commands_help(void)
{
    GString *s = g_string_new("Commands:\n");
    for (int t = 0; tables[t]; t++)
        for (const TernManageCommand *c = tables[t]; c->group; c++)
            g_string_append_printf(s, "  %s %s %-12s %s\n", c->group, c->name, c->args, c->help);
    return g_string_free(s, FALSE);
}

int
main(int argc, char **argv)
{
    int code = 0;
    g_autofree char *help = commands_help();
    g_autofree char *summary = g_strdup_printf("tern-manage: administer a tern cloud.\n\n%s", help);
    g_autoptr(TernConfig) conf = tern_cli_load_config("tern-manage", summary, "GROUP COMMAND [ARGS...]",
                                                      NULL, &argc, &argv, &code);
    if (!conf)
        return code;
    if (argc < 3) {
        fprintf(stderr, "tern-manage: missing command.\n%s", help);
        return 2;
    }
    for (int t = 0; tables[t]; t++)
        for (const TernManageCommand *c = tables[t]; c->group; c++)
            if (strcmp(c->group, argv[1]) == 0 && strcmp(c->name, argv[2]) == 0)
                return c->run(conf, argc - 3, argv + 3);
    fprintf(stderr, "tern-manage: unknown command '%s %s'.\n%s", argv[1], argv[2], help);
    return 2;
}
