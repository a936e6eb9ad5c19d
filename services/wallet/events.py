"""Names of the wallet's Socket.IO events and bus events (docs/wallet.md)."""

from __future__ import annotations

# --- client -> server ---------------------------------------------------------------------------
GIFT_SEND = "gift:send"

# --- server -> client, to room:<id> --------------------------------------------------------------
GIFT_SENT = "gift:sent"

# --- server -> client, to user:<id> --------------------------------------------------------------
#: The balance changed (a purchase credited, a gift received or sent, a refund): the wallet
#: page and the gift picker refresh without polling.
WALLET_UPDATED = "wallet:updated"

# --- bus only (no scope) -------------------------------------------------------------------------
#: A payment was credited (``payment``, ``user``): the bot thanks the user.
PAYMENT_CREDITED = "payment:credited"
