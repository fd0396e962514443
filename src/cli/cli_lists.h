/* Option values of the region commands: integers, seeds and lists
 * ("10,20,30", "10..100" with step 10, "5..50:5", "0.25,0.5"). Each returns
 * 0, or 1 after one line "minima CMD: --NAME: reason" on stderr. */
#ifndef MN_CLI_LISTS_H
#define MN_CLI_LISTS_H

#include <stdint.h>

int cli_long(const char *cmd, const char *name, const char *s, long lo, long hi, long *out);
int cli_u64(const char *cmd, const char *name, const char *s, uint64_t *out);
int cli_int_list(const char *cmd, const char *name, const char *s, long lo, long hi, int *out, int max, int *n);
int cli_num_list(const char *cmd, const char *name, const char *s, double lo, double hi, double *out, int max, int *n);

#endif
