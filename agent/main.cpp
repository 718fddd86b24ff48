#include <malloc.h>

#include "agent/cli/cli.h"

int main(int argc, char** argv) {
    // The agent runs collectors on a few worker threads; glibc would give each its own malloc arena
    // (up to 8 per core), which holds freed memory per thread. Two arenas keep the footprint small.
    mallopt(M_ARENA_MAX, 2);
    return dmvlog::cli::main(argc, argv);
}
