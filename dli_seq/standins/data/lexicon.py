"""The bilingual lexicon: nouns, adjectives, verbs and pronouns in English, French, German and Spanish.

Data tables for the toy grammar (:mod:`.grammar`) that the T5 and Flan-T5 stand-ins (4.4, 4.5)
learn to translate, with genders, plurals, German cases and the six persons of every verb.
"""

from __future__ import annotations

from dataclasses import dataclass

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
ETRE = ("suis", "es", "est", "sommes", "êtes", "sont")
SEIN = ("bin", "bist", "ist", "sind", "seid", "sind")
ESTAR = ("estoy", "estás", "está", "estamos", "estáis", "están")
SER = ("soy", "eres", "es", "somos", "sois", "son")
NUMBERS = {"two": ("deux", "zwei", "dos"), "three": ("trois", "drei", "tres"),
           "four": ("quatre", "vier", "cuatro"), "five": ("cinq", "fünf", "cinco")}
SWIM_PLACES = [("in", "river"), ("in", "lake")]
# Where someone does something to an object ("reads a book in the garden"): places, not furniture.
ACTIVITY_PLACES = [("in", "garden"), ("in", "kitchen"), ("in", "house"), ("in", "bedroom"), ("in", "park"),
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

