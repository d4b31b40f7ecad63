"""`python -m minikubelet` runs the CLI (the detached agent is started this way)."""

from minikubelet.cli.main import main

raise SystemExit(main())
