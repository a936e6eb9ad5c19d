"""The aiogram bot: commands, deep links, payments and group chats.

``python -m bot`` runs the whole app.
"""
