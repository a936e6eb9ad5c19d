"""The messenger (seed 003, docs/messenger.md): chats, messages and their statuses, presence,
device public keys for end-to-end encryption."""
