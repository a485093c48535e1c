// OpenBLAS (CBLAS) and LAPACKE: the statistics of evaluation in double precision on the host.
#include <cblas.h>
#include <lapacke.h>
