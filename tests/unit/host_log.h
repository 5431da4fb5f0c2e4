/* Host-side log capture for unit tests and simulations (see vmm/log.h). */
#ifndef PV_TESTS_HOST_LOG_H
#define PV_TESTS_HOST_LOG_H

#include <stdbool.h>
#include <stddef.h>

/* True if any line logged since the last host_log_clear() contains needle. */
bool host_log_contains(const char *needle);
/* Number of lines logged since the last host_log_clear(). */
size_t host_log_count(void);
void host_log_clear(void);

#endif
