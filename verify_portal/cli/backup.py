"""`lianzheng backup` and `lianzheng restore` (verify_portal/app/backup.py)."""

from __future__ import annotations

import sys
from pathlib import Path

import click

from verify_portal.app import backup as backups
from verify_portal.app.settings import Settings
from verify_portal.cli.common import services


@click.command("backup")
@click.argument("target", type=click.Path(file_okay=False, path_type=Path))
def backup(target: Path) -> None:
    """Write database, blobs, keys and the embedded chain's state to the new folder TARGET.

    The folder holds the keys: keep it as safe as the keys themselves.
    """
    wired = services()
    total = sum(p.stat().st_size for p in backups.blob_paths(wired.settings))
    with click.progressbar(length=total, label="copying evidence blobs", file=sys.stderr) as bar:
        manifest = backups.create(wired, target, bar.update)
    click.echo(
        f"backup written to {target}: {manifest['log']['size']:,} leaves, "
        f"{sum(manifest['tables'].values()):,} rows, {len(manifest['files']):,} files"
    )


@click.command("restore")
@click.argument("source", type=click.Path(exists=True, file_okay=False, path_type=Path))
def restore(source: Path) -> None:
    """Restore the backup in SOURCE into this deployment, which must be empty.

    Every file is checked against the backup's manifest before anything is written.
    """
    settings = Settings.from_env()
    total = sum(p.stat().st_size for p in source.rglob("*") if p.is_file())
    with click.progressbar(length=total, label="checking the backup", file=sys.stderr) as bar:
        manifest = backups.restore(settings, source, bar.update)
    backups.check_restored(services(), manifest)
    click.echo(
        f"restored {manifest['log']['size']:,} leaves from {source} (made "
        f"{manifest['created_at']}); run `lianzheng audit` to check it all"
    )
