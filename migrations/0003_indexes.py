from tortoise import migrations
from tortoise.migrations import operations as ops
from tortoise.indexes import Index

class Migration(migrations.Migration):
    dependencies = [('models', '0002_rooms')]

    initial = False

    operations = [
        ops.AddIndex(
            model_name='ChatMessage',
            index=Index(fields=['room_id', 'id']),
        ),
        ops.AddIndex(
            model_name='MediaItem',
            index=Index(fields=['room_id', 'position']),
        ),
        ops.AddIndex(
            model_name='Reaction',
            index=Index(fields=['media_id', 'media_time']),
        ),
        ops.AddIndex(
            model_name='RoomMember',
            index=Index(fields=['user_id', 'left_at']),
        ),
    ]
