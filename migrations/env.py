"""Alembic environment: the application's engine and metadata, via Flask-Migrate."""

import logging
from logging.config import fileConfig

from alembic import context
from flask import current_app

from taper.database import include_name

config = context.config
if config.config_file_name is not None:
    fileConfig(config.config_file_name, disable_existing_loggers=False)
logger = logging.getLogger("alembic.env")

def run_migrations_online():
    migrate = current_app.extensions["migrate"]
    configure_args = dict(migrate.configure_args)

    def skip_empty_autogenerate(context_, revision, directives):
        if getattr(config.cmd_opts, "autogenerate", False) and directives[0].upgrade_ops.is_empty():
            directives[:] = []
            logger.info("No changes in schema detected.")

    configure_args.setdefault("process_revision_directives", skip_empty_autogenerate)
    with migrate.db.engine.connect() as connection:
        if connection.dialect.name == "sqlite":
            # Batch mode rebuilds SQLite tables (copy, drop, rename); with foreign keys enforced, dropping a
            # table that other rows refer to fails. Enforcement is off for the migration only.
            connection.exec_driver_sql("PRAGMA foreign_keys=OFF")
            connection.commit()
        context.configure(connection=connection, target_metadata=migrate.db.metadata,
                          include_name=include_name, **configure_args)
        with context.begin_transaction():
            context.run_migrations()


if context.is_offline_mode():
    raise SystemExit("Offline (SQL script) migrations are not supported: run them against a database.")
run_migrations_online()
