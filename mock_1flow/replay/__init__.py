"""Recordings of ``mock-1flow proxy --record`` put to use offline: ``serve --replay`` answers
from them, ``contracts from-recording`` turns them into a Pact file, ``drift`` compares them
with what the mock answers."""
