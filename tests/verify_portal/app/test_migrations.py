"""The schema: every domain's Alembic revisions and the SQLAlchemy models describe the same
tables."""

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext

from ledger.models import Base
from verify_portal.app.services import migrate


def test_the_migrated_schema_matches_the_models(services):
    with services.engine.connect() as conn:
        diff = compare_metadata(MigrationContext.configure(conn), Base.metadata)
    assert diff == []


def test_every_domains_revisions_are_applied_in_one_chain(services):
    with services.engine.connect() as conn:
        assert MigrationContext.configure(conn).get_current_revision() == "0015"


def test_upgrading_twice_changes_nothing(services):
    migrate(services.engine)  # a second `make run` migrates again: it must be a no-op
    with services.engine.connect() as conn:
        assert MigrationContext.configure(conn).get_current_revision() == "0015"
