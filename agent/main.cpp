#include "agent/cli/cli.h"

int main(int argc, char** argv) { return dmvlog::cli::main(argc, argv); }
