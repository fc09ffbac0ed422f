"""Can a network's own internal state reveal that an input is anomalous?

The library behind the Snakemake workflow: pure functions and scikit-learn-style
estimators, with no knowledge of Snakemake. Scripts in ``workflow/scripts/`` call it.
"""
