"""Use cases: each call is one unit of work over a project and returns plain DTOs."""
