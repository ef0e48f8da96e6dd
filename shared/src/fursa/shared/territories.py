"""Morocco's territories as the programme names them, in Arabic and French: the twelve regions
(2015 division) by official code, and the provinces and prefectures the programme's centers
are in, by the code its centers carry (the region's code and a digit).

One table for every service: the diploma prints the region's name, the console shows a
directorate its province and an officer their region by name, never by code."""

from __future__ import annotations

from typing import NamedTuple


class TerritoryName(NamedTuple):
    ar: str
    fr: str


REGIONS: dict[str, TerritoryName] = {
    "01": TerritoryName("طنجة تطوان الحسيمة", "Tanger-Tétouan-Al Hoceïma"),
    "02": TerritoryName("الشرق", "L'Oriental"),
    "03": TerritoryName("فاس مكناس", "Fès-Meknès"),
    "04": TerritoryName("الرباط سلا القنيطرة", "Rabat-Salé-Kénitra"),
    "05": TerritoryName("بني ملال خنيفرة", "Béni Mellal-Khénifra"),
    "06": TerritoryName("الدار البيضاء سطات", "Casablanca-Settat"),
    "07": TerritoryName("مراكش آسفي", "Marrakech-Safi"),
    "08": TerritoryName("درعة تافيلالت", "Drâa-Tafilalet"),
    "09": TerritoryName("سوس ماسة", "Souss-Massa"),
    "10": TerritoryName("كلميم واد نون", "Guelmim-Oued Noun"),
    "11": TerritoryName("العيون الساقية الحمراء", "Laâyoune-Sakia El Hamra"),
    "12": TerritoryName("الداخلة وادي الذهب", "Dakhla-Oued Ed-Dahab"),
}

# The provinces and prefectures of the centers seeded so far (the demo's Al-Nasr center is in
# Marrakech prefecture); a province not listed is shown by its code.
PROVINCES: dict[str, TerritoryName] = {
    "071": TerritoryName("عمالة مراكش", "Préfecture de Marrakech"),
}
