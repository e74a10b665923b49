"""`make bench`: how fast an alert reaches its recipients, next to a hand-written INSERT … SELECT.

`python -m bench` runs every (database, size) pair in its own process against its own
database (never the user's), prints a table and writes var/bench.json.
"""
