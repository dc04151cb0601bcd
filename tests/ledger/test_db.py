"""The schema: Alembic's migrations and the SQLAlchemy models describe the same tables."""

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext

from ledger import db
from ledger.models import Base


def test_the_migrated_schema_matches_the_models(services):
    with services.engine.connect() as conn:
        diff = compare_metadata(MigrationContext.configure(conn), Base.metadata)
    assert diff == []


def test_upgrading_twice_changes_nothing(services):
    db.upgrade(services.engine)  # a second `make run` migrates again: it must be a no-op
    with services.engine.connect() as conn:
        assert MigrationContext.configure(conn).get_current_revision() == "0001"
