"""State in Redis (``serve --store redis://host:port/db``): every instance and worker that
points at the same Redis database is one mock.

:class:`Shared` is the one connection and the one place Redis errors become the mock's
503 ``store_unavailable`` (never a 500, never a local fallback); the store
(:mod:`.store`), journal (:mod:`.journal`) and faults (:mod:`.faults`) run their
operations through it as the scripts of :mod:`.lua`.
"""

from __future__ import annotations

import hashlib
import logging
import threading
import time
import uuid
from typing import TYPE_CHECKING, Any, Callable
from urllib.parse import urlsplit

from ...errors import ApiError
from ...store import StaleView
from . import lua

if TYPE_CHECKING:
    import redis

log = logging.getLogger("mock_1flow")

STORE_ENV = "MOCK_1FLOW_STORE"
OPERATIONS = frozenset({"ADD_DEVICE", "IDENTIFY", "APP_USER_ID", "PUSH_TOKEN", "ADD_RESPONSE", "TRACK", "FAULT_HIT", "STUB_HIT"})  # lua.OP_OPEN
SOCKET_TIMEOUT = 2.0  # a Redis that stops answering costs a request this long at most, then a 503
ADMIN_LOCK = "m1f:alock"
ADMIN_LOCK_MS = 30_000  # an instance that dies holding the lock holds it this long at most
ADMIN_LOCK_WAIT = 10.0  # an admin write waits this long for another's, then answers 503
ADMIN_WRITES = frozenset({"POST", "PUT", "PATCH", "DELETE"})


class StoreUnavailable(ApiError):
    """Redis is unreachable or lost the mock's state: 503 ``store_unavailable``."""

    def __init__(self, message: str) -> None:
        super().__init__(503, "store_unavailable", message, headers={"Retry-After": "1"})


class StoreURLError(ValueError):
    """A ``--store`` value that is not a Redis URL; the message says what to write."""


class StoreStartError(RuntimeError):
    """Redis cannot be used at start (unreachable, another schema); the message says what to fix."""


def check_url(url: str) -> str:
    """``redis://host:port/db`` (or ``rediss://``, ``unix://``), checked before anything starts."""
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError as exc:
        raise StoreURLError(f"'{url}' is not a Redis URL ({exc}); write redis://HOST:PORT/DB, e.g. redis://127.0.0.1:6379/0") from None
    if parts.scheme not in ("redis", "rediss", "unix"):
        raise StoreURLError(f"'{url}' is not a Redis URL: it must start with redis://, rediss:// or unix:// "
                            "(e.g. redis://127.0.0.1:6379/0)")
    if parts.scheme != "unix" and not parts.hostname:
        raise StoreURLError(f"'{url}' names no host; write redis://HOST:PORT/DB, e.g. redis://127.0.0.1:6379/0")
    db = parts.path.strip("/")
    if parts.scheme != "unix" and db and not db.isdigit():
        raise StoreURLError(f"'{url}': the database after the port must be a number (redis://HOST:PORT/0), not '{db}'")
    del port
    return url


def shown(url: str) -> str:
    """The URL without a password, for messages."""
    parts = urlsplit(url)
    if parts.password:
        return url.replace(f":{parts.password}@", ":***@")
    return url


class Shared:
    """One Redis client (a thread-safe pool) with the scripts registered, and the admin
    generation this instance last loaded (``gen``; -1 before the first sync)."""

    def __init__(self, url: str) -> None:
        import redis
        from redis.backoff import NoBackoff
        from redis.retry import Retry

        self.url = url
        self.redis_errors: tuple[type[Exception], ...] = (redis.ConnectionError, redis.TimeoutError, redis.exceptions.BusyLoadingError)
        self.response_error = redis.ResponseError
        self.connection_error = redis.ConnectionError
        from hiredis import ReplyError, pack_command  # redis[hiredis], the extra --store needs

        self.reply_error = ReplyError

        self.pack: Callable[[tuple[Any, ...]], bytes] = pack_command
        self.no_script = redis.exceptions.NoScriptError
        self.client: redis.Redis = redis.Redis.from_url(
            url, socket_timeout=SOCKET_TIMEOUT, socket_connect_timeout=SOCKET_TIMEOUT, retry=Retry(NoBackoff(), 1),
            health_check_interval=0,
        )
        self.scripts = {name: getattr(lua, name) for name in (
            "ADD_DEVICE", "IDENTIFY", "APP_USER_ID", "PUSH_TOKEN", "ADD_RESPONSE", "TRACK", "CLEAR", "RESET", "SEED",
            "PUT_PROJECT", "DELETE_PROJECT", "REPLACE_PROJECTS", "CHANGED", "JOURNAL_TRIM", "JOURNAL_READ", "JOURNAL_CLEAR",
            "JOURNAL_FORGET", "ADMIN_UNLOCK", "LEDGER_CLAIM", "LEDGER_PUT", "LEDGER_CLEAR", "WIPE_DATA", "STUB_HIT", "FAULT_ADD", "FAULT_HIT", "FAULTS_CLEAR", "FAULT_REMOVE", "FAULTS_FORGET",
        )}
        self.shas = {name: hashlib.sha1(source.encode()).hexdigest() for name, source in self.scripts.items()}
        self.gen = -1
        self.sync_lock = threading.Lock()
        self.on_sync: list[Callable[[], None]] = []  # reloaders of what instances cache (projects, faults, parts)
        self.broken: StoreUnavailable | None = None
        self._thread = threading.local()  # this thread's SDK request (restart, confirmed, journal_id) and connection
        from greenlet import getcurrent  # redis extra: the hot path's requests interleave on the loop thread

        from .pipeline import Bridge, HotRequest, Pipeline, hand_over

        self._getcurrent, self._hot, self._hand = getcurrent, HotRequest, hand_over
        kwargs = self.client.connection_pool.connection_kwargs
        # TLS (rediss://) keeps the synchronous client on the hot path too
        self.bridge: Bridge | None = None if kwargs.get("ssl") or url.startswith("rediss") else \
            Bridge(Pipeline(kwargs, redis, pack_command))

    @property
    def local(self) -> Any:
        """This SDK request's state: the hot path's request (a greenlet on the loop thread,
        see :mod:`.pipeline`) or, elsewhere, this thread's."""
        current = self._getcurrent()
        return current if type(current) is self._hot else self._thread

    def unavailable(self, exc: Exception) -> StoreUnavailable:
        return StoreUnavailable(f"The mock's state store, Redis at {shown(self.url)}, does not answer ({type(exc).__name__}: {exc}); "
                                "the mock answers again as soon as Redis does.")

    def flushed(self) -> StoreUnavailable:
        return StoreUnavailable(f"Redis at {shown(self.url)} no longer holds the mock's state (flushed or restarted "
                                "empty); POST /__admin/reset to any instance seeds it again from the projects file.")

    def _connection(self) -> Any:
        """This thread's own connection (made on first use)."""
        local = self._thread
        connection = getattr(local, "connection", None)
        if connection is None:
            connection = local.connection = self.client.connection_pool.make_connection()
        return connection

    def _execute(self, *command: Any, hot: bool = False) -> Any:
        """One command on this thread's own connection (not the client's pool): the pool's
        checkout, health poll and per-command bookkeeping cost about 35 µs of CPU a call,
        more than the command itself (benchmarks/bench_scale.py). ``hot``: an SDK operation,
        which in a hot-path request is sent by the event loop instead (:mod:`.pipeline`)."""
        if hot and type(self._getcurrent()) is self._hot:
            return self._hand_over(self.pack(command))
        connection = self._connection()
        packed = [self.pack(command)]  # hiredis packs all arguments at once: no per-argument encoder call
        try:
            connection.send_packed_command(packed, check_health=False)
            return connection.read_response()
        except self.connection_error:  # a connection Redis closed (it restarted): once more on a new one,
            connection.disconnect()     # as the client's own Retry(NoBackoff(), 1) does
            connection.send_packed_command(packed, check_health=False)
            return connection.read_response()

    def transaction(self, *commands: tuple[Any, ...] | bytes) -> list[Any]:
        """``commands`` (tuples, or commands packed already) in one MULTI/EXEC sent in one
        write on this thread's connection (the journal's batches: their payloads stay out of
        Lua); EXEC's replies. Redis down raises :class:`StoreUnavailable`."""
        packed = [self.pack(("MULTI",)), *[command if isinstance(command, bytes) else self.pack(command) for command in commands],
                  self.pack(("EXEC",))]
        connection = self._connection()
        try:
            for attempt in (0, 1):  # once more on a new connection, as _execute does
                try:
                    connection.send_packed_command(packed, check_health=False)
                    replies = [connection.read_response() for _ in packed]
                    break
                except self.connection_error:
                    connection.disconnect()
                    if attempt:
                        raise
                except self.response_error:  # refused while queued: replies are left unread
                    connection.disconnect()
                    raise
        except self.redis_errors as exc:
            self.broken = self.unavailable(exc)
            raise self.broken from None
        return replies[-1]

    def _hand_over(self, packed: bytes) -> Any:
        """The loop's reply to ``packed`` (once more on a new connection if it was lost, as
        the synchronous path does), error replies raised as redis-py raises them."""
        hand_over = self._hand
        try:
            reply = hand_over(packed)
        except self.connection_error:
            reply = hand_over(packed)
        if isinstance(reply, self.reply_error):
            message = str(reply)
            if message.startswith("NOSCRIPT"):
                raise self.no_script(message)
            if message.startswith("LOADING"):
                raise self.redis_errors[2](message)
            raise self.response_error(message[4:] if message.startswith("ERR ") else message)  # as redis-py's parser
        return reply

    def run(self, name: str, *args: Any, hot: bool = False) -> Any:
        """Run script ``name``; Redis down or flushed raises :class:`StoreUnavailable`."""
        execute = self._execute
        try:
            try:
                return execute("EVALSHA", self.shas[name], 0, *args, hot=hot)
            except self.no_script:  # a Redis restarted or flushed with SCRIPT FLUSH: load it again
                return execute("EVAL", self.scripts[name], 0, *args, hot=hot)
        except self.redis_errors as exc:
            self.broken = self.unavailable(exc)  # the next request syncs before trusting its copy
            raise self.broken from None
        except self.response_error as exc:
            if lua.FLUSHED in str(exc):
                self.broken = self.flushed()
                raise self.broken from None
            raise

    def fresh(self, name: str, *args: Any) -> Any:
        """Run an SDK operation's script (:data:`lua.CHECK`) with this instance's generation:
        one round trip both checks the copy of the admin state and does the work. When Redis
        moved past it the script changed nothing: reload, then raise :class:`StaleView` in an
        SDK request that may restart, else run it again on the reloaded copy."""
        for _ in range(8):
            try:
                result = self.run(name, self.gen, *args, hot=True)
            except self.response_error as exc:
                if not str(exc).startswith(lua.STALE):
                    raise
                self.sync()
                self.check()
                if getattr(self.local, "restart", False):
                    raise StaleView from None
                continue
            self.broken = None
            local = self.local
            local.confirmed = True
            if name in OPERATIONS:  # {journal id, result}: the request's first operation names its entry
                if not getattr(local, "journal_id", 0):
                    local.journal_id = result[0]
                return result[1]
            return result
        raise StoreUnavailable("Admin writes kept changing the mock's state in Redis while an operation ran; try again.")

    def call(self, fn: Callable[..., Any], *args: Any) -> Any:
        """A plain client call with the same error mapping as :meth:`run`."""
        try:
            return fn(*args)
        except self.redis_errors as exc:
            raise self.unavailable(exc) from None

    def sync(self, reserve: bool = False) -> bool:
        """Notice a lost Redis (``broken``), and reload what admin writes on any instance
        changed (projects, faults, stubs, content) when the generation moved (then True).
        Admin routes call it once a request; SDK operations check within their script.
        ``reserve``: also take the request's journal id in the same round trip."""
        try:
            if reserve and not getattr(self.local, "journal_id", 0):  # an SDK request that runs no operation
                pipe = self.client.pipeline(transaction=False)
                pipe.get("m1f:gen")
                pipe.incr("m1f:jseq")
                found, self.local.journal_id = pipe.execute()
            else:
                found = self.client.get("m1f:gen")  # every seeding sets it; a flush takes it away
        except self.redis_errors as exc:
            self.broken = self.unavailable(exc)
            return False
        gen = -1 if found is None else int(found)
        if gen < 0:
            self.broken = self.flushed()
            return False
        self.broken = None
        if gen == self.gen:
            return False
        with self.sync_lock:
            try:
                for reload in self.on_sync:
                    reload()
                self.gen = gen  # after the reload: a script checked against it sees the copy it names
            except StoreUnavailable as exc:
                self.gen = -1
                self.broken = exc
        return True

    def before_request(self) -> None:
        """A request outside the SDK operations' scripts (admin API, Segment ingest, pages):
        see admin writes made elsewhere; its journal entry takes its id when written (none
        left over from an earlier request)."""
        self.local.journal_id = 0
        self.sync()

    def before_flask_request(self) -> None:
        """A Flask route (admin API, pages): :meth:`before_request`, an admin write first
        taking the admin lock (:meth:`lock_admin`), released after it."""
        from flask import request

        if request.method in ADMIN_WRITES and request.path.startswith("/__admin/"):
            self.lock_admin()
        self.before_request()

    def after_flask_request(self, error: BaseException | None = None) -> None:
        """The end of a Flask request (its teardown): the admin lock it took, if any, goes."""
        self.unlock_admin()

    def lock_admin(self) -> None:
        """One admin write at a time across every instance: the stubs and content travel in one
        shared document (``m1f:parts``) that a write loads (:meth:`sync`), changes and
        publishes whole, so two instances writing at once would each publish a copy without
        the other's change. Waits :data:`ADMIN_LOCK_WAIT` seconds at most (then 503)."""
        token = uuid.uuid4().hex
        deadline = time.monotonic() + ADMIN_LOCK_WAIT
        pause = 0.001
        while not self.call(lambda: self.client.set(ADMIN_LOCK, token, px=ADMIN_LOCK_MS, nx=True)):
            if time.monotonic() > deadline:
                raise StoreUnavailable(f"Another instance's admin write held the mock's admin lock in Redis for "
                                       f"{ADMIN_LOCK_WAIT:g} s; try again.")
            time.sleep(pause)
            pause = min(pause * 2, 0.05)
        self.local.admin_token = token

    def unlock_admin(self) -> None:
        token = getattr(self.local, "admin_token", None)
        if token is None:
            return
        self.local.admin_token = None
        try:
            self.run("ADMIN_UNLOCK", token)
        except StoreUnavailable:  # Redis is gone: the lock expires by itself
            pass

    def check(self) -> None:
        """Raise the outage the last :meth:`sync` saw, if any."""
        if self.broken is not None:
            raise self.broken

    def wrote(self, gen: int) -> None:
        """This instance made generation ``gen``: no reload needed unless another write came between."""
        if gen == self.gen + 1:
            self.gen = gen


def connect(url: str) -> Shared:
    """A :class:`Shared` on ``url`` that answered a PING; :class:`StoreStartError` says why not."""
    try:
        import redis  # noqa: F401
    except ModuleNotFoundError:
        raise StoreStartError("--store needs the redis client, an extra of mock-1flow: pip install 'mock-1flow[redis]'") from None
    shared = Shared(url)
    try:
        shared.client.ping()
    except shared.redis_errors as exc:
        raise StoreStartError(f"cannot reach Redis at {shown(url)} ({exc}); start redis-server "
                              "(apt-get install redis-server) or fix --store / MOCK_1FLOW_STORE") from None
    except Exception as exc:  # noqa: BLE001 - e.g. a password Redis refuses: say so, no traceback
        raise StoreStartError(f"Redis at {shown(url)} refused the mock: {exc}; fix --store / MOCK_1FLOW_STORE") from None
    return shared
