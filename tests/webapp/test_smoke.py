import aiohttp

from tests.conftest import Account


async def test_register_then_me(http: aiohttp.ClientSession, anna: Account) -> None:
    async with http.get("/api/users/me", headers=anna.headers) as response:
        assert response.status == 200
        body = await response.json()
    assert body["user"]["username"] == "anna"
    assert body["user"]["email"] == "anna@example.com"
