"""Working days on the mainland China calendar: the arithmetic, administrators' corrections, and the calendar
as configured in this installation.

May import: :mod:`workflow.models`, :mod:`workflow.db`, :mod:`workflow.errors`.
"""
