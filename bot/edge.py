"""The channel-neutral edge: what happens to a message between a channel and the router, written once.

A channel hands each `Incoming` to `Edge.receive`. The Edge answers one chat's messages in the
order they came (updates of different chats run concurrently), fetches an admin's plan file for
the router (which previews it), asks the router, and delivers every reply to the chat and channel
it is addressed to (an admin's notice may go to another chat, or another channel), looking the channel up in its
registry at send time. A reply longer than the channel takes is sent in pieces; passing failures
are retried; a chat that blocked the bot is marked unreachable and the admins told; a reply
nobody can carry is recorded as undelivered. Any failure becomes a polite reply, never silence.

Answers are worked out concurrently, but they go out one at a time (`Turns`): a stored update's
replies are sent and the update marked answered in the store before the next reply goes out. So
when the process is killed, at most one answer can have reached its chat without being marked —
the only one sent again after the restart (Telegram has no way to ask whether a message arrived).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections import defaultdict
from collections.abc import AsyncIterator, Awaitable, Callable, Coroutine
from contextvars import ContextVar
from dataclasses import dataclass, replace
from typing import Any

from bot.channels.base import Channel
from bot.chunks import split_text
from bot.metrics import Metrics
from core.context import AppContext
from core.messages import DeliveryError, Incoming, Reply, RetryLater, Sender, Unreachable
from core.workers import new_worker_id
from handlers import router
from handlers.registration import mark_chat_unreachable
from knowledge import inbox
from knowledge.file_kinds import IMAGE, not_a_plan
from knowledge.inbox import Received
from knowledge.models import AuditEntry

log = logging.getLogger(__name__)

SORRY = router.SORRY
NOT_UNDERSTOOD = "Xin lỗi, tôi chưa hiểu tin nhắn này. Gõ /help để xem cách hỏi."
ADMIN_FILES_ONLY = "Xin lỗi, chỉ quản trị viên mới gửi được tệp kế hoạch. Bạn có thể đặt câu hỏi bằng tin nhắn."
NO_FILES = "Kênh này chưa gửi được tệp ({name}); hãy dùng Telegram hoặc dòng lệnh `nhacviec export`."
MAX_ATTEMPTS = 5  # per message piece, for flood control and network errors
MAX_WAIT = 60.0  # never sleep longer than this on one retry: someone is waiting for the answer
MAX_UPLOAD_MB = 20
READING_NOTICE_BYTES = 1024 * 1024  # smaller plans are previewed within a second or two: no notice needed
READING = "Đang đọc tệp {name} ({mb:.1f} MB), xin chờ; tôi sẽ báo kết quả khi xong."
LATE_AFTER = 120.0  # seconds: a question answered later than this (after a crash) gets an apology first
SORRY_LATE = "Xin lỗi, hệ thống vừa gián đoạn nên trả lời tin nhắn của bạn muộn. Câu trả lời:"
SWEEP_EVERY = 10.0  # seconds between looks for questions a dead instance left unanswered
REPLIES_IN_FLIGHT = 1  # answers on their way at once: each may be sent twice if the process is killed

# The channel's way to fetch a document's bytes, given the most it may weigh; None when heavier.
FetchFile = Callable[[int], Awaitable[bytes | None]]
# A channel's way to answer a stored update again (after a crash): its payload as accepted.
Replay = Callable[[str, dict[str, Any]], Awaitable[None]]
# A channel's way to follow who the admins are (Telegram's per-chat admin menu), given the admins now.
AdminsChanged = Callable[[frozenset[str]], Awaitable[None]]


@dataclass
class _Answering:
    """The stored update whose handling runs in this task (set by Edge.answer_update)."""

    channel: str
    update_id: str
    marked: bool = False


# The update being answered, seen by Edge.receive deep inside a channel's handling of it: its replies
# and its "answered" mark then go out in one turn.
_ANSWERING: ContextVar[_Answering | None] = ContextVar("answering", default=None)


class Turns:
    """At most `size` replies on their way at once, whatever the number of answers worked out.

    A task holds a turn from its first send until its update is marked answered; it lets the turn
    go while it waits out flood control (`pause`), so one chat's wait never stalls the others. A
    task already holding a turn sends on without taking another (admin notices, pieces).
    """

    def __init__(self, size: int = REPLIES_IN_FLIGHT) -> None:
        self._free = asyncio.Semaphore(max(1, size))
        self._holders: set[asyncio.Task[Any]] = set()

    @contextlib.asynccontextmanager
    async def turn(self) -> AsyncIterator[None]:
        task = asyncio.current_task()
        if task is None or task in self._holders:
            yield
            return
        await self._free.acquire()
        self._holders.add(task)
        try:
            yield
        finally:
            if task in self._holders:  # (not when cancelled while taking its turn back in `pause`)
                self._holders.discard(task)
                self._free.release()

    async def pause(self, seconds: float) -> None:
        """Sleep without holding a turn (given back, taken again after)."""
        task = asyncio.current_task()
        if task is None or task not in self._holders:
            await asyncio.sleep(seconds)
            return
        self._holders.discard(task)
        self._free.release()
        try:
            await asyncio.sleep(seconds)
        finally:
            await self._free.acquire()
            self._holders.add(task)


class Edge:
    """The registry of running channels and the one path of every message and reply."""

    def __init__(self, ctx: AppContext, *, max_upload_mb: int = MAX_UPLOAD_MB,
                 replies_in_flight: int = REPLIES_IN_FLIGHT) -> None:
        self.ctx = ctx
        self.turns = Turns(replies_in_flight)
        self.max_upload_bytes = max_upload_mb * 1024 * 1024
        self.channels: dict[str, Channel] = {}
        self.closed = asyncio.Event()  # a channel's user ended the session (the console's "thoát")
        self._chat_locks: defaultdict[tuple[str, str], asyncio.Lock] = defaultdict(asyncio.Lock)
        self.worker_id = new_worker_id()  # owner of the inbox rows this process answers
        self.late_after = LATE_AFTER
        self._replays: dict[str, Replay] = {}
        self._sweeper: asyncio.Task[None] | None = None
        self.metrics = Metrics()
        self._admin_watchers: list[AdminsChanged] = []
        self._admins_seen = ctx.admins

    def watch_admins(self, callback: AdminsChanged) -> None:
        """Call `callback` whenever an answer finds the admins changed (added or removed in chat, here or on
        another instance), before that answer is delivered: a new admin has their menu by the time they hear."""
        self._admin_watchers.append(callback)

    async def _admins_changed(self) -> None:
        admins = self.ctx.admins
        if admins == self._admins_seen:
            return
        self._admins_seen = admins
        for callback in self._admin_watchers:
            try:
                await callback(admins)
            except Exception:  # a menu not updated must not cost the answer
                log.exception("admin change not followed by %s", callback)

    def add(self, channel: Channel) -> None:
        """Register a channel: replies addressed to it are delivered through it from now on."""
        self.channels[channel.name] = channel

    def senders(self) -> dict[str, Sender]:
        """The registered channels' senders, for the reminder dispatcher."""
        return {name: ch.sender for name, ch in self.channels.items()}

    # ---- the inbox: nothing received is lost -------------------------------------------------------

    async def accept(self, channel: str, items: list[Received]) -> list[bool]:
        """Store received updates before the channel confirms them to its platform; which are new.
        Raises when the store cannot take them: the channel must then not confirm them."""
        return await inbox.accept(self.ctx.db, channel, items, self.worker_id, self.ctx.clock.now())

    async def answer_update(self, channel: str, update_id: str, handling: Awaitable[None]) -> None:
        """Run a channel's handling of one accepted update and mark it answered (its replies were
        confirmed, or recorded as undelivered): by `receive`, in the turn its replies went out in,
        or here when the handling delivered nothing through it. Cancelled (shutdown), it stays for
        the next start."""
        answering = _Answering(channel, update_id)
        token = _ANSWERING.set(answering)
        try:
            await handling
        except Exception:
            log.exception("%s update %s failed outside the edge", channel, update_id)
        finally:
            _ANSWERING.reset(token)
        if not answering.marked:
            async with self.turns.turn():
                await self._mark(answering)

    async def _mark(self, answering: _Answering) -> None:
        try:
            await inbox.answered(self.ctx.db, answering.channel, answering.update_id, self.ctx.clock.now())
        except Exception as e:  # answered again after a restart: one duplicate, never a loss
            log.warning("%s update %s answered but not marked: %s", answering.channel, answering.update_id, e)
        answering.marked = True

    def replays(self, channel: str, replay: Replay) -> None:
        """A channel that stores its updates in the inbox says how to answer one again."""
        self._replays[channel] = replay

    async def recover(self) -> int:
        """Answer what crashed processes left unanswered; a late answer comes after a short apology."""
        channels = list(self._replays)
        if not channels:
            return 0
        now = self.ctx.clock.now()
        left = await inbox.take_leftovers(self.ctx.db, self.worker_id, channels, now)
        sorry_sent: set[tuple[str, str]] = set()
        for row in left:
            if row.given_up:
                log.warning("%s update %s given up: its answering stopped %d processes", row.channel,
                            row.update_id, inbox.MAX_TAKEOVERS)
                if row.chat_id:
                    with contextlib.suppress(Exception):
                        await self.send(row.channel, row.chat_id, Reply(SORRY))
                continue
            key = (row.channel, row.chat_id)
            if row.chat_id and key not in sorry_sent and (now - row.received_at).total_seconds() > self.late_after:
                sorry_sent.add(key)
                with contextlib.suppress(Exception):
                    await self.send(row.channel, row.chat_id, Reply(SORRY_LATE))
            await self._replays[row.channel](row.update_id, row.payload)
        if left:
            log.warning("answering %d question(s) left unanswered by a stopped instance", len(left))
        return len(left)

    def start_sweeping(self, every: float = SWEEP_EVERY) -> None:
        """Now and then: take over what another instance left when it died; forget old answered rows."""
        async def sweep() -> None:
            while True:
                await asyncio.sleep(every)
                try:
                    await self.recover()
                    await inbox.prune(self.ctx.db, self.ctx.clock.now())
                except Exception as e:
                    log.warning("inbox sweep failed: %s", e)

        if self._sweeper is None:
            self._sweeper = asyncio.create_task(sweep())

    async def stop_sweeping(self) -> None:
        if self._sweeper is not None:
            self._sweeper.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._sweeper
            self._sweeper = None

    # ---- messages in -----------------------------------------------------------------------------

    async def receive(self, incoming: Incoming, *, fetch_file: FetchFile | None = None,
                      working: Callable[[], Coroutine[Any, Any, None]] | None = None) -> None:
        """Answer one message and deliver the replies; never raises. `working` runs while the answer
        is prepared (Telegram shows "typing…")."""
        arrived = time.monotonic()
        async with self._chat_locks[(incoming.channel, incoming.chat_id)]:
            busy = asyncio.create_task(working()) if working is not None else None
            try:
                replies = await self._answer(incoming, fetch_file)
            except Exception:
                log.exception("failed to answer %s", incoming)
                replies = [Reply(SORRY)]
            finally:
                if busy is not None:
                    busy.cancel()
            await self._admins_changed()
            answering = _ANSWERING.get()
            async with self.turns.turn():  # sent, then marked answered, before the next answer goes out
                try:
                    await self.deliver(incoming, replies)
                except Exception:
                    log.exception("failed to deliver the replies to %s", incoming)
                if answering is not None and not answering.marked:
                    await self._mark(answering)
            self.metrics.answered(incoming, time.monotonic() - arrived)

    async def _answer(self, incoming: Incoming, fetch_file: FetchFile | None) -> list[Reply]:
        if incoming.file_name is not None and incoming.file_bytes is None:
            await router.refresh_admins(self.ctx)
            if not self.ctx.is_admin(incoming.channel, incoming.user_id):
                if incoming.text and not_a_plan(incoming.file_name) == IMAGE:
                    # A user's photo with a caption: the caption is what they ask, as before.
                    return await router.handle(self.ctx, replace(incoming, file_name=None))
                return [Reply(ADMIN_FILES_ONLY)]
            if not_a_plan(incoming.file_name) is None:  # a photo or a spreadsheet is named, not downloaded
                data = await fetch_file(self.max_upload_bytes) if fetch_file is not None else None
                if data is None:
                    return [Reply(f"Tệp {incoming.file_name} quá lớn (tối đa {self.max_upload_bytes // 2**20} MB).")]
                incoming = replace(incoming, file_bytes=data)
                # The preview parses in a worker process (everyone else keeps being answered); a large
                # plan takes a while, so its admin hears at once that it is under way.
                if len(data) >= READING_NOTICE_BYTES:
                    await self.send(incoming.channel, incoming.chat_id,
                                    Reply(READING.format(name=incoming.file_name, mb=len(data) / 2**20)))
        replies = await router.handle(self.ctx, incoming)
        if not replies and incoming.choice is None:
            return [Reply(NOT_UNDERSTOOD)]
        return replies

    # ---- replies out -----------------------------------------------------------------------------

    async def deliver(self, origin: Incoming | None, replies: list[Reply]) -> None:
        """Send replies in order, each to its own chat and channel (default: where `origin` came from)."""
        for reply in replies:
            channel = reply.channel or (origin.channel if origin else "")
            chat_id = reply.chat_id or (origin.chat_id if origin else "")
            if channel and chat_id:
                await self.send(channel, chat_id, reply)

    async def send(self, channel: str, chat_id: str, reply: Reply) -> bool:
        """One reply to one chat, piece by piece, retrying passing failures. True once delivered."""
        target = self.channels.get(channel)
        if target is None:
            await self._undelivered(channel, chat_id, reply, "kênh không chạy trên máy chủ này")
            return False
        pieces = split_text(reply.text, target.max_text) or ["…"]
        if reply.attachment is not None:
            return await self._send_file(target, channel, chat_id, reply)
        for i, piece in enumerate(pieces):
            choices = reply.choices if i == len(pieces) - 1 else None
            for attempt in range(1, MAX_ATTEMPTS + 1):
                try:
                    async with self.turns.turn():
                        await target.sender.send(chat_id, piece, choices)
                    break
                except Unreachable as e:
                    log.info("%s chat %s unreachable: %s", channel, chat_id, e)
                    await self.unreachable(channel, chat_id, str(e))
                    return False
                except RetryLater as e:
                    if attempt == MAX_ATTEMPTS:
                        log.error("gave up sending to %s:%s after %d attempts: %s", channel, chat_id, attempt, e)
                        await self._undelivered(channel, chat_id, reply, str(e))
                        return False
                    wait = min(e.seconds, MAX_WAIT)
                    log.warning("%s:%s: %s, sending again in %.1f s (attempt %d of %d)", channel, chat_id, e, wait,
                                attempt, MAX_ATTEMPTS)
                    await self.turns.pause(wait)
                except DeliveryError as e:
                    await self._undelivered(channel, chat_id, reply, str(e))
                    return False
        return True

    async def _send_file(self, target: Channel, channel: str, chat_id: str, reply: Reply) -> bool:
        """The reply's text, then its file (a photo or a document) with a short caption; a channel that
        sends no file says so in words instead of dropping it."""
        assert reply.attachment is not None
        if reply.text and not await self.send(channel, chat_id, replace(reply, attachment=None)):
            return False
        send_file = getattr(target.sender, "send_file", None)
        if send_file is None:
            return await self.send(channel, chat_id, Reply(NO_FILES.format(name=reply.attachment.name)))
        for attempt in range(1, MAX_ATTEMPTS + 1):
            try:
                async with self.turns.turn():
                    await send_file(chat_id, reply.attachment, reply.attachment.name)
                return True
            except Unreachable as e:
                await self.unreachable(channel, chat_id, str(e))
                return False
            except RetryLater as e:
                if attempt == MAX_ATTEMPTS:
                    break
                await self.turns.pause(min(e.seconds, MAX_WAIT))
            except DeliveryError as e:
                await self._undelivered(channel, chat_id, reply, str(e))
                return False
        await self._undelivered(channel, chat_id, reply, "gửi tệp không thành công")
        return False

    async def unreachable(self, channel: str, chat_id: str, reason: str) -> None:
        """A chat blocked the bot (or left): its focal points marked, the admins told elsewhere."""
        notices = await mark_chat_unreachable(self.ctx, channel, chat_id, reason)
        await self.deliver(None, [n for n in notices if (n.channel, n.chat_id) != (channel, chat_id)])

    async def _undelivered(self, channel: str, chat_id: str, reply: Reply, reason: str) -> None:
        """Recorded, never dropped silently: the audit log keeps what did not reach whom, and why."""
        log.warning("reply to %s:%s not delivered (%s): %.80s", channel, chat_id, reason, reply.text)
        with contextlib.suppress(Exception):  # the record is best effort; the store may be what failed
            async with self.ctx.db.session() as s:
                s.add(AuditEntry(actor="system", action="reply.undelivered", target=f"{channel}:{chat_id}"[:200],
                                 details={"reason": reason[:500], "text": reply.text[:1000]}))
                await s.commit()
