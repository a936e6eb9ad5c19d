from tortoise import migrations
from tortoise.migrations import operations as ops
from models.wallet import Currency, EntryKind, PaymentStatus, Product, Provider, WithdrawalStatus
from tortoise.fields.base import OnDelete
from tortoise import fields
from tortoise.indexes import Index
from tortoise.migrations.constraints import CheckConstraint

class Migration(migrations.Migration):
    dependencies = [('models', '0005_room_playback')]

    initial = False

    operations = [
        ops.CreateModel(
            name='Gift',
            fields=[
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('key', fields.CharField(unique=True, description='``<sender id>:<client key>``: a retried send finds the gift it already made.', max_length=80)),
                ('sender', fields.ForeignKeyField('models.User', source_field='sender_id', db_constraint=True, to_field='id', related_name='gifts_sent', on_delete=OnDelete.CASCADE)),
                ('recipient', fields.ForeignKeyField('models.User', source_field='recipient_id', db_constraint=True, to_field='id', related_name='gifts_received', on_delete=OnDelete.CASCADE)),
                ('room', fields.ForeignKeyField('models.Room', source_field='room_id', null=True, db_constraint=True, to_field='id', related_name='gifts', on_delete=OnDelete.CASCADE)),
                ('kind', fields.CharField(max_length=16)),
                ('coins', fields.IntField()),
                ('beans', fields.IntField()),
                ('created_at', fields.DatetimeField(auto_now=False, auto_now_add=True)),
            ],
            options={'table': 'gifts', 'app': 'models', 'indexes': [Index(fields=['room_id', 'sender_id']), Index(fields=['recipient_id', 'sender_id'])], 'pk_attr': 'id'},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='Payment',
            fields=[
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('order_id', fields.CharField(unique=True, max_length=40)),
                ('user', fields.ForeignKeyField('models.User', source_field='user_id', db_constraint=True, to_field='id', related_name='payments', on_delete=OnDelete.CASCADE)),
                ('provider', fields.CharEnumField(description='STARS: stars\nYOOKASSA: yookassa', enum_type=Provider, max_length=16)),
                ('product', fields.CharEnumField(description='COINS: coins\nPREMIUM: premium', enum_type=Product, max_length=16)),
                ('pack_id', fields.CharField(max_length=32)),
                ('coins', fields.BigIntField(default=0)),
                ('amount', fields.BigIntField(description="In the currency's smallest unit: Stars, or kopecks.")),
                ('currency', fields.CharField(max_length=8)),
                ('status', fields.CharEnumField(default=PaymentStatus.PENDING, description='PENDING: pending\nSUCCEEDED: succeeded\nCANCELED: canceled\nREFUNDED: refunded', enum_type=PaymentStatus, max_length=16)),
                ('charge_id', fields.CharField(null=True, unique=True, description="Telegram's ``telegram_payment_charge_id`` or YooKassa's payment id.", max_length=128)),
                ('provider_charge_id', fields.CharField(null=True, max_length=128)),
                ('confirmation_url', fields.CharField(null=True, max_length=512)),
                ('subscription_until', fields.DatetimeField(null=True, description="Premium: when the paid period ends (Telegram's ``subscription_expiration_date``).", auto_now=False, auto_now_add=False)),
                ('refund_shortfall', fields.BigIntField(default=0, description='Coins a refund could not take back because they were spent (refunds Telegram made')),
                ('created_at', fields.DatetimeField(auto_now=False, auto_now_add=True)),
                ('paid_at', fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
                ('refunded_at', fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
            ],
            options={'table': 'payments', 'app': 'models', 'indexes': [Index(fields=['user_id', 'created_at'])], 'pk_attr': 'id', 'table_description': 'A purchase from a provider. Telegram Stars payments are recorded when they succeed'},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='Subscription',
            fields=[
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('user', fields.OneToOneField('models.User', source_field='user_id', db_constraint=True, to_field='id', related_name='subscription', on_delete=OnDelete.CASCADE)),
                ('charge_id', fields.CharField(max_length=128)),
                ('until', fields.DatetimeField(auto_now=False, auto_now_add=False)),
                ('canceled', fields.BooleanField(default=False)),
                ('updated_at', fields.DatetimeField(auto_now=True, auto_now_add=False)),
            ],
            options={'table': 'subscriptions', 'app': 'models', 'pk_attr': 'id', 'table_description': "A user's premium Stars subscription: the first charge names it for"},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='Wallet',
            fields=[
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('user', fields.OneToOneField('models.User', source_field='user_id', db_constraint=True, to_field='id', related_name='wallet', on_delete=OnDelete.CASCADE)),
                ('coins', fields.BigIntField(default=0)),
                ('beans', fields.BigIntField(default=0)),
                ('updated_at', fields.DatetimeField(auto_now=True, auto_now_add=False)),
            ],
            options={'table': 'wallets', 'app': 'models', 'constraints': [CheckConstraint(check='coins >= 0', name='wallets_coins_non_negative'), CheckConstraint(check='beans >= 0', name='wallets_beans_non_negative')], 'pk_attr': 'id', 'table_description': 'One row per user who ever had a movement (no row reads as zero).'},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='Withdrawal',
            fields=[
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('user', fields.ForeignKeyField('models.User', source_field='user_id', db_constraint=True, to_field='id', related_name='withdrawals', on_delete=OnDelete.CASCADE)),
                ('beans', fields.BigIntField()),
                ('status', fields.CharEnumField(default=WithdrawalStatus.PENDING, description='PENDING: pending\nPAID: paid\nREJECTED: rejected', enum_type=WithdrawalStatus, max_length=16)),
                ('created_at', fields.DatetimeField(auto_now=False, auto_now_add=True)),
                ('decided_at', fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
            ],
            options={'table': 'withdrawals', 'app': 'models', 'pk_attr': 'id', 'table_description': 'A request to pay out beans, recorded for an admin. The beans are held (debited) until'},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='LedgerEntry',
            fields=[
                ('id', fields.BigIntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('key', fields.CharField(unique=True, max_length=160)),
                ('user', fields.ForeignKeyField('models.User', source_field='user_id', db_constraint=True, to_field='id', related_name='ledger_entries', on_delete=OnDelete.CASCADE)),
                ('currency', fields.CharEnumField(description='COINS: coins\nBEANS: beans', enum_type=Currency, max_length=8)),
                ('amount', fields.BigIntField()),
                ('kind', fields.CharEnumField(description='PURCHASE: purchase\nGIFT_SENT: gift_sent\nGIFT_RECEIVED: gift_received\nREFUND: refund\nWITHDRAWAL: withdrawal\nWITHDRAWAL_RETURNED: withdrawal_returned', enum_type=EntryKind, max_length=24)),
                ('payment', fields.ForeignKeyField('models.Payment', source_field='payment_id', null=True, db_constraint=True, to_field='id', related_name='entries', on_delete=OnDelete.CASCADE)),
                ('gift', fields.ForeignKeyField('models.Gift', source_field='gift_id', null=True, db_constraint=True, to_field='id', related_name='entries', on_delete=OnDelete.CASCADE)),
                ('withdrawal', fields.ForeignKeyField('models.Withdrawal', source_field='withdrawal_id', null=True, db_constraint=True, to_field='id', related_name='entries', on_delete=OnDelete.CASCADE)),
                ('created_at', fields.DatetimeField(auto_now=False, auto_now_add=True)),
            ],
            options={'table': 'ledger_entries', 'app': 'models', 'indexes': [Index(fields=['user_id', 'id'])], 'pk_attr': 'id', 'table_description': 'One movement of one currency of one wallet. ``key`` is unique: the same movement asked'},
            bases=['Model'],
        ),
        ops.AddField(
            model_name='User',
            name='banned_at',
            field=fields.DatetimeField(null=True, description='Set by an admin (``/ban``): no purchases, gifts or withdrawals (null: in good standing).', auto_now=False, auto_now_add=False),
        ),
    ]
