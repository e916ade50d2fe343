"""agents package of mapper-gym."""
