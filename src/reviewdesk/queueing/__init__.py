"""Queue policy: disagreement reasons, priorities, audit sampling and blinding (pure, domain only)."""
