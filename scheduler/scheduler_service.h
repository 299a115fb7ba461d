/* scheduler_service.h: start and stop of the tern-scheduler service. */
#ifndef TERN_SCHEDULER_SERVICE_H
#define TERN_SCHEDULER_SERVICE_H

#include "common/service.h"

int tern_scheduler_service_start(TernService *svc, GError **error);
void tern_scheduler_service_stop(TernService *svc);

#endif
