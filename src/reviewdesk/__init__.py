"""reviewdesk: blind pairwise human review where LLM judges and evals disagree.

Only the version lives here, so ``import reviewdesk`` stays instant for the CLI.
"""

__version__ = "0.1.0"
