"""benchmarks package of mapper-gym."""
