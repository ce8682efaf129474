"""Use cases: the only code that changes data.

Each service takes keyword arguments and an explicit actor (`by=`), writes its audit event in the same
transaction, and flushes; the caller (a view, command or job) commits, or rolls back on any error.
"""
