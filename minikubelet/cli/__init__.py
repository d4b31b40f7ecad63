"""The kubectl-like command line. It imports nothing heavy at start, so every command is quick."""
