/* Shared by the files of src/regions/. */
#ifndef MN_REGIONS_INTERNAL_H
#define MN_REGIONS_INTERNAL_H

#include "minima.h"

/* sin of the angle from (W, b) to the nearest wall of its cell (see
 * mn_region_point.wall_angle). */
double mn_region_wall_angle(const double *X, int n, int d0, const double *W, const double *b, int d1);

#endif
