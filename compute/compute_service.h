/* compute_service.h: start and stop of the tern-compute service. */
#ifndef TERN_COMPUTE_SERVICE_H
#define TERN_COMPUTE_SERVICE_H

#include "common/service.h"

int tern_compute_service_start(TernService *svc, GError **error);
void tern_compute_service_stop(TernService *svc);

#endif
