/* conductor_service.h: start and stop of the tern-conductor service. */
#ifndef TERN_CONDUCTOR_SERVICE_H
#define TERN_CONDUCTOR_SERVICE_H

#include "common/service.h"

int tern_conductor_service_start(TernService *svc, GError **error);
void tern_conductor_service_stop(TernService *svc);

#endif
