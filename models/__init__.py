"""Tortoise ORM models, one module per aggregate. :data:`MODEL_MODULES` feeds the ORM config."""

MODEL_MODULES: list[str] = ["models.users", "models.rooms", "models.wallet", "models.messenger"]
