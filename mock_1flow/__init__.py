"""mock-1flow: a faithful mock of 1Flow's SDK API, with Segment's side of the wire.

The package is laid out the way moto lays out a service: ``app`` builds the Flask
application, ``routes`` speak the wire protocols, ``store`` and ``journal`` hold the
resettable state, ``destination`` is the Segment -> 1Flow mapping and client,
``events`` generates Segment events, and ``cli`` is the ``mock-1flow`` command.
"""

__version__ = "0.1.0"
