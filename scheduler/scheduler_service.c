/* scheduler_service.c: what tern-scheduler does between start and stop. */
#include "scheduler_service.h"

#include "common/log.h"

int
tern_scheduler_service_start(TernService *svc, GError **error)
{
    TERN_INFO("tern.scheduler", "tern-scheduler has no RPC endpoints yet; idling until stopped");
    return 0;
}

void
tern_scheduler_service_stop(TernService *svc)
{
}
