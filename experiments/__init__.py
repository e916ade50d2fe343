"""experiments package of mapper-gym."""
