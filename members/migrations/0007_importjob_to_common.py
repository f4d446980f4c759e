# ImportJob now belongs to the common layer (common 0001 took it over, table and all).

from django.db import migrations


class Migration(migrations.Migration):

    dependencies = [
        ('members', '0006_search_name_bytewise'),
        ('common', '0001_initial'),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[migrations.DeleteModel(name='ImportJob')],
            database_operations=[],
        ),
    ]
