"""Pure rules of the program: no Django, no clock, no I/O.

Every function takes data (and `now` where it needs one) and returns values.
An import-linter contract in pyproject.toml keeps it that way.
"""
