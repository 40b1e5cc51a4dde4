"""Initial sandbox worlds: ``empty`` (reference data only) and ``demo`` (a small live catalogue).

Both are deterministic: the same kind (and ``config.random_seed``) always gives the same ids,
EANs, prices and stock, so tests and demos can name things.
"""

from __future__ import annotations

import json
import math
import random
from importlib import resources
from typing import Any

from kaufland_sync.sandbox import catalog
from kaufland_sync.sandbox.world import Record, Seller, World, iso

SEED_KINDS = ("demo", "empty")

# Category tree: (name, [de singular, plural], [cs ...], [pl ...], [en ...], extra).
# Level 1 entries carry the fees and the attributes their leaves require beyond the base set.
_T = tuple[str, str]
_TREE: list[tuple[str, _T, _T, _T, _T, dict[str, Any], list[Any]]] = [
    (
        "elektronik",
        ("Elektronikartikel", "Elektronik"),
        ("Elektronika", "Elektronika"),
        ("Elektronika", "Elektronika"),
        ("Electronics item", "Electronics"),
        {
            "fee": 7.0,
            "fixed": 0.0,
            "required": ["colour"],
            "optional": ["warranty", "energy_efficiency_class", "weight"],
        },
        [
            (
                "handys_zubehoer",
                ("Handy & Zubehör", "Handys & Zubehör"),
                ("Mobil a příslušenství", "Mobily a příslušenství"),
                ("Telefon i akcesoria", "Telefony i akcesoria"),
                ("Phone & accessory", "Phones & accessories"),
                [
                    (
                        "smartphones",
                        ("Smartphone", "Smartphones"),
                        ("Chytrý telefon", "Chytré telefony"),
                        ("Smartfon", "Smartfony"),
                        ("Smartphone", "Smartphones"),
                        ["handy", "phone", "telefon"],
                        "A",
                    ),
                    (
                        "kopfhoerer",
                        ("Kopfhörer", "Kopfhörer"),
                        ("Sluchátka", "Sluchátka"),
                        ("Słuchawki", "Słuchawki"),
                        ("Headphones", "Headphones"),
                        ["headset", "earbuds", "in-ear"],
                        "A",
                    ),
                ],
            ),
            (
                "tv_audio",
                ("TV & Audio", "TV & Audio"),
                ("TV a audio", "TV a audio"),
                ("TV i audio", "TV i audio"),
                ("TV & audio", "TV & audio"),
                [
                    (
                        "fernseher",
                        ("Fernseher", "Fernseher"),
                        ("Televize", "Televize"),
                        ("Telewizor", "Telewizory"),
                        ("Television", "Televisions"),
                        ["tv", "oled", "qled", "zoll"],
                        "C",
                    ),
                    (
                        "lautsprecher",
                        ("Bluetooth-Lautsprecher", "Bluetooth-Lautsprecher"),
                        ("Reproduktor", "Reproduktory"),
                        ("Głośnik", "Głośniki"),
                        ("Speaker", "Speakers"),
                        ["bluetooth", "speaker", "boombox"],
                        "A",
                    ),
                ],
            ),
        ],
    ),
    (
        "haushalt",
        ("Haushaltsartikel", "Haushalt"),
        ("Domácnost", "Domácnost"),
        ("Dom", "Dom"),
        ("Household item", "Household"),
        {
            "fee": 10.5,
            "fixed": 0.0,
            "required": ["colour"],
            "optional": ["material", "power", "weight", "warranty"],
        },
        [
            (
                "kuechengeraete",
                ("Küchengerät", "Küchengeräte"),
                ("Kuchyňský spotřebič", "Kuchyňské spotřebiče"),
                ("Sprzęt kuchenny", "Sprzęt kuchenny"),
                ("Kitchen appliance", "Kitchen appliances"),
                [
                    (
                        "kaffeemaschinen",
                        ("Kaffeemaschine", "Kaffeemaschinen"),
                        ("Kávovar", "Kávovary"),
                        ("Ekspres do kawy", "Ekspresy do kawy"),
                        ("Coffee machine", "Coffee machines"),
                        ["kaffee", "espresso", "kávovar", "kawa"],
                        "B",
                    ),
                    (
                        "wasserkocher",
                        ("Wasserkocher", "Wasserkocher"),
                        ("Rychlovarná konvice", "Rychlovarné konvice"),
                        ("Czajnik", "Czajniki"),
                        ("Kettle", "Kettles"),
                        ["kettle", "konvice", "czajnik"],
                        "A",
                    ),
                ],
            ),
            (
                "haushaltsgeraete",
                ("Haushaltsgerät", "Haushaltsgeräte"),
                ("Spotřebič", "Spotřebiče"),
                ("AGD", "AGD"),
                ("Home appliance", "Home appliances"),
                [
                    (
                        "staubsauger",
                        ("Staubsauger", "Staubsauger"),
                        ("Vysavač", "Vysavače"),
                        ("Odkurzacz", "Odkurzacze"),
                        ("Vacuum cleaner", "Vacuum cleaners"),
                        ["sauger", "vacuum", "vysavač", "odkurzacz"],
                        "B",
                    ),
                    (
                        "buegeleisen",
                        ("Bügeleisen", "Bügeleisen"),
                        ("Žehlička", "Žehličky"),
                        ("Żelazko", "Żelazka"),
                        ("Iron", "Irons"),
                        ["dampf", "bügel", "żelazko"],
                        "A",
                    ),
                ],
            ),
        ],
    ),
    (
        "garten",
        ("Gartenartikel", "Garten"),
        ("Zahrada", "Zahrada"),
        ("Ogród", "Ogród"),
        ("Garden item", "Garden"),
        {
            "fee": 12.0,
            "fixed": 0.0,
            "required": ["material"],
            "optional": ["colour", "weight", "power"],
        },
        [
            (
                "gartengeraete",
                ("Gartengerät", "Gartengeräte"),
                ("Zahradní nářadí", "Zahradní nářadí"),
                ("Narzędzie ogrodowe", "Narzędzia ogrodowe"),
                ("Garden tool", "Garden tools"),
                [
                    (
                        "rasenmaeher",
                        ("Rasenmäher", "Rasenmäher"),
                        ("Sekačka", "Sekačky"),
                        ("Kosiarka", "Kosiarki"),
                        ("Lawn mower", "Lawn mowers"),
                        ["rasen", "mower", "sekačka", "kosiarka", "mähroboter"],
                        "D",
                    ),
                    (
                        "heckenscheren",
                        ("Heckenschere", "Heckenscheren"),
                        ("Plotostřih", "Plotostřihy"),
                        ("Nożyce do żywopłotu", "Nożyce do żywopłotu"),
                        ("Hedge trimmer", "Hedge trimmers"),
                        ["hecke", "trimmer"],
                        "B",
                    ),
                ],
            ),
            (
                "gartenmoebel",
                ("Gartenmöbel", "Gartenmöbel"),
                ("Zahradní nábytek", "Zahradní nábytek"),
                ("Meble ogrodowe", "Meble ogrodowe"),
                ("Garden furniture", "Garden furniture"),
                [
                    (
                        "gartenstuehle",
                        ("Gartenstuhl", "Gartenstühle"),
                        ("Zahradní židle", "Zahradní židle"),
                        ("Krzesło ogrodowe", "Krzesła ogrodowe"),
                        ("Garden chair", "Garden chairs"),
                        ["stuhl", "chair", "židle", "krzesło"],
                        "C",
                    ),
                    (
                        "sonnenschirme",
                        ("Sonnenschirm", "Sonnenschirme"),
                        ("Slunečník", "Slunečníky"),
                        ("Parasol", "Parasole"),
                        ("Parasol", "Parasols"),
                        ["schirm", "parasol", "slunečník"],
                        "C",
                    ),
                ],
            ),
        ],
    ),
    (
        "spielzeug",
        ("Spielzeug", "Spielzeug"),
        ("Hračka", "Hračky"),
        ("Zabawka", "Zabawki"),
        ("Toy", "Toys"),
        {
            "fee": 12.0,
            "fixed": 0.0,
            "required": ["age_recommendation"],
            "optional": ["material", "colour"],
        },
        [
            (
                "bauen_puzzeln",
                ("Bau- & Puzzlespiel", "Bauen & Puzzeln"),
                ("Stavebnice a puzzle", "Stavebnice a puzzle"),
                ("Klocki i puzzle", "Klocki i puzzle"),
                ("Building & puzzle", "Building & puzzles"),
                [
                    (
                        "bausteine",
                        ("Baustein-Set", "Bausteine"),
                        ("Stavebnice", "Stavebnice"),
                        ("Klocki", "Klocki"),
                        ("Building set", "Building sets"),
                        ["lego", "klemmbaustein", "stavebnice", "klocki"],
                        "A",
                    ),
                    (
                        "puzzles",
                        ("Puzzle", "Puzzles"),
                        ("Puzzle", "Puzzle"),
                        ("Puzzle", "Puzzle"),
                        ("Puzzle", "Puzzles"),
                        ["teile", "pieces", "dílků", "elementów"],
                        "A",
                    ),
                ],
            ),
            (
                "outdoor_spielzeug",
                ("Outdoor-Spielzeug", "Outdoor-Spielzeug"),
                ("Venkovní hračka", "Venkovní hračky"),
                ("Zabawka ogrodowa", "Zabawki ogrodowe"),
                ("Outdoor toy", "Outdoor toys"),
                [
                    (
                        "trampoline",
                        ("Trampolin", "Trampoline"),
                        ("Trampolína", "Trampolíny"),
                        ("Trampolina", "Trampoliny"),
                        ("Trampoline", "Trampolines"),
                        ["trampolin", "trampolína"],
                        "D",
                    ),
                    (
                        "wasserpistolen",
                        ("Wasserpistole", "Wasserpistolen"),
                        ("Vodní pistole", "Vodní pistole"),
                        ("Pistolet na wodę", "Pistolety na wodę"),
                        ("Water pistol", "Water pistols"),
                        ["water", "blaster", "pistole"],
                        "A",
                    ),
                ],
            ),
        ],
    ),
    (
        "sport",
        ("Sportartikel", "Sport"),
        ("Sport", "Sport"),
        ("Sport", "Sport"),
        ("Sports item", "Sports"),
        {
            "fee": 12.0,
            "fixed": 0.0,
            "required": ["material"],
            "optional": ["colour", "size", "weight"],
        },
        [
            (
                "fitness",
                ("Fitnessartikel", "Fitness"),
                ("Fitness", "Fitness"),
                ("Fitness", "Fitness"),
                ("Fitness item", "Fitness"),
                [
                    (
                        "hanteln",
                        ("Hantel", "Hanteln"),
                        ("Činka", "Činky"),
                        ("Hantla", "Hantle"),
                        ("Dumbbell", "Dumbbells"),
                        ["kurzhantel", "dumbbell", "kettlebell"],
                        "B",
                    ),
                    (
                        "yogamatten",
                        ("Yogamatte", "Yogamatten"),
                        ("Podložka na jógu", "Podložky na jógu"),
                        ("Mata do jogi", "Maty do jogi"),
                        ("Yoga mat", "Yoga mats"),
                        ["yoga", "matte", "jóga", "joga"],
                        "A",
                    ),
                ],
            ),
            (
                "radsport",
                ("Radsportartikel", "Radsport"),
                ("Cyklistika", "Cyklistika"),
                ("Rowery", "Rowery"),
                ("Cycling item", "Cycling"),
                [
                    (
                        "fahrradhelme",
                        ("Fahrradhelm", "Fahrradhelme"),
                        ("Cyklistická helma", "Cyklistické helmy"),
                        ("Kask rowerowy", "Kaski rowerowe"),
                        ("Bike helmet", "Bike helmets"),
                        ["helm", "helmet", "helma", "kask"],
                        "A",
                    ),
                    (
                        "fahrradlampen",
                        ("Fahrradlampe", "Fahrradlampen"),
                        ("Světlo na kolo", "Světla na kolo"),
                        ("Lampka rowerowa", "Lampki rowerowe"),
                        ("Bike light", "Bike lights"),
                        ["lampe", "licht", "light", "lux"],
                        "A",
                    ),
                ],
            ),
        ],
    ),
    (
        "drogerie",
        ("Drogerieartikel", "Drogerie"),
        ("Drogerie", "Drogerie"),
        ("Drogeria", "Drogeria"),
        ("Drugstore item", "Drugstore"),
        {"fee": 10.0, "fixed": 0.0, "required": ["content_volume"], "optional": ["target_group"]},
        [
            (
                "koerperpflege",
                ("Körperpflegeartikel", "Körperpflege"),
                ("Péče o tělo", "Péče o tělo"),
                ("Pielęgnacja ciała", "Pielęgnacja ciała"),
                ("Body care item", "Body care"),
                [
                    (
                        "duschgel",
                        ("Duschgel", "Duschgele"),
                        ("Sprchový gel", "Sprchové gely"),
                        ("Żel pod prysznic", "Żele pod prysznic"),
                        ("Shower gel", "Shower gels"),
                        ["dusche", "shower", "sprchový"],
                        "A",
                    ),
                    (
                        "zahnbuersten",
                        ("Elektrische Zahnbürste", "Elektrische Zahnbürsten"),
                        ("Elektrický zubní kartáček", "Elektrické zubní kartáčky"),
                        ("Szczoteczka elektryczna", "Szczoteczki elektryczne"),
                        ("Electric toothbrush", "Electric toothbrushes"),
                        ["zahn", "oral", "sonic", "kartáček", "szczoteczka"],
                        "A",
                    ),
                ],
            ),
            (
                "haarpflege",
                ("Haarpflegeartikel", "Haarpflege"),
                ("Péče o vlasy", "Péče o vlasy"),
                ("Pielęgnacja włosów", "Pielęgnacja włosów"),
                ("Hair care item", "Hair care"),
                [
                    (
                        "shampoo",
                        ("Shampoo", "Shampoos"),
                        ("Šampon", "Šampony"),
                        ("Szampon", "Szampony"),
                        ("Shampoo", "Shampoos"),
                        ["haar", "hair", "šampon", "szampon"],
                        "A",
                    ),
                    (
                        "haartrockner",
                        ("Haartrockner", "Haartrockner"),
                        ("Fén", "Fény"),
                        ("Suszarka do włosów", "Suszarki do włosów"),
                        ("Hair dryer", "Hair dryers"),
                        ["föhn", "fön", "dryer", "fén", "suszarka"],
                        "A",
                    ),
                ],
            ),
        ],
    ),
    (
        "mode",
        ("Modeartikel", "Mode"),
        ("Móda", "Móda"),
        ("Moda", "Moda"),
        ("Fashion item", "Fashion"),
        {
            "fee": 15.0,
            "fixed": 0.0,
            "required": ["colour", "size", "material"],
            "optional": ["target_group"],
        },
        [
            (
                "herrenmode",
                ("Herrenmodeartikel", "Herrenmode"),
                ("Pánská móda", "Pánská móda"),
                ("Moda męska", "Moda męska"),
                ("Men's fashion item", "Men's fashion"),
                [
                    (
                        "t_shirts",
                        ("T-Shirt", "T-Shirts"),
                        ("Tričko", "Trička"),
                        ("Koszulka", "Koszulki"),
                        ("T-shirt", "T-shirts"),
                        ["shirt", "tričko", "koszulka", "baumwolle"],
                        "A",
                    ),
                    (
                        "jeans",
                        ("Jeans", "Jeans"),
                        ("Džíny", "Džíny"),
                        ("Jeansy", "Jeansy"),
                        ("Jeans", "Jeans"),
                        ["denim", "hose", "džíny", "jeansy"],
                        "A",
                    ),
                ],
            ),
            (
                "damenmode",
                ("Damenmodeartikel", "Damenmode"),
                ("Dámská móda", "Dámská móda"),
                ("Moda damska", "Moda damska"),
                ("Women's fashion item", "Women's fashion"),
                [
                    (
                        "kleider",
                        ("Kleid", "Kleider"),
                        ("Šaty", "Šaty"),
                        ("Sukienka", "Sukienki"),
                        ("Dress", "Dresses"),
                        ["kleid", "dress", "šaty", "sukienka"],
                        "A",
                    ),
                    (
                        "sneaker",
                        ("Sneaker", "Sneaker"),
                        ("Tenisky", "Tenisky"),
                        ("Sneakersy", "Sneakersy"),
                        ("Sneaker", "Sneakers"),
                        ["schuh", "shoe", "sneakers", "boty", "buty"],
                        "B",
                    ),
                ],
            ),
        ],
    ),
]

# (name, type, is_multiple, is_sharedset, {lang: title}, shared-set values)
_ATTRIBUTES: list[tuple[str, str, bool, bool, dict[str, str], list[str]]] = [
    (
        "title",
        "ShortText",
        False,
        False,
        {"de": "Titel", "cs": "Název", "pl": "Tytuł", "en": "Title"},
        [],
    ),
    (
        "description",
        "Text",
        False,
        False,
        {"de": "Beschreibung", "cs": "Popis", "pl": "Opis", "en": "Description"},
        [],
    ),
    (
        "short_description",
        "Text",
        False,
        False,
        {
            "de": "Kurzbeschreibung",
            "cs": "Krátký popis",
            "pl": "Krótki opis",
            "en": "Short description",
        },
        [],
    ),
    (
        "bullet_points",
        "Text",
        True,
        False,
        {"de": "Produktmerkmale", "cs": "Vlastnosti", "pl": "Cechy", "en": "Bullet points"},
        [],
    ),
    (
        "picture",
        "Picture",
        True,
        False,
        {"de": "Bild", "cs": "Obrázek", "pl": "Zdjęcie", "en": "Picture"},
        [],
    ),
    (
        "manufacturer",
        "Company",
        False,
        True,
        {"de": "Hersteller", "cs": "Výrobce", "pl": "Producent", "en": "Manufacturer"},
        [],
    ),
    ("ean", "Ean", True, False, {"de": "EAN", "cs": "EAN", "pl": "EAN", "en": "EAN"}, []),
    (
        "mpn",
        "ShortText",
        False,
        False,
        {
            "de": "Herstellernummer",
            "cs": "Číslo výrobce",
            "pl": "Numer producenta",
            "en": "Manufacturer part number",
        },
        [],
    ),
    (
        "category",
        "ShortText",
        False,
        False,
        {"de": "Kategorie", "cs": "Kategorie", "pl": "Kategoria", "en": "Category"},
        [],
    ),
    (
        "colour",
        "ShortText",
        True,
        True,
        {"de": "Farbe", "cs": "Barva", "pl": "Kolor", "en": "Colour"},
        [
            "schwarz",
            "weiß",
            "grau",
            "silber",
            "rot",
            "blau",
            "grün",
            "gelb",
            "rosa",
            "braun",
            "mehrfarbig",
        ],
    ),
    (
        "material",
        "ShortText",
        True,
        True,
        {"de": "Material", "cs": "Materiál", "pl": "Materiał", "en": "Material"},
        [
            "Kunststoff",
            "Metall",
            "Edelstahl",
            "Aluminium",
            "Holz",
            "Baumwolle",
            "Polyester",
            "Glas",
            "Keramik",
            "Gummi",
        ],
    ),
    (
        "size",
        "ShortText",
        False,
        True,
        {"de": "Größe", "cs": "Velikost", "pl": "Rozmiar", "en": "Size"},
        ["XS", "S", "M", "L", "XL", "XXL", "36", "38", "40", "42", "44"],
    ),
    (
        "weight",
        "Si_Weight",
        False,
        False,
        {"de": "Gewicht", "cs": "Hmotnost", "pl": "Waga", "en": "Weight"},
        [],
    ),
    (
        "power",
        "Si_Power",
        False,
        False,
        {"de": "Leistung", "cs": "Výkon", "pl": "Moc", "en": "Power"},
        [],
    ),
    (
        "content_volume",
        "Si_Volume",
        False,
        False,
        {"de": "Inhalt", "cs": "Objem", "pl": "Pojemność", "en": "Content volume"},
        [],
    ),
    (
        "age_recommendation",
        "ShortText",
        False,
        True,
        {
            "de": "Altersempfehlung",
            "cs": "Doporučený věk",
            "pl": "Zalecany wiek",
            "en": "Age recommendation",
        },
        [
            "ab 0 Monaten",
            "ab 3 Jahren",
            "ab 6 Jahren",
            "ab 8 Jahren",
            "ab 12 Jahren",
            "ab 14 Jahren",
        ],
    ),
    (
        "target_group",
        "ShortText",
        False,
        True,
        {"de": "Zielgruppe", "cs": "Cílová skupina", "pl": "Grupa docelowa", "en": "Target group"},
        ["Damen", "Herren", "Unisex", "Kinder"],
    ),
    (
        "warranty",
        "ShortText",
        False,
        False,
        {"de": "Garantie", "cs": "Záruka", "pl": "Gwarancja", "en": "Warranty"},
        [],
    ),
    (
        "energy_efficiency_class",
        "ShortText",
        False,
        True,
        {
            "de": "Energieeffizienzklasse",
            "cs": "Energetická třída",
            "pl": "Klasa energetyczna",
            "en": "Energy efficiency class",
        },
        ["A", "B", "C", "D", "E", "F", "G"],
    ),
    (
        "product_safety_contact",
        "ComplianceContact",
        False,
        False,
        {
            "de": "Produktsicherheit Kontakt",
            "cs": "Kontakt pro bezpečnost výrobku",
            "pl": "Kontakt ds. bezpieczeństwa produktu",
            "en": "Product safety contact",
        },
        [],
    ),
]
_BASE_REQUIRED = ["title", "description", "picture", "manufacturer"]
_BASE_OPTIONAL = [
    "short_description",
    "bullet_points",
    "mpn",
    "ean",
    "category",
    "product_safety_contact",
]

# Two products per leaf: (brand, model, price in EUR cents).
_PRODUCTS: dict[str, list[tuple[str, str, int]]] = {
    "smartphones": [
        ("Samsung", "Galaxy A55 128GB", 37900),
        ("Xiaomi", "Redmi Note 13 256GB", 24900),
        ("Nokia", "G42 5G", 19900),
    ],
    "kopfhoerer": [("Sony", "WH-1000XM5", 32900), ("JBL", "Tune 520BT", 4999)],
    "fernseher": [("LG", "OLED55C37LA 55 Zoll", 129900), ("Hisense", "50E7KQ 50 Zoll", 44900)],
    "lautsprecher": [("JBL", "Flip 6", 11999), ("Bose", "SoundLink Flex", 14999)],
    "kaffeemaschinen": [
        ("De'Longhi", "Magnifica S ECAM 22.110", 34999),
        ("Philips", "EP2220/10", 32999),
        ("Melitta", "Look V Therm", 6999),
    ],
    "wasserkocher": [("Bosch", "TWK3A011", 2999), ("Russell Hobbs", "Inspire 24361-70", 3999)],
    "staubsauger": [
        ("Dyson", "V8 Absolute", 34900),
        ("Rowenta", "X-Force Flex 8.60", 24999),
        ("Kärcher", "VC 4s Cordless", 27999),
    ],
    "buegeleisen": [("Tefal", "FV5781 Easygliss", 6499), ("Philips", "DST3041/36", 4999)],
    "rasenmaeher": [("Gardena", "PowerMax 37/36V", 39900), ("Bosch", "Rotak 32", 12999)],
    "heckenscheren": [("Einhell", "GE-CH 1846 Li", 11999), ("Gardena", "EasyCut 50-Li", 13999)],
    "gartenstuehle": [
        ("Keter", "Alabama Klappstuhl", 7999),
        ("Kettler", "Basic Plus Stapelsessel", 12999),
    ],
    "sonnenschirme": [("Doppler", "Active 280", 8999), ("Schneider", "Rhodos Twist 300", 21999)],
    "bausteine": [
        ("LEGO", "Classic 11717 Bausteine-Set", 2999),
        ("LEGO", "Technic 42151 Bugatti Bolide", 4999),
        ("Cobi", "Tatra 148 Stavebnice", 5999),
    ],
    "puzzles": [
        ("Ravensburger", "Neuschwanstein 1000 Teile", 1499),
        ("Trefl", "Kraków 500 elementów", 999),
    ],
    "trampoline": [("Hudora", "Fantastic 300V", 24999), ("Ultrasport", "Jumper 305", 19999)],
    "wasserpistolen": [
        ("Nerf", "Super Soaker Twister", 1499),
        ("Simba", "Water Blaster 2000", 899),
    ],
    "hanteln": [
        ("Gorilla Sports", "Kurzhantel-Set 20 kg", 4999),
        ("Capital Sports", "Kettlebell 12 kg", 3999),
    ],
    "yogamatten": [("Manduka", "PRO 6mm", 11999), ("Gaiam", "Premium 6mm", 3499)],
    "fahrradhelme": [("Uvex", "i-vo cc", 5999), ("Abus", "Hyban 2.0", 6999)],
    "fahrradlampen": [("Sigma", "Aura 80 Lux", 4999), ("Busch & Müller", "IXON Core", 5499)],
    "duschgel": [
        ("Nivea", "Men Sport Duschgel 500 ml", 399),
        ("Dove", "Care & Protect 250 ml", 299),
    ],
    "zahnbuersten": [
        ("Oral-B", "Pro 3 3500", 5999),
        ("Philips", "Sonicare ProtectiveClean 4300", 6999),
    ],
    "shampoo": [
        ("Schauma", "7 Kräuter 400 ml", 249),
        ("Head & Shoulders", "Classic Clean 500 ml", 649),
    ],
    "haartrockner": [("Remington", "D5220 Pro-Air", 3499), ("Braun", "Satin Hair 7 HD780", 5499)],
    "t_shirts": [
        ("Tommy Hilfiger", "Core Stretch Slim T-Shirt", 3999),
        ("Levi's", "Housemark Tee", 2999),
    ],
    "jeans": [("Levi's", "501 Original Fit", 9999), ("Wrangler", "Texas Slim", 7999)],
    "kleider": [
        ("Vero Moda", "Vmeasy Jerseykleid", 3499),
        ("s.Oliver", "Midikleid mit Print", 5999),
    ],
    "sneaker": [("adidas", "Grand Court 2.0", 6999), ("Puma", "Smash v2", 5499)],
}
_ATTR_VALUES = {
    "colour": ["schwarz", "weiß", "grau", "silber", "blau", "rot"],
    "material": ["Kunststoff", "Metall", "Edelstahl", "Baumwolle", "Polyester", "Holz"],
    "size": ["S", "M", "L", "XL", "38", "40"],
    "age_recommendation": ["ab 3 Jahren", "ab 6 Jahren", "ab 8 Jahren"],
    "content_volume": ["250 ml", "400 ml", "500 ml"],
}

# Rough exchange rates from euro cents into each storefront's minor unit.
_FX = {"EUR": 1.0, "CZK": 25.0, "PLN": 4.3}
_SELLER_UNIT_STOREFRONTS = ("de", "cz", "pl")


def _rng(world: World, kind: str, extra: str = "") -> random.Random:
    # str seeds are hashed with SHA-512 by random.Random, so this is stable across runs.
    return random.Random(f"kaufland-sandbox:{kind}:{world.config.random_seed}:{extra}")


def make_ean(rng: random.Random, prefix: str = "40") -> str:
    """A random EAN-13 with a correct check digit (German ``40``-``44`` prefixes by default)."""
    body = prefix + "".join(str(rng.randrange(10)) for _ in range(12 - len(prefix)))
    return body + str(catalog.gtin_check_digit(body))


def seed_world(world: World, kind: str) -> None:
    """Replace the world's contents with a fresh ``empty`` or ``demo`` world.

    ``empty``: categories, attributes, and per seller a default shipping group per storefront
    and one warehouse. ``demo``: that plus ~60 products, a second warehouse, hauler shipping
    groups, and units on de/cz/pl for every seller (some on hold, some sold out, two
    ``INCOMPLETE`` for EANs without a product)."""
    if kind not in SEED_KINDS:
        raise ValueError(f"unknown seed {kind!r}; choose one of {', '.join(SEED_KINDS)}")
    world.clear()
    _seed_categories(world)
    _seed_attributes(world)
    demo = kind == "demo"
    for seller in world.sellers.values():
        _seed_warehouses(world, seller, demo=demo)
        _seed_shipping_groups(world, seller, demo=demo)
    if demo:
        _seed_products(world)
        for seller in world.sellers.values():
            _seed_units(world, seller)
    world.events.clear()  # seeding is not news to anybody
    world.dirty = True


def carriers() -> list[Record]:
    """Kaufland's carrier list (``GET /carriers``), haulers flagged with ``isHauler``."""
    text = (
        resources.files("kaufland_sync.sandbox").joinpath("data/carriers.json").read_text("utf-8")
    )
    data = json.loads(text)
    haulers = set(data["haulers"])
    return [{"name": name, "isHauler": name in haulers} for name in data["carriers"]]


def _seed_categories(world: World) -> None:
    table = world.catalog["categories"]

    def add(
        id_: int,
        parent: int,
        level: int,
        name: str,
        titles: list[_T],
        *,
        leaf: bool,
        fee: float,
        fixed: float,
        shipping: str,
        required: list[str],
        optional: list[str],
        keywords: list[str],
    ) -> None:
        table[str(id_)] = {
            "id_category": id_,
            "name": name,
            "id_parent_category": parent,
            "level": level,
            "is_leaf": leaf,
            "shipping_category": shipping,
            "variable_fee": fee,
            "fixed_fee": fixed,
            "_vat_indicator": "standard_rate",
            "_titles": {
                lang: list(t) for lang, t in zip(("de", "cs", "pl", "en"), titles, strict=True)
            },
            "_required": required,
            "_optional": optional,
            "_keywords": keywords,
        }

    add(
        1,
        1,
        0,
        "root",
        [
            ("Alle Kategorien", "Alle Kategorien"),
            ("Všechny kategorie", "Všechny kategorie"),
            ("Wszystkie kategorie", "Wszystkie kategorie"),
            ("All categories", "All categories"),
        ],
        leaf=False,
        fee=0.0,
        fixed=0.0,
        shipping="A",
        required=[],
        optional=[],
        keywords=[],
    )
    top_id = 100
    for name, de, cs, pl, en, info, subs in _TREE:
        add(
            top_id,
            1,
            1,
            name,
            [de, cs, pl, en],
            leaf=False,
            fee=info["fee"],
            fixed=info["fixed"],
            shipping="A",
            required=[],
            optional=[],
            keywords=[],
        )
        for si, (sub_name, sde, scs, spl, sen, leaves) in enumerate(subs):
            sub_id = top_id * 100 + (si + 1) * 10
            add(
                sub_id,
                top_id,
                2,
                sub_name,
                [sde, scs, spl, sen],
                leaf=False,
                fee=info["fee"],
                fixed=info["fixed"],
                shipping="A",
                required=[],
                optional=[],
                keywords=[],
            )
            for li, (leaf_name, lde, lcs, lpl, len_, keywords, shipping) in enumerate(leaves):
                add(
                    sub_id + li + 1,
                    sub_id,
                    3,
                    leaf_name,
                    [lde, lcs, lpl, len_],
                    leaf=True,
                    fee=info["fee"],
                    fixed=info["fixed"],
                    shipping=shipping,
                    required=_BASE_REQUIRED + info["required"],
                    optional=_BASE_OPTIONAL + info["optional"],
                    keywords=keywords,
                )
        top_id += 1


def _seed_attributes(world: World) -> None:
    table = world.catalog["attributes"]
    for i, (name, type_, multiple, shared, titles, values) in enumerate(_ATTRIBUTES):
        id_ = 1000 + i * 10 + 1
        table[str(id_)] = {
            "id": id_,
            "name": name,
            "is_multiple": multiple,
            "is_sharedset": shared,
            "explanation": f"{titles['en']} of the product.",
            "seller_instructions": f"Send the {titles['en'].lower()} as the buyer should see it.",
            "title": titles["de"],
            "type": type_,
            "_titles": titles,
            "_shared_set": values,
        }


def _leaf_ids(world: World) -> dict[str, Record]:
    return {c["name"]: c for c in world.catalog["categories"].values() if c["is_leaf"]}


def _seed_products(world: World) -> None:
    rng = _rng(world, "products")
    leaves = _leaf_ids(world)
    for leaf_name, items in _PRODUCTS.items():
        cat = leaves[leaf_name]
        for brand, model, price in items:
            ean = make_ean(rng)
            titles = {
                "de": f"{brand} {model} {cat['_titles']['de'][0]}",
                "cs": f"{cat['_titles']['cs'][0]} {brand} {model}",
                "pl": f"{cat['_titles']['pl'][0]} {brand} {model}",
                "en": f"{brand} {model} {cat['_titles']['en'][0]}",
            }
            catalog.add_product(
                world,
                {
                    "id_product": world.next_id("product", catalog.PRODUCT_ID_START),
                    "title": titles["de"],
                    "eans": [ean],
                    "id_category": cat["id_category"],
                    "main_picture": f"https://example.com/images/{ean}/main.jpg",
                    "manufacturer": brand,
                    "age_rating": 0,
                    "is_valid": True,
                    "dangerous_goods_li_shipping": "UN 3481"
                    if leaf_name == "smartphones"
                    else None,
                    "danger_label_9A": None,
                    "_titles": titles,
                    "_price": price,
                    "_attributes": {
                        a: [rng.choice(_ATTR_VALUES[a])]
                        for a in cat["_required"]
                        if a in _ATTR_VALUES
                    },
                },
            )


def _money(eur_cents: int, currency: str) -> int:
    value = eur_cents * _FX[currency]
    # Prices end in 9 (or 90 for CZK) like shop prices do.
    if currency == "CZK":
        return max(100, round(value / 100.0) * 100 - 10)
    return max(99, round(value / 10.0) * 10 - 1)


def _seed_warehouses(world: World, seller: Seller, *, demo: bool) -> None:
    table = seller.table("warehouses")
    sites = [
        ("Hauptlager Leipzig", "Am Alten Flughafen", "7", "04356", "Leipzig", "DE", "normal"),
        ("Außenlager Ostrava", "Mošnovská", "12a", "70200", "Ostrava", "CZ", "dropshipment"),
    ]
    for i, (name, street, number, postcode, city, country, type_) in enumerate(
        sites if demo else sites[:1]
    ):
        id_ = world.next_id("warehouse", catalog.WAREHOUSE_ID_START)
        table[str(id_)] = {
            "id_warehouse": id_,
            "name": name,
            "address": {
                "street": street,
                "house_number": number,
                "postcode": postcode,
                "city": city,
                "country": country,
                "phone": "+49 341 1234567" if country == "DE" else None,
            },
            "is_default": i == 0,
            "type": type_,
        }


_NEIGHBOURS = {
    "de": ["AT", "NL", "BE", "LU"],
    "cz": ["SK"],
    "sk": ["CZ"],
    "pl": ["CZ", "SK"],
    "at": ["DE"],
    "fr": ["BE", "LU"],
    "it": ["SM", "VA"],
}


def _seed_shipping_groups(world: World, seller: Seller, *, demo: bool) -> None:
    from kaufland_sync.sellerapi.storefronts import Storefront

    table = seller.table("shipping_groups")
    for storefront in seller.storefronts:
        currency = Storefront(storefront).currency.value
        kinds = [
            ("Standardversand", "PACKAGE", 495, 2, 1, 3),
            ("Spedition", "HAULER", 3990, 0, 3, 7),
        ]
        for name, type_, first, _, tmin, tmax in kinds if demo else kinds[:1]:
            id_ = world.next_id("shipping_group", catalog.SHIPPING_GROUP_ID_START)

            def option(
                cost: int,
                extra_days: int,
                tmin: int = tmin,
                tmax: int = tmax,
                currency: str = currency,
                type_: str = type_,
            ) -> Record:
                return {
                    "name": "default",
                    "cost_first": _money(cost, currency) if cost else 0,
                    "cost_next": _money(cost // 5, currency) if cost else 0,
                    "cost_max": _money(cost * 3, currency) if cost else 0,
                    "cost_free": _money(4900 if type_ == "PACKAGE" else 99900, currency),
                    "cut_off_time": "14:00",
                    "transport_time_min": tmin + extra_days,
                    "transport_time_max": tmax + extra_days,
                }

            table[str(id_)] = {
                "id_shipping_group": id_,
                "name": name,
                "storefront": storefront,
                "currency": currency,
                "type": type_,
                "is_default": type_ == "PACKAGE",
                "regions": [
                    {
                        "countries": [catalog.COUNTRY[storefront]],
                        "shipping_options": [option(first, 0)],
                    },
                    {
                        "countries": _NEIGHBOURS[storefront],
                        "shipping_options": [option(first * 2, 1)],
                    },
                ],
            }


def _seed_units(world: World, seller: Seller) -> None:
    from kaufland_sync.sellerapi.storefronts import Storefront

    rng = _rng(world, "units", seller.client_key)
    all_products = sorted(
        (p for p in world.catalog["products"].values() if not p.get("_pending")),
        key=lambda p: p["id_product"],
    )
    chosen = rng.sample(all_products, k=min(40, len(all_products)))
    storefronts = [s for s in _SELLER_UNIT_STOREFRONTS if s in seller.storefronts]
    warehouses = sorted(seller.table("warehouses"))
    now = world.now()
    for n, product in enumerate(sorted(chosen, key=lambda p: p["id_product"]), start=1):
        sku = f"SKU-{n:05d}"
        for storefront in storefronts:
            if rng.random() < 0.2 and storefront != "de":
                continue  # not every offer is on every storefront
            currency = Storefront(storefront).currency.value
            price = _money(int(product["_price"] * rng.uniform(0.9, 1.1)), currency)
            amount = 0 if rng.random() < 0.1 else rng.randint(1, 60)
            unit = catalog.new_unit(
                world,
                seller,
                storefront,
                id_offer=sku,
                product=product,
                ean=product["eans"][0],
                listing_price=price,
                minimum_price=int(price * 0.85) if rng.random() < 0.3 else None,
                amount=amount,
                handling_time=rng.choice([1, 1, 2, 3]),
                id_warehouse=int(rng.choice(warehouses)) if warehouses else None,
                status="ONHOLD" if rng.random() < 0.1 else "AVAILABLE",
                note="Originalverpackt" if rng.random() < 0.2 else None,
            )
            inserted = now - rng.randint(5, 400) * 86400
            unit["date_inserted_iso"] = iso(inserted)
            unit["date_lastchange_iso"] = iso(inserted + rng.randint(0, 4) * 86400)
    # Two offers for EANs Kaufland has no product for yet: INCOMPLETE until product data arrives.
    for i in range(2 if storefronts else 0):
        ean = make_ean(rng, prefix="42")
        product = catalog.reserve_product(world, ean)
        catalog.new_unit(
            world,
            seller,
            storefronts[0],
            id_offer=f"SKU-NEW-{i + 1:02d}",
            product=product,
            ean=ean,
            listing_price=_money(
                rng.randint(1000, 9000), Storefront(storefronts[0]).currency.value
            ),
            amount=rng.randint(1, 20),
            handling_time=1,
        )


# ---------------------------------------------------------------------------------------------
# Assortment coverage insights (``GET /assortment-coverage/insights``)
#
# Kaufland's market data about products in demand, not a seller's data: the same list for every
# seller, built from the category tree (so ``empty`` worlds have it too) and never stored. It is
# derived on first use from ``config.random_seed`` and cached in ``world.indexes``.

ASSORTMENT_PER_LEAF = 12
_ASSORTMENT_INDEX = "assortment_insights"
# More brands per top-level category, beside the leaf's own brands from _PRODUCTS.
_MORE_BRANDS = {
    "elektronik": ("Panasonic", "Philips", "Grundig", "Medion", "Xiaomi", "Anker"),
    "haushalt": ("Severin", "Krups", "WMF", "Siemens", "Tristar", "AEG"),
    "garten": ("Wolf-Garten", "Makita", "Ryobi", "Greemotion", "Siena Garden", "Hartman"),
    "spielzeug": ("Playmobil", "Hasbro", "Clementoni", "Mattel", "BIG", "Schmidt Spiele"),
    "sport": ("Hammer", "Kettler", "Cube", "Bell", "Lezyne", "adidas"),
    "drogerie": ("Balea", "Garnier", "L'Oréal", "Colgate", "Sebamed", "Nivea"),
    "mode": ("Jack & Jones", "Only", "Esprit", "Tom Tailor", "Nike", "Pepe Jeans"),
}
_LOG_RANKS = (math.log(50), math.log(59_999))
_SERIES = ("Pro", "Plus", "Lite", "Max", "Classic", "Eco", "Comfort", "Sport", "Air", "Neo")
# (demand indicator, external ranks below this bound), best demand first
_DEMAND_BANDS = (
    ("Very high", 500),
    ("High", 2_500),
    ("Medium", 10_000),
    ("Low", 25_000),
    ("Very low", 60_001),
)


def assortment_insights(world: World) -> list[Record]:
    """Kaufland's assortment-coverage insights for this world: ``ASSORTMENT_PER_LEAF``
    products per leaf category (a few hundred for the built-in tree), most relevant first (by
    external rank, products without one last), each an ``AssortmentInsight`` in euro cents.

    Deterministic for a ``config.random_seed``; EANs are valid EAN-13s that no catalogue
    product has. The fields hang together the way Kaufland describes them:

    * about one product in six is not sold on Kaufland: no buybox prices, no ``sales_rank``;
    * ``external_demand_indicator`` follows ``external_rank`` (``NA`` without one, or null);
    * ``external_bestseller_missed``: high external demand and not sold on Kaufland;
    * ``popular_product_bad_priced``: high demand and a buybox price above the benchmark;
    * ``kaufland_bestseller``: a Kaufland sales rank within the top 1000;
    * brand, categories, benchmark prices and some ranks are null now and then.

    The caller must not modify the records (they are shared)."""
    cached = world.indexes.get(_ASSORTMENT_INDEX)
    if isinstance(cached, list):
        return cached
    rng = _rng(world, "assortment")
    categories = world.catalog["categories"]
    taken = {ean for p in world.catalog["products"].values() for ean in p.get("eans", [])}
    insights: list[Record] = []
    leaves = sorted(
        (c for c in categories.values() if c["is_leaf"]), key=lambda c: c["id_category"]
    )
    for leaf in leaves:
        sub = categories.get(str(leaf["id_parent_category"]))
        top = categories.get(str(sub["id_parent_category"])) if sub else None
        known = _PRODUCTS.get(leaf["name"], [])
        brands = sorted(
            {b for b, _, _ in known} | set(_MORE_BRANDS.get(top["name"], ()) if top else ())
        )
        prices = [p for _, _, p in known] or [2999]
        low, high = min(prices) * 0.6, max(prices) * 1.4
        for _ in range(ASSORTMENT_PER_LEAF):
            ean = make_ean(rng, prefix=rng.choice(("40", "41", "42", "43", "44", "50", "87")))
            while ean in taken:
                ean = make_ean(rng)
            taken.add(ean)
            insights.append(_insight(rng, ean, leaf, sub, top, brands, low, high))
    insights.sort(key=lambda r: (r["external_rank"] is None, r["external_rank"] or 0, r["ean"]))
    world.indexes[_ASSORTMENT_INDEX] = insights
    return insights


def _insight(
    rng: random.Random,
    ean: str,
    leaf: Record,
    sub: Record | None,
    top: Record | None,
    brands: list[str],
    low: float,
    high: float,
) -> Record:
    brand = rng.choice(brands)
    model = f"{rng.choice(_SERIES)} {rng.randint(1, 99) * 10}"
    item_name = f"{brand} {model} {leaf['_titles']['de'][0]}"

    def maybe(value: Any, p_null: float) -> Any:
        return None if rng.random() < p_null else value

    # Log-uniform between 50 and 60 000: every demand band gets a fair share.
    external_rank: int | None = maybe(
        round(math.exp(rng.uniform(_LOG_RANKS[0], _LOG_RANKS[1]))), 0.1
    )
    if external_rank is None:
        demand: str | None = maybe("NA", 0.3)
    else:
        demand = next(name for name, bound in _DEMAND_BANDS if external_rank < bound)
    in_demand = demand in ("Very high", "High")
    on_kaufland = rng.random() >= 1 / 6
    price = round(rng.uniform(low, high)) // 10 * 10 + 9  # shop prices end in 9

    def around(spread: float) -> int:
        return max(99, round(price * rng.uniform(1 - spread, 1 + spread)))

    buybox: list[int | None] = [around(0.08), around(0.06), around(0.04), price]
    sales_rank: int | None = rng.randint(1, 200_000) if on_kaufland else None
    if not on_kaufland:
        buybox = [None, None, None, None]
    elif rng.random() < 0.1:
        buybox[0] = None  # listed on Kaufland for less than 90 days
    benchmark_min: int | None = round(price * rng.uniform(0.8, 0.98))
    benchmark_max: int | None = round(price * rng.uniform(1.0, 1.15))
    if rng.random() < 0.2:
        benchmark_min = benchmark_max = None
    elif in_demand and on_kaufland and rng.random() < 0.4:
        benchmark_max = round(price * rng.uniform(0.8, 0.95))  # the market sells it cheaper
        benchmark_min = min(benchmark_min or benchmark_max, benchmark_max)
    return {
        "ean": ean,
        "item_name": item_name,
        "brand": maybe(brand, 0.08),
        "category": maybe(top["_titles"]["de"][1], 0.02) if top else None,
        "category_2": maybe(sub["_titles"]["de"][1], 0.06) if sub else None,
        "buybox_price_l_90_day": buybox[0],
        "buybox_price_l_60_day": buybox[1],
        "buybox_price_l_30_day": buybox[2],
        "buybox_price_current": buybox[3],
        "sales_rank": sales_rank,
        "external_rank": external_rank,
        "external_demand_indicator": demand,
        "benchmark_price_min": benchmark_min,
        "benchmark_price_max": benchmark_max,
        "external_bestseller_missed": in_demand and not on_kaufland,
        "popular_product_bad_priced": in_demand
        and on_kaufland
        and benchmark_max is not None
        and price > benchmark_max,
        "kaufland_bestseller": sales_rank is not None and sales_rank <= 1000,
        "currency": "EUR",
    }
