#include <malloc.h>

#include "agent/cli/cli.h"

int main(int argc, char** argv) {
    // The agent runs collectors on a few worker threads; glibc would give each its own malloc arena
    // (up to 8 per core), which holds freed memory per thread. One arena keeps the footprint small: the rows
    // a collector frees are what the store writer's thread allocates next (it decodes them from the spool),
    // and with two arenas both copies stayed resident (steady-oltp peak RSS 40-43 MB with two, 36 MB with one;
    // the threads allocate little, so the shared arena's lock costs nothing measurable).
    mallopt(M_ARENA_MAX, 1);
    return dmvlog::cli::main(argc, argv);
}
