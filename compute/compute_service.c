/* compute_service.c: what tern-compute does between start and stop. */
#include "compute_service.h"

#include "common/log.h"

int
tern_compute_service_start(TernService *svc, GError **error)
{
    TERN_INFO("tern.compute", "tern-compute has no RPC endpoints yet; idling until stopped");
    return 0;
}

void
tern_compute_service_stop(TernService *svc)
{
}
