"""Exercise checks for sections 4.1-4.5: they tell a learner, in Chinese, whether an answer works.

Every ``check_*`` function prints one line per finding (✓ or ✗) and a verdict, and returns
``True`` or ``False``; it never raises and never hangs, and it leaves the learner's model,
tokenizer and torch's settings as it found them (:mod:`.harness`, :mod:`.snapshot`).

* 4.1 (:mod:`.machine_translation`): :func:`check_alignment` (exercise 1), :func:`check_languages` (2);
* 4.2 (:mod:`.decoder_generation`): :func:`check_sampling_prediction` (1), :func:`check_pick_next` (2),
  :func:`check_long_prompt` (3);
* 4.3 (:mod:`.encoders_decoders`): :func:`check_cross_attention_shape` (1), :func:`check_causal_mask_quiz` (2),
  :func:`check_swapped_shape` (3);
* 4.4 (:mod:`.t5_translation`): :func:`check_encoder_decoder_loop` (1);
* 4.5 (:mod:`.flan_phi`): :func:`check_flan_one_shot` (1), :func:`check_flan_decoder_only` (2),
  :func:`check_phi_one_shot` (3).

Each check records its verdict in the learner's progress file (:mod:`.progress`); its id is
``"<section>/<check name>"`` (each module's ``SECTION``), and :func:`lesson_exercises` lists every
check in lesson order for the workshop's class table.
"""

from .decoder_generation import check_long_prompt, check_pick_next, check_sampling_prediction
from .encoders_decoders import check_causal_mask_quiz, check_cross_attention_shape, check_swapped_shape
from .flan_phi import check_flan_decoder_only, check_flan_one_shot, check_phi_one_shot, normalise, same_answer
from .harness import EXERCISES
from .machine_translation import LESSON_LANGUAGES, check_alignment, check_languages
from .progress import Exercise
from .t5_translation import LOOP_SENTENCES, check_encoder_decoder_loop


def lesson_exercises() -> list[Exercise]:
    """Every exercise check of 4.1-4.5 in lesson order (section, then exercise number): the columns
    of the workshop's class table. Collected from the checks themselves (``@check`` lists each)."""
    return sorted(EXERCISES.values(), key=Exercise.order)


__all__ = [
    "check_alignment", "check_languages",
    "check_sampling_prediction", "check_pick_next", "check_long_prompt",
    "check_cross_attention_shape", "check_causal_mask_quiz", "check_swapped_shape",
    "check_encoder_decoder_loop",
    "check_flan_one_shot", "check_flan_decoder_only", "check_phi_one_shot",
    "normalise", "same_answer", "LESSON_LANGUAGES", "LOOP_SENTENCES", "lesson_exercises", "Exercise",
]
