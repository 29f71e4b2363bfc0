"""Storage: the project file (SQLite through SQLAlchemy 2.x), its schema and migrations.

The only package that imports sqlalchemy or alembic. It converts database exceptions into
``reviewdesk.domain.errors`` so no caller needs SQLAlchemy to catch one.
"""
