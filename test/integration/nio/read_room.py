"""Reads one room through matrix-nio, a Python Matrix client, and prints what it saw as JSON.

    python3 read_room.py <homeserver-url> <user> <password> <room-id>

Logs in with a password, does one /sync, then pages /messages backwards (limit 4) from the
sync's position until the server says there is no more. nio validates every response against
its own schemas and turns a malformed one into an error response, which this script reports.
Prints {"ok": true, ...} and exits 0, or {"ok": false, "step", "error"} and exits 1.
"""

import asyncio
import json
import sys

from nio import AsyncClient, LoginResponse, RoomMessagesResponse, SyncResponse
from nio.api import MessageDirection

PAGE = 4
MAX_PAGES = 100


def fail(step, response):
    print(json.dumps({"ok": False, "step": step, "error": repr(response)}))
    sys.exit(1)


def event_json(event):
    source = event.source
    return {
        "event_id": source.get("event_id"),
        "type": source.get("type"),
        "sender": source.get("sender"),
        "body": source.get("content", {}).get("body"),
        "nio_class": type(event).__name__,
    }


async def main(homeserver, user, password, room_id):
    client = AsyncClient(homeserver, user)
    try:
        login = await client.login(password, device_name="nio interop test")
        if not isinstance(login, LoginResponse):
            fail("login", login)

        sync = await client.sync(timeout=0, full_state=True)
        if not isinstance(sync, SyncResponse):
            fail("sync", sync)
        joined = sync.rooms.join.get(room_id)
        if joined is None:
            fail("sync", f"room {room_id} not in rooms.join: {list(sync.rooms.join)}")
        room = client.rooms.get(room_id)

        # Back-paginate from the sync's position to the start of the room.
        newest_first = []
        token = sync.next_batch
        pages = 0
        while True:
            page = await client.room_messages(room_id, token, direction=MessageDirection.back, limit=PAGE)
            if not isinstance(page, RoomMessagesResponse):
                fail("room_messages", page)
            pages += 1
            newest_first.extend(event_json(e) for e in page.chunk)
            if not page.end or not page.chunk or pages >= MAX_PAGES:
                break
            token = page.end

        print(json.dumps({
            "ok": True,
            "user_id": login.user_id,
            "device_id": login.device_id,
            "room_name": room.name if room else None,
            "members": sorted(room.users) if room else [],
            "sync_timeline": [event_json(e) for e in joined.timeline.events],
            "messages": list(reversed(newest_first)),
            "pages": pages,
        }))
    finally:
        await client.close()


if __name__ == "__main__":
    if len(sys.argv) != 5:
        sys.exit(__doc__)
    asyncio.run(main(*sys.argv[1:]))
