"""A double of 1Flow's web SDK, so a browser test of a site's Segment -> 1Flow setup has
something to load: ``GET /js/1flow.js`` (:mod:`.routes`), the script in ``static/``."""
