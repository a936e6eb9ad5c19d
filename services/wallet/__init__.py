"""Coins, beans, gifts and payments: a ledger every movement goes through (docs/wallet.md)."""
