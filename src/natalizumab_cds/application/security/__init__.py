"""People and trust: accounts and roles, who may do what, sessions, API tokens, audit.

The permission table (``permissions``) is the one place that says which role
may take which action; entry points ask it through ``Principal.require``.
"""
