"""``python -m app.cli`` runs the ``ruimte`` command."""

from app.cli import main

main()
