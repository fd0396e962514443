/* Shared by the experiment plans of src/experiment/. Not public. */
#ifndef MN_EXPERIMENT_INTERNAL_H
#define MN_EXPERIMENT_INTERNAL_H

/* "A..B", "A" or "A,B,C" into list (values lo..hi, at most max of them);
 * 0 when s is not such a list. */
int mn__exp_parse_list(const char *s, long lo, long hi, int *list, int *count, int max);

#endif
