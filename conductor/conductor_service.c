/* conductor_service.c: what tern-conductor does between start and stop. */
#include "conductor_service.h"

#include "common/log.h"

int
tern_conductor_service_start(TernService *svc, GError **error)
{
    TERN_INFO("tern.conductor", "tern-conductor has no RPC endpoints yet; idling until stopped");
    return 0;
}

void
tern_conductor_service_stop(TernService *svc)
{
}
