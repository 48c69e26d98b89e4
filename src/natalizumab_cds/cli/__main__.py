"""``python -m natalizumab_cds.cli`` runs the ``ntz`` command."""

from natalizumab_cds.cli import main

main()
