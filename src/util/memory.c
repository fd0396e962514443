/* Memory against the machine: the physical memory, and the one check that
 * an estimated allocation fits in it, made before anything large is
 * allocated (a model, a run, a Hessian, a data set), so that a request the
 * machine cannot hold is refused with the estimate instead of ending in
 * the OOM killer. */
#include <unistd.h>

#include "minima.h"

#define GIB (1024.0 * 1024.0 * 1024.0)

double mn_phys_bytes(void)
{
    const long pages = sysconf(_SC_PHYS_PAGES), size = sysconf(_SC_PAGESIZE);
    return pages > 0 && size > 0 ? (double)pages * (double)size : 0.0;
}

mn_status mn_mem_check(double bytes, const char *what)
{
    const double phys = mn_phys_bytes();
    if (phys > 0 && !(bytes <= phys))
        return mn_fail(MN_ENOMEM, "%s needs about %.3g GiB (estimate), more than the %.3g GiB of physical memory",
                       what, bytes / GIB, phys / GIB);
    return MN_OK;
}
