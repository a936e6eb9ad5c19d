"""The wallets' CHECK constraints (``wallets_coins_non_negative``, ``wallets_beans_non_negative``).

0006 declared them in ``CreateModel``'s options, but Tortoise's ``create_model`` emits no CHECK
constraint on either database: the tables were made without them. This adds them: ``ALTER
TABLE ... ADD CONSTRAINT`` on PostgreSQL, a rebuild of the table on SQLite (which cannot add a
constraint to a table). Either way it is a no-op where they exist already. Backwards it drops
them on PostgreSQL; on SQLite they stay (0006 backwards drops the table).
"""

from tortoise import migrations
from tortoise.migrations import operations as ops

CHECKS = {
    "wallets_coins_non_negative": "coins >= 0",
    "wallets_beans_non_negative": "beans >= 0",
}

SQLITE_REBUILD = [
    'CREATE TABLE "wallets__checked" ('
    ' "coins" BIGINT NOT NULL CONSTRAINT "wallets_coins_non_negative" CHECK (coins >= 0),'
    ' "beans" BIGINT NOT NULL CONSTRAINT "wallets_beans_non_negative" CHECK (beans >= 0),'
    ' "updated_at" TIMESTAMP NOT NULL,'
    ' "user_id" INT NOT NULL PRIMARY KEY REFERENCES "users" ("id") ON DELETE CASCADE'
    ")",
    'INSERT INTO "wallets__checked" ("coins", "beans", "updated_at", "user_id")'
    ' SELECT "coins", "beans", "updated_at", "user_id" FROM "wallets"',
    'DROP TABLE "wallets"',
    'ALTER TABLE "wallets__checked" RENAME TO "wallets"',
]


async def add_checks(apps, schema_editor) -> None:
    client = schema_editor.client
    if client.capabilities.dialect == "sqlite":
        _, rows = await client.execute_query(
            "SELECT sql FROM sqlite_master WHERE type = 'table' AND name = 'wallets'"
        )
        if all(name in rows[0]["sql"] for name in CHECKS):
            return
        for statement in SQLITE_REBUILD:
            await client.execute_query(statement)
        return
    for name, check in CHECKS.items():
        await client.execute_query(f'ALTER TABLE "wallets" DROP CONSTRAINT IF EXISTS "{name}"')
        await client.execute_query(f'ALTER TABLE "wallets" ADD CONSTRAINT "{name}" CHECK ({check})')


async def drop_checks(apps, schema_editor) -> None:
    client = schema_editor.client
    if client.capabilities.dialect == "sqlite":
        return
    for name in CHECKS:
        await client.execute_query(f'ALTER TABLE "wallets" DROP CONSTRAINT IF EXISTS "{name}"')


class Migration(migrations.Migration):
    dependencies = [("models", "0006_wallet")]

    initial = False

    operations = [ops.RunPython(add_checks, drop_checks)]
