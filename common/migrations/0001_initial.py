# The spreadsheet import job moves from members/ to the common layer: the table stays where it
# is (members_importjob), only Django's idea of which app holds the model changes.

import common.models
import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models


class Migration(migrations.Migration):

    initial = True

    dependencies = [
        ('members', '0006_search_name_bytewise'),
        ('unions', '0001_initial'),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.CreateModel(
                    name='ImportJob',
                    fields=[
                        ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                        ('kind', models.CharField(choices=[('members', 'Members'), ('support', 'Past support records')], max_length=16, verbose_name='kind')),
                        ('language', models.CharField(default='vi', max_length=8)),
                        ('token', models.CharField(editable=False, max_length=32, unique=True)),
                        ('file', models.FileField(blank=True, upload_to=common.models.import_upload_path)),
                        ('original_name', models.CharField(max_length=255, verbose_name='file')),
                        ('plan', models.FileField(blank=True, upload_to='')),
                        ('refused_file', models.FileField(blank=True, upload_to='')),
                        ('status', models.CharField(choices=[('queued', 'Waiting to start'), ('reading', 'Reading and checking the file'), ('previewed', 'Checked, waiting for confirmation'), ('confirmed', 'Confirmed, waiting to be written'), ('writing', 'Being written'), ('done', 'Imported'), ('failed', 'Failed'), ('cancelled', 'Cancelled')], default='queued', max_length=16)),
                        ('progress', models.PositiveSmallIntegerField(default=0)),
                        ('rows', models.PositiveIntegerField(default=0, verbose_name='rows read')),
                        ('to_create', models.PositiveIntegerField(default=0, verbose_name='new')),
                        ('to_update', models.PositiveIntegerField(default=0, verbose_name='to update')),
                        ('unchanged', models.PositiveIntegerField(default=0, verbose_name='unchanged')),
                        ('refused', models.PositiveIntegerField(default=0, verbose_name='refused')),
                        ('refused_sample', models.JSONField(blank=True, default=list)),
                        ('error', models.TextField(blank=True)),
                        ('created_at', models.DateTimeField(auto_now_add=True)),
                        ('previewed_at', models.DateTimeField(blank=True, null=True)),
                        ('finished_at', models.DateTimeField(blank=True, null=True)),
                        ('created_by', models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, related_name='+', to=settings.AUTH_USER_MODEL)),
                        ('unit', models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, related_name='+', to='unions.unit', verbose_name='import into')),
                    ],
                    options={
                        'verbose_name': 'spreadsheet import',
                        'verbose_name_plural': 'spreadsheet imports',
                        'ordering': ['-created_at', '-id'],
                        'db_table': 'members_importjob',
                        'indexes': [models.Index(fields=['unit', 'kind', 'created_at'], name='members_imp_unit_id_01166e_idx')],
                    },
                ),
            ],
            database_operations=[],
        ),
    ]
