"""Persistence on Peewee (SQLite or PostgreSQL): tables, schema, and every query the service makes.

Functions act on the database :func:`verifier.store.db.open_database` bound the models to; only
those whose subject is a database itself (opening it, creating or checking its schema) take one.
The store imports the core, never the web or the CLI.
"""
