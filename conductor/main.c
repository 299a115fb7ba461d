/* main.c: entry point of tern-conductor; the service itself is conductor/conductor_service.c. */
#include "common/service.h"
#include "conductor/conductor_service.h"

int
main(int argc, char **argv)
{
    static const TernServiceDesc desc = {
        .name = "tern-conductor",
        .summary = "tern-conductor: runs build and live-migration flows and keeps the PostgreSQL inventory.",
        .start = tern_conductor_service_start,
        .stop = tern_conductor_service_stop,
    };
    return tern_service_main(&desc, argc, argv);
}
