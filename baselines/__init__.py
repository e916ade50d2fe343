"""baselines package of mapper-gym."""
