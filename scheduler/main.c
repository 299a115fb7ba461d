/* main.c: entry point of tern-scheduler; the service itself is scheduler/scheduler_service.c. */
#include "common/service.h"
#include "scheduler/scheduler_service.h"

int
main(int argc, char **argv)
{
    static const TernServiceDesc desc = {
        .name = "tern-scheduler",
        .summary = "tern-scheduler: places instances on hosts by architecture and CPU-model compatibility (select_destinations).",
        .start = tern_scheduler_service_start,
        .stop = tern_scheduler_service_stop,
    };
    return tern_service_main(&desc, argc, argv);
}
