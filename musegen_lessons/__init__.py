"""MuseGen Lessons: the helper package of a course in deep learning for automatic music composition.

Six wings, one module per concept, each naming the lesson that teaches it (ARCHITECTURE.md has the table and the
rule for imports). Importing any module of the package imports no TensorFlow; the modules whose functions need it
import it when first used.

Lesson: 00_welcome (every lesson imports from here)

Glossary: one word for one thing, in the package, the lessons and the checks.

- **pitch**: a MIDI note number, 0–127 (middle C, C4, is 60). A pitch *name* is 'C4', 'F#3', 'Bb2'.
- **piano key**: one of the 88 keys of the piano, A0 (MIDI 21) to C8 (MIDI 108); key k is pitch 21 + k
  (`encoding.PIANO_LOW`, `encoding.PIANO_KEYS`, `encoding.piano_key`). A column of a piano roll or a frame.
- **key**: a musical key, a tonic and a mode ('D major', 'F# minor'; `notation.parse_key`). Never a piano key.
  Attention's keys (lesson 10) are always named with their queries and values: a **query**, **key** and **value**
  are the three vectors attention makes of each step, and a **key/value cache** keeps them for generating.
- **note**: (pitch, start, end), timed in quarter notes ("quarters") unless a function says seconds.
- **step**: one 16th note of the melody grid (`notation.STEPS_PER_QUARTER` = 4); `bar_steps` steps make a bar,
  and `pickup_steps` is where in its bar a melody's first step falls (an upbeat).
- **token**: what a melody has at one step: a pitch where a note starts, HOLD while it sounds, REST in silence.
  A **token number** (id) is its place in the **vocabulary**.
- **piano roll**: a (steps, 88) array of 0/1, one column per piano key. A **frame** is one row of a piano roll at
  quarter-note resolution (lesson 08): the piano keys sounding at the start of a quarter note.
- **piece**, **melody**, **tune**: a piece is one item of a collection (a chorale, a folk song); its melody is
  the one line taken from it, as tokens; a tune is what several pieces share when Bach harmonised one hymn tune
  more than once (the split keeps a tune's pieces together).
- **split**: train, valid and test (`splits.SPLITS`), always by tune (the published protocol's folds, which
  are not, are folds). A **window** is a stretch of a melody
  with its next-token targets.
- **melody** (the object): `melody.Melody`, tokens with the key, the time signature and the upbeat they are in;
  what a score and a MIDI file are made from.
- **transposition**: semitones a piece was moved; `melody.transposition_to_c` takes a key to C major or A minor
  (the model's *home key*, `melody.home_key`), and `Melody.transposed(key)` moves a melody to any key and back.
- **seed**: always the random seed. The music a model continues is the *seed melody* (`seed_tokens`,
  `seed_notes`) or the *seed frames*.
- **NLL**: negative log-likelihood in nats (natural logarithms), per token for melodies and per frame for
  chorales; lower is better.
- **round**: lesson 10 trains for a budget of training **steps** (batches) and validates after each round of them;
  a training step is one batch, a melody step one 16th note, and the two are never called by the same word alone.
- **LSTM gates**: i (input), f (forget), g (candidate), o (output), in Keras's order; c is the cell state and h
  the hidden state.
- **fragment**: a stretch of two whole bars of a 4/4 melody, 32 steps, cut at a bar line (lesson 11). A GAN's
  **generator** turns **noise** (z) into fragments; its **discriminator** scores how real a fragment looks, and is
  called the **critic** when its score is not a probability (WGAN-GP). A **copy** is a fragment equal, step for
  step, to a training fragment.
- **code**: a VAE's latent vector z for a fragment (lesson 12): the **encoder** gives its mean and log-variance,
  the **decoder** writes the fragment back from it.
- **context**: the notes (or tokens) just before the one predicted, as an n-gram or PPM counts them; its **order**
  is its length. PPM **escapes** from a context to the next shorter one for what the context has not seen.
- **fold**: one tenth of the published protocol's melodies (lesson 05, `literature`); each is tested once, on a
  model trained on the others. Its score is in **bits per note** (log₂, per note, pitch only), never nats.
- **quick mode** (`MUSEGEN_QUICK=1`) and **full mode**: small data and few epochs for the tests, or the real thing.
- **errors**: every error the package raises on purpose is a `errors.MuseGenError`; the same condition raises
  the same class wherever it arises (`errors` says which).
"""

__version__ = "0.3.0"
