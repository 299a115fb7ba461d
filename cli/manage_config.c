/* manage_config.c: `tern-manage config sample`. */
#include <stdio.h>

#include "cli/manage.h"

static int
config_sample(TernConfig *conf, int argc, char **argv)
{
    g_autofree char *text = tern_config_sample();
    fputs(text, stdout);
    return 0;
}

const TernManageCommand tern_manage_config_commands[] = {
    { "config", "sample", "", "Print a sample tern.conf with every option and its default",
      config_sample },
    { NULL }
};
