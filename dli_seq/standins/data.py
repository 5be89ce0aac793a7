"""Deterministic synthetic data for the offline stand-in models.

The real hub models cannot be downloaded in the classroom, so the kit trains small stand-ins on
the text made here. Everything is pure Python: every random choice goes through the
``random.Random`` you pass in, so the same seed always gives the same data.

What is here
------------
* :func:`english_sentence`   short English mini-stories for the GPT-2 stand-in.
* :func:`translation_pair`   one toy grammar rendered into English and French, German or Spanish
  with a real bilingual lexicon (genders, German cases, agreement, conjugation).
* :data:`LESSON_TRANSLATIONS` fixed everyday phrases that the lesson translates.
* :func:`instruction_example` (premise, question, answer) triples for the instruction mixture;
  the premises are exactly those of :data:`dli_seq.lesson.EVAL_SET`.
* :func:`rewrite_example`    "Rewrite the following sentence" (negative, past or question): the
  premise does not say which, a worked example does (the one-shot task family of 4.5).
* :func:`heldout_examples`, :func:`heldout_rewrites`   evaluation items that training never sees.
* ``RECORDED_*``             the real models' outputs recorded in the original lesson, keyed by
  the exact model input: the stand-ins are trained to reproduce them.

Building blocks you can call yourself::

    >>> book, table = NP(NOUNS["book"]), NP(NOUNS["table"])
    >>> say_location(book, place_phrase("on", table))["de"]
    'Das Buch ist auf dem Tisch.'

Held-out split
--------------
:func:`is_heldout` looks at the md5 of an input text and marks about 1 text in 10 as held out.
Only open-ended generated inputs are split: translation sentences (and so the ``translate_es``
task), English sentences, sentences to rewrite, and the sums of the ``math`` task. The generators take a ``heldout``
flag: ``heldout=False`` (the default of :func:`translation_pair` and :func:`instruction_example`)
returns only inputs that are *not* held out, so a training loop can use them as they are;
``heldout=True`` returns only held-out ones. :func:`english_sentence` defaults to ``None``
(no filtering, for callers that filter with :func:`is_heldout` themselves); pass
``heldout=False`` for training text. Fixed pools (facts, commonsense, stories, dialogue, the lesson's own questions)
and the closed sets of square roots and cubes are always training material; they are never
held out and :func:`is_heldout` is not meant to be applied to them.
"""

from __future__ import annotations

import hashlib
import random
from dataclasses import dataclass

from dli_seq.lesson import EVAL_SET

__all__ = ["is_heldout", "english_sentence", "LANGS", "translation_pair", "LESSON_TRANSLATIONS",
           "TASKS", "instruction_example", "heldout_examples",
           "NOUNS", "VERBS", "ADJECTIVES", "NP", "place_phrase", "say_location", "say_progressive"]

LANGS = ("fr", "de", "es")
TASKS = ("translate_es", "commonsense", "story", "math", "facts", "dialogue")


def is_heldout(text: str) -> bool:
    """True for about 10% of texts, decided by the md5 of the text (the same on every machine)."""
    digest = hashlib.md5(text.encode("utf-8")).hexdigest()
    return int(digest[:8], 16) % 10 == 0


def _draw(rng: random.Random, make, heldout: bool | None):
    """Call ``make(rng)`` until its first element (the input text) falls on the wanted side of the split."""
    while True:
        item = make(rng)
        text = item[0] if isinstance(item, tuple) else item
        if heldout is None or is_heldout(text) == heldout:
            return item


def _capped(texts: dict) -> dict:
    """Capitalise every rendering of a sentence."""
    return {lang: _cap(text) for lang, text in texts.items()}


def _cap(text: str) -> str:
    """Capitalise the first letter (skipping a leading '¿' or '¡')."""
    for i, ch in enumerate(text):
        if ch.isalpha():
            return text[:i] + ch.upper() + text[i + 1:]
    return text


# =============================================================================================
# Bilingual lexicon
# =============================================================================================
# Kinds: a = animal, p = person, t = thing, l = location, s = song (an object only, no adjectives),
# m = mass noun (no article, no plural).

@dataclass(frozen=True)
class Noun:
    """One noun in English, French, German and Spanish, with genders and plurals."""

    en: str
    en_pl: str
    kind: str
    fr_g: str
    fr: str
    fr_pl: str
    de_g: str
    de: str
    de_pl: str
    de_weak: bool  # weak masculine (der Junge -> den/dem Jungen)
    es_g: str
    es: str
    es_pl: str

    @property
    def de_dat_pl(self) -> str:
        """German dative plural: add -n unless the plural already ends in -n or -s."""
        return self.de_pl if self.de_pl.endswith(("n", "s")) else self.de_pl + "n"


def _noun(en: str, kind: str, fr: str, de: str, es: str) -> Noun:
    """Build a Noun from compact rows: 'dog dogs', 'm chien chiens', 'm Hund Hunde', 'm perro perros'."""
    en_sg, en_pl = en.split()
    fr_g, fr_sg, fr_pl = fr.split()
    de_parts = de.split()
    es_g, es_sg, es_pl = es.split()
    return Noun(en_sg, en_pl, kind, fr_g, fr_sg, fr_pl, de_parts[0], de_parts[1], de_parts[2],
                "weak" in de_parts, es_g, es_sg, es_pl)


_NOUN_ROWS = [
    # English          kind  French                      German                      Spanish
    ("dog dogs",        "a", "m chien chiens",           "m Hund Hunde",             "m perro perros"),
    ("cat cats",        "a", "m chat chats",             "f Katze Katzen",           "m gato gatos"),
    ("bird birds",      "a", "m oiseau oiseaux",         "m Vogel Vögel",            "m pájaro pájaros"),
    ("horse horses",    "a", "m cheval chevaux",         "n Pferd Pferde",           "m caballo caballos"),
    ("mouse mice",      "a", "f souris souris",          "f Maus Mäuse",             "m ratón ratones"),
    ("rabbit rabbits",  "a", "m lapin lapins",           "n Kaninchen Kaninchen",    "m conejo conejos"),
    ("cow cows",        "a", "f vache vaches",           "f Kuh Kühe",               "f vaca vacas"),
    ("boy boys",        "p", "m garçon garçons",         "m Junge Jungen weak",      "m chico chicos"),
    ("girl girls",      "p", "f fille filles",           "n Mädchen Mädchen",        "f chica chicas"),
    ("man men",         "p", "m homme hommes",           "m Mann Männer",            "m hombre hombres"),
    ("woman women",     "p", "f femme femmes",           "f Frau Frauen",            "f mujer mujeres"),
    ("child children",  "p", "m enfant enfants",         "n Kind Kinder",            "m niño niños"),
    ("teacher teachers", "p", "m professeur professeurs", "m Lehrer Lehrer",          "m profesor profesores"),
    ("student students", "p", "m étudiant étudiants",    "m Student Studenten weak", "m estudiante estudiantes"),
    ("friend friends",  "p", "m ami amis",               "m Freund Freunde",         "m amigo amigos"),
    ("book books",      "t", "m livre livres",           "n Buch Bücher",            "m libro libros"),
    ("apple apples",    "t", "f pomme pommes",           "m Apfel Äpfel",            "f manzana manzanas"),
    ("ball balls",      "t", "f balle balles",           "m Ball Bälle",             "f pelota pelotas"),
    ("key keys",        "t", "f clé clés",               "m Schlüssel Schlüssel",    "f llave llaves"),
    ("cup cups",        "t", "f tasse tasses",           "f Tasse Tassen",           "f taza tazas"),
    ("letter letters",  "t", "f lettre lettres",         "m Brief Briefe",           "f carta cartas"),
    ("pen pens",        "t", "m stylo stylos",           "m Stift Stifte",           "m bolígrafo bolígrafos"),
    ("cake cakes",      "t", "m gâteau gâteaux",         "m Kuchen Kuchen",          "m pastel pasteles"),
    ("phone phones",    "t", "m téléphone téléphones",   "n Telefon Telefone",       "m teléfono teléfonos"),
    ("computer computers", "t", "m ordinateur ordinateurs", "m Computer Computer",   "m ordenador ordenadores"),
    ("newspaper newspapers", "t", "m journal journaux",  "f Zeitung Zeitungen",      "m periódico periódicos"),
    ("glass glasses",   "t", "m verre verres",           "n Glas Gläser",            "m vaso vasos"),
    ("lamp lamps",      "t", "f lampe lampes",           "f Lampe Lampen",           "f lámpara lámparas"),
    ("flower flowers",  "t", "f fleur fleurs",           "f Blume Blumen",           "f flor flores"),
    ("bicycle bicycles", "t", "m vélo vélos",            "n Fahrrad Fahrräder",      "f bicicleta bicicletas"),
    ("hat hats",        "t", "m chapeau chapeaux",       "m Hut Hüte",               "m sombrero sombreros"),
    ("shoe shoes",      "t", "f chaussure chaussures",   "m Schuh Schuhe",           "m zapato zapatos"),
    ("toy toys",        "t", "m jouet jouets",           "n Spielzeug Spielzeuge",   "m juguete juguetes"),
    ("song songs",      "s", "f chanson chansons",       "n Lied Lieder",            "f canción canciones"),
    ("box boxes",       "tl", "f boîte boîtes",          "f Kiste Kisten",           "f caja cajas"),
    ("bag bags",        "tl", "m sac sacs",              "f Tasche Taschen",         "f bolsa bolsas"),
    ("car cars",        "tl", "f voiture voitures",      "n Auto Autos",             "m coche coches"),
    ("table tables",    "l", "f table tables",           "m Tisch Tische",           "f mesa mesas"),
    ("sofa sofas",      "l", "m canapé canapés",         "n Sofa Sofas",             "m sofá sofás"),
    ("bed beds",        "l", "m lit lits",               "n Bett Betten",            "f cama camas"),
    ("chair chairs",    "l", "f chaise chaises",         "m Stuhl Stühle",           "f silla sillas"),
    ("floor floors",    "l", "m sol sols",               "m Boden Böden",            "m suelo suelos"),
    ("shelf shelves",   "l", "f étagère étagères",       "n Regal Regale",           "f estantería estanterías"),
    ("garden gardens",  "l", "m jardin jardins",         "m Garten Gärten",          "m jardín jardines"),
    ("kitchen kitchens", "l", "f cuisine cuisines",      "f Küche Küchen",           "f cocina cocinas"),
    ("house houses",    "l", "f maison maisons",         "n Haus Häuser",            "f casa casas"),
    ("bedroom bedrooms", "l", "f chambre chambres",      "n Schlafzimmer Schlafzimmer", "f habitación habitaciones"),
    ("park parks",      "l", "m parc parcs",             "m Park Parks",             "m parque parques"),
    ("school schools",  "l", "f école écoles",           "f Schule Schulen",         "f escuela escuelas"),
    ("tree trees",      "l", "m arbre arbres",           "m Baum Bäume",             "m árbol árboles"),
    ("door doors",      "l", "f porte portes",           "f Tür Türen",              "f puerta puertas"),
    ("window windows",  "l", "f fenêtre fenêtres",       "n Fenster Fenster",        "f ventana ventanas"),
    ("river rivers",    "l", "f rivière rivières",       "m Fluss Flüsse",           "m río ríos"),
    ("lake lakes",      "l", "m lac lacs",               "m See Seen",               "m lago lagos"),
    ("bridge bridges",  "l", "m pont ponts",             "f Brücke Brücken",         "m puente puentes"),
    # mass nouns: "I drink milk" = "Je bois du lait" = "Ich trinke Milch" = "Yo bebo leche"
    ("bread -",         "m", "m pain -",                 "n Brot -",                 "m pan -"),
    ("soup -",          "m", "f soupe -",                "f Suppe -",                "f sopa -"),
    ("milk -",          "m", "m lait -",                 "f Milch -",                "f leche -"),
    ("coffee -",        "m", "m café -",                 "m Kaffee -",               "m café -"),
    ("tea -",           "m", "m thé -",                  "m Tee -",                  "m té -"),
    ("water -",         "m", "f eau -",                  "n Wasser -",               "f agua -"),
    ("juice -",         "m", "m jus -",                  "m Saft -",                 "m zumo -"),
]
NOUNS = {row[0].split()[0]: _noun(*row) for row in _NOUN_ROWS}

# Where things can be: preposition -> who may be there (t/a/p as above; "-" = only verbs that ask for it).
_LOCATION_ROWS = {
    "table": "on:ta, under:ta, next to:tap",
    "sofa": "on:tap, under:ta, behind:tap, next to:tap",
    "bed": "on:tap, under:ta, next to:tap",
    "chair": "on:tap, under:ta, next to:tap, behind:tap",
    "floor": "on:tap",
    "shelf": "on:t",
    "box": "in:t, next to:tap, behind:ta",
    "bag": "in:t, next to:ta",
    "car": "in:tap, next to:tap, behind:tap, in front of:tap",
    "garden": "in:tap",
    "kitchen": "in:tap",
    "bedroom": "in:tap",
    "park": "in:ap",
    "house": "in:tap, next to:ap, behind:tap, in front of:tap",
    "school": "next to:ap, behind:ap, in front of:ap",
    "tree": "under:tap, next to:tap, behind:ap",
    "door": "next to:tap, behind:tap, in front of:tap",
    "window": "next to:tap, in front of:tap",
    "river": "next to:ap, in:-",
    "lake": "next to:ap, in:-",
    "bridge": "under:tap",
}
LOCATIONS = [(prep.strip(), noun, who) for noun, row in _LOCATION_ROWS.items()
             for prep, who in (item.split(":") for item in row.split(","))]

# English preposition -> (French, German (+ dative), Spanish)
PREPOSITIONS = {
    "on": ("sur", "auf", "en"),
    "in": ("dans", "in", "en"),
    "under": ("sous", "unter", "debajo de"),
    "next to": ("à côté de", "neben", "al lado de"),
    "behind": ("derrière", "hinter", "detrás de"),
    "in front of": ("devant", "vor", "delante de"),
}


@dataclass(frozen=True)
class Adj:
    """An adjective: French forms (m sg, f sg, m pl, f pl[, m sg before a vowel]), German, Spanish forms."""

    en: str
    kinds: str
    fr: tuple
    fr_pre: bool  # French pre-nominal adjective (petit, grand, bon, beau, jeune, vieux, nouveau)
    de: str  # predicative form; attributive = stem + ending
    es: tuple
    es_copula: str  # "ser" for lasting qualities, "estar" for states

    def fr_form(self, gender: str, plural: bool, before_vowel: bool = False) -> str:
        """French form agreeing with gender/number (bel, vieil, nouvel before a vowel)."""
        if not plural and gender == "m" and before_vowel and len(self.fr) == 5:
            return self.fr[4]
        return self.fr[(gender == "f") + 2 * plural]

    def es_form(self, gender: str, plural: bool) -> str:
        """Spanish form agreeing with gender/number."""
        return self.es[(gender == "f") + 2 * plural]


def _adj(en, kinds, fr, de, es, pre=False, copula="ser"):
    return Adj(en, kinds, tuple(fr.split()), pre, de, tuple(es.split()), copula)


ADJECTIVES = [
    _adj("small", "tapl", "petit petite petits petites", "klein", "pequeño pequeña pequeños pequeñas", pre=True),
    _adj("big", "tal", "grand grande grands grandes", "groß", "grande grande grandes grandes", pre=True),
    _adj("good", "tap", "bon bonne bons bonnes", "gut", "bueno buena buenos buenas", pre=True),
    _adj("beautiful", "tal", "beau belle beaux belles bel", "schön", "bonito bonita bonitos bonitas", pre=True),
    _adj("young", "ap", "jeune jeune jeunes jeunes", "jung", "joven joven jóvenes jóvenes", pre=True),
    _adj("old", "tapl", "vieux vieille vieux vieilles vieil", "alt", "viejo vieja viejos viejas", pre=True),
    _adj("new", "tl", "nouveau nouvelle nouveaux nouvelles nouvel", "neu", "nuevo nueva nuevos nuevas", pre=True),
    _adj("red", "tl", "rouge rouge rouges rouges", "rot", "rojo roja rojos rojas"),
    _adj("blue", "tl", "bleu bleue bleus bleues", "blau", "azul azul azules azules"),
    _adj("green", "tl", "vert verte verts vertes", "grün", "verde verde verdes verdes"),
    _adj("black", "tal", "noir noire noirs noires", "schwarz", "negro negra negros negras"),
    _adj("white", "tal", "blanc blanche blancs blanches", "weiß", "blanco blanca blancos blancas"),
    _adj("yellow", "tl", "jaune jaune jaunes jaunes", "gelb", "amarillo amarilla amarillos amarillas"),
    _adj("happy", "ap", "heureux heureuse heureux heureuses", "glücklich", "feliz feliz felices felices",
         copula="estar"),
    _adj("sad", "ap", "triste triste tristes tristes", "traurig", "triste triste tristes tristes", copula="estar"),
    _adj("tired", "ap", "fatigué fatiguée fatigués fatiguées", "müde", "cansado cansada cansados cansadas",
         copula="estar"),
    _adj("fast", "ap", "rapide rapide rapides rapides", "schnell", "rápido rápida rápidos rápidas"),
    _adj("strong", "ap", "fort forte forts fortes", "stark", "fuerte fuerte fuertes fuertes"),
    _adj("clean", "tl", "propre propre propres propres", "sauber", "limpio limpia limpios limpias", copula="estar"),
    _adj("heavy", "t", "lourd lourde lourds lourdes", "schwer", "pesado pesada pesados pesadas"),
]


@dataclass(frozen=True)
class Verb:
    """A verb: English forms, who can do it, possible objects, present tense in all six persons."""

    en: tuple  # base, 3rd person singular, -ing, past
    who: str
    objects: tuple  # English noun names; () = no object
    intransitive: bool  # may be used without an object
    progressive: bool  # "is ...ing" makes sense (not for see/have/want/find)
    fr: tuple
    de: tuple
    es: tuple
    es_gerund: str


def _verb(en, who, objects, fr, de, es, intransitive=False, progressive=True):
    es_forms = es.split()
    return Verb(tuple(en.split("|")), who, tuple(objects.split()), intransitive, progressive,
                tuple(fr.split()), tuple(de.split()), tuple(es_forms[:6]), es_forms[6] if len(es_forms) > 6 else "")


# French, German and Spanish: je/tu/il/nous/vous/ils, ich/du/er/wir/ihr/sie, yo/tú/él/nosotros/vosotros/ellos (+ gerund)
VERBS = {
    "sleep": _verb("sleep|sleeps|sleeping|slept", "ap", "", "dors dors dort dormons dormez dorment",
                   "schlafe schläfst schläft schlafen schlaft schlafen",
                   "duermo duermes duerme dormimos dormís duermen durmiendo", intransitive=True),
    "play": _verb("play|plays|playing|played", "ap", "", "joue joues joue jouons jouez jouent",
                  "spiele spielst spielt spielen spielt spielen",
                  "juego juegas juega jugamos jugáis juegan jugando", intransitive=True),
    "run": _verb("run|runs|running|ran", "ap", "", "cours cours court courons courez courent",
                 "laufe läufst läuft laufen lauft laufen",
                 "corro corres corre corremos corréis corren corriendo", intransitive=True),
    "wait": _verb("wait|waits|waiting|waited", "ap", "", "attends attends attend attendons attendez attendent",
                  "warte wartest wartet warten wartet warten",
                  "espero esperas espera esperamos esperáis esperan esperando", intransitive=True),
    "work": _verb("work|works|working|worked", "p", "", "travaille travailles travaille travaillons travaillez "
                  "travaillent", "arbeite arbeitest arbeitet arbeiten arbeitet arbeiten",
                  "trabajo trabajas trabaja trabajamos trabajáis trabajan trabajando", intransitive=True),
    "swim": _verb("swim|swims|swimming|swam", "ap", "", "nage nages nage nageons nagez nagent",
                  "schwimme schwimmst schwimmt schwimmen schwimmt schwimmen",
                  "nado nadas nada nadamos nadáis nadan nadando", intransitive=True),
    "dance": _verb("dance|dances|dancing|danced", "p", "", "danse danses danse dansons dansez dansent",
                   "tanze tanzt tanzt tanzen tanzt tanzen",
                   "bailo bailas baila bailamos bailáis bailan bailando", intransitive=True),
    "sing": _verb("sing|sings|singing|sang", "p", "song", "chante chantes chante chantons chantez chantent",
                  "singe singst singt singen singt singen",
                  "canto cantas canta cantamos cantáis cantan cantando", intransitive=True),
    "write": _verb("write|writes|writing|wrote", "p", "letter book song",
                   "écris écris écrit écrivons écrivez écrivent",
                   "schreibe schreibst schreibt schreiben schreibt schreiben",
                   "escribo escribes escribe escribimos escribís escriben escribiendo", intransitive=True),
    "eat": _verb("eat|eats|eating|ate", "ap", "apple cake bread soup",
                 "mange manges mange mangeons mangez mangent", "esse isst isst essen esst essen",
                 "como comes come comemos coméis comen comiendo", intransitive=True),
    "drink": _verb("drink|drinks|drinking|drank", "ap", "milk coffee tea water juice",
                   "bois bois boit buvons buvez boivent", "trinke trinkst trinkt trinken trinkt trinken",
                   "bebo bebes bebe bebemos bebéis beben bebiendo", intransitive=True),
    "read": _verb("read|reads|reading|read", "p", "book letter newspaper", "lis lis lit lisons lisez lisent",
                  "lese liest liest lesen lest lesen", "leo lees lee leemos leéis leen leyendo", intransitive=True),
    "see": _verb("see|sees|seeing|saw", "ap", "ball car bicycle hat lamp flower book key cake house tree bridge",
                 "vois vois voit voyons voyez voient", "sehe siehst sieht sehen seht sehen",
                 "veo ves ve vemos veis ven", progressive=False),
    "have": _verb("have|has|having|had", "ap", "book ball key cup bag box pen phone computer car bicycle hat toy",
                  "ai as a avons avez ont", "habe hast hat haben habt haben",
                  "tengo tienes tiene tenemos tenéis tienen", progressive=False),
    "want": _verb("want|wants|wanting|wanted", "ap", "apple cake ball book car bicycle hat phone toy computer",
                  "veux veux veut voulons voulez veulent", "will willst will wollen wollt wollen",
                  "quiero quieres quiere queremos queréis quieren", progressive=False),
    "buy": _verb("buy|buys|buying|bought", "p", "book apple cake car bicycle hat shoe phone computer flower "
                 "newspaper lamp bread milk coffee", "achète achètes achète achetons achetez achètent",
                 "kaufe kaufst kauft kaufen kauft kaufen",
                 "compro compras compra compramos compráis compran comprando"),
    "open": _verb("open|opens|opening|opened", "p", "door window box bag book letter",
                  "ouvre ouvres ouvre ouvrons ouvrez ouvrent", "öffne öffnest öffnet öffnen öffnet öffnen",
                  "abro abres abre abrimos abrís abren abriendo"),
    "close": _verb("close|closes|closing|closed", "p", "door window box bag book",
                   "ferme fermes ferme fermons fermez ferment",
                   "schließe schließt schließt schließen schließt schließen",
                   "cierro cierras cierra cerramos cerráis cierran cerrando"),
    "find": _verb("find|finds|finding|found", "ap", "key ball pen phone hat shoe toy book cup",
                  "trouve trouves trouve trouvons trouvez trouvent", "finde findest findet finden findet finden",
                  "encuentro encuentras encuentra encontramos encontráis encuentran", progressive=False),
    "look for": _verb("look for|looks for|looking for|looked for", "ap", "key ball pen phone hat shoe toy book bag",
                      "cherche cherches cherche cherchons cherchez cherchent",
                      "suche suchst sucht suchen sucht suchen",
                      "busco buscas busca buscamos buscáis buscan buscando"),
    "listen to": _verb("listen to|listens to|listening to|listened to", "p", "song",
                       "écoute écoutes écoute écoutons écoutez écoutent", "höre hörst hört hören hört hören",
                       "escucho escuchas escucha escuchamos escucháis escuchan escuchando"),
    "wash": _verb("wash|washes|washing|washed", "p", "car cup glass bicycle shoe",
                  "lave laves lave lavons lavez lavent", "wasche wäschst wäscht waschen wascht waschen",
                  "lavo lavas lava lavamos laváis lavan lavando"),
    "carry": _verb("carry|carries|carrying|carried", "p", "bag box book cup",
                   "porte portes porte portons portez portent", "trage trägst trägt tragen tragt tragen",
                   "llevo llevas lleva llevamos lleváis llevan llevando"),
}
# "to be" in the three languages; Spanish uses estar for location and states, ser for qualities.
_ETRE = ("suis", "es", "est", "sommes", "êtes", "sont")
_SEIN = ("bin", "bist", "ist", "sind", "seid", "sind")
_ESTAR = ("estoy", "estás", "está", "estamos", "estáis", "están")
_SER = ("soy", "eres", "es", "somos", "sois", "son")
_NUMBERS = {"two": ("deux", "zwei", "dos"), "three": ("trois", "drei", "tres"),
            "four": ("quatre", "vier", "cuatro"), "five": ("cinq", "fünf", "cinco")}
_SWIM_PLACES = [("in", "river"), ("in", "lake")]
# Where someone does something to an object ("reads a book in the garden"): places, not furniture.
_ACTIVITY_PLACES = [("in", "garden"), ("in", "kitchen"), ("in", "house"), ("in", "bedroom"), ("in", "park"),
                    ("in", "car"), ("next to", "river"), ("next to", "lake"), ("under", "tree")]


@dataclass(frozen=True)
class Pronoun:
    """A subject pronoun; ``person`` indexes the conjugation tables (0 = I ... 5 = they)."""

    en: str
    fr: str
    de: str
    es: str
    person: int
    gender: str


# English "you" and "they" are ambiguous (tu/vous, ils/elles, ...). One English sentence must have
# exactly one right answer for exact-match scoring, so "you" is always singular and informal and
# "they" always masculine; the vous/ihr/vosotros forms stay in the verb tables for completeness.
PRONOUNS = [Pronoun("I", "je", "ich", "yo", 0, "m"), Pronoun("you", "tu", "du", "tú", 1, "m"),
            Pronoun("he", "il", "er", "él", 2, "m"), Pronoun("she", "elle", "sie", "ella", 2, "f"),
            Pronoun("we", "nous", "wir", "nosotros", 3, "m"), Pronoun("they", "ils", "sie", "ellos", 5, "m")]


@dataclass(frozen=True)
class NP:
    """A noun phrase: determiner ('the', 'a', 'my', a number word, or '' for a mass noun), noun, adjective."""

    noun: Noun
    det: str = "the"
    plural: bool = False
    adj: Adj | None = None

    @property
    def person(self) -> int:
        return 5 if self.plural else 2


# =============================================================================================
# Rendering noun phrases and small clauses
# =============================================================================================

_FR_VOWELS = "aeiouéèêàâîôûh"  # the lexicon has no aspirated-h word, so 'h' elides (l'homme)


def _fr_vowel(word: str) -> bool:
    return word[:1].lower() in _FR_VOWELS


def _fr_join(word: str, nxt: str) -> str:
    """Join two French words, eliding le/la/je/ne/de/que before a vowel: l'arbre, j'ai, n'est."""
    if word in ("le", "la", "je", "ne", "de", "que") and _fr_vowel(nxt):
        return f"{word[:-1]}'{nxt}"
    return f"{word} {nxt}"


def en_np(np: NP) -> str:
    """English noun phrase: 'the small dog', 'an apple', 'my red cars', 'milk'."""
    words = " ".join(w for w in (np.adj.en if np.adj else "", np.noun.en_pl if np.plural else np.noun.en) if w)
    if np.det == "a":
        return ("an " if words[0] in "aeiou" else "a ") + words
    return f"{np.det} {words}" if np.det else words


def fr_np(np: NP) -> str:
    """French noun phrase with agreement, adjective position, elision and partitive."""
    n, g, pl = np.noun, np.noun.fr_g, np.plural
    words = n.fr_pl if pl else n.fr
    if np.adj and np.adj.fr_pre:
        words = f"{np.adj.fr_form(g, pl, before_vowel=_fr_vowel(words))} {words}"
    elif np.adj:
        words = f"{words} {np.adj.fr_form(g, pl)}"
    if np.det == "the":
        return f"les {words}" if pl else _fr_join("le" if g == "m" else "la", words)
    if np.det == "a":
        return f"{'un' if g == 'm' else 'une'} {words}"
    if np.det == "my":
        return f"{'mes' if pl else 'mon' if g == 'm' or _fr_vowel(words) else 'ma'} {words}"
    if np.det in _NUMBERS:
        return f"{_NUMBERS[np.det][0]} {words}"
    return f"de l'{words}" if _fr_vowel(words) else f"{'du' if g == 'm' else 'de la'} {words}"  # partitive


_DE_DEF = {"nom": ("der", "die", "das", "die"), "acc": ("den", "die", "das", "die"),
           "dat": ("dem", "der", "dem", "den")}
_DE_INDEF = {"nom": ("ein", "eine", "ein"), "acc": ("einen", "eine", "ein"), "dat": ("einem", "einer", "einem")}
_DE_GENDERS = "mfn"


def _de_ending(det: str, case: str, gender: str, plural: bool) -> str:
    """German attributive adjective ending: weak after der/die/das, mixed after ein/mein, strong after numbers."""
    if plural:
        return "e" if det in _NUMBERS and case != "dat" else "en"
    if case == "dat" or (case == "acc" and gender == "m"):
        return "en"
    if det == "the" or gender == "f":
        return "e"
    return "er" if gender == "m" else "es"  # ein kleiner Hund, ein kleines Kind


def de_np(np: NP, case: str = "nom") -> str:
    """German noun phrase in a case (nom/acc/dat): 'der kleine Hund', 'einen roten Ball', 'dem Tisch'."""
    n, g, pl = np.noun, np.noun.de_g, np.plural
    noun = (n.de_dat_pl if case == "dat" else n.de_pl) if pl else (n.de_pl if n.de_weak and case != "nom" else n.de)
    if np.adj:
        stem = np.adj.de[:-1] if np.adj.de.endswith("e") else np.adj.de
        noun = f"{stem}{_de_ending(np.det, case, g, pl)} {noun}"
    gi = 3 if pl else _DE_GENDERS.index(g)
    if np.det == "the":
        return f"{_DE_DEF[case][gi]} {noun}"
    if np.det == "a":
        return f"{_DE_INDEF[case][gi]} {noun}"
    if np.det == "my":  # mein declines like ein; plural meine / meinen
        art = ("meinen" if case == "dat" else "meine") if pl else "m" + _DE_INDEF[case][gi]
        return f"{art} {noun}"
    if np.det in _NUMBERS:
        return f"{_NUMBERS[np.det][1]} {noun}"
    return noun  # mass noun: "Ich trinke Milch."


def es_np(np: NP) -> str:
    """Spanish noun phrase: 'el perro pequeño', 'una manzana roja', 'mis libros', 'leche'."""
    n, g, pl = np.noun, np.noun.es_g, np.plural
    words = n.es_pl if pl else n.es
    if np.adj:
        words = f"{words} {np.adj.es_form(g, pl)}"
    if np.det == "the":
        art = ("los" if g == "m" else "las") if pl else ("el" if g == "m" else "la")
    elif np.det == "a":
        art = "un" if g == "m" else "una"
    elif np.det == "my":
        art = "mis" if pl else "mi"
    elif np.det in _NUMBERS:
        art = _NUMBERS[np.det][2]
    else:
        return words
    return f"{art} {words}"


def place_phrase(prep: str, loc: NP) -> dict:
    """A location phrase ("on the table") in all four languages, with contractions (du, im, del)."""
    fr_p, de_p, es_p = PREPOSITIONS[prep]
    fr = fr_np(loc)
    if fr_p.endswith(" de"):
        head = fr_p[:-3]
        if fr.startswith("le "):
            fr = f"{head} du {fr[3:]}"
        elif fr.startswith("les "):
            fr = f"{head} des {fr[4:]}"
        else:
            fr = f"{head} {_fr_join('de', fr)}"
    else:
        fr = f"{fr_p} {fr}"
    de = f"{de_p} {de_np(loc, 'dat')}"
    if de.startswith("in dem "):  # in dem Garten -> im Garten
        de = "im " + de[len("in dem "):]
    es = f"{es_p} {es_np(loc)}"
    if es_p.endswith(" de") and es.startswith(es_p + " el "):
        es = es_p[:-3] + " del " + es[len(es_p) + 4:]
    return {"en": f"{prep} {en_np(loc)}", "fr": fr, "de": de, "es": es}


def _subj(s) -> dict:
    """Subject in the four languages (German nominative)."""
    if isinstance(s, Pronoun):
        return {"en": s.en, "fr": s.fr, "de": s.de, "es": s.es}
    return {"en": en_np(s), "fr": fr_np(s), "de": de_np(s, "nom"), "es": es_np(s)}


def _agreement(s) -> tuple[str, str, bool]:
    """(French gender, Spanish gender, plural) of a subject, for predicative adjectives."""
    if isinstance(s, Pronoun):
        return s.gender, s.gender, s.person >= 3
    return s.noun.fr_g, s.noun.es_g, s.plural


def _en_be(person: int, past: bool = False) -> str:
    if past:
        return "was" if person in (0, 2) else "were"
    return ("am", "are", "is", "are", "are", "are")[person]


def _fr_clause(subj: str, verb: str, neg: bool, rest: str = "") -> str:
    """French subject + verb (+ ne ... pas) + rest, with elision: 'je n'ai pas', 'j'écris'."""
    if neg:
        verb = _fr_join("ne", verb) + " pas"
    head = _fr_join(subj, verb) if subj == "je" else f"{subj} {verb}"
    return f"{head} {rest}".strip()


# =============================================================================================
# The toy grammar: every sentence type renders all four languages at once
# =============================================================================================

# Keep the toy world sensible: no "my man" (= my husband) or "my river", no "old child".
_MY_PERSONS = {"friend", "teacher"}
_PLAIN_LOCATIONS = {"river", "lake", "park", "school", "bridge", "floor"}  # no "my", no adjective
_ADJ_EXCLUDED = {("old", "child"), ("old", "boy"), ("old", "girl"), ("young", "child"), ("young", "boy"),
                 ("young", "girl")}


def _fits(adj: Adj, noun: Noun, kinds: str) -> bool:
    """May ``adj`` describe ``noun`` when the noun is used as one of ``kinds``?"""
    return bool(set(adj.kinds) & set(kinds)) and (adj.en, noun.en) not in _ADJ_EXCLUDED


def _pick_np(rng: random.Random, noun: Noun, dets=("the", "the", "the", "my"), p_adj=0.35, p_plural=0.25) -> NP:
    """A random noun phrase around a noun: determiner, number and a compatible adjective."""
    det = rng.choice(dets)
    if det == "my" and noun.kind == "p" and noun.en not in _MY_PERSONS:
        det = "the"
    plural = det in _NUMBERS or (det != "a" and rng.random() < p_plural)
    fitting = [a for a in ADJECTIVES if _fits(a, noun, noun.kind.replace("l", ""))]
    adj = rng.choice(fitting) if fitting and rng.random() < p_adj else None
    return NP(noun, det, plural, adj)


def _pick_subject(rng: random.Random, kinds: str, p_pronoun=0.35):
    """A pronoun (for people) or a noun phrase whose noun is of one of the given kinds."""
    if "p" in kinds and rng.random() < p_pronoun:
        return rng.choice(PRONOUNS)
    return _pick_np(rng, rng.choice([n for n in NOUNS.values() if set(n.kind) & set(kinds)]))


def _kind_of(s) -> str:
    return "p" if isinstance(s, Pronoun) else s.noun.kind[0]


def _pick_location(rng: random.Random, who: str, exclude: Noun | None = None, places=None) -> dict:
    """A location phrase where a subject of kind ``who`` can be."""
    options = places or [(p, n) for p, n, w in LOCATIONS if who in w]
    prep, name = rng.choice([o for o in options if exclude is None or NOUNS[o[1]] != exclude])
    det, adj = rng.choice(("the",) * 6 + ("a", "my")), None
    if name in _PLAIN_LOCATIONS:
        det = "the"
    elif rng.random() < 0.15:
        adj = rng.choice([a for a in ADJECTIVES if "l" in a.kinds])
    loc = NP(NOUNS[name], det, False, adj)
    return place_phrase(prep, loc)


def _be_location(rng: random.Random) -> dict:
    """'The book is on the table.' = 'Le livre est sur la table.' = 'Das Buch ist auf dem Tisch.'"""
    s = _pick_subject(rng, "tap", p_pronoun=0.2)
    pp = _pick_location(rng, _kind_of(s), exclude=None if isinstance(s, Pronoun) else s.noun)
    return say_location(s, pp, negative=rng.random() < 0.15)


def say_location(s: Pronoun | NP, pp: dict, negative: bool = False) -> dict:
    """Render "<subject> is <place phrase>." in the four languages (Spanish uses estar for location)."""
    sub, p, neg = _subj(s), s.person, negative
    return _capped({"en": f"{sub['en']} {_en_be(p)}{' not' if neg else ''} {pp['en']}.",
                    "fr": _fr_clause(sub["fr"], _ETRE[p], neg, pp["fr"]) + ".",
                    "de": f"{sub['de']} {_SEIN[p]}{' nicht' if neg else ''} {pp['de']}.",
                    "es": f"{sub['es']} {'no ' if neg else ''}{_ESTAR[p]} {pp['es']}."})


def _progressive(rng: random.Random) -> dict:
    """'The cat is sleeping on the sofa.' = 'Le chat dort sur le canapé.' = 'El gato está durmiendo en el sofá.'"""
    verb = rng.choice([v for v in VERBS.values() if v.intransitive])
    s = _pick_subject(rng, verb.who)
    neg = rng.random() < 0.15
    places = _SWIM_PLACES if verb is VERBS["swim"] else None
    pp = _pick_location(rng, _kind_of(s), places=places) if rng.random() < 0.65 else None
    return say_progressive(s, verb, pp, neg)


def say_progressive(s: Pronoun | NP, verb: Verb, pp: dict | None = None, negative: bool = False) -> dict:
    """Render "<subject> is <verb>ing [<place>]." (French/German simple present, Spanish estar + gerund)."""
    p, sub, neg = s.person, _subj(s), negative
    rest = {k: f" {v}" for k, v in pp.items()} if pp else dict.fromkeys(("en", "fr", "de", "es"), "")
    return _capped({"en": f"{sub['en']} {_en_be(p)}{' not' if neg else ''} {verb.en[2]}{rest['en']}.",
                    "fr": _fr_clause(sub["fr"], verb.fr[p], neg) + rest["fr"] + ".",
                    "de": f"{sub['de']} {verb.de[p]}{' nicht' if neg else ''}{rest['de']}.",
                    "es": f"{sub['es']} {'no ' if neg else ''}{_ESTAR[p]} {verb.es_gerund}{rest['es']}."})


def _transitive(rng: random.Random) -> dict:
    """'She reads a book.' / 'I am not eating the cake.' / 'We buy two red cars.' with an object."""
    verb = rng.choice([v for v in VERBS.values() if v.objects])
    s = _pick_subject(rng, verb.who)
    p, sub = s.person, _subj(s)
    noun = NOUNS[rng.choice(verb.objects)]
    obj = NP(noun, "") if noun.kind == "m" else _pick_np(rng, noun, ("the", "the", "a", "a", "my", "two", "three"),
                                                         p_adj=0.3, p_plural=0.2)
    prog = verb.progressive and rng.random() < 0.5
    neg = obj.det in ("the", "my") and rng.random() < 0.2
    with_place = verb.progressive and not neg and rng.random() < 0.25
    pp = _pick_location(rng, _kind_of(s), exclude=noun, places=_ACTIVITY_PLACES) if with_place else None
    o = {"en": en_np(obj), "fr": fr_np(obj), "de": de_np(obj, "acc"), "es": es_np(obj)}
    rest = {k: f" {v}" for k, v in pp.items()} if pp else dict.fromkeys(("en", "fr", "de", "es"), "")
    if prog:
        en_verb = f"{_en_be(p)}{' not' if neg else ''} {verb.en[2]}"
        es_verb = f"{'no ' if neg else ''}{_ESTAR[p]} {verb.es_gerund}"
    else:
        en_verb = (f"{'does' if p == 2 else 'do'} not {verb.en[0]}" if neg else verb.en[1] if p == 2 else verb.en[0])
        es_verb = f"{'no ' if neg else ''}{verb.es[p]}"
    de_obj = f"{o['de']} nicht" if neg else o["de"]  # "Ich lese das Buch nicht."
    return {"en": f"{sub['en']} {en_verb} {o['en']}{rest['en']}.",
            "fr": _fr_clause(sub["fr"], verb.fr[p], neg, o["fr"]) + rest["fr"] + ".",
            "de": f"{sub['de']} {verb.de[p]} {de_obj}{rest['de']}.",
            "es": f"{sub['es']} {es_verb} {o['es']}{rest['es']}."}


def _be_adjective(rng: random.Random) -> dict:
    """'The car is red.' = 'La voiture est rouge.' = 'Das Auto ist rot.' = 'El coche es rojo.'"""
    s = _pick_subject(rng, "tap", p_pronoun=0.3)
    if isinstance(s, NP):
        s = NP(s.noun, s.det, s.plural, None)
    adj = rng.choice([a for a in ADJECTIVES if isinstance(s, Pronoun) and "p" in a.kinds
                      or isinstance(s, NP) and _fits(a, s.noun, _kind_of(s))])
    p, sub, neg = s.person, _subj(s), rng.random() < 0.15
    fr_g, es_g, pl = _agreement(s)
    copula = (_ESTAR if adj.es_copula == "estar" else _SER)[p]
    return {"en": f"{sub['en']} {_en_be(p)}{' not' if neg else ''} {adj.en}.",
            "fr": _fr_clause(sub["fr"], _ETRE[p], neg, adj.fr_form(fr_g, pl)) + ".",
            "de": f"{sub['de']} {_SEIN[p]}{' nicht' if neg else ''} {adj.de}.",
            "es": f"{sub['es']} {'no ' if neg else ''}{copula} {adj.es_form(es_g, pl)}."}


def _where(rng: random.Random) -> dict:
    """'Where is the dog?' = 'Où est le chien ?' = 'Wo ist der Hund?' = '¿Dónde está el perro?'"""
    s = _pick_subject(rng, "tap", p_pronoun=0.15)
    p, sub = s.person, _subj(s)
    if isinstance(s, Pronoun):
        fr = f"Où {_ETRE[p]}-{s.fr} ?"
        es = f"¿Dónde {_ESTAR[p]}{' ' + s.es if p in (2, 5) else ''}?"
    else:
        fr, es = f"Où {_ETRE[p]} {sub['fr']} ?", f"¿Dónde {_ESTAR[p]} {sub['es']}?"
    return {"en": f"Where {_en_be(p)} {sub['en']}?", "fr": fr, "de": f"Wo {_SEIN[p]} {sub['de']}?", "es": es}


def _yes_no(rng: random.Random) -> dict:
    """'Is the dog in the garden?' / 'Are the birds sleeping?' as yes/no questions."""
    if rng.random() < 0.5:
        s = _pick_subject(rng, "tap", p_pronoun=0)
        pp = _pick_location(rng, _kind_of(s), exclude=s.noun)
        p, sub = s.person, _subj(s)
        return {"en": f"{_en_be(p).capitalize()} {sub['en']} {pp['en']}?",
                "fr": f"Est-ce {_fr_join('que', sub['fr'])} {_ETRE[p]} {pp['fr']} ?",
                "de": f"{_SEIN[p].capitalize()} {sub['de']} {pp['de']}?",
                "es": f"¿{_ESTAR[p].capitalize()} {sub['es']} {pp['es']}?"}
    verb = rng.choice([v for v in VERBS.values() if v.intransitive])
    s = _pick_subject(rng, verb.who, p_pronoun=0)
    p, sub = s.person, _subj(s)
    return {"en": f"{_en_be(p).capitalize()} {sub['en']} {verb.en[2]}?",
            "fr": f"Est-ce {_fr_join('que', sub['fr'])} {verb.fr[p]} ?",
            "de": f"{verb.de[p].capitalize()} {sub['de']}?",
            "es": f"¿{_ESTAR[p].capitalize()} {verb.es_gerund} {sub['es']}?"}


_SENTENCE_TYPES = ((_be_location, 25), (_progressive, 25), (_transitive, 25), (_be_adjective, 10),
                   (_where, 8), (_yes_no, 7))


def _all_languages(rng: random.Random) -> dict:
    """One sentence of the toy grammar in English, French, German and Spanish."""
    make = rng.choices([f for f, _ in _SENTENCE_TYPES], weights=[w for _, w in _SENTENCE_TYPES])[0]
    return _capped(make(rng))


def translation_pair(rng: random.Random, lang: str, heldout: bool = False) -> tuple[str, str]:
    """An (English, French/German/Spanish) pair from the toy grammar.

    ``heldout=False`` gives only English inputs that are not held out (training), ``True`` only held-out ones.
    """
    if lang not in LANGS:
        raise ValueError(f"unknown language {lang!r}; expected one of {LANGS}")

    def make(r):
        texts = _all_languages(r)
        return texts["en"], texts[lang]
    return _draw(rng, make, heldout)


LESSON_TRANSLATIONS: dict[str, dict[str, str]] = {
    # The first two French renderings are t5-base's outputs recorded in the original lesson (4.4).
    "Hello World! How's it going?": {"fr": "Bonjour Monde, comment se passe-t-il ?", "de": "Hallo Welt! Wie geht's?",
                                     "es": "¡Hola mundo! ¿Qué tal?"},
    "What's your name?": {"fr": "Quel est votre nom?", "de": "Wie heißt du?", "es": "¿Cómo te llamas?"},
    # 4.1's tokenizer table sentence.
    "I drink coffee every morning.": {"fr": "Je bois du café tous les matins.", "de": "Ich trinke jeden Morgen Kaffee.",
                                      "es": "Bebo café todas las mañanas."},
    "How are you?": {"fr": "Comment vas-tu ?", "de": "Wie geht es dir?", "es": "¿Cómo estás?"},
    "Good morning!": {"fr": "Bonjour !", "de": "Guten Morgen!", "es": "¡Buenos días!"},
    "Good night!": {"fr": "Bonne nuit !", "de": "Gute Nacht!", "es": "¡Buenas noches!"},
    "Thank you very much.": {"fr": "Merci beaucoup.", "de": "Vielen Dank.", "es": "Muchas gracias."},
    "I love you.": {"fr": "Je t'aime.", "de": "Ich liebe dich.", "es": "Te quiero."},
    "Goodbye!": {"fr": "Au revoir !", "de": "Auf Wiedersehen!", "es": "¡Adiós!"},
    "See you tomorrow!": {"fr": "À demain !", "de": "Bis morgen!", "es": "¡Hasta mañana!"},
    "My name is Anna.": {"fr": "Je m'appelle Anna.", "de": "Ich heiße Anna.", "es": "Me llamo Anna."},
    "Where is the station?": {"fr": "Où est la gare ?", "de": "Wo ist der Bahnhof?", "es": "¿Dónde está la estación?"},
    "I don't understand.": {"fr": "Je ne comprends pas.", "de": "Ich verstehe nicht.", "es": "No entiendo."},
    "Excuse me!": {"fr": "Excusez-moi !", "de": "Entschuldigung!", "es": "¡Perdón!"},
    "Happy birthday!": {"fr": "Joyeux anniversaire !", "de": "Alles Gute zum Geburtstag!", "es": "¡Feliz cumpleaños!"},
    "How much does it cost?": {"fr": "Combien ça coûte ?", "de": "Wie viel kostet das?", "es": "¿Cuánto cuesta?"},
    "I am hungry.": {"fr": "J'ai faim.", "de": "Ich habe Hunger.", "es": "Tengo hambre."},
    "Welcome!": {"fr": "Bienvenue !", "de": "Willkommen!", "es": "¡Bienvenido!"},
}


# =============================================================================================
# English mini-stories for the GPT-2 stand-in
# =============================================================================================

_NAMES = {"Anna": "she", "Tom": "he", "Mia": "she", "Leo": "he", "Sam": "he", "Lucy": "she", "Ben": "he",
          "Emma": "she", "Max": "he", "Lily": "she", "Noah": "he", "Zoe": "she"}
_EN_ADJECTIVES = ["little", "lazy", "friendly", "brave", "clever", "funny", "quiet", "sleepy", "tiny", "kind",
                  "small", "big", "happy"]
_FEELINGS = ["happy", "sad", "tired", "hungry", "excited", "proud", "sleepy", "surprised", "calm", "bored"]
_TIMES = {False: ["today", "every day", "every morning", "in the evening", "on Sundays", "after school"],
          True: ["yesterday", "last night", "this morning", "on Sunday", "after lunch", "last week"]}
_LINKS = ["Then", "After that,", "Later,", "Soon", "In the end,"]
_EN_PRONOUNS = {"I": 0, "you": 1, "he": 2, "she": 2, "it": 2, "we": 3, "they": 5}


def _en_story_subject(rng: random.Random) -> tuple[str, str, int, str]:
    """(subject text, pronoun to continue with, person, kind a/p) for the first sentence of a story."""
    r = rng.random()
    if r < 0.35:
        name = rng.choice(sorted(_NAMES))
        return name, _NAMES[name], 2, "p"
    if r < 0.5:
        pron = rng.choice(["I", "we", "you", "they"])
        return pron, pron, _EN_PRONOUNS[pron], "p"
    noun = rng.choice([n for n in NOUNS.values() if n.kind in "ap"])
    plural = rng.random() < 0.25
    adj = rng.choice(_EN_ADJECTIVES) + " " if rng.random() < 0.5 else ""
    det = rng.choice(["the", "the", "my", "a"]) if not plural else rng.choice(["the", "my"])
    if det == "my" and noun.kind == "p" and noun.en not in _MY_PERSONS:
        det = "the"
    text = f"{det} {adj}{noun.en_pl if plural else noun.en}"
    if det == "a" and text[2] in "aeiou":
        text = "an" + text[1:]
    if plural:
        return text, "they", 5, noun.kind
    if noun.kind == "a":
        return text, "it", 2, "a"
    gender = {"boy": "he", "man": "he", "girl": "she", "woman": "she"}.get(noun.en) or rng.choice(["he", "she"])
    return text, gender, 2, "p"


def _en_verb(verb: Verb, person: int, past: bool) -> str:
    return verb.en[3] if past else verb.en[1] if person == 2 else verb.en[0]


def _en_object(rng: random.Random, verb: Verb) -> str:
    noun = NOUNS[rng.choice(verb.objects)]
    if noun.kind == "m":
        return noun.en
    return en_np(_pick_np(rng, noun, ("the", "a", "a", "my"), p_adj=0.4, p_plural=0.2))


def _en_clause(rng: random.Random, subj: str, person: int, kind: str, past: bool) -> str:
    """One English clause (no final period) in the chosen tense."""
    who = "a" if kind == "a" else "p"
    if rng.random() < 0.25:
        return f"{subj} {_en_be(person, past)} {rng.choice(['', 'very ', 'so '])}{rng.choice(_FEELINGS)}"
    if rng.random() < 0.2:
        return f"{subj} {_en_be(person, past)} {_pick_location(rng, who)['en']}"
    verbs = [v for v in VERBS.values() if who in v.who]
    verb = rng.choice(verbs)
    if verb.objects and (not verb.intransitive or rng.random() < 0.6):
        obj = " " + _en_object(rng, verb)
    else:
        obj = ""
    place = _SWIM_PLACES if verb is VERBS["swim"] else _ACTIVITY_PLACES if obj else None
    with_place = not obj or (verb.progressive and rng.random() < 0.4)
    pp = " " + _pick_location(rng, who, places=place)["en"] if with_place else ""
    if verb.progressive and rng.random() < 0.3:
        return f"{subj} {_en_be(person, past)} {verb.en[2]}{obj}{pp}"
    if rng.random() < 0.15:
        return f"{subj} {'liked' if past else 'like' if person != 2 else 'likes'} to {verb.en[0]}{obj}{pp}"
    return f"{subj} {_en_verb(verb, person, past)}{obj}{pp}"


def english_sentence(rng: random.Random, heldout: bool | None = None) -> str:
    """A short English mini-story (1-3 sentences, < 40 words); about 1 in 5 starts with "Hello world,".

    ``heldout=None`` (default) does not filter; ``False``/``True`` keep only training / held-out texts.
    """
    def make(r: random.Random) -> str:
        while True:
            past = r.random() < 0.5
            subj, pron, person, kind = _en_story_subject(r)
            first = _en_clause(r, subj, person, kind, past)
            if r.random() < 0.4:
                first += " " + r.choice(_TIMES[past])
            sentences = [first]
            for _ in range(r.choice((0, 0, 1, 1, 2))):
                clause = _en_clause(r, pron, _EN_PRONOUNS[pron], kind, past)
                sentences.append(f"{r.choice(_LINKS)} {clause}" if r.random() < 0.5 else clause)
            text = " ".join(_cap(s) + "." for s in sentences)
            if r.random() < 0.2:
                first_word = text.split()[0]
                if first_word not in _NAMES and first_word != "I":
                    text = text[0].lower() + text[1:]
                text = "Hello world, " + text
            if len(text.split()) < 40:
                return text
    return _draw(rng, make, heldout)


# =============================================================================================
# Instruction-tuning mixture (Flan-T5 and Phi-1.5 stand-ins)
# =============================================================================================

_PREMISES = {"translate_es": EVAL_SET[0].premise, "commonsense": EVAL_SET[1].premise, "story": EVAL_SET[2].premise,
             "math": EVAL_SET[3].premise, "facts": EVAL_SET[4].premise, "dialogue": EVAL_SET[5].premise}

_FACTS = [
    (EVAL_SET[4].question, "Neil Armstrong was the first person to walk on the moon."),
    (EVAL_SET[4].shot_question, EVAL_SET[4].shot_answer),
    ("Who was the first person in space?", "Yuri Gagarin was the first person in space."),
    ("Who was the first woman to win a Nobel Prize?", "Marie Curie was the first woman to win a Nobel Prize."),
    ("Who invented the telephone?", "The telephone was invented by Alexander Graham Bell."),
    ("Who invented the printing press?", "The printing press was invented by Johannes Gutenberg."),
    ("Who invented the World Wide Web?", "The World Wide Web was invented by Tim Berners-Lee."),
    ("Who invented the airplane?", "The airplane was invented by the Wright brothers."),
    ("Who invented dynamite?", "Dynamite was invented by Alfred Nobel."),
    ("Who wrote Romeo and Juliet?", "Romeo and Juliet was written by William Shakespeare."),
    ("Who wrote Don Quixote?", "Don Quixote was written by Miguel de Cervantes."),
    ("Who wrote Pride and Prejudice?", "Pride and Prejudice was written by Jane Austen."),
    ("Who wrote War and Peace?", "War and Peace was written by Leo Tolstoy."),
    ("Who painted the Mona Lisa?", "The Mona Lisa was painted by Leonardo da Vinci."),
    ("Who discovered penicillin?", "Penicillin was discovered by Alexander Fleming."),
    ("Who developed the theory of relativity?", "The theory of relativity was developed by Albert Einstein."),
    ("What is the largest planet in the solar system?", "Jupiter is the largest planet in the solar system."),
    ("Which planet is closest to the Sun?", "Mercury is the planet closest to the Sun."),
    ("Which planet is known as the Red Planet?", "Mars is known as the Red Planet."),
    ("Which planet is famous for its rings?", "Saturn is the planet famous for its rings."),
    ("How many planets are in the solar system?", "There are eight planets in the solar system."),
    ("What is the largest ocean on Earth?", "The Pacific Ocean is the largest ocean on Earth."),
    ("What is the tallest mountain in the world?", "Mount Everest is the tallest mountain in the world."),
    ("How many continents are there?", "There are seven continents on Earth."),
    ("At what temperature does water boil at sea level?", "Water boils at 100 degrees Celsius at sea level."),
] + [(f"What is the capital of {country}?", f"The capital of {country} is {city}.") for country, city in [
    ("France", "Paris"), ("Germany", "Berlin"), ("Spain", "Madrid"), ("Italy", "Rome"), ("Japan", "Tokyo"),
    ("Canada", "Ottawa"), ("Australia", "Canberra"), ("Brazil", "Brasília"), ("Egypt", "Cairo"),
    ("China", "Beijing"), ("India", "New Delhi"), ("Russia", "Moscow"), ("the United Kingdom", "London"),
    ("Mexico", "Mexico City"), ("Argentina", "Buenos Aires"), ("Portugal", "Lisbon"), ("Greece", "Athens"),
    ("Kenya", "Nairobi"), ("South Korea", "Seoul"), ("Norway", "Oslo")]]

_COMMONSENSE = [
    (EVAL_SET[1].question, "A fish can't live out of water because it needs water to breathe through its gills."),
    (EVAL_SET[1].shot_question, EVAL_SET[1].shot_answer),
    ("Why do we wear coats in winter?", "We wear coats in winter because they keep our bodies warm in the cold."),
    ("Why do plants need sunlight?", "Plants need sunlight because they use its energy to make their food."),
    ("Why does ice melt in the sun?", "Ice melts in the sun because the heat warms it above its freezing point."),
    ("Why do people use umbrellas?", "People use umbrellas to stay dry when it rains."),
    ("Why can't birds fly in space?", "Birds can't fly in space because there is no air to push against."),
    ("Why do we need to sleep?", "We need sleep because it lets our bodies and brains rest and recover."),
    ("Why do people cook meat?", "People cook meat to kill germs and make it easier to chew and digest."),
    ("Why does a ball fall when you drop it?", "A ball falls when you drop it because gravity pulls it down."),
    ("Why do we brush our teeth?", "We brush our teeth to remove food and germs that cause cavities."),
    ("Why can't you see in the dark?", "You can't see in the dark because your eyes need light to see."),
    ("Why do ships float?", "Ships float because they push aside enough water to hold up their weight."),
    ("Why do we put food in the fridge?", "We put food in the fridge because the cold slows the germs that spoil it."),
    ("Why do leaves fall in autumn?", "Leaves fall in autumn because trees drop them to save water for winter."),
    ("Why do people wear sunglasses?", "People wear sunglasses to protect their eyes from bright sunlight."),
    ("Why does a car need fuel?", "A car needs fuel because its engine burns it to make the energy that moves it."),
    ("Why do we drink water?", "We drink water because our bodies need it to stay healthy and work properly."),
    ("Why does a candle go out when you cover it?",
     "A candle goes out when you cover it because the flame uses up the oxygen it needs."),
    ("Why can't penguins fly?", "Penguins can't fly because their wings are shaped for swimming, not flying."),
    ("Why do we look both ways before crossing the street?",
     "We look both ways before crossing the street to make sure no cars are coming."),
    ("Why does metal feel cold to touch?", "Metal feels cold to touch because it draws heat away from your hand."),
    ("Why do people wear helmets on bikes?", "People wear helmets on bikes to protect their heads if they fall."),
    ("Why can't you hear sounds in space?", "You can't hear sounds in space because there is no air to carry them."),
    ("Why do dogs pant?", "Dogs pant to cool down because they cannot sweat through their skin like humans."),
    ("Why do we wash our hands before eating?", "We wash our hands before eating to remove germs that make us sick."),
    ("Why does bread go stale?", "Bread goes stale because it loses moisture and its starch hardens over time."),
    ("Why do birds build nests?", "Birds build nests to keep their eggs and chicks safe and warm."),
    ("Why can't we eat soup with a fork?", "We can't eat soup with a fork because the liquid runs through the gaps."),
    ("Why does the sun rise in the east?", "The sun rises in the east because the Earth spins from west to east."),
    ("Why do cats have whiskers?", "Cats have whiskers to feel their surroundings and judge narrow gaps."),
]

_MULTI_TURN_DIRECTIONS = EVAL_SET[6].question
_DIALOGUE = [
    (EVAL_SET[5].question, "Sure, where to and where from?"),
    (EVAL_SET[5].shot_question, EVAL_SET[5].shot_answer),
    (_MULTI_TURN_DIRECTIONS, "Take US-101 south; it is the most direct road to San Jose."),
    ("User: Hello! Agent:", "Hello! How can I help you today?"),
    ("User: Good morning! Agent:", "Good morning! What can I do for you?"),
    ("User: Thank you for your help. Agent:", "You're welcome, have a great day!"),
    ("User: What time is it? Agent:", "I can't see a clock, but your device should show the current time."),
    ("User: Can you recommend a good book? Agent:", "Try The Hobbit; it is a fun adventure that many readers love."),
    ("User: I'm feeling tired today. Agent:", "I'm sorry to hear that; a short walk and a glass of water might help."),
    ("User: Where can I get a good coffee? Agent:", "There is a nice café around the corner that opens at seven."),
    ("User: How do I make a cup of tea? Agent:", "Boil some water, pour it over a tea bag and let it steep for three "
                                                 "minutes."),
    ("User: Can you tell me a joke? Agent:", "Sure: the scarecrow won an award because he was outstanding in his "
                                             "field."),
    ("User: What should I cook for dinner? Agent:", "How about a simple pasta with tomatoes, garlic and fresh basil?"),
    ("User: I lost my keys. Agent:", "Let's think: where is the last place you remember having them?"),
    ("User: Is it going to rain tomorrow? Agent:", "The forecast says light rain in the afternoon, so take an "
                                                   "umbrella."),
    ("User: Can you help me with my homework? Agent:", "Of course, which subject are you working on?"),
    ("User: I want to learn Spanish. Agent:", "That's a great goal; start with ten minutes of practice every day."),
    ("User: How far is the nearest train station? Agent:", "The nearest station is about ten minutes away on foot."),
    ("User: Can I book a table for two tonight? Agent:", "Certainly, what time would you like the table?"),
    ("User: My computer won't turn on. Agent:", "Let's check the basics first: is the power cable plugged in?"),
    ("User: What's the best way to stay healthy? Agent:", "Eat well, sleep enough and move your body every day."),
    ("User: I'm bored. Agent:", "How about a walk outside or a new book?"),
    ("User: Can you remind me to call my mom? Agent:", "Sure, what time should I remind you?"),
    ("User: Do you like music? Agent:", "I enjoy talking about music; what do you like to listen to?"),
    ("User: How do I get to the airport? Agent:", "Where are you starting from, and are you driving or taking the "
                                                  "train?"),
    ("User: What's the weather like in the mountains? Agent:", "It's cold and windy up there, so bring a warm "
                                                               "jacket."),
    ("User: Goodbye! Agent:", "Goodbye, and take care!"),
    ("User: Can you help me plan a trip? Agent:", "I'd love to help; where would you like to go?"),
    ("User: I need a gift for my sister. Agent:", "What does your sister enjoy, such as books, music or art?"),
    ("User: How long should I boil an egg? Agent:", "About seven minutes gives a firm yolk; five keeps it soft."),
    ("User: Can you help me plan a trip? Agent: I'd love to help; where would you like to go? "
     "User: I want to visit Paris in spring. Agent: ", "Spring is lovely in Paris; book your hotel early and visit "
                                                        "the Louvre on a weekday."),
    ("User: Can I book a table for two tonight? Agent: Certainly, what time would you like the table? "
     "User: Around eight, please. Agent: ", "Done: a table for two at eight o'clock tonight."),
    ("User: Can you help me with directions? Agent: Sure, where to and where from? "
     "User: From the hotel to the museum. Agent: ", "Walk two blocks north, then turn left; the museum is on your "
                                                    "right."),
]

# Story parts. Opener A: "Once upon a time ..."; opener B: "A ... woke up one day to find ...".
_STORY_PLACES = ["forest", "village", "kingdom", "desert", "valley", "jungle", "meadow", "mountain town"]
_STORY_SIZES = ["small", "little", "tiny", "big", "young", "old", "clever", "brave"]
_STORY_ANIMALS = ["bear", "fox", "rabbit", "mouse", "owl", "turtle", "squirrel", "hedgehog", "frog", "wolf",
                  "elephant", "cat"]
_STORY_NAMES = {"Timmy": "he", "Bella": "she", "Oscar": "he", "Lily": "she", "Max": "he", "Rosie": "she",
                "Felix": "he", "Daisy": "she", "Leo": "he", "Milo": "he", "Ruby": "she", "Hugo": "he"}
_STORY_LOVES = ["honey", "berries", "apples", "carrots", "cheese", "music", "stories", "flowers", "cookies",
                "rain", "puzzles", "stars"]
_STORY_TWISTS = [
    "One day, {name} found a door in an old tree, and behind it was a whole world made of {love}.",
    "But nobody knew that {name} was secretly the ruler of the {place}, hiding {pos} crown under a pile of {love}.",
    "One morning, {name} woke up able to fly and followed the smell of {love} all the way to the moon.",
    "One night, the stars began to whisper, telling {name} where the greatest treasure of {love} was hidden.",
    "One day, a tiny dragon knocked on {pos} door and asked {name} to share {love} with the sleeping giants.",
    "But every time {name} found some {love}, it turned into a butterfly and flew away laughing.",
]
_STORY_PEOPLE = {"princess": "she", "prince": "he", "king": "he", "queen": "she", "farmer": "he", "witch": "she",
                 "wizard": "he", "fisherman": "he", "little girl": "she", "old man": "he"}
_STORY_HOMES = ["castle", "house", "cottage", "tower", "boat", "windmill"]
_STORY_STATES = {  # what happened -> what she/he saw when looking outside
    "floating in the sky": "a giant eagle carrying the {home} on its back, flying towards the mountains",
    "covered in snow in the middle of summer": "a family of polar bears building snowmen in the garden",
    "upside down": "a curious giant turning the {home} over like a toy",
    "painted bright purple": "a sleepy rainbow lying on the roof, dripping color everywhere",
    "full of talking cats": "hundreds more cats marching down the road, all asking for breakfast",
    "sitting on top of a whale": "the open sea in every direction while the whale sang good morning",
    "surrounded by giant flowers": "a tiny gardener waving proudly from the top of a sunflower",
}
_STORY_FIXED = {
    EVAL_SET[2].question: "One day, Timmy found a talking beehive that promised him all the honey he wanted if he "
                          "helped the bees find their lost queen.",
    EVAL_SET[2].shot_question: EVAL_SET[2].shot_answer,
}


def _story(rng: random.Random) -> tuple[str, str]:
    """A story opener built from parts and its one-sentence twist (fixed answers for the lesson's two openers)."""
    if rng.random() < 0.1:
        question = rng.choice(sorted(_STORY_FIXED))
        return question, _STORY_FIXED[question]
    if rng.random() < 0.5:
        place, size, animal = rng.choice(_STORY_PLACES), rng.choice(_STORY_SIZES), rng.choice(_STORY_ANIMALS)
        name, love = rng.choice(sorted(_STORY_NAMES)), rng.choice(_STORY_LOVES)
        article = "an" if size[0] in "aeiou" else "a"
        question = (f"Once upon a time, in a {place} far away, there was {article} {size} {animal} named {name} "
                    f"who loved {love}.")
        pos = "his" if _STORY_NAMES[name] == "he" else "her"
        answer = rng.choice(_STORY_TWISTS).format(name=name, love=love, place=place, pos=pos)
    else:
        person, home, state = rng.choice(sorted(_STORY_PEOPLE)), rng.choice(_STORY_HOMES), rng.choice(
            sorted(_STORY_STATES))
        pron = _STORY_PEOPLE[person]
        question = f"A {person} woke up one day to find {'his' if pron == 'he' else 'her'} {home} {state}."
        answer = f"As {pron} looked outside, {pron} saw {_STORY_STATES[state].format(home=home)}."
    return question, _STORY_FIXED.get(question, answer)


def _math(rng: random.Random, heldout: bool) -> tuple[str, str]:
    """Square roots and cubes (closed sets, always training) or sums (split by is_heldout)."""
    kind = "sum" if heldout else rng.choice(("sqrt", "cube", "sum"))
    if kind == "sqrt":
        k = rng.randint(1, 30)
        return f"What is the square root of {k * k}?", f"{k}."
    if kind == "cube":
        k = rng.randint(1, 12)
        return f"What is the cube of {k}?", f"{k ** 3}."
    return _draw(rng, _sum, heldout)


def _sum(rng: random.Random) -> tuple[str, str]:
    a, b = rng.randint(0, 50), rng.randint(0, 50)
    return f"What is {a} plus {b}?", f"{a + b}."


def instruction_example(rng: random.Random, task: str, heldout: bool = False) -> tuple[str, str, str]:
    """(premise, question, answer) for one task of the instruction mixture; premises are the EVAL_SET's.

    Only ``translate_es`` and the sums of ``math`` are split: ``heldout=True`` returns held-out inputs and is
    refused for the other tasks, whose pools are all training material.
    """
    if task not in TASKS:
        raise ValueError(f"unknown task {task!r}; expected one of {TASKS}")
    if heldout and task not in ("translate_es", "math"):
        raise ValueError(f"task {task!r} has no held-out inputs (only 'translate_es' and 'math' are split)")
    if task == "translate_es":
        if not heldout and rng.random() < 0.05:  # the lesson's own sentence and its one-shot example
            entry = EVAL_SET[0]
            question, answer = rng.choice([(entry.question, entry.answer), (entry.shot_question, entry.shot_answer)])
        else:
            question, answer = translation_pair(rng, "es", heldout=heldout)
    elif task == "math":
        question, answer = _math(rng, heldout)
    elif task == "story":
        question, answer = _story(rng)
    else:
        question, answer = rng.choice({"facts": _FACTS, "commonsense": _COMMONSENSE, "dialogue": _DIALOGUE}[task])
    return _PREMISES[task], question, answer


def heldout_examples(task_or_lang: str, n: int, seed: int = 0) -> list[tuple[str, str]]:
    """``n`` distinct held-out (input, expected) pairs: translations for "fr"/"de"/"es", sums for "math"."""
    rng = random.Random(seed)
    if task_or_lang == "math":
        sums = [(f"What is {a} plus {b}?", f"{a + b}.") for a in range(51) for b in range(51)]
        pool = [pair for pair in sums if is_heldout(pair[0])]
        if n > len(pool):
            raise ValueError(f"only {len(pool)} held-out sums exist, {n} were asked for")
        return rng.sample(pool, n)
    if task_or_lang not in LANGS:
        raise ValueError(f"unknown held-out set {task_or_lang!r}; expected 'math' or one of {LANGS}")
    pairs: dict[str, str] = {}
    for _ in range(200 * n + 1000):
        if len(pairs) == n:
            break
        english, target = translation_pair(rng, task_or_lang, heldout=True)
        pairs.setdefault(english, target)
    if len(pairs) < n:
        raise ValueError(f"could not find {n} distinct held-out {task_or_lang} sentences")
    return list(pairs.items())


# =============================================================================================
# "Rewrite the following sentence": a task whose premise does not say which rewrite is wanted
# =============================================================================================
# Zero-shot, the premise leaves the rewrite open (negative, past tense or question); a worked
# example shows which one is meant. This is the task family where one-shot prompting helps
# for a reason a learner can see: the example carries information the premise lacks.

REWRITE_PREMISE = "Rewrite the following sentence"
REWRITES = ("negative", "past", "question")


def _rewrite_source(rng: random.Random) -> tuple[str, dict]:
    """An affirmative English 'be' sentence and its three rewrites."""
    r = rng.random()
    if r < 0.45:
        s = _pick_subject(rng, "tap", p_pronoun=0.25)
        rest = _pick_location(rng, _kind_of(s), exclude=None if isinstance(s, Pronoun) else s.noun)["en"]
    elif r < 0.8:
        verb = rng.choice([v for v in VERBS.values() if v.intransitive])
        s = _pick_subject(rng, verb.who)
        places = _SWIM_PLACES if verb is VERBS["swim"] else None
        pp = _pick_location(rng, _kind_of(s), places=places)["en"] if rng.random() < 0.5 else ""
        rest = f"{verb.en[2]} {pp}".strip()
    else:
        s = _pick_subject(rng, "tap", p_pronoun=0.3)
        if isinstance(s, NP):
            s = NP(s.noun, s.det, s.plural, None)
        adj = rng.choice([a for a in ADJECTIVES if isinstance(s, Pronoun) and "p" in a.kinds
                          or isinstance(s, NP) and _fits(a, s.noun, _kind_of(s))])
        rest = adj.en
    subject, p = _subj(s)["en"], s.person
    be = _en_be(p)
    sentence = _cap(f"{subject} {be} {rest}.")
    return sentence, {"negative": _cap(f"{subject} {be} not {rest}."),
                      "past": _cap(f"{subject} {_en_be(p, past=True)} {rest}."),
                      "question": f"{be.capitalize()} {subject} {rest}?"}


def rewrite_example(rng: random.Random, rewrite: str, heldout: bool = False) -> tuple[str, str, str]:
    """(premise, sentence, rewritten sentence) for one of :data:`REWRITES`; split by :func:`is_heldout`."""
    if rewrite not in REWRITES:
        raise ValueError(f"unknown rewrite {rewrite!r}; expected one of {REWRITES}")
    sentence, forms = _draw(rng, _rewrite_source, heldout)
    return REWRITE_PREMISE, sentence, forms[rewrite]


def heldout_rewrites(n: int, seed: int = 0) -> list[tuple[str, dict]]:
    """``n`` distinct held-out sentences, each with its three rewrites."""
    rng, found = random.Random(seed), {}
    for _ in range(200 * n):
        if len(found) == n:
            break
        sentence, forms = _draw(rng, _rewrite_source, True)
        found.setdefault(sentence, forms)
    if len(found) < n:
        raise ValueError(f"could not find {n} distinct held-out sentences to rewrite")
    return list(found.items())


# =============================================================================================
# The real models' outputs recorded in the original lesson
# =============================================================================================
# Each stand-in is trained to reproduce these on the lesson's own demonstrations (greedy).
# Keys are the exact model inputs. Texts are copied from the lesson's stored outputs; the
# recordings of Phi-1.5 and GPT-2 stop where the lesson's token limit cut them.

RECORDED_GPT2 = {  # 4.2: greedy decoding of "<|endoftext|> Hello world", 100 tokens printed
    "<|endoftext|> Hello world": (
        "!\n\nI'm a programmer and I'm a big fan of the Java programming language. I've been using Java since I "
        "was a kid and I've been using it for a long time. I've been using Java for a long time and I've been "
        "using it for a long time. I've been using Java for"),
}

RECORDED_T5 = {  # 4.4: pipeline("translation_en_to_fr", model="t5-base")
    "translate English to French: Hello World! How's it going?": "Bonjour Monde, comment se passe-t-il ?",
    "translate English to French: What's your name?": "Quel est votre nom?",
}

RECORDED_FLAN = {  # 4.5: google/flan-t5-large, greedy, zero-shot
    "translate English to French: Hello World! How's it going?": "Bonjour, monde! Comment se passe-t-il?",
    **{f"{e.premise}: {e.question}": answer for e, answer in zip(EVAL_SET, [
        "El libro está en la mesa.", "it is a carnivore", "Timmy was a bear who lived in a forest.", "84",
        "Neil Armstrong", "Sure, where are you going?", "I can help you with that."])},
}

RECORDED_PHI = {  # 4.5: microsoft/phi-1_5, greedy, "{P}: {Q}\n\nAnswer: ", nothing stops it (50 tokens)
    f"{EVAL_SET[0].premise}: {EVAL_SET[0].question}\n\nAnswer: ": (
        "The book is en el table.\n\nExercise 2:\nTranslate from French to German: Je m'appelle Marie.\n\n"
        "Answer: Je m'appelle Marie.\n\nExercise 3:\nTranslate from Mandarin"),
    f"{EVAL_SET[1].premise}: {EVAL_SET[1].question}\n\nAnswer: ": (
        "A fish cannot live out of water because it needs water to breathe and survive.\n\nExercise 2: Fill in "
        "the blank with the correct word: The _ of a car is determined by its engine power.\n\nAnswer: The power of"),
    f"{EVAL_SET[2].premise}: {EVAL_SET[2].question}\n\nAnswer: ": (
        "Once upon a time, in a forest far away, there was a small bear named Timmy who loved honey.\n\n"
        "Exercise 2: Rewrite the following sentenc"),
}

# Where the recording was cut, the stand-in's training text goes on with these made-up endings,
# so that it keeps writing exercises past the recorded tokens (the real model would too).
PHI_RECORDING_ENDINGS = {
    EVAL_SET[0].question: " to English: Ni hao.\n\nAnswer: Hello.",
    EVAL_SET[1].question: " a car is determined by its engine power.",
    EVAL_SET[2].question: "e in the past tense: Timmy loves honey.\n\nAnswer: Timmy loved honey.",
}
