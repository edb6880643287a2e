"""Naive reference implementation for the benchmark (issue 8): NOT part of the product.

The same listing features, model training, scoring and ring finding as cloudsword, written the
way a data scientist would in a notebook: whole tables read into pandas, groupby/merge/apply,
LightGBM on a pandas frame with a plain random-search loop, and networkx with Python loops.
`bench/run_bench.py` runs it on the same warehouse as the product so the report can give the
ratio per stage. Nothing under ml/ or orchestration/ imports this package.

    python -m bench.naive --home H [--json out.json]
"""
