/* sched_selection.h: the answer of select_destinations on the wire: per
 * instance a list of Nova Selection 1.1 primitives (chosen host first, then
 * alternates) with SchedulerLimits and the allocation request as placement
 * writes it, or with return_objects=false Nova's legacy list of host dicts. */
#ifndef TERN_SCHED_SELECTION_H
#define TERN_SCHED_SELECTION_H

#include <jansson.h>

#include "scheduler/sched_select.h"

/* The cell every tern host is in (tern has one cell). */
#define TERN_SCHED_CELL_UUID "7e3c51a4-5c1e-4f0b-9d4a-2f6b8e0c1d55"

/* result: what tern_sched_select returned. New reference. */
json_t *tern_sched_selections_to_json(const GPtrArray *result, gboolean return_objects,
                                      const char *availability_zone);

#endif
