"""`linda metrics-maintain`: roll up heartbeat metrics, prune old raw rows, compact coverage."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand
from django.utils import timezone

from linda.monitoring.retention import maintain_metrics


class Command(BaseCommand):
    help = (
        "Run the metrics maintenance once: five-minute and hourly roll-ups of new heartbeats, "
        "deletion of raw heartbeats older than LINDA_RAW_RETENTION_DAYS and five-minute "
        "roll-ups older than LINDA_ROLLUP_5M_RETENTION_DAYS, compaction of coverage marks "
        "older than a day. The monitor does this every LINDA_ROLLUP_EVERY_S."
    )

    def handle(self, *args: Any, **options: Any) -> None:
        result = maintain_metrics(timezone.now())
        self.stdout.write(
            f"rolled up {result.rollup.sites} site-batches in {result.rollup.chunks} chunks "
            f"({result.rollup.hourly_rows} hourly rows, {result.rollup.late_added} late beats "
            f"added to sealed buckets); pruned {result.prune.raw_deleted} raw heartbeats and "
            f"{result.prune.rollups_5m_deleted} five-minute roll-ups; compacted "
            f"{result.coverage_marks_deleted} coverage marks"
        )
