"""SQL storage for the clinic service: tables, migrations, unit of work, worklist query."""
