/* A scratch folder per test binary, for tests that write files (databases,
 * exports): made by tmpdir_make in the group setup, removed with everything
 * in it by tmpdir_remove in the teardown. Header-only: each test is one
 * binary. */
#ifndef MN_TEST_TMPDIR_H
#define MN_TEST_TMPDIR_H

#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

static char tmpdir_path[256];

/* $TMPDIR (or /tmp)/minima-test-TAG-XXXXXX; 0 on success, -1 otherwise. */
static int tmpdir_make(const char *tag)
{
    snprintf(tmpdir_path, sizeof tmpdir_path, "%s/minima-test-%s-XXXXXX",
             getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp", tag);
    return mkdtemp(tmpdir_path) ? 0 : -1;
}

static int tmpdir_remove(void)
{
    char cmd[600];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", tmpdir_path);
    return system(cmd) == 0 ? 0 : -1;
}

/* NAME inside the folder; the last four results stay valid. */
static const char *tmp_path(const char *name)
{
    static char buf[4][512];
    static int k;
    k = (k + 1) % 4;
    snprintf(buf[k], sizeof buf[k], "%s/%s", tmpdir_path, name);
    return buf[k];
}

#endif
