"""The wallets' CHECK constraints (``wallets_coins_non_negative``, ``wallets_beans_non_negative``).

0006 declared them in ``CreateModel``'s options, but Tortoise's ``create_model`` emits no CHECK
constraint on either database: the tables were made without them. This adds them: ``ALTER
TABLE ... ADD CONSTRAINT`` on PostgreSQL, a rebuild of the table on SQLite (which cannot add a
constraint to a table: its own CREATE TABLE with the checks added, rows copied, indexes made
again). Either way it is a no-op where they exist already. Backwards it drops
them on PostgreSQL; on SQLite they stay (0006 backwards drops the table).
"""

from tortoise import migrations
from tortoise.migrations import operations as ops

CHECKS = {
    "wallets_coins_non_negative": "coins >= 0",
    "wallets_beans_non_negative": "beans >= 0",
}

def _with_checks(create_sql: str) -> str:
    """The table's own CREATE TABLE, renamed ``wallets__checked``, with the CHECK constraints
    added after its last column or constraint."""
    head, _, body = create_sql.partition("(")
    assert "wallets" in head, create_sql
    body = body.rstrip().removesuffix(")")
    checks = ", ".join(f'CONSTRAINT "{name}" CHECK ({check})' for name, check in CHECKS.items())
    return f'CREATE TABLE "wallets__checked" ({body}, {checks})'


async def add_checks(apps, schema_editor) -> None:
    client = schema_editor.client
    if client.capabilities.dialect == "sqlite":
        _, rows = await client.execute_query(
            "SELECT sql FROM sqlite_master WHERE type = 'table' AND name = 'wallets'"
        )
        create_sql = rows[0]["sql"]
        if all(name in create_sql for name in CHECKS):
            return
        _, indexes = await client.execute_query(
            "SELECT sql FROM sqlite_master"
            " WHERE type = 'index' AND tbl_name = 'wallets' AND sql IS NOT NULL"
        )
        _, columns = await client.execute_query('PRAGMA table_info("wallets")')
        names = ", ".join(f'"{c["name"]}"' for c in columns)
        for statement in [
            _with_checks(create_sql),
            f'INSERT INTO "wallets__checked" ({names}) SELECT {names} FROM "wallets"',
            'DROP TABLE "wallets"',
            'ALTER TABLE "wallets__checked" RENAME TO "wallets"',
            *(index["sql"] for index in indexes),
        ]:
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
