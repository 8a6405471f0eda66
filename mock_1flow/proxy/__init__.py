"""``mock-1flow proxy``: the mock's server in front of the real 1Flow, validating and recording."""
