"""``python -m kaufland_sync`` runs the command line, like the ``kaufland-sync`` script."""

from kaufland_sync.cli import main

main()
