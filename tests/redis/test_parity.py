"""The behaviour tests of the SDK API, the admin API, keys and plans, 1Flow's HTTP API and
the identity flow, run again with the state in Redis: the Redis store answers as the
in-memory one does (``app`` comes from tests/redis/conftest.py, an empty Redis per test)."""

from tests.clients.test_identity_flow import *  # noqa: F401,F403
from tests.http_api.test_http_api_routes import *  # noqa: F401,F403
from tests.unit.test_admin_api import *  # noqa: F401,F403
from tests.unit.test_keys_regions_plans import *  # noqa: F401,F403
from tests.unit.test_sdk_endpoints import *  # noqa: F401,F403
from tests.unit.test_segment_ingest import *  # noqa: F401,F403

# It patches the in-memory ProjectState's method to fail; the Redis store's own is another.
del test_unexpected_errors_are_enveloped_500s  # noqa: F821
