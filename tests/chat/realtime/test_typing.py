"""typing_start / typing_stop: to every recipient socket, ending by stop, timeout or disconnect."""

import time

import pytest

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture(scope="module")
def quick_typing_server(asgi_server_factory):
    return asgi_server_factory(TYPING_TIMEOUT_SECONDS="1")


def _typing(clerk_id, is_typing):
    return {"userId": clerk_id, "fromClerkId": clerk_id, "isTyping": is_typing}


async def test_typing_reaches_every_recipient_socket(asgi_server, clients, alice, bob, transport):
    typist = await clients(asgi_server, alice.clerk_id, transport)
    phone = await clients(asgi_server, bob.clerk_id, transport)
    laptop = await clients(asgi_server, bob.clerk_id, transport)
    pair = {"fromClerkId": alice.clerk_id, "toClerkId": bob.clerk_id}

    assert (await typist.call("typing_start", pair))["success"] is True
    for device in (phone, laptop):
        assert await device.next("user_typing") == _typing(alice.clerk_id, True)
    assert (await typist.call("typing_stop", pair))["success"] is True
    for device in (phone, laptop):
        assert await device.next("user_typing") == _typing(alice.clerk_id, False)
    assert typist.pending("user_typing") == []


async def test_an_indicator_without_stop_expires(quick_typing_server, clients, alice, bob, transport):
    typist = await clients(quick_typing_server, alice.clerk_id, transport)
    watcher = await clients(quick_typing_server, bob.clerk_id, transport)
    pair = {"fromClerkId": alice.clerk_id, "toClerkId": bob.clerk_id}

    await typist.call("typing_start", pair)
    assert await watcher.next("user_typing") == _typing(alice.clerk_id, True)
    started = time.monotonic()
    await typist.call("typing_start", pair)  # still typing: the timer starts again
    assert await watcher.next("user_typing") == _typing(alice.clerk_id, True)

    assert await watcher.next("user_typing", timeout=5) == _typing(alice.clerk_id, False)
    assert time.monotonic() - started >= 0.9


async def test_an_indicator_ends_when_the_typist_disconnects(asgi_server, clients, alice, bob):
    typist = await clients(asgi_server, alice.clerk_id)
    watcher = await clients(asgi_server, bob.clerk_id)
    await typist.call("typing_start", {"fromClerkId": alice.clerk_id, "toClerkId": bob.clerk_id})
    assert (await watcher.next("user_typing"))["isTyping"] is True

    await typist.close()

    assert await watcher.next("user_typing") == _typing(alice.clerk_id, False)
