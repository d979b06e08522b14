"""Re-encrypt every personal-data column under the current MINYI_FIELD_KEY and recompute
every lookup digest under the current MINYI_LOOKUP_KEY (after a key rotation); the other
derived columns (a reporter's masked name) are recomputed with them.

Rotation: put the new key in MINYI_FIELD_KEY and the old one in MINYI_FIELD_KEY_FALLBACKS,
restart, run this command, then drop the old key. Safe to run again at any time.
"""

from django.apps import apps
from django.core.management.base import BaseCommand
from django.db import transaction

from minyi.audit.trail import record_bulk
from minyi.core.crypto import DerivedField, EncryptedCharField

BATCH = 500


class Command(BaseCommand):
    help = "用当前密钥重新加密全部个人信息字段，并重算查询摘要（轮换密钥后运行）。"

    def handle(self, *args, **options) -> None:
        for model in apps.get_models():
            fields = [f for f in model._meta.concrete_fields if isinstance(f, EncryptedCharField)]
            digests = [f for f in model._meta.concrete_fields if isinstance(f, DerivedField)]
            if not fields:
                continue
            names = [f.name for f in fields + digests]
            rows = 0
            with transaction.atomic():
                batch = []
                for obj in model._base_manager.only(*names).iterator(chunk_size=BATCH):
                    for field in digests:
                        setattr(obj, field.attname, field.derive(getattr(obj, field.source) or ""))
                    batch.append(obj)
                    if len(batch) == BATCH:
                        model._base_manager.bulk_update(batch, names)
                        rows += len(batch)
                        batch = []
                if batch:
                    model._base_manager.bulk_update(batch, names)
                    rows += len(batch)
                record_bulk(model, rows, fields=names, cause="个人信息重新加密")
            self.stdout.write(f"{model._meta.label}: {rows} 行")
