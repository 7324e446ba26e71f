"""The `ampelios` console script: a thin layer over the Dagster definitions."""
