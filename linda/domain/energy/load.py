"""The site's load: its equipment's constant draw and the converter from the battery bus."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from linda.domain.energy.units import HOURS_PER_DAY

# Typical continuous draw of the equipment at a village site (DC, at the device).
EQUIPMENT_POWER_W: Mapping[str, float] = {
    "vsat_modem": 45.0,  # VSAT indoor unit + BUC while transmitting lightly
    "router": 6.0,
    "access_point": 8.0,
}


def equipment_load_w(
    counts: Mapping[str, int], *, power_w: Mapping[str, float] = EQUIPMENT_POWER_W
) -> float:
    """Continuous draw of a site's equipment; types without a known draw count as 0 W."""
    return float(sum(power_w.get(kind, 0.0) * n for kind, n in counts.items()))


@dataclass(frozen=True, slots=True)
class SiteLoad:
    """A constant 24-hour load. `conversion_efficiency` is the DC-DC converter (or inverter)
    between the battery bus and the equipment; 1.0 means the equipment runs on the bus."""

    equipment_w: float
    conversion_efficiency: float = 0.95

    def __post_init__(self) -> None:
        if self.equipment_w < 0:
            raise ValueError("equipment_w: must not be negative")
        if not 0 < self.conversion_efficiency <= 1:
            raise ValueError("conversion_efficiency: must be in (0, 1]")

    @property
    def bus_w(self) -> float:
        """What the load draws from the battery bus."""
        return self.equipment_w / self.conversion_efficiency

    @property
    def equipment_wh_per_day(self) -> float:
        return self.equipment_w * HOURS_PER_DAY
