"""The simulator's TDS protocol layer: bytes on the socket in, calls to an Engine (sim.results) out."""
