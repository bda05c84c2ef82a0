"""One module per area; each exposes FLOWS, a list of Flow tables. The registry collects them all."""
