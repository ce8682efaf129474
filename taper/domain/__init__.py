"""Taper's pure core: clinical and organisational rules as plain functions over plain data.

Nothing here imports Flask, SQLAlchemy, WeasyPrint or APScheduler; dates and "now" are parameters.
"""
