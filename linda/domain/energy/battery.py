"""Battery chemistries as operated: usable depth, efficiencies, LVD and reconnect, charge rate."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum


class Chemistry(StrEnum):
    LFP = "lfp"
    LEAD_ACID = "lead_acid"


@dataclass(frozen=True, slots=True)
class ChemistrySpec:
    """How a chemistry is operated. The low-voltage disconnect (LVD) switches the load off at
    `disconnect_soc`; it switches back on (LVR) once the charge is back at `reconnect_soc`."""

    disconnect_soc: float
    reconnect_soc: float
    charge_efficiency: float
    discharge_efficiency: float
    max_charge_c: float  # charge power limit as a fraction of capacity per hour

    def __post_init__(self) -> None:
        if not 0 <= self.disconnect_soc <= self.reconnect_soc <= 1:
            raise ValueError("need 0 <= disconnect_soc <= reconnect_soc <= 1")
        for name in ("charge_efficiency", "discharge_efficiency"):
            if not 0 < getattr(self, name) <= 1:
                raise ValueError(f"{name}: must be in (0, 1]")
        if self.max_charge_c <= 0:
            raise ValueError("max_charge_c: must be positive")

    @property
    def usable_fraction(self) -> float:
        return 1.0 - self.disconnect_soc


CHEMISTRY: Mapping[Chemistry, ChemistrySpec] = {
    # LiFePO4: 90 % usable, ~94 % round trip, charge up to 0.5 C.
    Chemistry.LFP: ChemistrySpec(0.10, 0.20, 0.97, 0.97, 0.5),
    # VRLA lead-acid: 50 % depth of discharge for cycle life, ~81 % round trip, C/5 charge.
    Chemistry.LEAD_ACID: ChemistrySpec(0.50, 0.60, 0.85, 0.95, 0.2),
}


@dataclass(frozen=True, slots=True)
class Battery:
    capacity_wh: float
    spec: ChemistrySpec

    def __post_init__(self) -> None:
        if self.capacity_wh < 0:
            raise ValueError("capacity_wh: must not be negative")

    @property
    def floor_wh(self) -> float:
        return self.capacity_wh * self.spec.disconnect_soc

    @property
    def reconnect_wh(self) -> float:
        return self.capacity_wh * self.spec.reconnect_soc

    @property
    def usable_wh(self) -> float:
        return self.capacity_wh - self.floor_wh


def battery_of(capacity_wh: float, chemistry: Chemistry | str) -> Battery:
    return Battery(capacity_wh, CHEMISTRY[Chemistry(chemistry)])
