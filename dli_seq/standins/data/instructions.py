"""The instruction-tuning mixture of the Flan-T5 and Phi-1.5 stand-ins (4.5).

(premise, question, answer) triples whose premises are exactly those of
:data:`dli_seq.lesson.EVAL_SET`: Spanish translation, commonsense, stories, math, facts and
dialogue, with the fixed pools (data tables) the tasks draw from.
"""

from __future__ import annotations

import random

from dli_seq.lesson import EVAL_SET

from .grammar import LANGS, translation_pair
from .split import draw, is_heldout

TASKS = ("translate_es", "commonsense", "story", "math", "facts", "dialogue")

PREMISES = {"translate_es": EVAL_SET[0].premise, "commonsense": EVAL_SET[1].premise, "story": EVAL_SET[2].premise,
            "math": EVAL_SET[3].premise, "facts": EVAL_SET[4].premise, "dialogue": EVAL_SET[5].premise}

FACTS = [
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

COMMONSENSE = [
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
DIALOGUE = [
    (EVAL_SET[5].question, "Sure, where to and where from?"),
    (EVAL_SET[5].shot_question, EVAL_SET[5].shot_answer),
    (_MULTI_TURN_DIRECTIONS, "Take US-101 north; it runs from Los Angeles to San Jose."),
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
STORY_FIXED = {
    EVAL_SET[2].question: "One day, Timmy found a talking beehive that promised him all the honey he wanted if he "
                          "helped the bees find their lost queen.",
    EVAL_SET[2].shot_question: EVAL_SET[2].shot_answer,
}


def _story(rng: random.Random) -> tuple[str, str]:
    """A story opener built from parts and its one-sentence twist (fixed answers for the lesson's two openers)."""
    if rng.random() < 0.1:
        question = rng.choice(sorted(STORY_FIXED))
        return question, STORY_FIXED[question]
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
    return question, STORY_FIXED.get(question, answer)


def _math(rng: random.Random, heldout: bool) -> tuple[str, str]:
    """Square roots and cubes (closed sets, always training) or sums (split by is_heldout)."""
    kind = "sum" if heldout else rng.choice(("sqrt", "cube", "sum"))
    if kind == "sqrt":
        k = rng.randint(1, 30)
        return f"What is the square root of {k * k}?", f"{k}."
    if kind == "cube":
        k = rng.randint(1, 12)
        return f"What is the cube of {k}?", f"{k ** 3}."
    return draw(rng, _sum, heldout)


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
        question, answer = rng.choice({"facts": FACTS, "commonsense": COMMONSENSE, "dialogue": DIALOGUE}[task])
    return PREMISES[task], question, answer


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

