"""The words GP clinical systems use in drug names and dosage instructions, for `medication_reader`.

Latin abbreviations are those of prescription writing (od, bd, tds, qds, mane, nocte, om, on, prn: BNF
"Abbreviations and symbols", docs/clinical-sources.md, Reading prescriptions). The times of day are the clinic's
usual ones (docs/read-medication.md, Times of day): twice a day at 08:00 and 20:00 as the demo and synthetic
regimens record it, four times a day at the regimen form's four times (08:00, 12:00, 18:00, 22:00), mane and
nocte at its first and last; three times a day at 08:00, 14:00 and 22:00 is Taper's own choice.
"""

from __future__ import annotations

ONCE_A_DAY = ("08:00",)
TWICE_A_DAY = ("08:00", "20:00")
THREE_TIMES_A_DAY = ("08:00", "14:00", "22:00")
FOUR_TIMES_A_DAY = ("08:00", "12:00", "18:00", "22:00")
REGULAR_EVERY_HOURS = {24: ONCE_A_DAY, 12: TWICE_A_DAY, 8: THREE_TIMES_A_DAY, 6: FOUR_TIMES_A_DAY}

# (pattern, times): the most frequent first, so that "twice daily" is not read as "daily". "2 x daily" is not one:
# a count or a number of times? (the reader refuses it)
TIMES_PER_DAY: tuple[tuple[str, tuple[str, ...]], ...] = (
    (r"\b(qds|qid|4 times ?(a |per |each |/ ?)day|4 times daily)\b", FOUR_TIMES_A_DAY),
    (r"\b(tds|tid|3 times ?(a |per |each |/ ?)day|3 times daily)\b", THREE_TIMES_A_DAY),
    (r"\b(bd|bid|twice ?(a |per |each |/ ?)day|twice daily|2 times ?(a |per |each |/ ?)day|2 times daily)\b",
     TWICE_A_DAY),
    (r"\b(od|once ?(a |per |each |/ ?)day|once daily|daily|every day|each day)\b", ONCE_A_DAY),
)

# (pattern for a time of day, the clinic's usual time): "1 mane 2 nocte".
TIMES_OF_DAY: tuple[tuple[str, str], ...] = (
    ("mane|om|in the morning|each morning|every morning|morning|on waking|on rising", "08:00"),
    ("midday|at midday|at lunchtime|lunchtime|at noon", "12:00"),
    ("in the evening|at teatime|teatime|evening", "18:00"),
    # "on" (omni nocte) only on its own, never the "on" of "on waking"
    (r"nocte|on(?=\s*$|\s+\d|\s+and\b)|at night|at bedtime|bedtime|each night|every night|night", "22:00"),
)

# Words that make a line when-needed (issue 18: "prn, when required, if needed, 'up to N times', a maximum").
WHEN_NEEDED_WORDS = (
    "prn", "when required", "when needed", "as required", "as needed", "if required", "if needed", "when necessary",
    "if necessary", "when req", "as req", "for breakthrough pain", "up to", "max", "maximum",
    "not more than", "no more than",
)

# A dosage containing any of these is read by hand (issue 18: "... or as directed").
UNREADABLE_PHRASES = ("as directed", "as dir", "as advised", "as per", "see notes", "as before", "variable",
                      "titrate", "reducing", "increasing", "decreasing", "alternate days", "taper")

NUMBER_WORDS = {"one": "1", "two": "2", "three": "3", "four": "4", "five": "5", "six": "6", "seven": "7",
                "eight": "8", "nine": "9", "ten": "10", "eleven": "11", "twelve": "12", "half": "0.5"}

# (pattern, drug): opioid names as dm+d writes them, the drug they are (combinations checked by the reader).
DRUG_WORDS: tuple[tuple[str, str], ...] = (
    ("dihydrocodeine", "dihydrocodeine"), ("co-?dydramol", "dihydrocodeine"), ("co-?codamol", "codeine"),
    ("codeine", "codeine"), ("morphine", "morphine"), ("oxycodone", "oxycodone"), ("tramadol", "tramadol"),
    ("tapentadol", "tapentadol"), ("hydromorphone", "hydromorphone"), ("buprenorphine", "buprenorphine"),
    ("fentanyl", "fentanyl"), ("methadone", "methadone"), ("diamorphine", "diamorphine"),
    ("pethidine", "pethidine"), ("meptazinol", "meptazinol"), ("pentazocine", "pentazocine"),
)

# Short names used for a brand in records: short name -> (product key, the brand as the formulary spells it).
BRAND_SYNONYMS: dict[str, tuple[str, str]] = {
    "mst": ("morphine-mr-tablet-12h", "MST Continus"),
    "durogesic": ("fentanyl-patch-72h", "Durogesic DTrans"),
    "mezolar": ("fentanyl-patch-72h", "Mezolar Matrix"),
}

# Forms the formulary does not have, whatever the drug (a dm+d name with one of these is no formulary product).
OTHER_FORMS = ("effervescent", "soluble", "dispersible", "granules", "sachet", "suppositor", "injection", "infusion",
               "buccal", "sublingual", "nasal", "lozenge")

# Non-opioids recognised as such; benzodiazepines and gabapentinoids are risk factors with opioids.
BENZODIAZEPINES = ("diazepam", "lorazepam", "temazepam", "nitrazepam", "clonazepam", "chlordiazepoxide",
                   "oxazepam", "alprazolam", "lormetazepam", "loprazolam", "clobazam", "midazolam")
GABAPENTINOIDS = ("gabapentin", "pregabalin", "lyrica", "neurontin", "alzain", "axalid", "lecaent")
OTHER_NON_OPIOIDS = ("paracetamol", "ibuprofen", "naproxen", "diclofenac", "amitriptyline", "nortriptyline",
                     "duloxetine", "zopiclone", "zolpidem", "aspirin", "celecoxib", "etoricoxib")
