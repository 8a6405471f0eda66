"""Segment's side of the wire: the HTTP Tracking API, and the path from an accepted
Segment event through the destination into the 1Flow mock's state."""
