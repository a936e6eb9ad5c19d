from tortoise import migrations
from tortoise.migrations import operations as ops
from tortoise import fields

class Migration(migrations.Migration):
    initial = True

    operations = [
        ops.CreateModel(
            name='User',
            fields=[
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('telegram_id', fields.BigIntField(null=True, unique=True)),
                ('email', fields.CharField(null=True, unique=True, max_length=254)),
                ('username', fields.CharField(null=True, unique=True, max_length=32)),
                ('telegram_username', fields.CharField(null=True, max_length=32)),
                ('password_hash', fields.CharField(null=True, max_length=255)),
                ('first_name', fields.CharField(default='', max_length=128)),
                ('last_name', fields.CharField(null=True, max_length=128)),
                ('photo_url', fields.CharField(null=True, max_length=512)),
                ('language', fields.CharField(null=True, max_length=8)),
                ('telegram_language', fields.CharField(null=True, max_length=16)),
                ('is_telegram_premium', fields.BooleanField(default=False)),
                ('created_at', fields.DatetimeField(auto_now=False, auto_now_add=True)),
                ('updated_at', fields.DatetimeField(auto_now=True, auto_now_add=False)),
                ('last_seen_at', fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
            ],
            options={'table': 'users', 'app': 'models', 'pk_attr': 'id'},
            bases=['Model'],
        ),
    ]
