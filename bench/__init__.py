

import os

# Benchmarks build demo programmes relative to the programme's date: one fixed day, so the
# databases they build (and cache in bench/results/) and their figures do not change with the
# calendar. Set IKM_TODAY to measure another day.
os.environ.setdefault("IKM_TODAY", "2026-06-15")
