"""Fixed everyday phrases the lesson translates (4.1's tokenizer table, 4.4), in French, German, Spanish."""

from __future__ import annotations

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

