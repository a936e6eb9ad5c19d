from tortoise import migrations
from tortoise.migrations import operations as ops
import functools
from json import dumps, loads
from models.messenger import ChatKind, ChatRole
from tortoise.fields.base import OnDelete
from tortoise import fields
from tortoise.indexes import Index

class Migration(migrations.Migration):
    dependencies = [('models', '0007_wallet_checks')]

    initial = False

    operations = [
        ops.CreateModel(
            name='Chat',
            fields=[
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('kind', fields.CharEnumField(description='DIRECT: direct\nGROUP: group', enum_type=ChatKind, max_length=8)),
                ('title', fields.CharField(null=True, max_length=100)),
                ('direct_key', fields.CharField(null=True, unique=True, description='Direct chats only: the two user ids, lower first ("3:7"), so a pair has one chat.', max_length=32)),
                ('created_by', fields.ForeignKeyField('models.User', source_field='created_by_id', null=True, db_constraint=True, to_field='id', related_name='chats_created', on_delete=OnDelete.CASCADE)),
                ('created_at', fields.DatetimeField(auto_now=False, auto_now_add=True)),
                ('last_message_id', fields.IntField(null=True, description="The newest message (id and time), for the chat list's order and preview.")),
                ('last_message_at', fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
            ],
            options={'table': 'chats', 'app': 'models', 'pk_attr': 'id', 'table_description': 'A conversation. Direct chats have exactly two members and a ``direct_key``.'},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='ChatMember',
            fields=[
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('chat', fields.ForeignKeyField('models.Chat', source_field='chat_id', db_constraint=True, to_field='id', related_name='members', on_delete=OnDelete.CASCADE)),
                ('user', fields.ForeignKeyField('models.User', source_field='user_id', db_constraint=True, to_field='id', related_name='chat_memberships', on_delete=OnDelete.CASCADE)),
                ('role', fields.CharEnumField(default=ChatRole.MEMBER, description='ADMIN: admin\nMEMBER: member', enum_type=ChatRole, max_length=8)),
                ('muted', fields.BooleanField(default=False)),
                ('last_read_id', fields.IntField(default=0)),
                ('last_delivered_id', fields.IntField(default=0)),
                ('joined_at', fields.DatetimeField(auto_now=False, auto_now_add=True)),
                ('left_at', fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
            ],
            options={'table': 'chat_members', 'app': 'models', 'unique_together': (('chat', 'user'),), 'indexes': [Index(fields=['user_id', 'left_at'])], 'pk_attr': 'id', 'table_description': 'One person in one chat. ``left_at`` set: out of it (left or removed), the row is kept'},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='DeviceKey',
            fields=[
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('user', fields.ForeignKeyField('models.User', source_field='user_id', db_constraint=True, to_field='id', related_name='device_keys', on_delete=OnDelete.CASCADE)),
                ('device_id', fields.CharField(max_length=64)),
                ('public_key', fields.TextField(unique=False)),
                ('fingerprint', fields.CharField(description='SHA-256 of the DER key, hex.', max_length=64)),
                ('created_at', fields.DatetimeField(auto_now=False, auto_now_add=True)),
                ('updated_at', fields.DatetimeField(auto_now=True, auto_now_add=False)),
            ],
            options={'table': 'device_keys', 'app': 'models', 'unique_together': (('user', 'device_id'),), 'pk_attr': 'id', 'table_description': "A device's RSA-OAEP public key (SPKI, base64) for end-to-end encryption. One per user"},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='Message',
            fields=[
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('chat', fields.ForeignKeyField('models.Chat', source_field='chat_id', db_constraint=True, to_field='id', related_name='messages', on_delete=OnDelete.CASCADE)),
                ('sender', fields.ForeignKeyField('models.User', source_field='sender_id', db_constraint=True, to_field='id', related_name='messages_sent', on_delete=OnDelete.CASCADE)),
                ('client_id', fields.CharField(max_length=64)),
                ('content', fields.TextField(unique=False)),
                ('is_encrypted', fields.BooleanField(default=False)),
                ('encryption', fields.JSONField(null=True, encoder=functools.partial(dumps, separators=(',', ':')), decoder=loads)),
                ('created_at', fields.DatetimeField(auto_now=False, auto_now_add=True)),
                ('edited_at', fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
                ('deleted_at', fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
            ],
            options={'table': 'messages', 'app': 'models', 'unique_together': (('sender', 'client_id'),), 'indexes': [Index(fields=['chat_id', 'id'])], 'pk_attr': 'id', 'table_description': "A message as its sender's client sent it. Encrypted ones hold ciphertext in ``content``"},
            bases=['Model'],
        ),
    ]
