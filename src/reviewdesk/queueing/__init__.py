"""Queue policy: disagreement reasons, priorities, audit sampling and blinding.

Pure functions over domain values; no I/O.
"""
